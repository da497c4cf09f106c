using TensorProtocol.Bench.Measurements;

namespace TensorProtocol.Bench;

/// <summary>The outcome of one benchmark run: a row per target that completed in each round, and the targets that failed.</summary>
/// <param name="Rounds">Per round, one row per measured target, in the order they ran (usually one round).</param>
/// <param name="FailedTransports">Targets whose client failed or timed out in some round (their diagnostics went to stderr).</param>
public sealed record BenchReport(IReadOnlyList<IReadOnlyList<TransportResult>> Rounds, IReadOnlyList<string> FailedTransports)
{
    /// <summary>
    /// One row per target: the round's own with one round, else each figure's median over the rounds the target
    /// completed (so one noisy round cannot decide a row).
    /// </summary>
    public IReadOnlyList<TransportResult> Results => _results ??= Rounds.Count == 1 ? Rounds[0] : MedianRows();

    /// <summary>
    /// The issues' targets that the rows of this run allow to evaluate: with several rounds, the median of each
    /// round's own ratio (its rows ran back to back), with every round's value in <see cref="TargetCheck.Figures"/>.
    /// </summary>
    public IReadOnlyList<TargetCheck> Targets => _targets ??= BenchTargets.Evaluate(Rounds);

    // Computed once: the reports read them several times, and the table compares rows by identity.
    private IReadOnlyList<TransportResult>? _results;
    private IReadOnlyList<TargetCheck>? _targets;

    /// <summary>Writes the results as JSON, in the shape <c>scripts/bench --json</c> has always written.</summary>
    public void WriteJson(string path) => JsonReport.Write(this, path);

    /// <summary>Writes the plain-text report of the bench executable.</summary>
    public void WriteText(TextWriter output) => TextReport.Print(this, output);

    private List<TransportResult> MedianRows()
    {
        var rows = new List<TransportResult>();
        foreach (string transport in Rounds.SelectMany(r => r).Select(r => r.Transport).Distinct())
        {
            List<TransportResult> all = [.. Rounds.SelectMany(r => r).Where(r => r.Transport == transport)];
            List<BulkResult> bulk = [.. all.SelectMany(r => r.Bulk).GroupBy(b => b.Bytes).OrderBy(g => g.Key).Select(g => new BulkResult(
                g.Key, Statistics.Median(g.Select(b => b.MibPerSecond)), Statistics.Median(g.Select(b => b.CpuSecondsPerGib))))];
            rows.Add(new TransportResult(
                transport, bulk,
                Statistics.Median(all.Select(r => r.RttP50Microseconds)),
                Statistics.Median(all.Select(r => r.RttP99Microseconds)),
                Statistics.Median(all.Select(r => r.ColdMilliseconds)),
                Statistics.Median(all.Select(r => r.ClientPeakRssMib)),
                Statistics.Median(all.Select(r => r.ServerPeakRssMib))));
        }
        return rows;
    }
}
