using System.Buffers.Binary;

namespace TensorProtocol.Wire;

/// <summary>
/// Reads little-endian fields from a header. Every read checks the bounds and reports failure instead of throwing,
/// so a decoder can turn any shortfall into <see cref="ProtocolErrorCode.Truncated"/>.
/// </summary>
internal ref struct WireReader
{
    private readonly ReadOnlySpan<byte> _buffer;
    private int _offset;

    public WireReader(ReadOnlySpan<byte> buffer)
    {
        _buffer = buffer;
        _offset = 0;
    }

    /// <summary>The offset of the next byte to read.</summary>
    public readonly int Offset => _offset;

    /// <summary>The number of bytes not read yet.</summary>
    public readonly int Remaining => _buffer.Length - _offset;

    public bool TryReadByte(out byte value)
    {
        if (Remaining < 1)
        {
            value = 0;
            return false;
        }
        value = _buffer[_offset++];
        return true;
    }

    public bool TryReadUInt16(out ushort value)
    {
        if (!BinaryPrimitives.TryReadUInt16LittleEndian(_buffer[_offset..], out value))
        {
            return false;
        }
        _offset += sizeof(ushort);
        return true;
    }

    public bool TryReadUInt64(out ulong value)
    {
        if (!BinaryPrimitives.TryReadUInt64LittleEndian(_buffer[_offset..], out value))
        {
            return false;
        }
        _offset += sizeof(ulong);
        return true;
    }

    /// <summary>Reads <paramref name="count"/> bytes as a view into the header (no copy).</summary>
    public bool TryReadBytes(int count, out ReadOnlySpan<byte> bytes)
    {
        if ((uint)count > (uint)Remaining)
        {
            bytes = default;
            return false;
        }
        bytes = _buffer.Slice(_offset, count);
        _offset += count;
        return true;
    }
}
