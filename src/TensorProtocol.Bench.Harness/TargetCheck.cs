namespace TensorProtocol.Bench;

/// <summary>One of the issues' targets, evaluated on the rows of one run.</summary>
/// <param name="Name">What is compared, e.g. <c>1GiB push MiB/s: tensorp-push / grpc-tls</c>.</param>
/// <param name="Ratio">The measured ratio (or, for an absolute target, the measured value).</param>
/// <param name="Bound">The target, e.g. <c>&gt;= 2x</c>.</param>
/// <param name="Met">Whether <paramref name="Ratio"/> is within <paramref name="Bound"/>.</param>
/// <param name="Figures">The figures the ratio comes from, e.g. <c>612.0 / 401.3 MiB/s</c>.</param>
public sealed record TargetCheck(string Name, double Ratio, string Bound, bool Met, string Figures)
{
    /// <summary><c>met</c> or <c>NOT met</c>.</summary>
    public string Verdict => Met ? "met" : "NOT met";
}
