using Synack.Wire;

namespace Synack.Tcp.Tests;

/// <summary>
/// Linux 6.5's tcp_syn_linear_timeouts: SYNs 1 s apart for the first timeouts, then doubling, and a
/// connect that gives up by time (tcp_model_timeout of the SYN retries), not by count.
/// </summary>
public class SynLinearTimeoutsTests
{
    [Theory]
    [InlineData(1, new[] { 0.0, 1, 2 }, 3.0)]
    [InlineData(2, new[] { 0.0, 1, 2, 3, 4, 5 }, 7.0)]
    [InlineData(3, new[] { 0.0, 1, 2, 3, 4, 5, 7, 11 }, 19.0)]
    public void Syns_go_a_second_apart_four_times_then_double_and_connect_gives_up_by_time(int retries, double[] synTimes, double gaveUpAt)
    {
        // What this machine's kernel (6.18, tcp_syn_linear_timeouts=4) did for tcp_syn_retries 1, 2 and 3.
        var d = ConnectionDriver.InState(TcpState.SynSent, ConnectionOptions.Linux618 with { SynRetries = retries });
        var sent = new List<double> { 0 };
        int seen = d.Sent.Count;
        while (d.State == TcpState.SynSent && d.Now < TimeSpan.FromSeconds(300))
        {
            d.Advance(d.Connection.NextDeadline - d.Now);
            if (d.Sent.Count > seen) sent.Add(d.Now.TotalSeconds);
            seen = d.Sent.Count;
        }
        Assert.Equal(synTimes, sent);
        Assert.Equal(TcpState.Closed, d.State);
        Assert.Equal(gaveUpAt, d.Now.TotalSeconds);
        Assert.Equal(TcpError.TimedOut, d.Connection.Error);
    }

    [Fact]
    public void Without_linear_timeouts_every_timeout_doubles_and_the_retries_are_counted()
    {
        var d = ConnectionDriver.InState(TcpState.SynSent, ConnectionOptions.Linux with { SynRetries = 2 });
        var sent = new List<double> { 0 };
        int seen = d.Sent.Count;
        while (d.State == TcpState.SynSent)
        {
            d.Advance(d.Connection.NextDeadline - d.Now);
            if (d.Sent.Count > seen) sent.Add(d.Now.TotalSeconds);
            seen = d.Sent.Count;
        }
        Assert.Equal([0.0, 1, 3], sent);
        Assert.Equal(7.0, d.Now.TotalSeconds);
    }
}
