using System.Diagnostics;
using System.Security.Cryptography;
using Xunit.Abstractions;

namespace TensorProtocol.Quic.Tests;

[Collection(SerialCollection.Name)]
public sealed class ConcurrencyTests(ITestOutputHelper output) : QuicTestBase
{
    [Fact]
    public async Task SixtyFourConcurrentStreams_Of16MiB_OnOneConnection_ArriveBitExact()
    {
        const int streams = 64;
        const int size = 16 << 20;
        const int shift = 4096;
        CancellationToken ct = Timeout(TimeSpan.FromSeconds(120));
        await using QuicEndpoint server = CreateEndpoint();
        await using QuicEndpoint client = CreateEndpoint();
        var (c, s) = await ConnectPairAsync(client, server, ct);
        await using QuicConnection _ = c;
        await using QuicConnection __ = s;

        // One random block; stream i sends the 16 MiB window starting at i*4 KiB, so every stream's content (and
        // hash) differs, and a byte delivered to the wrong stream or offset changes a hash. 16 MiB + 256 KiB of memory.
        byte[] block = RandomBytes(size + (streams * shift), 41);
        var expected = new Dictionary<long, string>();
        var writes = new List<Task>();
        var stopwatch = Stopwatch.StartNew();

        var received = new System.Collections.Concurrent.ConcurrentDictionary<long, (long Length, byte[] Hash)>();
        Task receiver = Task.Run(async () =>
        {
            var reads = new List<Task>();
            for (int i = 0; i < streams; i++)
            {
                QuicStream stream = await s.AcceptInboundStreamAsync(ct);
                reads.Add(Task.Run(async () => received[stream.Id] = await ReadAllHashedAsync(stream, bufferSize: 256 * 1024, ct: ct), ct));
            }
            await Task.WhenAll(reads);
        }, ct);

        for (int i = 0; i < streams; i++)
        {
            QuicStream stream = await c.OpenOutboundStreamAsync(QuicStreamType.Bidirectional, ct);
            ReadOnlyMemory<byte> slice = block.AsMemory(i * shift, size);
            expected[stream.Id] = Convert.ToHexString(SHA256.HashData(slice.Span));
            writes.Add(stream.WriteAsync(slice, completeWrites: true, ct).AsTask());
        }
        await Task.WhenAll(writes);
        await receiver;
        stopwatch.Stop();

        QuicConnectionStatistics stats = await c.GetStatisticsAsync();
        output.WriteLine($"{streams} x {size >> 20} MiB in {stopwatch.Elapsed.TotalSeconds:0.00} s ({(double)streams * size / stopwatch.Elapsed.TotalSeconds / (1 << 20):0} MiB/s); client sent {stats.PacketsSent} packets");
        Assert.Equal(streams, received.Count);
        foreach ((long id, string hash) in expected)
        {
            Assert.True(received.TryGetValue(id, out var r), $"stream {id} never arrived");
            Assert.Equal(size, r.Length);
            Assert.Equal(hash, Convert.ToHexString(r.Hash));
        }
    }

    [Fact]
    public async Task HundredConcurrentConnections_ToOneEndpoint_EachEcho1MiB()
    {
        const int connections = 100;
        const int clientEndpoints = 4;
        const int size = 1 << 20;
        CancellationToken ct = Timeout(TimeSpan.FromSeconds(120));
        await using QuicEndpoint server = CreateEndpoint(acceptQueue: connections);
        var clients = Enumerable.Range(0, clientEndpoints).Select(_ => CreateEndpoint()).ToArray();
        try
        {
            var stopwatch = Stopwatch.StartNew();
            // Server: accept every connection and echo its one stream back as it arrives.
            Task serve = Task.Run(async () =>
            {
                var handlers = new List<Task>();
                for (int i = 0; i < connections; i++)
                {
                    QuicConnection connection = await server.AcceptConnectionAsync(ct);
                    handlers.Add(EchoAsync(connection, ct));
                }
                await Task.WhenAll(handlers);
            }, ct);

            // Clients: 100 connections at once (25 from each of 4 client endpoints), each sending distinct data.
            var dials = Enumerable.Range(0, connections).Select(i => Task.Run(async () =>
            {
                QuicEndpoint from = clients[i % clientEndpoints];
                await using QuicConnection connection = await from.ConnectAsync(server.LocalEndPoint, server.PublicKey, ct);
                byte[] data = RandomBytes(size, 1000 + i);
                QuicStream stream = await connection.OpenOutboundStreamAsync(QuicStreamType.Bidirectional, ct);
                Task write = stream.WriteAsync(data, completeWrites: true, ct).AsTask();
                (long length, byte[] hash) = await ReadAllHashedAsync(stream, bufferSize: 64 * 1024, ct: ct);
                await write;
                Assert.Equal(size, length);
                Assert.Equal(Convert.ToHexString(SHA256.HashData(data)), Convert.ToHexString(hash));
                await stream.DisposeAsync();
            }, ct)).ToArray();
            await Task.WhenAll(dials);
            await serve;
            stopwatch.Stop();
            output.WriteLine($"{connections} connections echoed {size >> 20} MiB each in {stopwatch.Elapsed.TotalSeconds:0.00} s");
        }
        finally
        {
            foreach (QuicEndpoint endpoint in clients)
            {
                await endpoint.DisposeAsync();
            }
        }
    }

    private static async Task EchoAsync(QuicConnection connection, CancellationToken ct)
    {
        await using (connection)
        {
            QuicStream stream = await connection.AcceptInboundStreamAsync(ct);
            // Zero-copy writes: a buffer may be reused only after its write completed (was acknowledged), so
            // alternate two buffers and keep one write in flight while reading into the other.
            byte[][] buffers = [new byte[64 * 1024], new byte[64 * 1024]];
            Task inFlight = Task.CompletedTask;
            for (int turn = 0; ; turn ^= 1)
            {
                int n = await stream.ReadAsync(buffers[turn], ct);
                await inFlight;
                if (n == 0)
                {
                    break;
                }
                inFlight = stream.WriteAsync(buffers[turn].AsMemory(0, n), completeWrites: false, ct).AsTask();
            }
            // Every echoed byte is acknowledged; the FIN is not awaited: the client closes the connection as soon as it
            // sees the FIN, possibly before its ACK of the FIN gets here, which would (rightly) fail an awaited write.
            stream.CompleteWrites();
            // Stay open until the client has everything and closes.
            await Assert.ThrowsAsync<QuicException>(async () => await connection.AcceptInboundStreamAsync(ct));
        }
    }
}
