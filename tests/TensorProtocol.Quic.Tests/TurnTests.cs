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
}
