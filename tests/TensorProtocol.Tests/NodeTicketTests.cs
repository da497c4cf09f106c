using System.Buffers.Binary;
using System.Net;
using TensorProtocol.Internal;

namespace TensorProtocol.Tests;

public sealed class NodeTicketTests
{
    private static readonly NodeId s_zeroId = new(new byte[32]);
    private static readonly NodeId s_sequentialId = new(NodeIdTests.SequentialKey);

    // Computed independently with Python's base64.b32encode (docs/protocol.md).
    private const string LoopbackTicket = "tensorp1aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaacbd7aaaacekr";
    private const string TwoAddressTicket =
        "tensorp1aaaqeayeaudaocajbifqydiob4ibceqtcqkrmfyydenbwha5dypqebraaeg3qaaaaaaaaaaaaaaaaaabag5qjqfiaekmgua";

    [Fact]
    public void ToString_IPv4_MatchesTheGoldenText()
    {
        var ticket = new NodeTicket(s_zeroId, [new IPEndPoint(IPAddress.Loopback, 4433)]);
        Assert.Equal(LoopbackTicket, ticket.ToString());
        NodeTicket parsed = NodeTicket.Parse(LoopbackTicket);
        Assert.Equal(ticket, parsed);
        Assert.Equal(s_zeroId, parsed.NodeId);
        Assert.Equal([new IPEndPoint(IPAddress.Loopback, 4433)], parsed.GetAddresses());
    }

    [Fact]
    public void ToString_IPv6AndIPv4_MatchesTheGoldenText()
    {
        IPEndPoint[] addresses = [new(IPAddress.Parse("2001:db8::1"), 443), new(IPAddress.Parse("192.168.1.20"), 50000)];
        var ticket = new NodeTicket(s_sequentialId, addresses);
        Assert.Equal(TwoAddressTicket, ticket.ToString());
        NodeTicket parsed = NodeTicket.Parse(TwoAddressTicket);
        Assert.Equal(s_sequentialId, parsed.NodeId);
        Assert.Equal(addresses, parsed.GetAddresses());
        Assert.Equal(2, parsed.AddressCount);
    }

    [Fact]
    public void Parse_AcceptsUpperCase()
    {
        Assert.Equal(NodeTicket.Parse(TwoAddressTicket), NodeTicket.Parse(TwoAddressTicket.ToUpperInvariant()));
    }

    [Fact]
    public void RoundTrip_SixteenIPv6Addresses_IsTheLongestTicket()
    {
        IPEndPoint[] addresses = [.. Enumerable.Range(1, 16).Select(i => new IPEndPoint(IPAddress.Parse($"fd00::{i:x}"), 65535))];
        var ticket = new NodeTicket(s_sequentialId, addresses);
        Assert.Equal(NodeTicket.MaxLength, ticket.ToString().Length);
        Assert.Equal(addresses, NodeTicket.Parse(ticket.ToString()).GetAddresses());
    }

    [Fact]
    public void RoundTrip_RandomTickets()
    {
        var random = new Random(99);
        var key = new byte[32];
        for (int i = 0; i < 200; i++)
        {
            random.NextBytes(key);
            var addresses = new List<IPEndPoint>();
            for (int n = random.Next(1, 17); addresses.Count < n;)
            {
                byte[] address = new byte[random.Next(2) == 0 ? 4 : 16];
                random.NextBytes(address);
                address[0] |= 1; // never unspecified nor IPv4-mapped
                var endPoint = new IPEndPoint(new IPAddress(address), random.Next(1, 65536));
                if (!addresses.Contains(endPoint))
                {
                    addresses.Add(endPoint);
                }
            }
            var ticket = new NodeTicket(new NodeId(key), addresses);
            NodeTicket parsed = NodeTicket.Parse(ticket.ToString());
            Assert.Equal(ticket, parsed);
            Assert.Equal(addresses, parsed.GetAddresses());
            Assert.Equal(ticket.ToString(), parsed.ToString());
        }
    }

    [Fact]
    public void Constructor_Normalizes()
    {
        var scoped = new IPAddress(IPAddress.Parse("fe80::1").GetAddressBytes(), scopeid: 3);
        var ticket = new NodeTicket(s_zeroId,
        [
            new IPEndPoint(IPAddress.Parse("::ffff:10.0.0.1"), 1),
            new IPEndPoint(IPAddress.Parse("10.0.0.1"), 1), // the same, once mapped back
            new IPEndPoint(scoped, 2),
        ]);
        IPEndPoint[] addresses = ticket.GetAddresses();
        Assert.Equal([new IPEndPoint(IPAddress.Parse("10.0.0.1"), 1), new IPEndPoint(IPAddress.Parse("fe80::1"), 2)], addresses);
        Assert.Equal(0, addresses[1].Address.ScopeId);
        Assert.Equal(ticket, NodeTicket.Parse(ticket.ToString()));
    }

    [Fact]
    public void GetAddresses_ReturnsCopies()
    {
        var ticket = new NodeTicket(s_zeroId, [new IPEndPoint(IPAddress.Loopback, 4433)]);
        ticket.GetAddresses()[0].Port = 1;
        Assert.Equal(4433, ticket.GetAddresses()[0].Port);
        Assert.Equal(LoopbackTicket, ticket.ToString());
    }

    [Fact]
    public void Constructor_InvalidAddresses_Throw()
    {
        Assert.Throws<ArgumentException>(() => new NodeTicket(s_zeroId, []));
        Assert.Throws<ArgumentException>(() => new NodeTicket(s_zeroId, [new IPEndPoint(IPAddress.Loopback, 0)]));
        Assert.Throws<ArgumentException>(() => new NodeTicket(s_zeroId, [new IPEndPoint(IPAddress.Any, 1)]));
        Assert.Throws<ArgumentException>(() => new NodeTicket(s_zeroId, [new IPEndPoint(IPAddress.IPv6Any, 1)]));
        Assert.Throws<ArgumentException>(() =>
            new NodeTicket(s_zeroId, Enumerable.Range(1, 17).Select(i => new IPEndPoint(IPAddress.Loopback, i))));
        Assert.Throws<ArgumentNullException>(() => new NodeTicket(s_zeroId, [null!]));
    }

    public static TheoryData<string, string> MalformedTickets()
    {
        byte[] key = new byte[32];
        byte[] v4 = Address(4, [127, 0, 0, 1], 4433);
        string Ticket(params byte[][] parts) => "tensorp1" + Base32.Encode(parts.SelectMany(p => p).ToArray());
        string valid = Ticket(key, [1], v4);
        return new TheoryData<string, string>
        {
            { "", "The ticket is empty." },
            { "nodeaaaa", "A node ticket starts with 'tensorp1'; 'nodeaaaa' does not." },
            { "tensor", "A node ticket starts with 'tensorp1'" },
            { "tensorp", "The ticket ends after 'tensorp', before its version." },
            { "tensorp2" + valid[8..], "Ticket version '2' is not supported; this build reads version 1" },
            { "tensorpa" + valid[8..], "Ticket version 'a' is not supported" },
            { "tensorp1", "The ticket ends after 'tensorp1', before the node id." },
            { "tensorp1" + new string('a', 541), "The ticket has 549 characters; a ticket has at most 548" },
            { valid[..12] + "0" + valid[13..], "'0' at position 12 of the ticket is not a base32 character" },
            { valid[..12] + "=" + valid[13..], "'=' at position 12 of the ticket is not a base32 character" },
            { "tensorp1a", "impossible length (1 characters)" },
            { "tensorp1ab", "non-zero padding bits" },
            { Ticket(new byte[10]), "The ticket is truncated: its body is 10 bytes, shorter than the 32-byte node id" },
            { Ticket(key), "The ticket is truncated: its body is 32 bytes" },
            { Ticket(key, [0]), "The ticket lists no addresses" },
            { Ticket(key, [17], v4), "The ticket lists 17 addresses; at most 16 are allowed." },
            { Ticket(key, [255], v4), "The ticket lists 255 addresses" },
            { Ticket(key, [2], v4), "The ticket is truncated: it ends before address 2 of 2." },
            { Ticket(key, [1], v4[..3]), "The ticket is truncated: it ends inside address 1 of 1." },
            { Ticket(key, [1], v4[..6]), "The ticket is truncated: it ends inside address 1 of 1." },
            { Ticket(key, [1], [4]), "The ticket is truncated: it ends inside address 1 of 1." },
            { Ticket(key, [1], Address(5, [1, 2, 3, 4], 1)), "The family of address 1 of 1 is 5; it must be 4 (IPv4) or 6 (IPv6)." },
            { Ticket(key, [1], Address(4, [127, 0, 0, 1], 0)), "The port of address 1 of 1 (127.0.0.1) is 0." },
            { Ticket(key, [1], Address(4, [0, 0, 0, 0], 80)), "address 1 of 1 is the unspecified address 0.0.0.0" },
            { Ticket(key, [1], Address(6, new byte[16], 80)), "address 1 of 1 is the unspecified address ::" },
            { Ticket(key, [1], Address(6, [0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 255, 255, 1, 2, 3, 4], 80)), "is an IPv4-mapped IPv6 address" },
            { Ticket(key, [2], v4, v4), "address 2 of 2 (127.0.0.1:4433) appears earlier in the ticket too." },
            { Ticket(key, [1], v4, [0]), "The ticket has trailing data: 1 byte after its last address." },
            { Ticket(key, [1], v4, v4), "The ticket has trailing data: 7 bytes after its last address." },
        };
    }

    [Theory]
    [MemberData(nameof(MalformedTickets))]
    public void Parse_Malformed_ThrowsTicketFormatExceptionSayingWhy(string text, string expected)
    {
        TicketFormatException e = Assert.Throws<TicketFormatException>(() => NodeTicket.Parse(text));
        Assert.Contains(expected, e.Message, StringComparison.Ordinal);
        Assert.IsAssignableFrom<FormatException>(e);
        Assert.False(NodeTicket.TryParse(text, out NodeTicket? ticket));
        Assert.Null(ticket);
    }

    [Fact]
    public void Parse_Null()
    {
        Assert.Throws<ArgumentNullException>(() => NodeTicket.Parse(null!));
        Assert.False(NodeTicket.TryParse(null, out _));
    }

    [Fact]
    public void Parse_EveryCutOrDamagedTicket_FailsWithTicketFormatExceptionOnly()
    {
        for (int length = 0; length < TwoAddressTicket.Length; length++)
        {
            Assert.Throws<TicketFormatException>(() => NodeTicket.Parse(TwoAddressTicket[..length]));
        }
        var random = new Random(5);
        const string alphabet = "abcdefghijklmnopqrstuvwxyz234567ABC019=-_ é";
        for (int i = 0; i < 20_000; i++)
        {
            char[] text = TwoAddressTicket.ToCharArray();
            for (int edits = random.Next(1, 4); edits > 0; edits--)
            {
                text[random.Next(text.Length)] = alphabet[random.Next(alphabet.Length)];
            }
            try
            {
                NodeTicket.Parse(new string(text)); // some edits still make a valid ticket
            }
            catch (TicketFormatException)
            {
            }
        }
    }

    private static byte[] Address(byte family, byte[] address, ushort port)
    {
        byte[] bytes = new byte[1 + address.Length + 2];
        bytes[0] = family;
        address.CopyTo(bytes, 1);
        BinaryPrimitives.WriteUInt16BigEndian(bytes.AsSpan(1 + address.Length), port);
        return bytes;
    }
}
