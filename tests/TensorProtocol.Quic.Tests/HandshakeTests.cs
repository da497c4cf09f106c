namespace TensorProtocol.Quic.Tests;

public sealed class HandshakeTests : QuicTestBase
{
    [Fact]
    public async Task Connect_BothSidesSeeEachOthersPublicKey()
    {
        await using QuicEndpoint server = CreateEndpoint();
        await using QuicEndpoint client = CreateEndpoint();
        var (c, s) = await ConnectPairAsync(client, server);
        Assert.Equal(server.PublicKey, c.RemotePublicKey);
        Assert.Equal(client.PublicKey, s.RemotePublicKey);
        Assert.Equal(Alpn, c.NegotiatedApplicationProtocol);
        Assert.Equal(Alpn, s.NegotiatedApplicationProtocol);
        Assert.True(s.IsServer);
        Assert.False(c.IsServer);

        QuicStream stream = await c.OpenOutboundStreamAsync(QuicStreamType.Bidirectional, Timeout());
        await stream.WriteAsync("hello"u8.ToArray(), completeWrites: true, Timeout());
        QuicStream accepted = await s.AcceptInboundStreamAsync(Timeout());
        var buffer = new byte[16];
        int n = await accepted.ReadAsync(buffer, Timeout());
        Assert.Equal("hello", System.Text.Encoding.ASCII.GetString(buffer, 0, n));
        await accepted.WriteAsync("world"u8.ToArray(), completeWrites: true, Timeout());
        n = await stream.ReadAsync(buffer, Timeout());
        Assert.Equal("world", System.Text.Encoding.ASCII.GetString(buffer, 0, n));
        Assert.Equal(0, await stream.ReadAsync(buffer, Timeout()));
        await c.DisposeAsync();
        await s.DisposeAsync();
    }
}
