namespace TensorProtocol.Quic.Tests;

/// <summary>
/// <see cref="QuicConnection.InboundStreamHandler"/>: complete small streams answered on the loop thread, everything
/// else left untouched to <see cref="QuicConnection.AcceptInboundStreamAsync"/>; and the synchronous reads it uses.
/// </summary>
public sealed class InboundStreamHandlerTests : QuicTestBase
{
    [Fact]
    public async Task CompleteStream_IsServedByTheHandler_OnTheLoopThread_AndNeverOffered()
    {
        await using QuicEndpoint server = CreateEndpoint();
        await using QuicEndpoint client = CreateEndpoint();
        var (c, s) = await ConnectPairAsync(client, server);
        string? handlerThread = null;
        s.InboundStreamHandler = stream =>
        {
            handlerThread = Thread.CurrentThread.Name;
            // Upper-case echo: everything arrived, so it can be read, and answered, without waiting.
            var request = new byte[(int)stream.BufferedLength];
            Assert.Equal(request.Length, stream.ReadBuffered(request));
            Assert.True(stream.ReadsCompleted);
            _ = stream.WriteAsync(System.Text.Encoding.ASCII.GetBytes(System.Text.Encoding.ASCII.GetString(request).ToUpperInvariant()), completeWrites: true);
            return true;
        };
        Task<QuicStream> offered = s.AcceptInboundStreamAsync(Timeout()).AsTask();

        for (int i = 0; i < 3; i++)
        {
            await using QuicStream stream = await c.OpenOutboundStreamAsync(QuicStreamType.Bidirectional, Timeout());
            await stream.WriteAsync("hello loop"u8.ToArray(), completeWrites: true, Timeout());
            var answer = new byte[10];
            await stream.ReadExactlyAsync(answer, Timeout());
            Assert.Equal("HELLO LOOP", System.Text.Encoding.ASCII.GetString(answer));
            Assert.Equal(0, await stream.ReadAsync(answer, Timeout()));
        }

        Assert.StartsWith("quic", handlerThread, StringComparison.Ordinal);
        Assert.False(offered.IsCompleted);
    }

    [Fact]
    public async Task HandlerDeclines_StreamIsOfferedWithEveryByte()
    {
        await using QuicEndpoint server = CreateEndpoint();
        await using QuicEndpoint client = CreateEndpoint();
        var (c, s) = await ConnectPairAsync(client, server);
        int calls = 0;
        s.InboundStreamHandler = stream =>
        {
            Interlocked.Increment(ref calls);
            // Peeking consumes nothing.
            var head = new byte[4];
            Assert.Equal(4, stream.Peek(head));
            Assert.Equal("abcd", System.Text.Encoding.ASCII.GetString(head));
            return false;
        };

        QuicStream sent = await c.OpenOutboundStreamAsync(QuicStreamType.Bidirectional, Timeout());
        await sent.WriteAsync("abcdefgh"u8.ToArray(), completeWrites: true, Timeout());
        QuicStream incoming = await s.AcceptInboundStreamAsync(Timeout());
        var all = new byte[8];
        await incoming.ReadExactlyAsync(all, Timeout());
        Assert.Equal("abcdefgh", System.Text.Encoding.ASCII.GetString(all));
        Assert.Equal(0, await incoming.ReadAsync(all, Timeout()));
        Assert.Equal(1, Volatile.Read(ref calls));
    }

    [Fact]
    public async Task UnfinishedStream_IsNotOfferedToTheHandler()
    {
        await using QuicEndpoint server = CreateEndpoint();
        await using QuicEndpoint client = CreateEndpoint();
        var (c, s) = await ConnectPairAsync(client, server);
        int calls = 0;
        s.InboundStreamHandler = _ =>
        {
            Interlocked.Increment(ref calls);
            return true;
        };

        QuicStream sent = await c.OpenOutboundStreamAsync(QuicStreamType.Bidirectional, Timeout());
        await sent.WriteAsync("part"u8.ToArray(), completeWrites: false, Timeout());
        QuicStream incoming = await s.AcceptInboundStreamAsync(Timeout());
        var part = new byte[4];
        await incoming.ReadExactlyAsync(part, Timeout());
        await sent.WriteAsync("rest"u8.ToArray(), completeWrites: true, Timeout());
        await incoming.ReadExactlyAsync(part, Timeout());
        Assert.Equal("rest", System.Text.Encoding.ASCII.GetString(part));
        Assert.Equal(0, Volatile.Read(ref calls));
    }

    [Fact]
    public async Task HandlerThrows_StreamIsAborted_ConnectionStaysUsable()
    {
        await using QuicEndpoint server = CreateEndpoint();
        await using QuicEndpoint client = CreateEndpoint();
        var (c, s) = await ConnectPairAsync(client, server);
        int calls = 0;
        s.InboundStreamHandler = stream =>
        {
            if (Interlocked.Increment(ref calls) == 1)
            {
                throw new InvalidOperationException("handler bug");
            }
            var request = new byte[(int)stream.BufferedLength];
            stream.ReadBuffered(request);
            _ = stream.WriteAsync(request, completeWrites: true);
            return true;
        };

        QuicStream first = await c.OpenOutboundStreamAsync(QuicStreamType.Bidirectional, Timeout());
        await first.WriteAsync("x"u8.ToArray(), completeWrites: true, Timeout());
        QuicException aborted = await Assert.ThrowsAsync<QuicException>(async () => await first.ReadAsync(new byte[1], Timeout()));
        Assert.Equal(QuicErrorKind.StreamAborted, aborted.Kind);
        Assert.Equal(QuicConnection.InternalErrorCode, aborted.ApplicationErrorCode);

        QuicStream second = await c.OpenOutboundStreamAsync(QuicStreamType.Bidirectional, Timeout());
        await second.WriteAsync("y"u8.ToArray(), completeWrites: true, Timeout());
        var echo = new byte[1];
        await second.ReadExactlyAsync(echo, Timeout());
        Assert.Equal((byte)'y', echo[0]);
        Assert.False(c.IsClosed);
    }

    [Fact]
    public async Task ReadBuffered_TakesOnlyWhatArrived_AndRefusesAConcurrentRead()
    {
        await using QuicEndpoint server = CreateEndpoint();
        await using QuicEndpoint client = CreateEndpoint();
        var (c, s) = await ConnectPairAsync(client, server);
        QuicStream sent = await c.OpenOutboundStreamAsync(QuicStreamType.Bidirectional, Timeout());
        await sent.WriteAsync("0123456789"u8.ToArray(), completeWrites: false, Timeout());
        QuicStream incoming = await s.AcceptInboundStreamAsync(Timeout());

        // A pending read takes the bytes as they come; while it waits, a synchronous read is refused.
        var first = new byte[10];
        await incoming.ReadExactlyAsync(first, Timeout());
        Assert.Equal(0, incoming.ReadBuffered(new byte[4])); // nothing buffered: 0, not a wait
        ValueTask<int> pending = incoming.ReadAsync(new byte[4], Timeout());
        Assert.Throws<InvalidOperationException>(() => incoming.ReadBuffered(new byte[4]));
        await sent.WriteAsync("ab"u8.ToArray(), completeWrites: true, Timeout());
        Assert.Equal(2, await pending);
    }

    [Fact]
    public async Task ConcurrentOpens_BeyondThePeersStreamLimit_KeepStreamsAndDataMatched()
    {
        // Opens race from many threads while the limit (4) is hit again and again: each open either names the next
        // stream ID itself or waits on the loop, and every stream must still carry its own bytes to the right peer
        // stream.
        var tight = QuicConnectionOptions.Default with { MaxInboundBidirectionalStreams = 4 };
        await using QuicEndpoint server = CreateEndpoint(tight);
        await using QuicEndpoint client = CreateEndpoint();
        var (c, s) = await ConnectPairAsync(client, server);
        CancellationToken ct = Timeout();
        const int total = 200;

        Task echo = Task.Run(async () =>
        {
            var serving = new List<Task>();
            for (int i = 0; i < total; i++)
            {
                QuicStream incoming = await s.AcceptInboundStreamAsync(ct);
                serving.Add(Task.Run(async () =>
                {
                    await using (incoming)
                    {
                        var id = new byte[8];
                        await incoming.ReadExactlyAsync(id, ct);
                        Assert.Equal(incoming.Id, BitConverter.ToInt64(id));
                        Assert.Equal(0, await incoming.ReadAsync(new byte[1], ct));
                        await incoming.WriteAsync(id, completeWrites: true, ct);
                    }
                }, ct));
            }
            await Task.WhenAll(serving);
        }, ct);

        await Parallel.ForEachAsync(Enumerable.Range(0, total), new ParallelOptions { MaxDegreeOfParallelism = 8, CancellationToken = ct }, async (_, token) =>
        {
            await using QuicStream stream = await c.OpenOutboundStreamAsync(QuicStreamType.Bidirectional, token);
            byte[] id = BitConverter.GetBytes(stream.Id);
            await stream.WriteAsync(id, completeWrites: true, token);
            var back = new byte[8];
            await stream.ReadExactlyAsync(back, token);
            Assert.Equal(stream.Id, BitConverter.ToInt64(back));
        });
        await echo;
    }
}
