namespace Synack.Services.Tests;

public class DeterministicBytesTests
{
    [Theory]
    [InlineData(0L, 1)]
    [InlineData(250L, 2)]
    [InlineData(7L, 65536)]
    [InlineData(123_456_789L, 100_000)]
    public void Every_byte_is_its_offset_mod_251_wherever_a_piece_starts_and_however_long(long offset, int length)
    {
        var bytes = new byte[length];
        DeterministicBytes.Fill(offset, bytes);
        for (int i = 0; i < length; i++) Assert.Equal((byte)((offset + i) % 251), bytes[i]);
    }
}
