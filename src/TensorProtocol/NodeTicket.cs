using System.Buffers.Binary;
using System.Collections.Immutable;
using System.Diagnostics.CodeAnalysis;
using System.Net;
using System.Net.Sockets;
using TensorProtocol.Internal;
using TensorProtocol.Quic;

namespace TensorProtocol;

/// <summary>
/// Everything needed to dial a node, as one string to copy and paste: the node's id (its public key) and its direct
/// addresses. Nothing here dials; a node reads the ticket and tries the addresses.
/// </summary>
/// <remarks>
/// The text is <c>tensorp</c>, the format version (<c>1</c>), then lowercase base32 (RFC 4648, no padding) of a
/// binary body: the 32-byte key, an address count (1 to <see cref="MaxAddresses"/>), and per address a family byte
/// (4 or 6), the 4 or 16 address bytes and a big-endian port. docs/protocol.md has the byte layout. Each ticket has
/// exactly one text form, so equal tickets have equal strings. Parsing accepts upper case too.
/// </remarks>
public sealed class NodeTicket : IEquatable<NodeTicket>
{
    /// <summary>The text every ticket starts with, before the version.</summary>
    public const string Prefix = "tensorp";

    /// <summary>The format version this build writes and reads, the character after <see cref="Prefix"/>.</summary>
    public const char Version = '1';

    /// <summary>The most addresses a ticket may list.</summary>
    public const int MaxAddresses = 16;

    /// <summary>The longest ticket text: <see cref="MaxAddresses"/> IPv6 addresses.</summary>
    public const int MaxLength = 8 + 540; // prefix and version, then base32 of MaxBodyLength (337) bytes

    private const byte FamilyIPv4 = 4;
    private const byte FamilyIPv6 = 6;
    private const int HeaderLength = QuicPublicKey.Length + 1;
    private const int MaxBodyLength = HeaderLength + MaxAddresses * (1 + 16 + 2);

    private readonly ImmutableArray<IPEndPoint> _addresses;
    private readonly string _text;

    /// <summary>A ticket for a node reachable at the given addresses, in order of preference.</summary>
    /// <remarks>
    /// Duplicates are dropped; IPv4-mapped IPv6 addresses become IPv4; IPv6 scope ids are dropped, because they name
    /// an interface of the machine that made the ticket, not of the one that dials.
    /// </remarks>
    /// <exception cref="ArgumentException">
    /// No address, more than <see cref="MaxAddresses"/>, port 0, an unspecified address (0.0.0.0, ::) or one that is
    /// neither IPv4 nor IPv6.
    /// </exception>
    public NodeTicket(NodeId nodeId, IEnumerable<IPEndPoint> addresses)
    {
        ArgumentNullException.ThrowIfNull(addresses);
        var unique = new List<IPEndPoint>();
        foreach (IPEndPoint? endPoint in addresses)
        {
            ArgumentNullException.ThrowIfNull(endPoint, nameof(addresses));
            IPAddress address = endPoint.Address.IsIPv4MappedToIPv6 ? endPoint.Address.MapToIPv4() : endPoint.Address;
            if (address.AddressFamily is not (AddressFamily.InterNetwork or AddressFamily.InterNetworkV6))
            {
                throw new ArgumentException($"{endPoint} is neither IPv4 nor IPv6.", nameof(addresses));
            }
            // A fresh IPAddress from the bytes alone: no scope id, and no object shared with the caller.
            var copy = new IPEndPoint(new IPAddress(address.GetAddressBytes()), endPoint.Port);
            if (copy.Port == 0)
            {
                throw new ArgumentException($"{endPoint} has port 0, which cannot be dialed.", nameof(addresses));
            }
            if (IsUnspecified(copy.Address))
            {
                throw new ArgumentException(
                    $"{endPoint} is the unspecified address, which cannot be dialed; list the node's actual addresses.",
                    nameof(addresses));
            }
            if (!unique.Contains(copy))
            {
                unique.Add(copy);
            }
        }
        if (unique.Count is 0 or > MaxAddresses)
        {
            throw new ArgumentException(
                $"A ticket lists 1 to {MaxAddresses} distinct addresses, not {unique.Count}.", nameof(addresses));
        }
        NodeId = nodeId;
        _addresses = [.. unique];
        _text = Format(nodeId, _addresses.AsSpan());
    }

    /// <summary>The node's id: the key the dialer must see in the handshake.</summary>
    public NodeId NodeId { get; }

    /// <summary>The number of addresses.</summary>
    public int AddressCount => _addresses.Length;

    /// <summary>The direct addresses in order of preference, as new copies (<see cref="IPEndPoint"/> is mutable).</summary>
    public IPEndPoint[] GetAddresses() => [.. _addresses.Select(e => new IPEndPoint(new IPAddress(e.Address.GetAddressBytes()), e.Port))];

    /// <summary>The ticket text: <c>tensorp1</c> followed by lowercase base32.</summary>
    public override string ToString() => _text;

    /// <summary>Parses a ticket.</summary>
    /// <exception cref="ArgumentNullException"><paramref name="text"/> is null.</exception>
    /// <exception cref="TicketFormatException">The text is not a valid ticket; the message says what is wrong.</exception>
    public static NodeTicket Parse(string text)
    {
        ArgumentNullException.ThrowIfNull(text);
        return TryParse(text, out NodeTicket? ticket, out string? error) ? ticket : throw new TicketFormatException(error);
    }

    /// <summary>Parses a ticket without throwing.</summary>
    public static bool TryParse([NotNullWhen(true)] string? text, [NotNullWhen(true)] out NodeTicket? ticket)
    {
        ticket = null;
        return text is not null && TryParse(text, out ticket, out _);
    }

    /// <inheritdoc/>
    public bool Equals(NodeTicket? other) => other is not null && _text == other._text;

    /// <inheritdoc/>
    public override bool Equals(object? obj) => Equals(obj as NodeTicket);

    /// <inheritdoc/>
    public override int GetHashCode() => _text.GetHashCode(StringComparison.Ordinal);

    /// <summary>Whether two tickets name the same node at the same addresses in the same order.</summary>
    public static bool operator ==(NodeTicket? left, NodeTicket? right) => left is null ? right is null : left.Equals(right);

    /// <summary>Whether two tickets differ.</summary>
    public static bool operator !=(NodeTicket? left, NodeTicket? right) => !(left == right);

    private static string Format(NodeId nodeId, ReadOnlySpan<IPEndPoint> addresses)
    {
        Span<byte> body = stackalloc byte[MaxBodyLength];
        nodeId.PublicKey.AsSpan().CopyTo(body);
        body[QuicPublicKey.Length] = (byte)addresses.Length;
        int length = HeaderLength;
        foreach (IPEndPoint endPoint in addresses)
        {
            bool v4 = endPoint.Address.AddressFamily == AddressFamily.InterNetwork;
            body[length++] = v4 ? FamilyIPv4 : FamilyIPv6;
            endPoint.Address.TryWriteBytes(body[length..], out int written);
            length += written;
            BinaryPrimitives.WriteUInt16BigEndian(body[length..], (ushort)endPoint.Port);
            length += 2;
        }
        return $"{Prefix}{Version}{Base32.Encode(body[..length])}";
    }

    private static bool TryParse(ReadOnlySpan<char> text, [NotNullWhen(true)] out NodeTicket? ticket, [NotNullWhen(false)] out string? error)
    {
        ticket = null;
        error = CheckEnvelope(text);
        if (error is not null)
        {
            return false;
        }
        ReadOnlySpan<char> encoded = text[(Prefix.Length + 1)..];
        Span<byte> buffer = stackalloc byte[MaxBodyLength];
        switch (Base32.TryDecode(encoded, buffer, out int length, out int errorIndex))
        {
            case Base32.Result.InvalidCharacter:
                error = $"'{encoded[errorIndex]}' at position {Prefix.Length + 1 + errorIndex} of the ticket is not a base32 character (a-z, 2-7).";
                return false;
            case Base32.Result.InvalidLength:
                error = $"The ticket's base32 text has an impossible length ({encoded.Length} characters); it was probably cut short.";
                return false;
            case Base32.Result.NonZeroTrailingBits:
                error = "The ticket's last character has non-zero padding bits; it was probably cut short or altered.";
                return false;
        }
        error = ParseBody(buffer[..length], out NodeId nodeId, out IPEndPoint[]? addresses);
        if (error is not null)
        {
            return false;
        }
        ticket = new NodeTicket(nodeId, addresses!);
        return true;
    }

    // Everything that can be judged before decoding: emptiness, prefix, version, length.
    private static string? CheckEnvelope(ReadOnlySpan<char> text)
    {
        if (text.IsEmpty)
        {
            return "The ticket is empty.";
        }
        if (!text.StartsWith(Prefix, StringComparison.OrdinalIgnoreCase))
        {
            return $"A node ticket starts with '{Prefix}{Version}'; {TextPreview.Quote(text)} does not.";
        }
        if (text.Length == Prefix.Length)
        {
            return $"The ticket ends after '{Prefix}', before its version.";
        }
        if (text[Prefix.Length] != Version)
        {
            return $"Ticket version '{text[Prefix.Length]}' is not supported; this build reads version {Version} ('{Prefix}{Version}...').";
        }
        if (text.Length == Prefix.Length + 1)
        {
            return $"The ticket ends after '{Prefix}{Version}', before the node id.";
        }
        if (text.Length > MaxLength)
        {
            return $"The ticket has {text.Length} characters; a ticket has at most {MaxLength} ({MaxAddresses} addresses).";
        }
        return null;
    }

    private static string? ParseBody(ReadOnlySpan<byte> body, out NodeId nodeId, out IPEndPoint[]? addresses)
    {
        nodeId = default;
        addresses = null;
        if (body.Length < HeaderLength)
        {
            return $"The ticket is truncated: its body is {body.Length} bytes, shorter than the {QuicPublicKey.Length}-byte node id and the address count.";
        }
        int count = body[QuicPublicKey.Length];
        if (count == 0)
        {
            return "The ticket lists no addresses; it needs at least one to dial the node.";
        }
        if (count > MaxAddresses)
        {
            return $"The ticket lists {count} addresses; at most {MaxAddresses} are allowed.";
        }
        var parsed = new IPEndPoint[count];
        int offset = HeaderLength;
        for (int i = 0; i < count; i++)
        {
            string position = $"address {i + 1} of {count}";
            if (offset == body.Length)
            {
                return $"The ticket is truncated: it ends before {position}.";
            }
            int addressLength = body[offset] switch
            {
                FamilyIPv4 => 4,
                FamilyIPv6 => 16,
                _ => 0,
            };
            if (addressLength == 0)
            {
                return $"The family of {position} is {body[offset]}; it must be 4 (IPv4) or 6 (IPv6).";
            }
            offset++;
            if (body.Length - offset < addressLength + 2)
            {
                return $"The ticket is truncated: it ends inside {position}.";
            }
            var address = new IPAddress(body.Slice(offset, addressLength));
            int port = BinaryPrimitives.ReadUInt16BigEndian(body[(offset + addressLength)..]);
            offset += addressLength + 2;
            // The checks below hold every ticket this class writes; a ticket that fails them was made elsewhere.
            if (port == 0)
            {
                return $"The port of {position} ({address}) is 0.";
            }
            if (IsUnspecified(address))
            {
                return $"The ticket's {position} is the unspecified address {address}, which cannot be dialed.";
            }
            if (address.IsIPv4MappedToIPv6)
            {
                return $"The ticket's {position} ({address}) is an IPv4-mapped IPv6 address; a ticket writes it as IPv4.";
            }
            parsed[i] = new IPEndPoint(address, port);
            if (Array.IndexOf(parsed, parsed[i], 0, i) >= 0)
            {
                return $"The ticket's {position} ({parsed[i]}) appears earlier in the ticket too.";
            }
        }
        if (offset != body.Length)
        {
            int extra = body.Length - offset;
            return $"The ticket has trailing data: {extra} byte{(extra == 1 ? "" : "s")} after its last address.";
        }
        nodeId = new NodeId(body[..QuicPublicKey.Length]);
        addresses = parsed;
        return null;
    }

    private static bool IsUnspecified(IPAddress address) =>
        address.Equals(IPAddress.Any) || address.Equals(IPAddress.IPv6Any);
}
