using System.Text.Json;

namespace TensorProtocol.Bench;

/// <summary>
/// The results as JSON: <c>{"results": [{"transport": ..., "mib_s": ..., ..., "bulk": [...]}, ...]}</c>. The flat
/// fields are those of earlier versions, for the largest push; <c>bulk</c> adds one entry per push size. With several
/// rounds, <c>results</c> holds the medians and <c>rounds</c> each round's own <c>results</c>.
/// </summary>
internal static class JsonReport
{
    public static void Write(BenchReport report, string path)
    {
        using FileStream file = File.Create(path);
        using var json = new Utf8JsonWriter(file, new JsonWriterOptions { Indented = true });
        json.WriteStartObject();
        WriteRows(json, "results", report.Results);
        if (report.Rounds.Count > 1)
        {
            // "results" holds the medians; each round's own rows follow.
            json.WriteStartArray("rounds");
            foreach (IReadOnlyList<TransportResult> round in report.Rounds)
            {
                json.WriteStartObject();
                WriteRows(json, "results", round);
                json.WriteEndObject();
            }
            json.WriteEndArray();
        }
        json.WriteEndObject();
    }

    private static void WriteRows(Utf8JsonWriter json, string name, IReadOnlyList<TransportResult> results)
    {
        json.WriteStartArray(name);
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
            json.WriteStartArray("bulk");
            foreach (BulkResult b in r.Bulk)
            {
                json.WriteStartObject();
                json.WriteNumber("bytes", b.Bytes);
                json.WriteNumber("mib_s", Math.Round(b.MibPerSecond, 1));
                json.WriteNumber("cpu_s_per_gib", Math.Round(b.CpuSecondsPerGib, 3));
                json.WriteEndObject();
            }
            json.WriteEndArray();
            json.WriteEndObject();
        }
        json.WriteEndArray();
    }
}
