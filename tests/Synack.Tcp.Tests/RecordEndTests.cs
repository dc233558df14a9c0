using Synack.Wire;

namespace Synack.Tcp.Tests;

/// <summary>MSG_EOR: a record's last byte ends a segment, so the next record starts one of its own.</summary>
public class RecordEndTests
{
    [Fact]
    public void Small_records_go_as_segments_of_their_own_and_later_data_is_not_appended_to_them()
    {
        var d = ConnectionDriver.InState(TcpState.Established, new ConnectionOptions { Timestamps = false });
        var c = d.Connection;
        int mss = c.SendMss;
        d.Clear();
        c.Send(new byte[2 * mss], d.Now, out _);
        for (int i = 0; i < 3; i++) c.Send(new byte[100], d.Now, out _, endOfRecord: true);
        c.Send(new byte[2 * mss], d.Now, out _); // not appended to the last record: full segments of its own

        var sizes = d.Sent.Select(s => s.Payload.Length).ToArray();
        Assert.Equal([mss, mss, 100, 100, 100, mss, mss], sizes);
        // Each record's segment is pushed; Nagle held none back for good (more was queued behind each).
        Assert.All(d.Sent.Skip(2).Take(3), s => Assert.True(s.Header.Flags.Has(TcpFlags.Psh)));
    }

    [Fact]
    public void Any_number_of_records_keeps_memory_bounded_and_loses_no_byte()
    {
        var d = ConnectionDriver.InState(TcpState.Established, new ConnectionOptions { Timestamps = false, Nagle = false });
        for (int i = 0; i < RecordEnds.Limit * 2; i++) d.Connection.Send(new byte[1], d.Now, out _, endOfRecord: true);
        // Past the limit, records share segments: the ends kept never exceed it, and every byte is queued.
        Assert.Equal(RecordEnds.Limit * 2, d.Connection.SendQueued);
        Assert.Equal(RecordEnds.Limit * 2, d.Sent.Sum(s => s.Payload.Length) + (d.Connection.SendQueued - (int)(d.Connection.SndMax - d.Connection.SndUna)));
    }
}
