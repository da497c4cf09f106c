namespace TensorProtocol.Quic.Tests;

/// <summary>
/// Packet sizes: a loopback connection sends 64 KiB datagrams from the start; on other paths, path MTU discovery climbs
/// the probe ladder as far as the path carries. A relay on 127.0.0.1 that drops what exceeds its MTU stands in for the
/// network path (<see cref="QuicConnectionOptions.ProbeLoopbackPaths"/>).
/// </summary>
[Collection(SerialCollection.Name)]
public sealed class PathMtuTests : QuicTestBase
{
    [Theory]
    [InlineData(1452)] // Ethernet (1500-byte frames under IPv6 and UDP headers)
    [InlineData(8952)] // jumbo frames
    [InlineData(1400)] // a tunnel: 1452 and 1444 are lost, 1392 fits
    [InlineData(1250)] // nothing on the ladder above the 1232 of IPv6's minimum MTU fits
    public async Task Discovery_SettlesOnTheLargestLadderSizeThePathCarries(int pathMtu)
    {
        int expected = new[] { 1452, 1444, 1392, 1232, 8952, 65487 }.Where(size => size <= pathMtu).Max();
        var options = QuicConnectionOptions.Default with { ProbeLoopbackPaths = true };
        await using QuicEndpoint server = CreateEndpoint(options);
        await using QuicEndpoint client = CreateEndpoint(options);
        using var relay = new LossyUdpRelay(server.LocalEndPoint, seed: 7, dropRate: 0, duplicateRate: 0, reorderRate: 0) { PathMtu = pathMtu };
        CancellationToken ct = Timeout(TimeSpan.FromSeconds(30));
        Task<QuicConnection> accept = server.AcceptConnectionAsync(ct).AsTask();
        await using QuicConnection c = await client.ConnectAsync(relay.EndPoint, server.PublicKey, ct);
        await using QuicConnection s = await accept;

        // Keep data flowing while the probes go out (a lost size takes three probes a few PTOs apart).
        QuicStream sending = await c.OpenOutboundStreamAsync(QuicStreamType.Unidirectional, ct);
        Task<QuicStream> accepting = s.AcceptInboundStreamAsync(ct).AsTask();
        byte[] chunk = RandomBytes(256 << 10, seed: pathMtu);
        var received = new byte[chunk.Length];
        QuicStream? incoming = null;
        QuicConnectionStatistics stats = await c.GetStatisticsAsync();
        for (int round = 0; round < 2000 && (stats.MaxDatagramSize < expected || relay.TooBig == 0 && expected < 65487); round++)
        {
            await sending.WriteAsync(chunk, ct);
            incoming ??= await accepting;
            await incoming.ReadExactlyAsync(received, ct);
            Assert.True(chunk.AsSpan().SequenceEqual(received));
            stats = await c.GetStatisticsAsync();
        }
        Assert.Equal(expected, stats.MaxDatagramSize);
        Assert.True(relay.TooBig > 0, relay.ToString()); // the next size up was tried, and the path dropped it
        Assert.Equal(0, relay.Dropped);
        await sending.DisposeAsync();
        if (incoming is not null)
        {
            await incoming.DisposeAsync();
        }
    }

    [Fact]
    public async Task LoopbackConnection_SendsLargeDatagramsFromTheStart()
    {
        await using QuicEndpoint server = CreateEndpoint();
        await using QuicEndpoint client = CreateEndpoint();
        var (c, _) = await ConnectPairAsync(client, server);
        QuicConnectionStatistics stats = await c.GetStatisticsAsync();
        Assert.Equal(65487, stats.MaxDatagramSize);
    }
}
