using System.Diagnostics;
using System.Security.Cryptography;
using Xunit.Abstractions;

namespace TensorProtocol.Quic.Tests;

/// <summary>A reader that stops reading must stop the writer: flow control bounds what piles up unread.</summary>
public sealed class BackpressureTests(ITestOutputHelper output) : QuicTestBase
{
    private const int Window = 1 << 20;

    private static readonly QuicConnectionOptions SmallWindow = QuicConnectionOptions.Default with
    {
        InitialStreamReceiveWindow = Window,
        MaxStreamReceiveWindow = Window,
    };

    /// <summary>1 MiB stream windows, and a connection window of <paramref name="bytes"/> that never grows.</summary>
    private static QuicConnectionOptions WithConnectionWindow(int bytes) => SmallWindow with
    {
        InitialConnectionReceiveWindow = bytes,
        MaxConnectionReceiveWindow = bytes,
    };

    [Fact]
    public async Task StalledReader_BoundsBufferedBytes_AndHoldsTheWrite_UntilItReads()
    {
        const int total = 64 << 20;
        await using QuicEndpoint server = CreateEndpoint(SmallWindow);
        await using QuicEndpoint client = CreateEndpoint(SmallWindow);
        var (c, s) = await ConnectPairAsync(client, server);
        await using QuicConnection _ = c;
        await using QuicConnection __ = s;

        byte[] data = RandomBytes(total, 11);
        QuicStream sending = await c.OpenOutboundStreamAsync(QuicStreamType.Unidirectional, Timeout());
        Task write = sending.WriteAsync(data, completeWrites: true, Timeout()).AsTask();
        QuicStream receiving = await s.AcceptInboundStreamAsync(Timeout());

        // Nobody reads. The sender may fill exactly the window the receiver granted, then must stop. Poll (the only
        // observable is the receive buffer's size) until the window is full, bounded by 10 s.
        var stopwatch = Stopwatch.StartNew();
        long buffered = 0;
        while (stopwatch.Elapsed < TimeSpan.FromSeconds(10))
        {
            buffered = receiving.BufferedLength;
            Assert.True(buffered <= Window, $"{buffered} bytes buffered unread, more than the {Window}-byte stream window");
            if (buffered == Window)
            {
                break;
            }
            await Task.Delay(5);
        }
        Assert.Equal(Window, buffered);
        output.WriteLine($"window of {Window} bytes filled after {stopwatch.Elapsed.TotalMilliseconds:0} ms");

        // Keep watching a while: nothing more may arrive and the write must stay pending (it needs every byte acked).
        QuicConnectionStatistics before = await c.GetStatisticsAsync();
        for (int i = 0; i < 40; i++)
        {
            await Task.Delay(5);
            Assert.Equal(Window, receiving.BufferedLength);
            Assert.False(write.IsCompleted, "the write completed although the reader never read");
        }
        QuicConnectionStatistics after = await c.GetStatisticsAsync();
        output.WriteLine($"while stalled the sender sent {after.BytesSent - before.BytesSent} bytes in {after.PacketsSent - before.PacketsSent} packets (probes, no stream data)");
        Assert.True(after.BytesSent - before.BytesSent < 64 * 1024, $"the sender kept sending while blocked: {after.BytesSent - before.BytesSent} bytes");

        // Now read everything: the writer resumes, completes once the last byte is acknowledged, and nothing changed.
        (long length, byte[] hash) = await ReadAllHashedAsync(receiving, bufferSize: 256 * 1024, ct: Timeout());
        await write.WaitAsync(TimeSpan.FromSeconds(10));
        Assert.Equal(total, length);
        Assert.Equal(Convert.ToHexString(SHA256.HashData(data)), Convert.ToHexString(hash));
        Assert.Equal(0, receiving.BufferedLength);
    }

    [Fact]
    public async Task StalledReaders_OnManyStreams_AreBoundedByTheConnectionWindow()
    {
        // Eight streams, each allowed 1 MiB, but the connection grants only 4 MiB in total (and never more, since
        // nobody reads): together they may buffer no more than that.
        const int connectionWindow = 4 << 20;
        QuicConnectionOptions options = WithConnectionWindow(connectionWindow);
        await using QuicEndpoint server = CreateEndpoint(options);
        await using QuicEndpoint client = CreateEndpoint(options);
        var (c, s) = await ConnectPairAsync(client, server);
        await using QuicConnection _ = c;
        await using QuicConnection __ = s;

        byte[] data = RandomBytes(8 << 20, 12);
        var writes = new List<Task>();
        for (int i = 0; i < 8; i++)
        {
            QuicStream stream = await c.OpenOutboundStreamAsync(QuicStreamType.Bidirectional, Timeout());
            writes.Add(stream.WriteAsync(data, completeWrites: true, Timeout()).AsTask());
        }
        var accepted = new List<QuicStream>();
        Task<QuicStream>? nextAccept = s.AcceptInboundStreamAsync(Timeout()).AsTask();
        var stopwatch = Stopwatch.StartNew();
        long total = 0;
        while (stopwatch.Elapsed < TimeSpan.FromSeconds(10))
        {
            // Streams appear as their first bytes arrive; a stream that got no connection credit does not appear yet.
            while (nextAccept is { IsCompleted: true })
            {
                accepted.Add(await nextAccept);
                nextAccept = accepted.Count < 8 ? s.AcceptInboundStreamAsync(Timeout()).AsTask() : null;
            }
            total = accepted.Sum(a => a.BufferedLength);
            Assert.True(total <= connectionWindow, $"{total} bytes buffered, more than the {connectionWindow}-byte connection window");
            Assert.All(accepted, a => Assert.True(a.BufferedLength <= Window));
            if (total == connectionWindow)
            {
                break;
            }
            await Task.Delay(5);
        }
        Assert.Equal(connectionWindow, total);
        Assert.All(writes, w => Assert.False(w.IsCompleted));

        // Draining every stream lets every write finish with intact data. Streams still unseen show up only once
        // reading the others returned connection credit, so accept them while reading.
        string expected = Convert.ToHexString(SHA256.HashData(data));
        var reads = accepted.Select(a => ReadAllHashedAsync(a, ct: Timeout())).ToList();
        while (nextAccept is not null)
        {
            QuicStream late = await nextAccept;
            reads.Add(ReadAllHashedAsync(late, ct: Timeout()));
            nextAccept = reads.Count < 8 ? s.AcceptInboundStreamAsync(Timeout()).AsTask() : null;
        }
        var results = await Task.WhenAll(reads);
        await Task.WhenAll(writes).WaitAsync(TimeSpan.FromSeconds(10));
        Assert.Equal(8, results.Length);
        Assert.All(results, r =>
        {
            Assert.Equal(data.Length, r.Length);
            Assert.Equal(expected, Convert.ToHexString(r.Hash));
        });
    }

    [Fact]
    public async Task DiscardedUnreadData_GoesBackToTheConnectionWindow()
    {
        // A 2 MiB connection window that never grows, and eight streams that each fill their 1 MiB stream window and
        // are then thrown away unread: by the server aborting its reads, by the server disposing the stream, or by
        // the client resetting it. 8 MiB went through a 2 MiB window, so each discarded MiB must have been given back;
        // then a last stream still carries its data whole.
        const int connectionWindow = 2 << 20;
        QuicConnectionOptions options = WithConnectionWindow(connectionWindow);
        await using QuicEndpoint server = CreateEndpoint(options);
        await using QuicEndpoint client = CreateEndpoint(options);
        var (c, s) = await ConnectPairAsync(client, server);
        await using QuicConnection _ = c;
        await using QuicConnection __ = s;

        byte[] data = RandomBytes(Window, 13);
        for (int i = 0; i < 8; i++)
        {
            QuicStream sending = await c.OpenOutboundStreamAsync(QuicStreamType.Bidirectional, Timeout());
            Task write = sending.WriteAsync(data, completeWrites: false, Timeout()).AsTask();
            QuicStream receiving = await s.AcceptInboundStreamAsync(Timeout());
            await WaitForBufferedAsync(receiving, Window, $"stream {i}");
            switch (i % 3)
            {
                case 0:
                    receiving.Abort(QuicAbortDirection.Read, 7);
                    break;
                case 1:
                    await receiving.DisposeAsync();
                    break;
                default:
                    sending.Abort(QuicAbortDirection.Write, 9);
                    break;
            }
            // Every byte was acknowledged once it sat in the receiver's buffer, so the write usually succeeded first;
            // either way it ends.
            await write.WaitAsync(TimeSpan.FromSeconds(10)).ConfigureAwait(ConfigureAwaitOptions.SuppressThrowing | ConfigureAwaitOptions.ContinueOnCapturedContext);
            Assert.True(write.IsCompleted);
            await sending.DisposeAsync();
            await receiving.DisposeAsync();
        }

        QuicStream last = await c.OpenOutboundStreamAsync(QuicStreamType.Bidirectional, Timeout());
        Task lastWrite = last.WriteAsync(data, completeWrites: true, Timeout()).AsTask();
        QuicStream lastReceived = await s.AcceptInboundStreamAsync(Timeout());
        (long length, byte[] hash) = await ReadAllHashedAsync(lastReceived, ct: Timeout());
        await lastWrite.WaitAsync(TimeSpan.FromSeconds(10));
        Assert.Equal(data.Length, length);
        Assert.Equal(Convert.ToHexString(SHA256.HashData(data)), Convert.ToHexString(hash));
    }

    /// <summary>Polls (the only observable) until <paramref name="stream"/> buffered <paramref name="expected"/> bytes, for at most 10 s.</summary>
    private static async Task WaitForBufferedAsync(QuicStream stream, long expected, string what)
    {
        var stopwatch = Stopwatch.StartNew();
        while (stream.BufferedLength < expected)
        {
            Assert.True(stopwatch.Elapsed < TimeSpan.FromSeconds(10), $"{what}: {stream.BufferedLength} of {expected} bytes arrived in 10 s (connection window not given back?)");
            await Task.Delay(5);
        }
    }

    [Fact]
    public async Task ManyStreamsHoldingAByteEach_HoldLittleMemory()
    {
        // A peer can open every stream it is allowed with one byte on each: the memory we hold for them must stay
        // near what it sent, not a full block per stream.
        await using QuicEndpoint server = CreateEndpoint();
        await using QuicEndpoint client = CreateEndpoint();
        var (c, s) = await ConnectPairAsync(client, server);
        await using QuicConnection _ = c;
        await using QuicConnection __ = s;
        var received = new List<QuicStream>();
        for (int i = 0; i < 200; i++)
        {
            QuicStream stream = await c.OpenOutboundStreamAsync(QuicStreamType.Bidirectional, Timeout());
            await stream.WriteAsync(new byte[] { (byte)i }, Timeout());
            received.Add(await s.AcceptInboundStreamAsync(Timeout()));
        }
        var clock = Stopwatch.StartNew();
        while (received.Sum(r => r.BufferedLength) < 200)
        {
            Assert.True(clock.Elapsed < TimeSpan.FromSeconds(10), "the bytes never arrived");
            await Task.Delay(5);
        }
        long held = received.Sum(r => r.BufferedCapacity);
        Assert.True(held <= 200 * 4096, $"{held} bytes held for 200 buffered bytes");

        // And a stream that buffers a whole window still gets large blocks: about the window, not twice it.
        QuicStream bulk = await c.OpenOutboundStreamAsync(QuicStreamType.Bidirectional, Timeout());
        Task write = bulk.WriteAsync(RandomBytes(Window, 31), completeWrites: true, Timeout()).AsTask();
        QuicStream bulkReceived = await s.AcceptInboundStreamAsync(Timeout());
        while (bulkReceived.BufferedLength < Window)
        {
            Assert.True(clock.Elapsed < TimeSpan.FromSeconds(20), "the window never filled");
            await Task.Delay(5);
        }
        Assert.InRange(bulkReceived.BufferedCapacity, Window, Window + 64 * 1024);
        (long length, byte[] hash) = await ReadAllHashedAsync(bulkReceived, ct: Timeout());
        Assert.Equal(Window, length);
        Assert.Equal(32, hash.Length);
        await write;
    }
}
