using System.Buffers.Binary;
using System.Text;

namespace Synack.Wire;

/// <summary>
/// Writes pcapng (draft-ietf-opsawg-pcapng): one section, interfaces of link type raw IP (101) with
/// nanosecond timestamps, and enhanced packet blocks with direction flags and optional comments.
/// Wireshark and tshark read it. Little-endian, as the byte-order magic declares.
/// </summary>
public sealed class PcapNgWriter : IDisposable
{
    /// <summary>LINKTYPE_RAW: interfaces whose packets start at the IP header.</summary>
    public const ushort LinkTypeRaw = 101;
    private const uint SectionHeaderType = 0x0A0D0D0A;
    private const uint InterfaceDescriptionType = 1;
    private const uint EnhancedPacketType = 6;
    private readonly Stream _out;
    private readonly bool _ownsStream;
    private readonly MemoryStream _block = new();
    private int _interfaces;

    /// <summary>Starts a pcapng section on <paramref name="output"/>, naming <paramref name="application"/> as its writer.</summary>
    public PcapNgWriter(Stream output, string application = "synack", bool ownsStream = true)
    {
        _out = output;
        _ownsStream = ownsStream;
        BeginBlock(SectionHeaderType);
        WriteU32(0x1A2B3C4D);
        WriteU16(1);
        WriteU16(0);
        WriteU64(ulong.MaxValue); // section length not known
        WriteStringOption(4, application); // shb_userappl
        EndOptions();
        EndBlock();
    }

    /// <summary>Adds an interface (raw IP, nanosecond timestamps); returns its id for <see cref="WritePacket"/>.</summary>
    public int AddInterface(string name, string? description = null)
    {
        BeginBlock(InterfaceDescriptionType);
        WriteU16(LinkTypeRaw);
        WriteU16(0);
        WriteU32(0); // snaplen: no limit
        WriteStringOption(2, name); // if_name
        if (description is not null) WriteStringOption(3, description);
        WriteOption(9, [9]); // if_tsresol: 10^-9 s
        EndOptions();
        EndBlock();
        return _interfaces++;
    }

    /// <summary>Writes one packet. <paramref name="timestampNs"/> is nanoseconds since the Unix epoch (or any epoch the reader should show).</summary>
    public void WritePacket(int interfaceId, ReadOnlySpan<byte> packet, long timestampNs, PacketDirection direction = PacketDirection.Unknown, string? comment = null)
    {
        if ((uint)interfaceId >= (uint)_interfaces) throw new ArgumentOutOfRangeException(nameof(interfaceId), "no such interface");
        BeginBlock(EnhancedPacketType);
        WriteU32((uint)interfaceId);
        ulong ts = (ulong)timestampNs;
        WriteU32((uint)(ts >> 32));
        WriteU32((uint)ts);
        WriteU32((uint)packet.Length);
        WriteU32((uint)packet.Length);
        _block.Write(packet);
        Pad();
        if (direction != PacketDirection.Unknown)
        {
            Span<byte> flags = stackalloc byte[4];
            BinaryPrimitives.WriteUInt32LittleEndian(flags, (uint)direction);
            WriteOption(2, flags); // epb_flags
        }
        if (comment is not null) WriteStringOption(1, comment); // opt_comment
        EndOptions();
        EndBlock();
    }

    /// <summary>Flushes what has been written to the stream.</summary>
    public void Flush() => _out.Flush();

    /// <summary>Flushes, and closes the stream if the writer owns it.</summary>
    public void Dispose()
    {
        _out.Flush();
        if (_ownsStream) _out.Dispose();
    }

    private void BeginBlock(uint type)
    {
        _block.SetLength(0);
        WriteU32(type);
        WriteU32(0); // total length, filled in by EndBlock
    }

    private void EndBlock()
    {
        uint total = (uint)_block.Length + 4;
        WriteU32(total);
        var buf = _block.GetBuffer();
        BinaryPrimitives.WriteUInt32LittleEndian(buf.AsSpan(4), total);
        _out.Write(buf, 0, (int)_block.Length);
    }

    private bool _hasOptions;

    private void WriteOption(ushort code, ReadOnlySpan<byte> value)
    {
        WriteU16(code);
        WriteU16((ushort)value.Length);
        _block.Write(value);
        Pad();
        _hasOptions = true;
    }

    private void WriteStringOption(ushort code, string value)
    {
        var bytes = Encoding.UTF8.GetBytes(value);
        WriteOption(code, bytes.AsSpan(0, Math.Min(bytes.Length, 65535)));
    }

    private void EndOptions()
    {
        if (!_hasOptions) return;
        WriteU16(0);
        WriteU16(0);
        _hasOptions = false;
    }

    private void Pad()
    {
        while (_block.Length % 4 != 0) _block.WriteByte(0);
    }

    private void WriteU16(ushort v)
    {
        Span<byte> b = stackalloc byte[2];
        BinaryPrimitives.WriteUInt16LittleEndian(b, v);
        _block.Write(b);
    }

    private void WriteU32(uint v)
    {
        Span<byte> b = stackalloc byte[4];
        BinaryPrimitives.WriteUInt32LittleEndian(b, v);
        _block.Write(b);
    }

    private void WriteU64(ulong v)
    {
        Span<byte> b = stackalloc byte[8];
        BinaryPrimitives.WriteUInt64LittleEndian(b, v);
        _block.Write(b);
    }
}
