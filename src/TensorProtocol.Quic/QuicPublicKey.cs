using System.Diagnostics.CodeAnalysis;

namespace TensorProtocol.Quic;

/// <summary>An Ed25519 public key: the identity of a QUIC endpoint, checked during every handshake.</summary>
public readonly struct QuicPublicKey : IEquatable<QuicPublicKey>
{
    /// <summary>Length of an Ed25519 public key in bytes.</summary>
    public const int Length = 32;

    private readonly byte[]? _bytes;

    /// <summary>Creates a key from its 32 raw bytes.</summary>
    public QuicPublicKey(ReadOnlySpan<byte> bytes)
    {
        if (bytes.Length != Length)
        {
            throw new ArgumentException($"An Ed25519 public key is {Length} bytes, not {bytes.Length}.", nameof(bytes));
        }
        _bytes = bytes.ToArray();
    }

    /// <summary>The raw 32 bytes (all zero for <c>default</c>).</summary>
    public ReadOnlySpan<byte> AsSpan() => _bytes is null ? new byte[Length] : _bytes;

    /// <summary>
    /// Whether this is one of the encodings of a point of small order (the all-zero <c>default</c> among them). Ed25519
    /// verification as GnuTLS does it accepts signatures for such a key that anyone can forge without a private key,
    /// so no endpoint may be identified by one: it is neither accepted from a peer nor usable as an expected key.
    /// </summary>
    public bool IsWeak
    {
        get
        {
            ReadOnlySpan<byte> key = AsSpan();
            foreach (byte[] weak in s_smallOrder)
            {
                // The sign bit of the last byte (x's parity) does not change the order of these points.
                if (key[..31].SequenceEqual(weak.AsSpan(0, 31)) && (key[31] & 0x7f) == weak[31])
                {
                    return true;
                }
            }
            return false;
        }
    }

    // The y coordinates of the points of order 1, 2, 4 and 8 on edwards25519, little-endian, including the non-canonical
    // encodings p and p + 1 (of 0 and 1).
    private static readonly byte[][] s_smallOrder =
    [
        Convert.FromHexString("0000000000000000000000000000000000000000000000000000000000000000"), // y = 0: order 4
        Convert.FromHexString("0100000000000000000000000000000000000000000000000000000000000000"), // y = 1: the identity
        Convert.FromHexString("26e8958fc2b227b045c3f489f2ef98f0d5dfac05d3c63339b13802886d53fc05"), // order 8
        Convert.FromHexString("c7176a703d4dd84fba3c0b760d10670f2a2053fa2c39ccc64ec7fd7792ac037a"), // order 8
        Convert.FromHexString("ecffffffffffffffffffffffffffffffffffffffffffffffffffffffffffff7f"), // y = p - 1: order 2
        Convert.FromHexString("edffffffffffffffffffffffffffffffffffffffffffffffffffffffffffff7f"), // y = p (= 0)
        Convert.FromHexString("eeffffffffffffffffffffffffffffffffffffffffffffffffffffffffffff7f"), // y = p + 1 (= 1)
    ];

    /// <summary>Returns a copy of the raw bytes.</summary>
    public byte[] ToArray() => AsSpan().ToArray();

    /// <summary>Lowercase hexadecimal, 64 characters.</summary>
    public override string ToString() => Convert.ToHexStringLower(AsSpan());

    /// <summary>Parses the 64-character hexadecimal form.</summary>
    public static QuicPublicKey Parse(string hex)
    {
        if (!TryParse(hex, out QuicPublicKey key))
        {
            throw new FormatException("A public key is 64 hexadecimal characters.");
        }
        return key;
    }

    /// <summary>Parses the 64-character hexadecimal form.</summary>
    public static bool TryParse([NotNullWhen(true)] string? hex, out QuicPublicKey key)
    {
        Span<byte> bytes = stackalloc byte[Length];
        if (hex is null || hex.Length != 2 * Length || Convert.FromHexString(hex, bytes, out _, out int written) != System.Buffers.OperationStatus.Done || written != Length)
        {
            key = default;
            return false;
        }
        key = new QuicPublicKey(bytes);
        return true;
    }

    /// <inheritdoc/>
    public bool Equals(QuicPublicKey other) => AsSpan().SequenceEqual(other.AsSpan());

    /// <inheritdoc/>
    public override bool Equals(object? obj) => obj is QuicPublicKey other && Equals(other);

    /// <inheritdoc/>
    public override int GetHashCode() => BitConverter.ToInt32(AsSpan());

    /// <summary>Equality of the key bytes.</summary>
    public static bool operator ==(QuicPublicKey left, QuicPublicKey right) => left.Equals(right);

    /// <summary>Inequality of the key bytes.</summary>
    public static bool operator !=(QuicPublicKey left, QuicPublicKey right) => !left.Equals(right);
}
