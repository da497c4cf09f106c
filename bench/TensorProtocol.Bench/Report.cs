using System.Globalization;
using System.Text.Json;

namespace TensorProtocol.Bench;

/// <summary>The results as a table and ratio line on stdout, and as JSON for machines.</summary>
internal static class Report
{
    /// <summary>Every other transport is compared with this one: QUIC's job is to beat TLS over TCP.</summary>
    public const string Baseline = "tls-tcp";

    private static readonly CultureInfo Invariant = CultureInfo.InvariantCulture;

    public static void Print(IReadOnlyList<TransportResult> results, TextWriter output)
    {
        output.WriteLine(string.Create(Invariant, $"{"transport",-12}{"MiB/s",10}{"rtt p50 us",12}{"rtt p99 us",12}{"cold ms",10}{"cpu s/GiB",11}{"peak RSS MiB",14}"));
        foreach (TransportResult r in results)
        {
            output.WriteLine(string.Create(Invariant,
                $"{r.Transport,-12}{r.MibPerSecond,10:0.0}{r.RttP50Microseconds,12:0.0}{r.RttP99Microseconds,12:0.0}{r.ColdMilliseconds,10:0.000}{r.CpuSecondsPerGib,11:0.000}{r.PeakRssMib,14:0.0}"));
        }

        output.WriteLine();
        foreach (TransportResult r in results)
        {
            output.WriteLine(string.Create(Invariant, $"peak RSS {r.Transport}: server (receiver) {r.ServerPeakRssMib:0.0} MiB, client {r.ClientPeakRssMib:0.0} MiB"));
        }

        PrintBaselineRatios(results, output);
        PrintTensorTargets(results, output);
    }

    private static void PrintBaselineRatios(IReadOnlyList<TransportResult> results, TextWriter output)
    {
        TransportResult? baseline = Find(results, Baseline);
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

    /// <summary>The tensor node's targets (issue 3), each printed when the rows it needs ran in this invocation.</summary>
    private static void PrintTensorTargets(IReadOnlyList<TransportResult> results, TextWriter output)
    {
        if (Find(results, "tensorp-push") is not { } push)
        {
            return;
        }
        if (Find(results, "tcp") is { } tcp)
        {
            double ratio = push.RttP50Microseconds / tcp.RttP50Microseconds;
            output.WriteLine(string.Create(Invariant,
                $"target tensorp-push 4 KiB p50 / tcp rtt p50: {ratio:0.00}x (target <= 2.5x: {Verdict(ratio <= 2.5)})"));
        }
        output.WriteLine(string.Create(Invariant,
            $"target tensorp-push cold first send: {push.ColdMilliseconds:0.000} ms (target <= 3 ms: {Verdict(push.ColdMilliseconds <= 3)})"));
        if (Find(results, "quic") is { } quic)
        {
            double ratio = push.MibPerSecond / quic.MibPerSecond;
            output.WriteLine(string.Create(Invariant,
                $"target tensorp-push MiB/s / quic MiB/s: {ratio:0.00}x (target >= 0.9x: {Verdict(ratio >= 0.9)})"));
        }
    }

    private static string Verdict(bool met) => met ? "met" : "NOT met";

    private static TransportResult? Find(IReadOnlyList<TransportResult> results, string transport) =>
        results.FirstOrDefault(r => r.Transport == transport);

    /// <summary>Writes <c>{"results": [{"transport": ..., "mib_s": ..., ...}, ...]}</c>.</summary>
    public static void WriteJson(IReadOnlyList<TransportResult> results, string path)
    {
        using FileStream file = File.Create(path);
        using var json = new Utf8JsonWriter(file, new JsonWriterOptions { Indented = true });
        json.WriteStartObject();
        json.WriteStartArray("results");
        foreach (TransportResult r in results)
        {
            json.WriteStartObject();
            json.WriteString("transport", r.Transport);
            json.WriteNumber("mib_s", Math.Round(r.MibPerSecond, 1));
            json.WriteNumber("rtt_4k_p50_us", Math.Round(r.RttP50Microseconds, 1));
            json.WriteNumber("rtt_4k_p99_us", Math.Round(r.RttP99Microseconds, 1));
            json.WriteNumber("cold_ms", Math.Round(r.ColdMilliseconds, 3));
            json.WriteNumber("cpu_s_per_gib", Math.Round(r.CpuSecondsPerGib, 3));
            json.WriteNumber("peak_rss_mib", Math.Round(r.PeakRssMib, 1));
            json.WriteEndObject();
        }
        json.WriteEndArray();
        json.WriteEndObject();
    }
}
