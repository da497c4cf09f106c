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
        // Until the size settled and the next one up (if any) was tried and dropped. In chunks of 64 KiB: a round's burst
        // fits the relay's receive buffer even where it cannot be raised past net.core.rmem_max, so a relay thread that
        // is not scheduled for a while loses nothing (a 1232-byte probe lost three times would end discovery at 1200).
        QuicConnectionStatistics stats = await TransferWhileProbingAsync(client, server, relay.EndPoint, 64 << 10, seed: pathMtu,
            done: (now, _) => now.MaxDatagramSize >= expected && (relay.TooBig > 0 || expected == 65487));
        Assert.True(expected == stats.MaxDatagramSize, $"settled on {stats.MaxDatagramSize}, not {expected}; smoothed RTT {stats.SmoothedRtt.TotalMilliseconds} ms, {stats.PacketsSent} packets sent; {relay}");
        Assert.True(relay.TooBig > 0, relay.ToString()); // the next size up was tried, and the path dropped it
        Assert.Equal(0, relay.Dropped);
        Assert.False(relay.LostByAccident, relay.ToString());
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

    [Theory]
    [InlineData(1500, 1452)] // Ethernet: the 8952 probe is refused by the local link (EMSGSIZE), and only it is lost
    [InlineData(9000, 8952)] // jumbo frames: the 65487 probe is refused
    public async Task Discovery_OverARealLink_FindsItsMtu(int linkMtu, int expected)
    {
        using NetworkNamespace ns = NetworkNamespace.Create(linkMtu);
        QuicEndpoint server = ns.RunInside(() => CreateEndpoint(address: ns.Inside));
        await using (server)
        {
            await using QuicEndpoint client = CreateEndpoint(address: ns.Outside);
            // At least 20 MiB, so the probes of the refused size have all gone out.
            QuicConnectionStatistics stats = await TransferWhileProbingAsync(client, server, server.LocalEndPoint, 1 << 20, seed: linkMtu,
                done: (now, round) => now.MaxDatagramSize >= expected && round >= 20);
            Assert.Equal(expected, stats.MaxDatagramSize);
            // The link refused the next size up: three probes each way, and nothing else. A probe sent in a GSO batch
            // would have taken the packets batched with it down too.
            Assert.InRange(client.DatagramsRefused, 1, 3);
            Assert.InRange(server.DatagramsRefused, 0, 3);
        }
    }

    /// <summary>
    /// Dials <paramref name="dial"/> (the server, or a relay to it) and pushes checked chunks on one stream while the
    /// probes go out (a refused size takes three probes, five PTOs in all), until <paramref name="done"/> says so — or
    /// 45 s passed. The bound is time, not rounds: discovery runs on the loss timers' clock, and on a loaded machine a
    /// fixed number of rounds can be over before the probes of three refused sizes have timed out. Unloaded, the 1250-byte
    /// path settles in about a second; the bound is wide because a loaded machine inflates the RTT variance, and with it
    /// every PTO.
    /// </summary>
    private static async Task<QuicConnectionStatistics> TransferWhileProbingAsync(QuicEndpoint client, QuicEndpoint server, System.Net.IPEndPoint dial,
        int chunkSize, int seed, Func<QuicConnectionStatistics, int, bool> done)
    {
        var budget = System.Diagnostics.Stopwatch.StartNew();
        CancellationToken ct = Timeout(TimeSpan.FromSeconds(60));
        Task<QuicConnection> accept = server.AcceptConnectionAsync(ct).AsTask();
        await using QuicConnection c = await client.ConnectAsync(dial, server.PublicKey, ct);
        await using QuicConnection s = await accept;
        QuicStream sending = await c.OpenOutboundStreamAsync(QuicStreamType.Unidirectional, ct);
        Task<QuicStream> accepting = s.AcceptInboundStreamAsync(ct).AsTask();
        byte[] chunk = RandomBytes(chunkSize, seed);
        var received = new byte[chunk.Length];
        QuicStream? incoming = null;
        QuicConnectionStatistics stats = await c.GetStatisticsAsync();
        for (int round = 0; !done(stats, round) && budget.Elapsed < TimeSpan.FromSeconds(45); round++)
        {
            await sending.WriteAsync(chunk, ct);
            incoming ??= await accepting;
            await incoming.ReadExactlyAsync(received, ct);
            Assert.True(chunk.AsSpan().SequenceEqual(received));
            stats = await c.GetStatisticsAsync();
        }
        await sending.DisposeAsync();
        if (incoming is not null)
        {
            await incoming.DisposeAsync();
        }
        return stats;
    }
}
