using System.Diagnostics.CodeAnalysis;
using TensorProtocol.Internal;
using TensorProtocol.Quic;

namespace TensorProtocol;

/// <summary>
/// The identity of a tensor node: its Ed25519 public key, which every QUIC handshake with the node proves. Written as
/// 52 characters of lowercase RFC 4648 base32 without padding.
/// </summary>
public readonly struct NodeId : IEquatable<NodeId>
{
    /// <summary>The length of the text form: 32 bytes in base32.</summary>
    public const int EncodedLength = 52;

    private readonly QuicPublicKey _publicKey;

    /// <summary>The node whose key this is.</summary>
    public NodeId(QuicPublicKey publicKey) => _publicKey = publicKey;

    /// <summary>The node whose key has these 32 bytes.</summary>
    /// <exception cref="ArgumentException">The span is not 32 bytes long.</exception>
    public NodeId(ReadOnlySpan<byte> publicKey) => _publicKey = new QuicPublicKey(publicKey);

    /// <summary>The Ed25519 public key, to dial the node with.</summary>
    public QuicPublicKey PublicKey => _publicKey;

    /// <summary>52 characters of lowercase base32.</summary>
    public override string ToString() => Base32.Encode(_publicKey.AsSpan());

    /// <summary>Parses the 52-character base32 form (either case).</summary>
    /// <exception cref="ArgumentNullException"><paramref name="text"/> is null.</exception>
    /// <exception cref="FormatException">The text is not a node id; the message says why.</exception>
    public static NodeId Parse(string text)
    {
        ArgumentNullException.ThrowIfNull(text);
        return TryParse(text, out NodeId id, out string? error) ? id : throw new FormatException(error);
    }

    /// <summary>Parses the 52-character base32 form (either case).</summary>
    public static bool TryParse([NotNullWhen(true)] string? text, out NodeId id) => TryParse(text, out id, out _);

    internal static bool TryParse(ReadOnlySpan<char> text, out NodeId id, [NotNullWhen(false)] out string? error)
    {
        id = default;
        if (text.Length != EncodedLength)
        {
            error = $"A node id is {EncodedLength} base32 characters; {TextPreview.Quote(text)} has {text.Length}.";
            return false;
        }
        Span<byte> key = stackalloc byte[QuicPublicKey.Length];
        switch (Base32.TryDecode(text, key, out _, out int errorIndex))
        {
            case Base32.Result.Done:
                id = new NodeId(key);
                error = null;
                return true;
            case Base32.Result.InvalidCharacter:
                error = $"'{text[errorIndex]}' at position {errorIndex} of node id {TextPreview.Quote(text)} is not a base32 character (a-z, 2-7).";
                return false;
            default:
                error = $"The last character of node id {TextPreview.Quote(text)} has non-zero padding bits; it is not the encoding of any key.";
                return false;
        }
    }

    /// <inheritdoc/>
    public bool Equals(NodeId other) => _publicKey == other._publicKey;

    /// <inheritdoc/>
    public override bool Equals(object? obj) => obj is NodeId other && Equals(other);

    /// <inheritdoc/>
    public override int GetHashCode() => _publicKey.GetHashCode();

    /// <summary>Whether two ids are the same key.</summary>
    public static bool operator ==(NodeId left, NodeId right) => left.Equals(right);

    /// <summary>Whether two ids are different keys.</summary>
    public static bool operator !=(NodeId left, NodeId right) => !left.Equals(right);
}
