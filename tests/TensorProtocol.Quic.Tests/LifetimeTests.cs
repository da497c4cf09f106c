using System.Diagnostics;
using System.Runtime.CompilerServices;
using System.Security.Cryptography;
using Xunit.Abstractions;

namespace TensorProtocol.Quic.Tests;

/// <summary>Nothing outlives its disposal: no managed object kept alive, no native memory that grows per connection.</summary>
[Collection(SerialCollection.Name)]
public sealed class LifetimeTests(ITestOutputHelper output) : QuicTestBase
{
    [Fact]
    public async Task DisposedEndpointsConnectionsStreamsAndBuffers_AreCollected()
    {
        WeakReference[] references = await UseAndDisposeAsync();
        string[] names = ["client endpoint", "server endpoint", "client connection", "server connection", "client stream", "server stream", "written buffer", "read buffer"];

        // The endpoint's loop thread signals disposal just before it returns, and a thread that still runs is a GC
        // root: collect until everything is gone, with an upper bound (a leak fails instead of hanging).
        var stopwatch = Stopwatch.StartNew();
        int rounds = 0;
        while (true)
        {
            rounds++;
            GC.Collect();
            GC.WaitForPendingFinalizers();
            GC.Collect();
            if (references.All(r => !r.IsAlive) || stopwatch.Elapsed > TimeSpan.FromSeconds(5))
            {
                break;
            }
            await Task.Delay(10);
        }
        output.WriteLine($"collected after {rounds} GC round(s), {stopwatch.Elapsed.TotalMilliseconds:0} ms");
        string[] alive = names.Where((_, i) => references[i].IsAlive).ToArray();
        Assert.True(alive.Length == 0, $"still alive after disposal: {string.Join(", ", alive)}");
    }

    [MethodImpl(MethodImplOptions.NoInlining)]
    private static async Task<WeakReference[]> UseAndDisposeAsync()
    {
        using var cts = new CancellationTokenSource(TestTimeout);
        CancellationToken ct = cts.Token;
        QuicEndpoint server = CreateEndpoint();
        QuicEndpoint client = CreateEndpoint();
        var (c, s) = await ConnectPairAsync(client, server, ct);

        byte[] written = RandomBytes(256 * 1024, 21);
        byte[] read = new byte[written.Length];
        QuicStream clientStream = await c.OpenOutboundStreamAsync(QuicStreamType.Bidirectional, ct);
        Task write = clientStream.WriteAsync(written, completeWrites: true, ct).AsTask();
        QuicStream serverStream = await s.AcceptInboundStreamAsync(ct);
        await serverStream.ReadExactlyAsync(read, ct);
        Assert.Equal(0, await serverStream.ReadAsync(new byte[1], ct));
        await write;
        await serverStream.WriteAsync(read.AsMemory(0, 1000), completeWrites: true, ct);
        await clientStream.ReadExactlyAsync(new byte[1000], ct);
        Assert.Equal(written, read);

        var references = new WeakReference[]
        {
            new(client), new(server), new(c), new(s), new(clientStream), new(serverStream), new(written), new(read),
        };
        await clientStream.DisposeAsync();
        await serverStream.DisposeAsync();
        await c.DisposeAsync();
        await s.DisposeAsync();
        await client.DisposeAsync();
        await server.DisposeAsync();
        return references;
    }

    [Fact]
    public async Task WriteAfterTheEndpointIsGone_FailsAndDoesNotPinTheBuffer()
    {
        (WeakReference buffer, Exception error) = await WriteAfterEndpointDisposedAsync();
        Assert.True(error is ObjectDisposedException or QuicException, $"unexpected {error.GetType()}: {error.Message}");
        // A pinned buffer would stay reachable for good; a loaded machine may only still be finishing the failed
        // write's continuation on a pool thread (one CI run: three collections in a row were not enough), so collect
        // until it is gone, for a bounded time.
        bool collected = SpinWait.SpinUntil(() =>
        {
            GC.Collect();
            GC.WaitForPendingFinalizers();
            return !buffer.IsAlive;
        }, TimeSpan.FromSeconds(10));
        Assert.True(collected, "the buffer of a write that never started is still reachable (pinned)");
    }

    [MethodImpl(MethodImplOptions.NoInlining)]
    private static async Task<(WeakReference Buffer, Exception Error)> WriteAfterEndpointDisposedAsync()
    {
        QuicEndpoint server = CreateEndpoint();
        QuicEndpoint client = CreateEndpoint();
        var (c, s) = await ConnectPairAsync(client, server);
        QuicStream stream = await c.OpenOutboundStreamAsync(QuicStreamType.Bidirectional, Timeout());
        await client.DisposeAsync();
        await server.DisposeAsync();
        byte[] data = new byte[100_000];
        var reference = new WeakReference(data);
        Exception error = await Record.ExceptionAsync(async () => await stream.WriteAsync(data, completeWrites: true, Timeout()));
        Assert.NotNull(error);
        GC.KeepAlive(c);
        GC.KeepAlive(s);
        return (reference, error);
    }

    [Fact]
    public async Task ThousandConnectTransferCloseCycles_DoNotGrowResidentMemory()
    {
        const int cycles = 1000;
        const int warmup = 100;
        const int parallel = 8;
        const int payload = 64 * 1024;

        await using QuicEndpoint server = CreateEndpoint();
        await using QuicEndpoint client = CreateEndpoint();
        using var cts = new CancellationTokenSource(TimeSpan.FromSeconds(120));
        CancellationToken ct = cts.Token;
        byte[] data = RandomBytes(payload, 31);
        string expected = Convert.ToHexString(SHA256.HashData(data));

        // Every connection of every cycle, to check that the endpoints (which live on) let go of all of them.
        var connections = new System.Collections.Concurrent.ConcurrentBag<WeakReference>();

        // The server side: every accepted connection echoes one stream, then waits for the client to close.
        int served = 0;
        Task acceptLoop = Task.Run(async () =>
        {
            var handlers = new List<Task>();
            for (int i = 0; i < cycles; i++)
            {
                QuicConnection connection = await server.AcceptConnectionAsync(ct);
                connections.Add(new WeakReference(connection));
                handlers.Add(ServeEchoAsync(connection, ct));
                handlers.RemoveAll(h => h.IsCompletedSuccessfully);
            }
            await Task.WhenAll(handlers);
        }, ct);

        async Task ServeEchoAsync(QuicConnection connection, CancellationToken token)
        {
            await using (connection)
            {
                QuicStream stream = await connection.AcceptInboundStreamAsync(token);
                var buffer = new byte[payload];
                await stream.ReadExactlyAsync(buffer, token);
                Assert.Equal(0, await stream.ReadAsync(new byte[1], token));
                // Await the data's acknowledgement, not the FIN's: the client closes as soon as it sees the FIN,
                // possibly before its ACK of the FIN arrives, which would (rightly) fail an awaited FIN.
                await stream.WriteAsync(buffer, completeWrites: false, token);
                await stream.DisposeAsync();
                Interlocked.Increment(ref served);
                // Wait for the client's close: the connection ends from its side.
                await Assert.ThrowsAsync<QuicException>(async () => await connection.AcceptInboundStreamAsync(token));
            }
        }

        int next = 0;
        async Task RunCyclesAsync(int upTo)
        {
            var workers = Enumerable.Range(0, parallel).Select(_ => Task.Run(async () =>
            {
                var echo = new byte[payload];
                while (Interlocked.Increment(ref next) <= upTo)
                {
                    QuicConnection connection = await client.ConnectAsync(server.LocalEndPoint, server.PublicKey, ct);
                    connections.Add(new WeakReference(connection));
                    await using (connection)
                    {
                        QuicStream stream = await connection.OpenOutboundStreamAsync(QuicStreamType.Bidirectional, ct);
                        Task write = stream.WriteAsync(data, completeWrites: true, ct).AsTask();
                        await stream.ReadExactlyAsync(echo, ct);
                        Assert.Equal(0, await stream.ReadAsync(new byte[1], ct));
                        await write;
                        Assert.Equal(expected, Convert.ToHexString(SHA256.HashData(echo)));
                        await stream.DisposeAsync();
                    }
                }
            }, ct)).ToArray();
            await Task.WhenAll(workers);
            next = upTo; // each worker's last, failed claim overshot it
        }

        var stopwatch = Stopwatch.StartNew();
        await RunCyclesAsync(warmup);
        long rssWarm = SettledRss(out long heapWarm);
        TimeSpan warmTime = stopwatch.Elapsed;
        await RunCyclesAsync(cycles);
        stopwatch.Stop();
        await acceptLoop.WaitAsync(ct);
        long rssEnd = SettledRss(out long heapEnd);

        output.WriteLine($"{cycles} cycles ({parallel} at a time, {payload / 1024} KiB echoed each) in {stopwatch.Elapsed.TotalSeconds:0.0} s; warm-up {warmup} in {warmTime.TotalSeconds:0.0} s");
        output.WriteLine($"RSS after {warmup}: {rssWarm / 1024.0 / 1024:0.0} MiB (GC heap {heapWarm / 1024.0 / 1024:0.0} MiB); after {cycles}: {rssEnd / 1024.0 / 1024:0.0} MiB (GC heap {heapEnd / 1024.0 / 1024:0.0} MiB); growth {(rssEnd - rssWarm) / 1024.0 / 1024:0.0} MiB");
        Assert.Equal(cycles, Volatile.Read(ref served));
        Assert.Equal(2 * cycles, connections.Count);

        // Closed connections linger for three PTOs before the endpoint releases them: collect until all are gone.
        int alive = connections.Count;
        var collecting = Stopwatch.StartNew();
        while (collecting.Elapsed < TimeSpan.FromSeconds(5))
        {
            GC.Collect();
            GC.WaitForPendingFinalizers();
            alive = connections.Count(r => r.IsAlive);
            if (alive == 0)
            {
                break;
            }
            await Task.Delay(10);
        }
        output.WriteLine($"connections still reachable after the run: {alive} of {connections.Count} ({collecting.Elapsed.TotalMilliseconds:0} ms of collecting)");
        Assert.Equal(0, alive);
        Assert.True(rssEnd - rssWarm < 40L << 20, $"RSS grew by {(rssEnd - rssWarm) / 1024.0 / 1024:0.0} MiB over {cycles - warmup} cycles");
    }

    private static long SettledRss(out long gcHeap)
    {
        GC.Collect(GC.MaxGeneration, GCCollectionMode.Forced, blocking: true, compacting: true);
        GC.WaitForPendingFinalizers();
        GC.Collect(GC.MaxGeneration, GCCollectionMode.Forced, blocking: true, compacting: true);
        gcHeap = GC.GetTotalMemory(forceFullCollection: false);
        return ReadVmRss();
    }

    private static long ReadVmRss()
    {
        foreach (string line in File.ReadLines("/proc/self/status"))
        {
            if (line.StartsWith("VmRSS:", StringComparison.Ordinal))
            {
                // "VmRSS:     123456 kB"
                string[] parts = line.Split(' ', StringSplitOptions.RemoveEmptyEntries);
                return long.Parse(parts[1], System.Globalization.CultureInfo.InvariantCulture) * 1024;
            }
        }
        throw new InvalidOperationException("/proc/self/status has no VmRSS line.");
    }
}
