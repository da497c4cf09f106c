namespace TensorProtocol.Bench;

/// <summary>The outcome of one benchmark run: a row per target that completed, and the targets that failed.</summary>
/// <param name="Results">One row per measured target, in the order they ran.</param>
/// <param name="FailedTransports">Targets whose client failed or timed out (their diagnostics went to stderr).</param>
public sealed record BenchReport(IReadOnlyList<TransportResult> Results, IReadOnlyList<string> FailedTransports)
{
    /// <summary>The issues' targets that the rows of this run allow to evaluate.</summary>
    public IReadOnlyList<TargetCheck> Targets => BenchTargets.Evaluate(Results);

    /// <summary>Writes the results as JSON, in the shape <c>scripts/bench --json</c> has always written.</summary>
    public void WriteJson(string path) => JsonReport.Write(Results, path);

    /// <summary>Writes the plain-text report of the bench executable.</summary>
    public void WriteText(TextWriter output) => TextReport.Print(this, output);
}
