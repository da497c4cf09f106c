namespace TensorProtocol.Quic.Tests;

/// <summary>
/// How work reaches the loop: a posting thread runs the turn itself while the loop is parked, and a
/// <see cref="QuicBatch"/> holds a thread's work back until it ends.
/// </summary>
public sealed class TurnTests : QuicTestBase
{
    [Fact]
    public async Task Batch_HoldsWorkUntilItEnds()
    {
        await using QuicEndpoint server = CreateEndpoint();
        await using QuicEndpoint client = CreateEndpoint();
        var (c, _) = await ConnectPairAsync(client, server);

        ValueTask<QuicConnectionStatistics> statistics;
        using (c.Batch())
        {
            statistics = c.GetStatisticsAsync();
            // Not even queued yet: nothing can have run it.
            Assert.False(statistics.IsCompleted);
        }
        QuicConnectionStatistics read = await statistics.AsTask().WaitAsync(Timeout());
        Assert.True(read.BytesSent > 0);
    }

    [Fact]
    public async Task WritesInOneBatch_ArriveTogether()
    {
        await using QuicEndpoint server = CreateEndpoint();
        await using QuicEndpoint client = CreateEndpoint();
        var (c, s) = await ConnectPairAsync(client, server);
        var served = new TaskCompletionSource<string>(TaskCreationOptions.RunContinuationsAsynchronously);
        // The handler sees only streams whose every byte, FIN included, came in one batch of packets.
        s.InboundStreamHandler = stream =>
        {
            var all = new byte[(int)stream.BufferedLength];
            stream.ReadBuffered(all);
            served.TrySetResult(System.Text.Encoding.ASCII.GetString(all));
            _ = stream.WriteAsync(ReadOnlyMemory<byte>.Empty, completeWrites: true);
            return true;
        };

        for (int i = 0; i < 5; i++)
        {
            // Let the loop fall asleep first, so that each write would otherwise leave at once on its own.
            Assert.True(SpinWait.SpinUntil(() => client.IsParked, TimeSpan.FromSeconds(10)));
            QuicStream stream = await c.OpenOutboundStreamAsync(QuicStreamType.Bidirectional, Timeout());
            await using (stream)
            {
                ValueTask header, body;
                using (c.Batch())
                {
                    header = stream.WriteAsync("header|"u8.ToArray(), completeWrites: false, Timeout());
                    body = stream.WriteAsync("body"u8.ToArray(), completeWrites: true, Timeout());
                }
                await header;
                await body;
                Assert.Equal(0, await stream.ReadAsync(new byte[1], Timeout()));
            }
        }
        Assert.Equal("header|body", await served.Task.WaitAsync(Timeout()));
    }

    [Fact]
    public async Task PostWhileTheLoopIsParked_RunsTheTurnOnThePostingThread()
    {
        await using QuicEndpoint server = CreateEndpoint();
        await using QuicEndpoint client = CreateEndpoint();
        var (c, s) = await ConnectPairAsync(client, server);
        QuicStream accepted = default!;
        Task<QuicStream> accepting = s.AcceptInboundStreamAsync(Timeout()).AsTask();
        QuicStream sent = await c.OpenOutboundStreamAsync(QuicStreamType.Bidirectional, Timeout());

        // A packet (a late acknowledgement, say) can wake the loop between the look and the post; then the loop runs
        // the turn, which is right too. So try until one post found it asleep; each try sends one byte.
        long before = client.BorrowedTurns;
        int sentBytes = 0;
        for (int i = 0; i < 50 && client.BorrowedTurns == before; i++)
        {
            Assert.True(SpinWait.SpinUntil(() => client.IsParked, TimeSpan.FromSeconds(10)));
            await sent.WriteAsync(new byte[] { (byte)i }, Timeout());
            sentBytes++;
            if (i == 0)
            {
                accepted = await accepting.WaitAsync(Timeout());
            }
            var one = new byte[1];
            await accepted.ReadExactlyAsync(one, Timeout());
            Assert.Equal((byte)i, one[0]);
        }
        Assert.True(client.BorrowedTurns > before, $"no post in {sentBytes} found the loop parked");
        await sent.DisposeAsync();
        await accepted.DisposeAsync();
    }

    [Fact]
    public async Task RequestsSentInBorrowedTurns_LeaveTheLoopAsleepUntilTheAnswer()
    {
        await using QuicEndpoint server = CreateEndpoint();
        await using QuicEndpoint client = CreateEndpoint();
        var (c, s) = await ConnectPairAsync(client, server);
        AnswerOnLoop(s, request => request);

        // Each request leaves from this thread while the loop sleeps. Sending it sets timers (loss detection; pacing,
        // with nothing left to pace), earlier than the sleeping loop's timeout: the old way woke the loop for each,
        // only to compute a new timeout. Now nothing but the answer should wake it.
        const int rounds = 40;
        long borrowedBefore = client.BorrowedTurns, wakesBefore = client.LoopWakes;
        for (int i = 0; i < rounds; i++)
        {
            Assert.True(SpinWait.SpinUntil(() => client.IsParked, TimeSpan.FromSeconds(10)));
            QuicStream stream = await c.OpenOutboundStreamAsync(QuicStreamType.Bidirectional, Timeout());
            await using (stream)
            {
                ValueTask write;
                using (c.Batch())
                {
                    write = stream.WriteAsync(new byte[] { (byte)i, 1, 2, 3 }, completeWrites: true, Timeout());
                }
                var answer = new byte[4];
                await stream.ReadExactlyAsync(answer, Timeout());
                Assert.Equal((byte)i, answer[0]);
                await write;
            }
        }
        long borrowed = client.BorrowedTurns - borrowedBefore, wakes = client.LoopWakes - wakesBefore;
        Assert.True(borrowed >= rounds / 2, $"only {borrowed} of {rounds} requests found the loop parked");
        // A loss timer can still fire on a stalled machine (the answer later than ~5 ms): allow a few.
        Assert.True(wakes <= rounds / 8, $"the loop was woken {wakes} times by posts or timers in {rounds} round trips");
    }

    [Fact]
    public async Task TurnWokenWithoutDatagrams_DoesNotReadTheSocket()
    {
        await using QuicEndpoint server = CreateEndpoint();
        await using QuicEndpoint client = CreateEndpoint();
        await ConnectPairAsync(client, server);

        Assert.True(SpinWait.SpinUntil(() => client.IsParked, TimeSpan.FromSeconds(10)));
        long before = client.EmptyReceives;
        for (int i = 0; i < 20; i++)
        {
            // Each wake is one turn: ppoll reports the eventfd, not the socket, so recvmmsg has nothing to find.
            client.WakeIdle();
            Assert.True(SpinWait.SpinUntil(() => client.IsParked, TimeSpan.FromSeconds(10)));
        }
        Assert.Equal(before, client.EmptyReceives);
    }

    [Fact]
    public async Task StreamClaimedInABatch_KeepsItsIdWhileAnotherThreadOpensTheNext()
    {
        await using QuicEndpoint server = CreateEndpoint();
        await using QuicEndpoint client = CreateEndpoint();
        var (c, s) = await ConnectPairAsync(client, server);
        // Each stream gets its data back upper-cased, then FIN.
        AnswerOnLoop(s, request => System.Text.Encoding.ASCII.GetBytes(System.Text.Encoding.ASCII.GetString(request).ToUpperInvariant()));

        async Task<string> RoundTripAsync(QuicStream stream, string text)
        {
            await stream.WriteAsync(System.Text.Encoding.ASCII.GetBytes(text), completeWrites: true, Timeout());
            var answer = new byte[text.Length];
            await stream.ReadExactlyAsync(answer, Timeout());
            await stream.DisposeAsync();
            return System.Text.Encoding.ASCII.GetString(answer);
        }

        (QuicStream first, string second) = ClaimInBatchWhileAnotherThreadOpens(c, () => Task.Run(async () =>
            await RoundTripAsync(await c.OpenOutboundStreamAsync(QuicStreamType.Bidirectional, Timeout()), "second")));
        Assert.Equal("SECOND", second);
        Assert.Equal("FIRST", await RoundTripAsync(first, "first"));
    }

    [Fact]
    public async Task ReadHeldInABatch_IsCancelledByAnotherThread()
    {
        await using QuicEndpoint server = CreateEndpoint();
        await using QuicEndpoint client = CreateEndpoint();
        var (c, _) = await ConnectPairAsync(client, server);
        await using QuicStream stream = await c.OpenOutboundStreamAsync(QuicStreamType.Bidirectional, Timeout());
        using var cancel = new CancellationTokenSource();
        ValueTask<int> read = ReadInBatchCancelledFromAnotherThread(c, stream, cancel);
        await Assert.ThrowsAnyAsync<OperationCanceledException>(async () => await read.AsTask().WaitAsync(Timeout()));
    }

    /// <summary>Answers every stream that arrives whole with <paramref name="answer"/> of its bytes, then FIN, on the loop.</summary>
    private static void AnswerOnLoop(QuicConnection server, Func<byte[], byte[]> answer) =>
        server.InboundStreamHandler = stream =>
        {
            var all = new byte[(int)stream.BufferedLength];
            stream.ReadBuffered(all);
            _ = stream.WriteAsync(answer(all), completeWrites: true);
            return true;
        };

    // A batch cannot span an await, so holding one open while another thread works means blocking this one.

    private static (QuicStream First, string Second) ClaimInBatchWhileAnotherThreadOpens(QuicConnection c, Func<Task<string>> other)
    {
        using (c.Batch())
        {
            // Claims the next stream ID here, inside the batch...
            ValueTask<QuicStream> opening = c.OpenOutboundStreamAsync(QuicStreamType.Bidirectional, Timeout());
            Assert.True(opening.IsCompletedSuccessfully);
            // ...while another thread claims the one after it and uses it before this batch ends.
            string second = other().GetAwaiter().GetResult();
            return (opening.Result, second);
        }
    }

    private static ValueTask<int> ReadInBatchCancelledFromAnotherThread(QuicConnection c, QuicStream stream, CancellationTokenSource cancel)
    {
        using (c.Batch())
        {
            ValueTask<int> read = stream.ReadAsync(new byte[16], cancel.Token);
            // The cancellation's own work is posted from another thread, so it reaches the loop before the read does.
            Task.Run(cancel.Cancel).GetAwaiter().GetResult();
            return read;
        }
    }

    /// <summary>
    /// A write held in a batch and cancelled from another thread before the batch ends fails with the cancellation (as
    /// a held read or open does), not with an abort its caller never asked for; the stream is reset, so a write after
    /// it cannot reach the peer with its bytes missing.
    /// </summary>
    [Fact]
    public async Task WriteHeldInABatch_CancelledFromAnotherThread_FailsWithCancellation_AndTheNextWriteFails()
    {
        await using QuicEndpoint server = CreateEndpoint();
        await using QuicEndpoint client = CreateEndpoint();
        var (c, _) = await ConnectPairAsync(client, server);
        await using QuicStream stream = await c.OpenOutboundStreamAsync(QuicStreamType.Bidirectional, Timeout());
        using var cancel = new CancellationTokenSource();
        var (first, second) = WriteTwiceInABatch_CancellingTheFirstFromAnotherThread(c, stream, cancel);
        await Assert.ThrowsAnyAsync<OperationCanceledException>(async () => await first.AsTask().WaitAsync(Timeout()));
        await Assert.ThrowsAsync<QuicException>(async () => await second.AsTask().WaitAsync(Timeout()));
    }

    /// <summary>Synchronous on purpose: a batch belongs to the thread that holds it, so nothing may be awaited inside.</summary>
    private static (ValueTask First, ValueTask Second) WriteTwiceInABatch_CancellingTheFirstFromAnotherThread(QuicConnection c, QuicStream stream, CancellationTokenSource cancel)
    {
        using (c.Batch())
        {
            ValueTask first = stream.WriteAsync(new byte[16], cancel.Token);
            ValueTask second = stream.WriteAsync(new byte[16], completeWrites: true, CancellationToken.None);
            Task.Run(cancel.Cancel).Wait(); // another thread, while this one still holds the batch
            return (first, second);
        }
    }
}
