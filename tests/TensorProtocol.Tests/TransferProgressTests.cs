namespace TensorProtocol.Tests;

/// <summary>Progress of pushes (bytes the receiver acknowledged) and pulls (bytes received).</summary>
public sealed class TransferProgressTests : NodeTestBase
{
    private const int MiB = 1 << 20;

    [Fact]
    public async Task Request_ProgressEveryChunk_ReportsTheStartEachChunkAndNothingMore()
    {
        await using TensorNode server = await StartNodeAsync();
        await using TensorNode client = await StartNodeAsync(o => o with { ProgressInterval = TimeSpan.Zero });
        server.Register("t", TensorData.FromArray(new byte[20 * MiB]));
        var reports = new Recorder();

        TensorData pulled = await client.RequestAsync(server.Ticket, "t", reports, Timeout());

        // Reads complete in 8 MiB chunks, in order: 0, 8, 16, then the last 4 MiB — which is also the completion.
        Assert.Equal([0L, 8 * MiB, 16 * MiB, 20 * MiB], reports.Bytes);
        Assert.All(reports.Items, r => Assert.Equal(20 * MiB, r.TotalBytes));
        Assert.True(reports.Items[^1].IsComplete);
        Assert.Equal(20 * MiB, pulled.ByteLength);
        reports.AssertNeverOnTheTransportThread();
    }

    [Fact]
    public async Task Send_ProgressEveryChunk_ReportsIncreasingAcknowledgedBytesEndingWithTheTotal()
    {
        await using TensorNode receiver = await StartNodeAsync();
        await using TensorNode sender = await StartNodeAsync(o => o with { ProgressInterval = TimeSpan.Zero });
        var reports = new Recorder();

        await sender.SendAsync(receiver.Ticket, "t", TensorData.FromArray(new byte[64 * MiB]), reports, Timeout());

        Assert.Equal(0, reports.Bytes[0]);
        Assert.Equal(64 * MiB, reports.Bytes[^1]);
        Assert.True(reports.Items[^1].IsComplete);
        Assert.True(reports.Bytes.Zip(reports.Bytes.Skip(1)).All(p => p.First < p.Second), string.Join(", ", reports.Bytes));
        // Acknowledged 8 MiB chunks at most, never per packet: start + 8 chunks.
        Assert.InRange(reports.Items.Count, 2, 9);
        Assert.All(reports.Bytes.Skip(1).SkipLast(1), b => Assert.Equal(0, b % (8 * MiB)));
        reports.AssertNeverOnTheTransportThread();
    }

    [Fact]
    public async Task Send_ProgressIntervalLongerThanTheSend_ReportsOnlyStartAndEnd()
    {
        await using TensorNode receiver = await StartNodeAsync();
        await using TensorNode sender = await StartNodeAsync(o => o with { ProgressInterval = TimeSpan.FromHours(1) });
        var reports = new Recorder();

        await sender.SendAsync(receiver.Ticket.ToString(), "t", TensorData.FromArray(new byte[32 * MiB]), reports, Timeout());

        Assert.Equal([0L, 32 * MiB], reports.Bytes);
    }

    [Fact]
    public async Task Send_Refused_NeverReportsCompletion()
    {
        await using TensorNode receiver = await StartNodeAsync(o => o with { MaxTensorBytes = 1024 });
        await using TensorNode sender = await StartNodeAsync(o => o with { ProgressInterval = TimeSpan.Zero });
        var reports = new Recorder();

        var e = await Assert.ThrowsAsync<TensorProtocolException>(() => sender.SendAsync(receiver.Ticket, "t", TensorData.FromArray(new byte[16 * MiB]), reports, Timeout()));

        Assert.Equal(TensorErrorKind.TooLarge, e.Kind);
        Assert.Equal(0, reports.Bytes[0]);
        Assert.DoesNotContain(reports.Items, r => r.IsComplete);
    }

    [Fact]
    public async Task Send_ProgressThatThrows_FailsTheSendWithItsException()
    {
        await using TensorNode receiver = await StartNodeAsync();
        await using TensorNode sender = await StartNodeAsync();
        var throwing = new SynchronousProgress<TransferProgress>(_ => throw new FormatException("the progress bar broke"));

        var e = await Assert.ThrowsAsync<FormatException>(() => sender.SendAsync(receiver.Ticket, "t", Floats(1000, 1), throwing, Timeout()));

        Assert.Equal("the progress bar broke", e.Message);
        Assert.Equal("t", (await receiver.ReceiveAsync(Timeout())).Name); // the tensor itself went through
    }

    [Fact]
    public void TransferProgress_DerivedValues()
    {
        var half = new TransferProgress(50, 100, TimeSpan.FromSeconds(2));
        Assert.False(half.IsComplete);
        Assert.Equal(0.5, half.Fraction);
        Assert.Equal(25, half.BytesPerSecond);
        Assert.Equal(TimeSpan.FromSeconds(2), half.EstimatedRemaining);

        var start = new TransferProgress(0, 100, TimeSpan.Zero);
        Assert.Equal(0, start.BytesPerSecond);
        Assert.Null(start.EstimatedRemaining);

        var empty = new TransferProgress(0, 0, TimeSpan.FromSeconds(1));
        Assert.True(empty.IsComplete);
        Assert.Equal(1, empty.Fraction);
        Assert.Equal(TimeSpan.Zero, empty.EstimatedRemaining);
    }

    [Fact]
    public void Options_NegativeProgressInterval_IsRefused()
    {
        var e = Assert.Throws<ArgumentOutOfRangeException>(() => new TensorNode(new TensorNodeOptions { ProgressInterval = TimeSpan.FromSeconds(-1) }));
        Assert.Equal(nameof(TensorNodeOptions.ProgressInterval), e.ParamName);
    }

    /// <summary>Records reports and the threads they came from.</summary>
    private sealed class Recorder : IProgress<TransferProgress>
    {
        private readonly List<(TransferProgress Report, string? Thread)> _items = [];

        public List<TransferProgress> Items
        {
            get
            {
                lock (_items)
                {
                    return [.. _items.Select(i => i.Report)];
                }
            }
        }

        public List<long> Bytes => [.. Items.Select(i => i.BytesTransferred)];

        public void Report(TransferProgress value)
        {
            lock (_items)
            {
                _items.Add((value, Thread.CurrentThread.Name));
            }
        }

        /// <summary>The QUIC loop threads are named "quic :PORT"; reports must come from elsewhere (the pool, or the caller).</summary>
        public void AssertNeverOnTheTransportThread()
        {
            lock (_items)
            {
                Assert.All(_items, i => Assert.False(i.Thread?.StartsWith("quic :", StringComparison.Ordinal) ?? false, $"reported on {i.Thread}"));
            }
        }
    }
}
