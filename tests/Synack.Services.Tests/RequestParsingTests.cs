using System.Text;

namespace Synack.Services.Tests;

/// <summary>
/// The file server's request parsing on its own: Range headers as RFC 9110 14.1.2 spells them, and
/// request heads that are refused where two parsers could disagree about where a request ends.
/// </summary>
public sealed class RequestParsingTests
{
    [Theory]
    [InlineData("bytes=0-99", 1000, 0, 100)]
    [InlineData("bytes=900-", 1000, 900, 100)]
    [InlineData("bytes=-10", 1000, 990, 10)]
    [InlineData("bytes=990-5000", 1000, 990, 10)]
    [InlineData("bytes=-5000", 1000, 0, 1000)]
    public void A_range_takes_the_bytes_it_names_of_the_file(string header, long length, long start, long count)
    {
        var range = ByteRange.Parse(header);
        Assert.NotNull(range);
        Assert.True(ByteRange.TryResolve(range.Value, length, out var s, out var c));
        Assert.Equal((start, count), (s, c));
    }

    [Theory]
    [InlineData("bytes=1000-", 1000)]
    [InlineData("bytes=-0", 1000)]
    [InlineData("bytes=0-0", 0)]
    public void A_range_past_the_end_is_not_satisfiable(string header, long length)
    {
        var range = ByteRange.Parse(header);
        Assert.NotNull(range);
        Assert.False(ByteRange.TryResolve(range.Value, length, out _, out _));
    }

    [Theory]
    [InlineData("items=0-1")]
    [InlineData("bytes=0-1,5-6")]
    [InlineData("bytes=9-1")]
    [InlineData("bytes=-")]
    [InlineData("bytes=a-b")]
    public void What_the_server_does_not_do_parses_as_no_range_and_gets_the_whole_file(string header) =>
        Assert.Null(ByteRange.Parse(header));

    [Fact]
    public void A_plain_get_keeps_the_connection_and_carries_its_range()
    {
        var head = HttpRequestHead.Parse(Encoding.Latin1.GetBytes("GET /a/b?x=1 HTTP/1.1\r\nHost: h\r\nRange: bytes=5-9\r\n\r\n"));
        Assert.NotNull(head);
        Assert.Equal(("GET", "/a/b", true, false), (head.Method, head.Path, head.KeepAlive, head.HasBody));
        Assert.Equal(new ByteRange(5, 9), head.Range);
    }

    [Theory]
    [InlineData("GET / HTTP/1.1\r\nHost: a\r\nHost: b\r\n\r\n")]
    [InlineData("GET / HTTP/1.1\r\nHost: a\r\n folded: no\r\n\r\n")]
    [InlineData("GET / HTTP/1.1\r\nHost : a\r\n\r\n")]
    [InlineData("GET / HTTP/2.0\r\nHost: a\r\n\r\n")]
    [InlineData("GET /\r\n\r\n")]
    public void A_head_two_parsers_could_read_differently_is_refused(string text) =>
        Assert.Null(HttpRequestHead.Parse(Encoding.Latin1.GetBytes(text)));
}
