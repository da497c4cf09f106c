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
