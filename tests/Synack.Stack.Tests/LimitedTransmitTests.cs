using Synack.Tcp;

namespace Synack.Stack.Tests;

/// <summary>
/// RFC 3042 on the simulated link: with a congestion window of three segments and the first one lost,
/// only two duplicate ACKs can come back — one short of fast retransmit. Limited transmit sends a new
/// segment on each, which brings the third; without it the sender waits for its retransmission timer.
/// (That is loss found by counting; RACK finds it by time and needs neither.)
/// </summary>
public sealed class LimitedTransmitTests
{
    private static TimeSpan DeliveryTime(bool limitedTransmit, bool rack = false) => OneTransfer.Run(
        ConnectionOptions.Default with { InitialWindowSegments = 3, LimitedTransmit = limitedTransmit, TailLossProbe = false, Nagle = false, Rack = rack },
        bytes: 10 * 1460,
        dropDataSegment: n => n == 0).Elapsed;

    [Fact]
    public void Two_new_segments_on_the_first_duplicate_acks_bring_the_third_and_fast_retransmit_instead_of_a_timeout()
    {
        var with = DeliveryTime(limitedTransmit: true);
        var without = DeliveryTime(limitedTransmit: false);
        // 20 ms round trips: a few of them with limited transmit; at least the 200 ms minimum RTO without.
        Assert.True(with < TimeSpan.FromMilliseconds(150), $"with limited transmit: {with}");
        Assert.True(without >= TimeSpan.FromMilliseconds(200), $"without: {without}");
    }

    [Fact]
    public void Rack_needs_no_third_duplicate_ack_a_sack_and_a_quarter_round_trip_are_enough()
    {
        var rack = DeliveryTime(limitedTransmit: false, rack: true);
        Assert.True(rack < TimeSpan.FromMilliseconds(150), $"with RACK, without limited transmit: {rack}");
    }
}
