using System.Globalization;
using TensorProtocol.Bench.Measurements;

namespace TensorProtocol.Bench;

/// <summary>One of the issues' targets, evaluated on the rows of one run (or the median over several rounds).</summary>
/// <param name="Name">What is compared, e.g. <c>1GiB push MiB/s: tensorp-push / grpc-tls</c>.</param>
/// <param name="Ratio">The measured ratio (or, for an absolute target, the measured value).</param>
/// <param name="Limit">The bound <paramref name="Ratio"/> is held to.</param>
/// <param name="AtLeast">Whether <paramref name="Ratio"/> must be at least <paramref name="Limit"/> (else at most).</param>
/// <param name="Unit">The bound's unit as printed: <c>x</c> for a ratio, <c> ms</c> for a time.</param>
/// <param name="Figures">The figures the ratio comes from, e.g. <c>612.0 / 401.3 MiB/s</c>.</param>
public sealed record TargetCheck(string Name, double Ratio, double Limit, bool AtLeast, string Unit, string Figures)
{
    /// <summary>The target as printed, e.g. <c>&gt;= 2x</c>.</summary>
    public string Bound => string.Create(CultureInfo.InvariantCulture, $"{(AtLeast ? ">=" : "<=")} {Limit:0.###}{Unit}");

    /// <summary>Whether <see cref="Ratio"/> is within <see cref="Bound"/>.</summary>
    public bool Met => AtLeast ? Ratio >= Limit : Ratio <= Limit;

    /// <summary><c>met</c> or <c>NOT met</c>.</summary>
    public string Verdict => Met ? "met" : "NOT met";

    /// <summary>
    /// The same target over several rounds: the median of the rounds' values, judged against the bound; the figures
    /// list every round's value. Each round's value is a ratio within that round (its rows ran back to back), so
    /// drift between rounds cancels; the median keeps one noisy round from deciding the verdict either way.
    /// <paramref name="roundCount"/> is how many rounds ran, when some could not evaluate the target.
    /// </summary>
    public static TargetCheck Median(IReadOnlyList<TargetCheck> rounds, int roundCount)
    {
        ArgumentOutOfRangeException.ThrowIfZero(rounds.Count);
        string values = string.Join(" ", rounds.Select(r => r.Ratio.ToString("0.00", CultureInfo.InvariantCulture)));
        string of = rounds.Count == roundCount ? $"{roundCount} rounds" : $"the {rounds.Count} of {roundCount} rounds that measured it";
        return rounds[0] with
        {
            Ratio = Statistics.Median(rounds.Select(r => r.Ratio)),
            Figures = $"median of {of}: {values}",
        };
    }
}
