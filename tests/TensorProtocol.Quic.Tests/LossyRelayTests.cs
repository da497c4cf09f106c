using System.Diagnostics;
using System.Security.Cryptography;
using Xunit.Abstractions;

namespace TensorProtocol.Quic.Tests;

[Collection(SerialCollection.Name)]
public sealed class LossyRelayTests(ITestOutputHelper output) : QuicTestBase
{
    [Fact]
    public async Task Transfer256MiB_ThroughLossyRelay_ArrivesBitExact()
    {
        const long total = 256L << 20;
        const int chunk = 4 << 20;
        const int inFlight = 4;
        CancellationToken ct = Timeout(TimeSpan.FromSeconds(120));

        // Ethernet-sized packets, as across a network (on loopback a connection would send 64 KiB ones): many packets,
        // so the losses are many and spread through the transfer.
        var ethernet = QuicConnectionOptions.Default with { MaxDatagramSize = 1452 };
        await using QuicEndpoint server = CreateEndpoint(ethernet);
        await using QuicEndpoint client = CreateEndpoint(ethernet);
        using var relay = new LossyUdpRelay(server.LocalEndPoint, seed: 20240607, dropRate: 0.05, duplicateRate: 0.01, reorderRate: 0.02);

        // Dial the relay, but insist on the server's key: the relay is just a bad path, not a peer.
        Task<QuicConnection> accept = server.AcceptConnectionAsync(ct).AsTask();
        await using QuicConnection c = await client.ConnectAsync(relay.EndPoint, server.PublicKey, ct);
        await using QuicConnection s = await accept;
        Assert.Equal(server.PublicKey, c.RemotePublicKey);
        Assert.Equal(client.PublicKey, s.RemotePublicKey);

        var stopwatch = Stopwatch.StartNew();
        QuicStream sending = await c.OpenOutboundStreamAsync(QuicStreamType.Unidirectional, ct);
        Task<(long Length, byte[] Hash)> receive = Task.Run(async () =>
        {
            QuicStream receiving = await s.AcceptInboundStreamAsync(ct);
            return await ReadAllHashedAsync(receiving, ct: ct);
        }, ct);

        // Distinct content per chunk (so a misplaced chunk changes the hash), a few writes outstanding; a buffer is
        // refilled only after its write completed, i.e. after the peer acknowledged it.
        using var hash = IncrementalHash.CreateHash(HashAlgorithmName.SHA256);
        var buffers = new byte[inFlight][];
        var writes = new Task[inFlight];
        for (int i = 0; i < inFlight; i++)
        {
            buffers[i] = new byte[chunk];
            writes[i] = Task.CompletedTask;
        }
        int index = 0;
        for (long sent = 0; sent < total; sent += chunk, index++)
        {
            int slot = index % inFlight;
            await writes[slot];
            new Random(index).NextBytes(buffers[slot]);
            hash.AppendData(buffers[slot]);
            writes[slot] = sending.WriteAsync(buffers[slot], completeWrites: sent + chunk >= total, ct).AsTask();
        }
        await Task.WhenAll(writes);
        (long length, byte[] received) = await receive;
        stopwatch.Stop();

        Assert.Equal(total, length);
        Assert.Equal(Convert.ToHexString(hash.GetHashAndReset()), Convert.ToHexString(received));

        QuicConnectionStatistics stats = await c.GetStatisticsAsync();
        output.WriteLine($"256 MiB through the lossy relay in {stopwatch.Elapsed.TotalSeconds:0.00} s ({total / stopwatch.Elapsed.TotalSeconds / (1 << 20):0.0} MiB/s)");
        output.WriteLine(relay.ToString());
        output.WriteLine($"client: sent {stats.PacketsSent} packets / {stats.BytesSent} bytes, stream frames lost {stats.StreamFramesLost}, cwnd {stats.CongestionWindow}, srtt {stats.SmoothedRtt.TotalMilliseconds:0.000} ms");
        // The relay really was lossy in both directions, or the test proves nothing.
        Assert.True(relay.Dropped > 1000, relay.ToString());
        Assert.True(relay.Duplicated > 100, relay.ToString());
        Assert.True(relay.Reordered > 100, relay.ToString());
        // ...and the sender saw it: losses stay counted after the stream closed.
        Assert.True(stats.StreamFramesLost > 100, $"stream frames lost {stats.StreamFramesLost}");
    }
}
