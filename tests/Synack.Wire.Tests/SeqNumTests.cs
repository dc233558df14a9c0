namespace Synack.Wire.Tests;

public class SeqNumTests
{
    [Fact]
    public void Comparison_is_modular_across_the_wrap()
    {
        var before = new SeqNum(0xFFFF_FFF0);
        var after = new SeqNum(0x0000_0010);
        Assert.True(before < after);
        Assert.True(after > before);
        Assert.Equal(0x20, after - before);
        Assert.Equal(-0x20, before - after);
        Assert.Equal(after, before + 0x20);
        Assert.Equal(before, after - 0x20);
    }

    [Fact]
    public void Addition_wraps()
    {
        Assert.Equal(new SeqNum(4), new SeqNum(uint.MaxValue) + 5);
        Assert.Equal(new SeqNum(uint.MaxValue), new SeqNum(1) - 2);
    }

    [Theory]
    [InlineData(0u, 10u, 5u, true)]
    [InlineData(0u, 10u, 10u, false)]
    [InlineData(0u, 10u, 0u, true)]
    [InlineData(0xFFFF_FFFAu, 6u, 0xFFFF_FFFFu, true)]
    [InlineData(0xFFFF_FFFAu, 6u, 2u, true)]
    [InlineData(0xFFFF_FFFAu, 6u, 6u, false)]
    [InlineData(0xFFFF_FFFAu, 6u, 0xFFFF_FFF9u, false)]
    public void InRange_is_half_open_on_the_circle(uint lo, uint hi, uint x, bool expected)
    {
        Assert.Equal(expected, new SeqNum(x).InRange(new SeqNum(lo), new SeqNum(hi)));
    }

    [Fact]
    public void Max_and_min_follow_modular_order()
    {
        var a = new SeqNum(0xFFFF_FFFF);
        var b = new SeqNum(3);
        Assert.Equal(b, SeqNum.Max(a, b));
        Assert.Equal(a, SeqNum.Min(a, b));
    }

    [Fact]
    public void Ordering_holds_for_every_distance_under_two_to_the_31()
    {
        var rng = new Random(7);
        for (int i = 0; i < 10_000; i++)
        {
            var a = new SeqNum((uint)rng.NextInt64(0, 1L << 32));
            int d = rng.Next(1, int.MaxValue);
            Assert.True(a + d > a);
            Assert.True(a < a + d);
            Assert.Equal(d, (a + d) - a);
        }
    }
}
