using TensorProtocol.Quic;

namespace TensorProtocol.Tests;

public sealed class NodeIdTests
{
    internal static readonly byte[] SequentialKey = [.. Enumerable.Range(0, 32).Select(i => (byte)i)];

    [Fact]
    public void ToString_AllZeroKey_IsFiftyTwoAs()
    {
        var id = new NodeId(new byte[32]);
        Assert.Equal(new string('a', 52), id.ToString());
        Assert.Equal(default, id);
    }

    [Fact]
    public void ToString_KnownVector()
    {
        // base64.b32encode(bytes(range(32))).decode().lower().rstrip("=") in Python.
        var id = new NodeId(SequentialKey);
        Assert.Equal("aaaqeayeaudaocajbifqydiob4ibceqtcqkrmfyydenbwha5dypq", id.ToString());
        Assert.Equal(NodeId.EncodedLength, id.ToString().Length);
    }

    [Fact]
    public void Parse_RoundTripsRandomKeys_InEitherCase()
    {
        var random = new Random(1234);
        var key = new byte[32];
        for (int i = 0; i < 200; i++)
        {
            random.NextBytes(key);
            var id = new NodeId(key);
            string text = id.ToString();
            Assert.Matches("^[a-z2-7]{52}$", text);
            Assert.Equal(id, NodeId.Parse(text));
            Assert.Equal(id, NodeId.Parse(text.ToUpperInvariant()));
            Assert.Equal(key, id.PublicKey.ToArray());
        }
    }

    [Fact]
    public void WrapsTheQuicPublicKey()
    {
        var key = new QuicPublicKey(SequentialKey);
        var id = new NodeId(key);
        Assert.Equal(key, id.PublicKey);
        Assert.True(id == new NodeId(SequentialKey));
        Assert.False(id != new NodeId(SequentialKey));
        Assert.NotEqual(id, new NodeId(new byte[32]));
        Assert.Equal(id.GetHashCode(), new NodeId(SequentialKey).GetHashCode());
        Assert.Throws<ArgumentException>(() => new NodeId(new byte[31]));
    }

    [Theory]
    [InlineData("", "52 base32 characters")]
    [InlineData("aaaa", "52 base32 characters")]
    [InlineData("aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa", "52 base32 characters")] // 53
    [InlineData("aaaaaaaaaaaaaaaaaaaaaaaaa1aaaaaaaaaaaaaaaaaaaaaaaaaa", "'1' at position 25")]
    [InlineData("aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa=", "'=' at position 51")]
    [InlineData("aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaab", "non-zero padding bits")] // the last 4 bits are unused
    public void Parse_Malformed_SaysWhy(string text, string expected)
    {
        FormatException e = Assert.Throws<FormatException>(() => NodeId.Parse(text));
        Assert.Contains(expected, e.Message, StringComparison.Ordinal);
        Assert.False(NodeId.TryParse(text, out _));
    }

    [Fact]
    public void Parse_Null()
    {
        Assert.Throws<ArgumentNullException>(() => NodeId.Parse(null!));
        Assert.False(NodeId.TryParse(null, out _));
    }
}
