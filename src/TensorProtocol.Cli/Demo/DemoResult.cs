using System.Net;

namespace TensorProtocol.Cli.Demo;

/// <summary>The bytes of one timed transfer and how long it took (until acknowledged, or fully received).</summary>
internal sealed record TransferTime(long Bytes, TimeSpan Elapsed);

/// <summary>
/// Times of small acknowledged transfers (nearest-rank percentiles of the measured ones), and how many of all the
/// probes, warm-up included, arrived intact.
/// </summary>
internal sealed record LatencySummary(int Samples, int Probes, int Intact, TimeSpan P50, TimeSpan P99)
{
    public static LatencySummary From(List<TimeSpan> samples, int probes, int intact)
    {
        samples.Sort();
        return new LatencySummary(samples.Count, probes, intact, Percentile(samples, 0.50), Percentile(samples, 0.99));
    }

    private static TimeSpan Percentile(List<TimeSpan> sorted, double p) =>
        sorted.Count == 0 ? TimeSpan.Zero : sorted[Math.Clamp((int)Math.Ceiling(p * sorted.Count) - 1, 0, sorted.Count - 1)];
}

/// <summary>Everything the demo measured and received.</summary>
internal sealed record DemoResult(
    NodeId Alice,
    NodeId Bob,
    IPEndPoint BobEndPoint,
    IReadOnlyList<Arrival> Arrivals,
    TransferTime Push,
    TransferTime Pull,
    LatencySummary PushLatency,
    LatencySummary PullLatency)
{
    public IEnumerable<Arrival> Mismatches => Arrivals.Where(a => !a.Matched);

    public bool AllIntact =>
        Arrivals.All(a => a.Matched)
        && PushLatency.Intact == PushLatency.Probes
        && PullLatency.Intact == PullLatency.Probes;
}
