namespace TensorProtocol.Cli.Tests;

/// <summary>The plain progress lines of one transfer: none for a fast one, then at most one per period, always forward.</summary>
public sealed class ProgressLinesTests
{
    private const long MiB = 1024 * 1024;
    private const long Total = 1024 * MiB;
    private static readonly TimeSpan Delay = TimeSpan.FromSeconds(2);
    private static readonly TimeSpan Period = TimeSpan.FromSeconds(5);

    private readonly List<string> _written = [];

    [Fact]
    public void Report_TransferDoneWithinDelay_WritesNothing()
    {
        ProgressLines lines = Create();
        lines.Report(At(0, 0));
        lines.Report(At(1.0, 600 * MiB));
        lines.Report(At(1.9, 1000 * MiB));
        lines.Report(At(2.5, Total)); // the completing report: the caller prints the outcome
        Assert.Empty(_written);
    }

    [Fact]
    public void Report_AfterDelay_OneLineWithBytesRateAndEta()
    {
        ProgressLines lines = Create();
        lines.Report(At(0, 0));
        lines.Report(At(2.0, 512 * MiB));
        Assert.Equal(["sending w: 512.0 MiB / 1.00 GiB (50 %), 256.0 MiB/s, ETA 2 s"], _written);
    }

    [Fact]
    public void Report_ManyReports_AtMostOneLinePerPeriod()
    {
        ProgressLines lines = Create();
        for (int tenth = 0; tenth <= 150; tenth++)
        {
            // One report every 100 ms, as the node makes them, at 64 MiB/s for 15 s (of a transfer longer than that).
            lines.Report(new TransferProgress(tenth * 64 * MiB / 10, 4 * Total, TimeSpan.FromSeconds(tenth / 10.0)));
        }
        // At 2 s, then 7 s and 12 s.
        Assert.Equal(3, _written.Count);
        Assert.StartsWith("sending w: 128.0 MiB / 4.00 GiB (3 %)", _written[0], StringComparison.Ordinal);
        Assert.StartsWith("sending w: 448.0 MiB / 4.00 GiB (10 %)", _written[1], StringComparison.Ordinal);
        Assert.StartsWith("sending w: 768.0 MiB / 4.00 GiB (18 %)", _written[2], StringComparison.Ordinal);
    }

    [Fact]
    public void Report_NoVisibleProgressSinceLastLine_WritesNothingUntilBytesShowMore()
    {
        ProgressLines lines = Create(delay: TimeSpan.Zero, period: TimeSpan.Zero);
        lines.Report(At(1, 100 * MiB));
        lines.Report(At(2, 100 * MiB + 1000)); // still "100.0 MiB": a line would read as a stall
        lines.Report(At(3, 101 * MiB));
        Assert.Equal(2, _written.Count);
        Assert.StartsWith("sending w: 100.0 MiB /", _written[0], StringComparison.Ordinal);
        Assert.StartsWith("sending w: 101.0 MiB /", _written[1], StringComparison.Ordinal);
    }

    [Fact]
    public void Report_ZeroIntervals_EveryReportButTheCompletingOne()
    {
        ProgressLines lines = Create(delay: TimeSpan.Zero, period: TimeSpan.Zero);
        lines.Report(At(0, 0));
        lines.Report(At(0.1, 8 * MiB));
        lines.Report(At(0.2, 16 * MiB));
        lines.Report(At(0.3, Total));
        Assert.Equal(3, _written.Count);
        Assert.Equal("sending w: 0 B / 1.00 GiB (0 %), 0 B/s, ETA -", _written[0]);
    }

    private ProgressLines Create(TimeSpan? delay = null, TimeSpan? period = null) =>
        new("sending", "w", delay ?? Delay, period ?? Period, _written.Add);

    private static TransferProgress At(double seconds, long bytes) => new(bytes, Total, TimeSpan.FromSeconds(seconds));
}
