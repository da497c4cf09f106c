using System.Buffers.Binary;
using TensorProtocol.Quic.Interop;

namespace TensorProtocol.Quic.Internal;

/// <summary>A QUIC connection ID (up to 20 bytes) as a dictionary key, compared by value.</summary>
internal readonly unsafe struct ConnectionIdKey : IEquatable<ConnectionIdKey>
{
    private readonly ulong _a, _b;
    private readonly uint _c;
    private readonly byte _length;

    internal ConnectionIdKey(ReadOnlySpan<byte> id)
    {
        if (id.Length > ngtcp2.NGTCP2_MAX_CIDLEN)
        {
            throw new ArgumentOutOfRangeException(nameof(id));
        }
        Span<byte> padded = stackalloc byte[ngtcp2.NGTCP2_MAX_CIDLEN];
        padded.Clear();
        id.CopyTo(padded);
        _a = BinaryPrimitives.ReadUInt64LittleEndian(padded);
        _b = BinaryPrimitives.ReadUInt64LittleEndian(padded[8..]);
        _c = BinaryPrimitives.ReadUInt32LittleEndian(padded[16..]);
        _length = (byte)id.Length;
    }

    internal ConnectionIdKey(ngtcp2.ngtcp2_cid* cid) : this(new ReadOnlySpan<byte>(cid->data, (int)cid->datalen)) { }

    internal int Length => _length;

    internal void CopyTo(Span<byte> destination)
    {
        Span<byte> padded = stackalloc byte[ngtcp2.NGTCP2_MAX_CIDLEN];
        BinaryPrimitives.WriteUInt64LittleEndian(padded, _a);
        BinaryPrimitives.WriteUInt64LittleEndian(padded[8..], _b);
        BinaryPrimitives.WriteUInt32LittleEndian(padded[16..], _c);
        padded[.._length].CopyTo(destination);
    }

    public bool Equals(ConnectionIdKey other) => _a == other._a && _b == other._b && _c == other._c && _length == other._length;

    public override bool Equals(object? obj) => obj is ConnectionIdKey other && Equals(other);

    // Our own IDs are random, but a client picks the DCID of its first Initial, which stays registered for routing: a
    // hash seeded per process (HashCode) keeps such IDs from being chosen to pile into one bucket. Every bit goes into
    // the seeded mixing as 32-bit words: ulong.GetHashCode() would XOR the halves together first, unseeded, so IDs whose
    // halves XOR alike would collide under every seed.
    public override int GetHashCode() =>
        HashCode.Combine((uint)_a, (uint)(_a >> 32), (uint)_b, (uint)(_b >> 32), _c, _length);

    public override string ToString()
    {
        Span<byte> bytes = stackalloc byte[_length];
        CopyTo(bytes);
        return Convert.ToHexStringLower(bytes);
    }
}
