using System.Buffers.Binary;
using System.Text;

namespace TensorProtocol.Wire;

/// <summary>Writes little-endian fields into a span that the caller sized with the encoded length.</summary>
internal ref struct WireWriter
{
    private readonly Span<byte> _buffer;
    private int _offset;

    public WireWriter(Span<byte> buffer)
    {
        _buffer = buffer;
        _offset = 0;
    }

    /// <summary>The number of bytes written.</summary>
    public readonly int Offset => _offset;

    public void WriteByte(byte value) => _buffer[_offset++] = value;

    public void WriteUInt16(ushort value)
    {
        BinaryPrimitives.WriteUInt16LittleEndian(_buffer[_offset..], value);
        _offset += sizeof(ushort);
    }

    public void WriteUInt32(uint value)
    {
        BinaryPrimitives.WriteUInt32LittleEndian(_buffer[_offset..], value);
        _offset += sizeof(uint);
    }

    public void WriteUInt64(ulong value)
    {
        BinaryPrimitives.WriteUInt64LittleEndian(_buffer[_offset..], value);
        _offset += sizeof(ulong);
    }

    public void WriteBytes(ReadOnlySpan<byte> bytes)
    {
        bytes.CopyTo(_buffer[_offset..]);
        _offset += bytes.Length;
    }

    /// <summary>Writes a <c>u16</c> byte length and the UTF-8 bytes of a string whose length was checked.</summary>
    public void WriteString16(string value)
    {
        int length = Encoding.UTF8.GetBytes(value, _buffer[(_offset + sizeof(ushort))..]);
        WriteUInt16((ushort)length);
        _offset += length;
    }
}
