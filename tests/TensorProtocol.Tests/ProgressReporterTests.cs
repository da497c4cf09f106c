using System.Diagnostics;
using TensorProtocol.Node;

namespace TensorProtocol.Tests;

public sealed class ProgressReporterTests
{
    [Fact]
    public void Reports_StartThenAdvancesThenCompletion_AndOnlyCompletionHasEveryByte()
    {
        var reports = new List<long>();
        ProgressReporter reporter = Start(reports, total: 30, TimeSpan.Zero);
        reporter.Advance(10);
        reporter.Advance(20); // every byte acknowledged, but not confirmed: held back
        reporter.Advance(5);  // more than the total (a duplicate count) is clamped, still held back
        Assert.Equal([0L, 10], reports);
        reporter.Complete();
        reporter.Advance(1);  // after completion: ignored
        reporter.Complete();
        Assert.Equal([0L, 10, 30], reports);
    }

    [Fact]
    public void Restart_NeverReportsBackwards()
    {
        var reports = new List<long>();
        ProgressReporter reporter = Start(reports, total: 100, TimeSpan.Zero);
        reporter.Advance(40);
        reporter.Restart(); // a redial: the transfer starts over
        reporter.Advance(30);
        reporter.Advance(30);
        Assert.Equal([0L, 40, 60], reports);
    }

    [Fact]
    public void Interval_BoundsTheRate()
    {
        var reports = new List<long>();
        ProgressReporter reporter = Start(reports, total: 1000, TimeSpan.FromHours(1));
        for (int i = 0; i < 999; i++)
        {
            reporter.Advance(1);
        }
        reporter.Complete();
        Assert.Equal([0L, 1000], reports);
    }

    [Fact]
    public void EmptyTransfer_ReportsOnlyItsCompletion()
    {
        var reports = new List<long>();
        ProgressReporter reporter = Start(reports, total: 0, TimeSpan.Zero);
        reporter.Complete();
        Assert.Equal([0L], reports);
    }

    [Fact]
    public void SinkException_StopsReports_AndIsThrownByComplete()
    {
        int calls = 0;
        var sink = new SynchronousProgress<TransferProgress>(_ =>
        {
            calls++;
            throw new FormatException("broken sink");
        });
        ProgressReporter reporter = ProgressReporter.Start(sink, 10, Stopwatch.GetTimestamp(), TimeSpan.Zero)!;
        reporter.Advance(5);
        Assert.Equal("broken sink", Assert.Throws<FormatException>(reporter.Complete).Message);
        Assert.Equal(1, calls);
    }

    [Fact]
    public void NoSink_NoReporter() => Assert.Null(ProgressReporter.Start(null, 10, Stopwatch.GetTimestamp(), TimeSpan.Zero));

    private static ProgressReporter Start(List<long> reports, long total, TimeSpan interval) =>
        ProgressReporter.Start(new SynchronousProgress<TransferProgress>(p => reports.Add(p.BytesTransferred)), total, Stopwatch.GetTimestamp(), interval)!;
}
