using System.Globalization;

namespace TensorProtocol.Bench;

/// <summary>The results as plain-text tables and ratio lines: the bench executable's (and <c>scripts/bench</c>'s) report.</summary>
internal static class TextReport
{
    /// <summary>Every other transport is compared with this one: QUIC's job is to beat TLS over TCP.</summary>
    public const string Baseline = "tls-tcp";

    private static readonly CultureInfo Invariant = CultureInfo.InvariantCulture;

    public static void Print(BenchReport report, TextWriter output)
    {
        IReadOnlyList<TransportResult> results = report.Results;
        if (report.Rounds.Count > 1)
        {
            output.WriteLine($"medians of {report.Rounds.Count} rounds (each target measured once per round, interleaved); the ratio lines are");
            output.WriteLine("ratios of those medians, each target line the median of its ratio within each round");
        }
        output.WriteLine(string.Create(Invariant, $"{"transport",-20}{"MiB/s",10}{"rtt p50 us",12}{"rtt p99 us",12}{"cold ms",10}{"cpu s/GiB",11}{"peak RSS MiB",14}"));
        foreach (TransportResult r in results)
        {
            output.WriteLine(string.Create(Invariant,
                $"{r.Transport,-20}{r.MibPerSecond,10:0.0}{r.RttP50Microseconds,12:0.0}{r.RttP99Microseconds,12:0.0}{r.ColdMilliseconds,10:0.000}{r.CpuSecondsPerGib,11:0.000}{r.PeakRssMib,14:0.0}"));
        }

        // MiB/s and CPU of every push size (the table above shows the largest).
        output.WriteLine();
        output.WriteLine(string.Create(Invariant, $"{"transport",-20}{"size",8}{"MiB/s",10}{"cpu s/GiB",11}"));
        foreach (TransportResult r in results)
        {
            foreach (BulkResult b in r.Bulk)
            {
                output.WriteLine(string.Create(Invariant, $"{r.Transport,-20}{BenchSizes.Format(b.Bytes),8}{b.MibPerSecond,10:0.0}{b.CpuSecondsPerGib,11:0.000}"));
            }
        }

        output.WriteLine();
        foreach (TransportResult r in results)
        {
            output.WriteLine(string.Create(Invariant, $"peak RSS {r.Transport}: server (receiver) {r.ServerPeakRssMib:0.0} MiB, client {r.ClientPeakRssMib:0.0} MiB"));
        }

        PrintBaselineRatios(results, output);
        foreach (TargetCheck check in report.Targets)
        {
            output.WriteLine(string.Create(Invariant, $"target {check.Name}: {check.Ratio:0.00} ({check.Figures}; target {check.Bound}: {check.Verdict})"));
        }
        foreach (string failed in report.FailedTransports)
        {
            output.WriteLine($"FAILED: {failed}");
        }
    }

    private static void PrintBaselineRatios(IReadOnlyList<TransportResult> results, TextWriter output)
    {
        TransportResult? baseline = BenchTargets.Find(results, Baseline);
        List<TransportResult> others = results.Where(r => r.Transport != Baseline).ToList();
        if (baseline is null || others.Count == 0)
        {
            output.WriteLine($"ratios: need {Baseline} and at least one other transport");
            return;
        }
        foreach (TransportResult r in others)
        {
            output.WriteLine(string.Create(Invariant,
                $"ratio {r.Transport}/{Baseline}: MiB/s {r.MibPerSecond / baseline.MibPerSecond:0.00}x, " +
                $"rtt p50 {r.RttP50Microseconds / baseline.RttP50Microseconds:0.00}x, " +
                $"rtt p99 {r.RttP99Microseconds / baseline.RttP99Microseconds:0.00}x, " +
                $"cold {r.ColdMilliseconds / baseline.ColdMilliseconds:0.00}x, " +
                $"cpu/GiB {r.CpuSecondsPerGib / baseline.CpuSecondsPerGib:0.00}x, " +
                $"peak RSS {r.PeakRssMib / baseline.PeakRssMib:0.00}x"));
        }
    }
}
