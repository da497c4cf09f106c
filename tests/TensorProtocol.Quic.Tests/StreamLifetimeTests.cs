using System.Diagnostics;
using Xunit.Abstractions;

namespace TensorProtocol.Quic.Tests;

/// <summary>How streams end badly: resets, stop-sending, and the peer (or the path to it) going away mid-transfer.</summary>
public sealed class StreamLifetimeTests(ITestOutputHelper output) : QuicTestBase
{
    /// <summary>Short, so a silent peer is declared gone quickly; failures must still arrive well inside this bound.</summary>
    private static readonly TimeSpan FailureBound = TimeSpan.FromSeconds(10);

    private static readonly QuicConnectionOptions ShortIdle = QuicConnectionOptions.Default with { IdleTimeout = TimeSpan.FromSeconds(2) };

    /// <summary>
    /// QUIC carries error codes as 62-bit varints. A larger code is refused at the call: ngtcp2's encoder asserts on it,
    /// and Debian's build keeps its assertions, so it used to abort the whole process.
    /// </summary>
    [Fact]
    public async Task ErrorCodesBeyond62Bits_AreRefusedAtTheCall_AndTheLargestGoesThrough()
    {
        await using QuicEndpoint server = CreateEndpoint();
        await using QuicEndpoint client = CreateEndpoint();
        var (c, s) = await ConnectPairAsync(client, server);
        await using QuicConnection _ = c;
        await using QuicConnection __ = s;
        QuicStream stream = await c.OpenOutboundStreamAsync(QuicStreamType.Bidirectional, Timeout());
        await stream.WriteAsync("x"u8.ToArray(), completeWrites: false, Timeout());
        Assert.Throws<ArgumentOutOfRangeException>(() => stream.Abort(QuicAbortDirection.Write, 1L << 62));
        await Assert.ThrowsAsync<ArgumentOutOfRangeException>(async () => await c.CloseAsync(long.MaxValue));

        stream.Abort(QuicAbortDirection.Write, (1L << 62) - 1);
        QuicStream incoming = await s.AcceptInboundStreamAsync(Timeout());
        QuicException e = await Assert.ThrowsAsync<QuicException>(async () =>
        {
            var buffer = new byte[8];
            while (await incoming.ReadAsync(buffer, Timeout()) > 0)
            {
            }
        });
        Assert.Equal((1L << 62) - 1, e.ApplicationErrorCode);
    }

    [Fact]
    public async Task AbortWrite_FailsPeersPendingRead_WithStreamAbortedAndCode()
    {
        await using QuicEndpoint server = CreateEndpoint();
        await using QuicEndpoint client = CreateEndpoint();
        var (c, s) = await ConnectPairAsync(client, server);
        await using QuicConnection _ = c;
        await using QuicConnection __ = s;

        QuicStream sending = await c.OpenOutboundStreamAsync(QuicStreamType.Bidirectional, Timeout());
        await sending.WriteAsync("first"u8.ToArray(), completeWrites: false, Timeout());
        QuicStream receiving = await s.AcceptInboundStreamAsync(Timeout());
        var buffer = new byte[64];
        await receiving.ReadExactlyAsync(buffer.AsMemory(0, 5), Timeout());
        Assert.Equal("first", System.Text.Encoding.ASCII.GetString(buffer, 0, 5));

        // Nothing more is coming, so this read waits until the reset arrives.
        ValueTask<int> pending = receiving.ReadAsync(buffer, Timeout());
        Assert.False(pending.IsCompleted);
        sending.Abort(QuicAbortDirection.Write, 42);

        QuicException e = await Assert.ThrowsAsync<QuicException>(async () => await pending.AsTask().WaitAsync(FailureBound));
        Assert.Equal(QuicErrorKind.StreamAborted, e.Kind);
        Assert.Equal(42, e.ApplicationErrorCode);
        Assert.Equal(QuicErrorScope.Stream, e.Scope);

        // Later reads keep failing the same way; the connection itself is unharmed.
        QuicException again = await Assert.ThrowsAsync<QuicException>(async () => await receiving.ReadAsync(buffer, Timeout()));
        Assert.Equal(QuicErrorKind.StreamAborted, again.Kind);
        Assert.Equal(42, again.ApplicationErrorCode);
        await AssertConnectionStillWorksAsync(c, s);
    }

    [Fact]
    public async Task AbortWrite_WhileDataIsUnread_PeersNextReadFailsWithCode()
    {
        // The reset overtakes data the receiver has not read yet: RESET_STREAM discards it (RFC 9000 §3.2).
        await using QuicEndpoint server = CreateEndpoint();
        await using QuicEndpoint client = CreateEndpoint();
        var (c, s) = await ConnectPairAsync(client, server);
        await using QuicConnection _ = c;
        await using QuicConnection __ = s;

        QuicStream sending = await c.OpenOutboundStreamAsync(QuicStreamType.Unidirectional, Timeout());
        Task write = sending.WriteAsync(RandomBytes(4 << 20, 1), completeWrites: false, Timeout()).AsTask();
        QuicStream receiving = await s.AcceptInboundStreamAsync(Timeout());
        sending.Abort(QuicAbortDirection.Write, 43);

        QuicException local = await Assert.ThrowsAsync<QuicException>(() => write.WaitAsync(FailureBound));
        Assert.Equal(QuicErrorKind.OperationAborted, local.Kind);

        var buffer = new byte[1 << 16];
        QuicException e = await Assert.ThrowsAsync<QuicException>(async () =>
        {
            while (await receiving.ReadAsync(buffer, Timeout()) > 0)
            {
                // Some data may be delivered before the reset arrives; the stream must still end in the error.
            }
        }).WaitAsync(FailureBound);
        Assert.Equal(QuicErrorKind.StreamAborted, e.Kind);
        Assert.Equal(43, e.ApplicationErrorCode);
    }

    [Theory]
    [InlineData(QuicStreamType.Unidirectional)]
    [InlineData(QuicStreamType.Bidirectional)]
    public async Task AbortRead_FailsSendersPendingAndNextWrite_WithStreamAbortedAndCode(QuicStreamType type)
    {
        await using QuicEndpoint server = CreateEndpoint();
        await using QuicEndpoint client = CreateEndpoint();
        var (c, s) = await ConnectPairAsync(client, server);
        await using QuicConnection _ = c;
        await using QuicConnection __ = s;

        QuicStream sending = await c.OpenOutboundStreamAsync(type, Timeout());
        // Far more than the 1 MiB initial stream window: without reads this write cannot be acknowledged in full.
        Task pending = sending.WriteAsync(RandomBytes(8 << 20, 2), completeWrites: false, Timeout()).AsTask();
        QuicStream receiving = await s.AcceptInboundStreamAsync(Timeout());
        Assert.False(pending.IsCompleted);
        receiving.Abort(QuicAbortDirection.Read, 7);

        QuicException e = await Assert.ThrowsAsync<QuicException>(() => pending.WaitAsync(FailureBound));
        Assert.Equal(QuicErrorKind.StreamAborted, e.Kind);
        AssertStopSendingCode(7, e);

        QuicException next = await Assert.ThrowsAsync<QuicException>(async () => await sending.WriteAsync(new byte[100], completeWrites: false, Timeout()).AsTask().WaitAsync(FailureBound));
        Assert.Equal(QuicErrorKind.StreamAborted, next.Kind);
        AssertStopSendingCode(7, next);

        // The reader's own side reports a local abort, not the peer's.
        QuicException local = await Assert.ThrowsAsync<QuicException>(async () => await receiving.ReadAsync(new byte[16], Timeout()));
        Assert.Equal(QuicErrorKind.OperationAborted, local.Kind);
        await AssertConnectionStillWorksAsync(c, s);
    }

    [Fact]
    public async Task AbortRead_LeavesOwnWriteDirectionUsable()
    {
        // Request/response where the responder refuses the rest of the request body but still answers.
        await using QuicEndpoint server = CreateEndpoint();
        await using QuicEndpoint client = CreateEndpoint();
        var (c, s) = await ConnectPairAsync(client, server);
        await using QuicConnection _ = c;
        await using QuicConnection __ = s;

        QuicStream clientStream = await c.OpenOutboundStreamAsync(QuicStreamType.Bidirectional, Timeout());
        await clientStream.WriteAsync(new byte[1000], completeWrites: false, Timeout());
        QuicStream serverStream = await s.AcceptInboundStreamAsync(Timeout());
        serverStream.Abort(QuicAbortDirection.Read, 9);

        byte[] response = RandomBytes(3 << 20, 6);
        Task write = serverStream.WriteAsync(response, completeWrites: true, Timeout()).AsTask();
        var received = new byte[response.Length];
        Task read = clientStream.ReadExactlyAsync(received, Timeout()).AsTask();
        await write.WaitAsync(FailureBound); // the write side must not have been taken down with the read side
        await read.WaitAsync(FailureBound);
        Assert.Equal(0, await clientStream.ReadAsync(new byte[1], Timeout()));
        Assert.Equal(response, received);

        // The client's send direction was stopped by the server: its next write fails with the server's code.
        QuicException e = await Assert.ThrowsAsync<QuicException>(async () => await clientStream.WriteAsync(new byte[10], completeWrites: false, Timeout()).AsTask().WaitAsync(FailureBound));
        Assert.Equal(QuicErrorKind.StreamAborted, e.Kind);
        Assert.Equal(9, e.ApplicationErrorCode);
    }

    [Fact]
    public async Task AbortRead_BeforeAnyWrite_SendersFirstWriteFailsWithCode()
    {
        await using QuicEndpoint server = CreateEndpoint();
        await using QuicEndpoint client = CreateEndpoint();
        var (c, s) = await ConnectPairAsync(client, server);
        await using QuicConnection _ = c;
        await using QuicConnection __ = s;

        QuicStream clientStream = await c.OpenOutboundStreamAsync(QuicStreamType.Bidirectional, Timeout());
        await clientStream.WriteAsync(new byte[10], completeWrites: false, Timeout());
        QuicStream serverStream = await s.AcceptInboundStreamAsync(Timeout());
        // The client stops reading the server's direction before the server wrote anything.
        clientStream.Abort(QuicAbortDirection.Read, 7);

        // The STOP_SENDING may arrive before or during the write; either way the write must fail with the code.
        var data = RandomBytes(4 << 20, 3);
        QuicException e = await Assert.ThrowsAsync<QuicException>(async () =>
        {
            while (true)
            {
                await serverStream.WriteAsync(data, completeWrites: false, Timeout());
            }
        }).WaitAsync(FailureBound);
        Assert.Equal(QuicErrorKind.StreamAborted, e.Kind);
        AssertStopSendingCode(7, e);
    }

    /// <summary>
    /// ngtcp2 1.11 has no callback for a received STOP_SENDING (recv_stop_sending came in 1.24): the writer learns
    /// that it was stopped when ngtcp2 refuses its data, and learns the code only when the whole stream closes. So the
    /// code is either the peer's or not known yet — never a different one.
    /// </summary>
    private static void AssertStopSendingCode(long expected, QuicException e) =>
        Assert.True(e.ApplicationErrorCode is null || e.ApplicationErrorCode == expected, $"code {e.ApplicationErrorCode}, expected {expected} or unknown");

    public enum PeerLoss
    {
        DisposeConnection,
        DisposeEndpoint,
        CloseWithCode,
        GoSilent,
    }

    [Theory]
    [InlineData(PeerLoss.DisposeConnection)]
    [InlineData(PeerLoss.DisposeEndpoint)]
    [InlineData(PeerLoss.CloseWithCode)]
    [InlineData(PeerLoss.GoSilent)]
    public async Task PeerGoesAwayMidTransfer_PendingReadAndWriteFailTyped(PeerLoss how)
    {
        // Made before connecting: on a loaded machine, generating 64 MiB can outlast the 2 s idle timeout of a
        // connection that has nothing to send yet.
        byte[] payload = RandomBytes(64 << 20, 4);
        await using QuicEndpoint server = CreateEndpoint(ShortIdle);
        await using QuicEndpoint client = CreateEndpoint(ShortIdle);
        using var relay = new LossyUdpRelay(server.LocalEndPoint, seed: 5, dropRate: 0, duplicateRate: 0, reorderRate: 0);
        Task<QuicConnection> accept = server.AcceptConnectionAsync(Timeout()).AsTask();
        await using QuicConnection c = await client.ConnectAsync(relay.EndPoint, server.PublicKey, Timeout());
        QuicConnection s = await accept;

        QuicStream clientStream = await c.OpenOutboundStreamAsync(QuicStreamType.Bidirectional, Timeout());
        // 64 MiB against a server that reads only the first MiB: the write is mid-flight when the peer goes.
        Task write = clientStream.WriteAsync(payload, completeWrites: true, Timeout()).AsTask();
        QuicStream serverStream = await s.AcceptInboundStreamAsync(Timeout());
        await serverStream.ReadExactlyAsync(new byte[1 << 20], Timeout());
        // The server never writes, so the client's read is pending too.
        Task<int> read = clientStream.ReadAsync(new byte[1024], Timeout()).AsTask();
        Assert.False(write.IsCompleted);
        Assert.False(read.IsCompleted);

        var stopwatch = Stopwatch.StartNew();
        switch (how)
        {
            case PeerLoss.DisposeConnection:
                await s.DisposeAsync();
                break;
            case PeerLoss.DisposeEndpoint:
                await server.DisposeAsync();
                break;
            case PeerLoss.CloseWithCode:
                await s.CloseAsync(1234, "test says goodbye");
                break;
            case PeerLoss.GoSilent:
                relay.Blackhole = true; // neither CONNECTION_CLOSE nor anything else gets through
                break;
        }

        QuicException readError = await Assert.ThrowsAsync<QuicException>(() => read.WaitAsync(FailureBound));
        QuicException writeError = await Assert.ThrowsAsync<QuicException>(() => write.WaitAsync(FailureBound));
        stopwatch.Stop();
        output.WriteLine($"{how}: read failed with {readError.Kind} ({readError.Message}), write with {writeError.Kind}; {stopwatch.Elapsed.TotalMilliseconds:0} ms after the peer went");

        QuicErrorKind expected = how == PeerLoss.GoSilent ? QuicErrorKind.IdleTimeout : QuicErrorKind.ConnectionAborted;
        long? expectedCode = how switch
        {
            PeerLoss.GoSilent => null,
            PeerLoss.CloseWithCode => 1234,
            _ => 0,
        };
        Assert.Equal(expected, readError.Kind);
        Assert.Equal(expected, writeError.Kind);
        Assert.Equal(expectedCode, readError.ApplicationErrorCode);
        Assert.Equal(expectedCode, writeError.ApplicationErrorCode);
        Assert.Equal(QuicErrorScope.Connection, readError.Scope);
        if (how == PeerLoss.GoSilent)
        {
            // Not before the idle timeout: the connection was alive and retransmitting until then.
            Assert.True(stopwatch.Elapsed >= TimeSpan.FromSeconds(1.5), $"idle close after only {stopwatch.Elapsed}");
        }

        // The connection is dead for every later operation too, with the same kind.
        QuicException later = await Assert.ThrowsAsync<QuicException>(async () => await c.OpenOutboundStreamAsync(QuicStreamType.Bidirectional, Timeout()));
        Assert.Equal(expected, later.Kind);
        QuicException laterAccept = await Assert.ThrowsAsync<QuicException>(async () => await c.AcceptInboundStreamAsync(Timeout()));
        Assert.Equal(expected, laterAccept.Kind);
        await s.DisposeAsync();
    }

    [Fact]
    public async Task LocalDisposeMidTransfer_FailsOwnPendingOperationsWithOperationAborted()
    {
        await using QuicEndpoint server = CreateEndpoint();
        await using QuicEndpoint client = CreateEndpoint();
        var (c, s) = await ConnectPairAsync(client, server);
        await using QuicConnection __ = s;

        QuicStream clientStream = await c.OpenOutboundStreamAsync(QuicStreamType.Bidirectional, Timeout());
        Task write = clientStream.WriteAsync(RandomBytes(16 << 20, 5), completeWrites: true, Timeout()).AsTask();
        Task<int> read = clientStream.ReadAsync(new byte[1024], Timeout()).AsTask();
        QuicStream serverStream = await s.AcceptInboundStreamAsync(Timeout());
        await serverStream.ReadExactlyAsync(new byte[1 << 16], Timeout());

        await c.DisposeAsync();
        QuicException readError = await Assert.ThrowsAsync<QuicException>(() => read.WaitAsync(FailureBound));
        QuicException writeError = await Assert.ThrowsAsync<QuicException>(() => write.WaitAsync(FailureBound));
        Assert.Equal(QuicErrorKind.OperationAborted, readError.Kind);
        Assert.Equal(QuicErrorKind.OperationAborted, writeError.Kind);

        // And the server, mid-read, learns that the client closed normally.
        QuicException serverError = await Assert.ThrowsAsync<QuicException>(async () =>
        {
            var buffer = new byte[1 << 20];
            while (await serverStream.ReadAsync(buffer, Timeout()) > 0)
            {
            }
        }).WaitAsync(FailureBound);
        Assert.Equal(QuicErrorKind.ConnectionAborted, serverError.Kind);
        Assert.Equal(0, serverError.ApplicationErrorCode);
    }

    private static async Task AssertConnectionStillWorksAsync(QuicConnection c, QuicConnection s)
    {
        QuicStream stream = await c.OpenOutboundStreamAsync(QuicStreamType.Bidirectional, Timeout());
        await stream.WriteAsync("still here"u8.ToArray(), completeWrites: true, Timeout());
        QuicStream accepted = await s.AcceptInboundStreamAsync(Timeout());
        var buffer = new byte[32];
        await accepted.ReadExactlyAsync(buffer.AsMemory(0, 10), Timeout());
        Assert.Equal("still here", System.Text.Encoding.ASCII.GetString(buffer, 0, 10));
        Assert.Equal(0, await accepted.ReadAsync(buffer, Timeout()));
    }

    [Fact]
    public async Task DataThatArrivedWithFin_StaysReadable_AfterThePeerClosesTheConnection()
    {
        // The peer writes with FIN, sees it all acknowledged, and closes the connection: for it the data was delivered.
        // Our side had not read it yet (and our write side was still open, so the stream itself had not closed).
        await using QuicEndpoint server = CreateEndpoint();
        await using QuicEndpoint client = CreateEndpoint();
        var (c, s) = await ConnectPairAsync(client, server);
        await using QuicConnection _ = c;
        await using QuicConnection __ = s;

        byte[] data = RandomBytes(100_000, 21);
        QuicStream sending = await c.OpenOutboundStreamAsync(QuicStreamType.Bidirectional, Timeout());
        await sending.WriteAsync(data, completeWrites: true, Timeout()); // completes once acknowledged
        QuicStream receiving = await s.AcceptInboundStreamAsync(Timeout());
        await c.CloseAsync(5, "done");
        var clock = Stopwatch.StartNew();
        while (!s.IsClosed)
        {
            Assert.True(clock.Elapsed < FailureBound, "the close never arrived");
            await Task.Delay(5);
        }

        (long length, byte[] hash) = await ReadAllHashedAsync(receiving, ct: Timeout());
        Assert.Equal(data.Length, length);
        Assert.Equal(Convert.ToHexString(System.Security.Cryptography.SHA256.HashData(data)), Convert.ToHexString(hash));
        // Writing is over, though.
        await Assert.ThrowsAsync<QuicException>(async () => await receiving.WriteAsync(new byte[1], Timeout()));
    }

    [Fact]
    public async Task AdapterDisposal_AfterACancelledWrite_StillDisposesTheStream()
    {
        await using QuicEndpoint server = CreateEndpoint();
        await using QuicEndpoint client = CreateEndpoint();
        var (c, s) = await ConnectPairAsync(client, server);
        await using QuicConnection _ = c;
        await using QuicConnection __ = s;

        QuicStream quic = await c.OpenOutboundStreamAsync(QuicStreamType.Bidirectional, Timeout());
        Stream adapter = quic.AsStream();
        using var cts = new CancellationTokenSource();
        // 2 MiB to a peer that does not read: beyond its 1 MiB stream window, so the write stays unacknowledged until
        // cancelled (and below the adapter's 4 MiB of buffered writes, so WriteAsync itself returns at once).
        await adapter.WriteAsync(RandomBytes(2 << 20, 22), cts.Token);
        QuicStream receiving = await s.AcceptInboundStreamAsync(Timeout());
        cts.Cancel();
        await adapter.DisposeAsync().AsTask().WaitAsync(FailureBound); // must neither throw nor hang
        await Assert.ThrowsAsync<ObjectDisposedException>(async () => await quic.WriteAsync(new byte[1], Timeout()));
        // The peer learns the stream is over: its reads end (reset or FIN) instead of waiting forever.
        await Assert.ThrowsAnyAsync<Exception>(async () =>
        {
            var sink = new byte[1 << 20];
            while (await receiving.ReadAsync(sink, Timeout()) > 0)
            {
            }
            throw new EndOfStreamException("FIN");
        }).WaitAsync(FailureBound);
    }

    [Fact]
    public async Task WriteCancelledWhileItsPostRunsAfterTheEndpointStopped_DoesNotDeadlock()
    {
        // After the loop stops, posted work runs on the posting thread. The write's post runs there; just then its
        // token is cancelled on another thread, whose callback posts too. The write's completion disposes the token
        // registration, which waits for that callback: the callback's post must not wait for the first thread.
        QuicEndpoint server = CreateEndpoint();
        QuicEndpoint client = CreateEndpoint();
        var (c, s) = await ConnectPairAsync(client, server);
        QuicStream stream = await c.OpenOutboundStreamAsync(QuicStreamType.Bidirectional, Timeout());
        await s.DisposeAsync();
        await server.DisposeAsync();
        await client.DisposeAsync(); // the client's loop is gone: posts now run on the caller

        using var cts = new CancellationTokenSource();
        Task? cancelling = null;
        client.BeforeWorkAfterStopForTests = () =>
        {
            client.BeforeWorkAfterStopForTests = null;
            cancelling = Task.Run(cts.Cancel);
            cancelling.Wait(TimeSpan.FromSeconds(2)); // a post that waited for this thread would still be blocked here
        };
        Task write = Task.Run(async () =>
        {
            try
            {
                await stream.WriteAsync(new byte[16], cts.Token);
            }
            catch (Exception e) when (e is QuicException or OperationCanceledException or ObjectDisposedException)
            {
            }
        });
        await write.WaitAsync(FailureBound);
        Assert.NotNull(cancelling);
        await cancelling.WaitAsync(FailureBound);
        await c.DisposeAsync();
    }

    [Fact]
    public async Task CallerMemoryWhosePinOrUnpinThrows_FailsOnlyThatOperation()
    {
        await using QuicEndpoint server = CreateEndpoint();
        await using QuicEndpoint client = CreateEndpoint();
        var (c, s) = await ConnectPairAsync(client, server);
        await using QuicConnection _ = c;
        await using QuicConnection __ = s;

        // A write of memory whose Unpin throws: acknowledged, it completes, and the loop goes on.
        using var unpinThrows = new FaultyMemory(4096, throwOnPin: false);
        QuicStream sending = await c.OpenOutboundStreamAsync(QuicStreamType.Bidirectional, Timeout());
        await sending.WriteAsync(unpinThrows.Memory, completeWrites: true, Timeout()).AsTask().WaitAsync(FailureBound);
        QuicStream receiving = await s.AcceptInboundStreamAsync(Timeout());

        // A read into memory whose Pin throws (nothing buffered yet, so the loop pins it): that read fails with the
        // caller's exception; the stream and the endpoint stay usable.
        QuicStream second = await c.OpenOutboundStreamAsync(QuicStreamType.Bidirectional, Timeout());
        await second.WriteAsync(new byte[1], Timeout());
        QuicStream secondReceived = await s.AcceptInboundStreamAsync(Timeout());
        await secondReceived.ReadExactlyAsync(new byte[1], Timeout());
        using var pinThrows = new FaultyMemory(16, throwOnPin: true);
        var e = await Assert.ThrowsAsync<InvalidOperationException>(async () => await secondReceived.ReadAsync(pinThrows.Memory, Timeout()));
        Assert.Equal("pin refused", e.Message);

        (long length, byte[] hash) = await ReadAllHashedAsync(receiving, ct: Timeout());
        Assert.Equal(32, hash.Length);
        Assert.Equal(4096, length);
        await second.WriteAsync("more"u8.ToArray(), completeWrites: true, Timeout());
        var rest = new byte[4];
        await secondReceived.ReadExactlyAsync(rest, Timeout());
        Assert.Equal("more"u8.ToArray(), rest);
    }

    /// <summary>Memory from a MemoryManager that refuses to be pinned, or fails when unpinned.</summary>
    private sealed unsafe class FaultyMemory(int length, bool throwOnPin) : System.Buffers.MemoryManager<byte>
    {
        private readonly byte[] _array = GC.AllocateArray<byte>(length, pinned: true);

        public override Span<byte> GetSpan() => _array;

        public override System.Buffers.MemoryHandle Pin(int elementIndex = 0)
        {
            if (throwOnPin)
            {
                throw new InvalidOperationException("pin refused");
            }
            return new System.Buffers.MemoryHandle(System.Runtime.CompilerServices.Unsafe.AsPointer(ref _array[elementIndex]), pinnable: this);
        }

        public override void Unpin() => throw new InvalidOperationException("unpin failed");

        protected override void Dispose(bool disposing)
        {
        }
    }
}
