using System.Text.Json;

namespace TensorProtocol.Cli.Tests;

/// <summary><c>tensorp bench</c> end to end: the real executable, its client and server children, the JSON it writes.</summary>
public sealed class CliBenchTests
{
    private static readonly string[] Transports = ["tensorp-push", "grpc-tls", "grpc-h2c"];

    [Fact]
    public async Task Bench_QuickOneMebibyte_JsonHasPositiveRowsForTensorpAndBothGrpc()
    {
        using var dir = new TestDirectory();
        string json = dir.File("bench.json");
        // One small size keeps the three targets (six child processes) within a few seconds each on two cores.
        string[] args = ["bench", "--quick", "--size", "1MiB", "--json", json, .. Transports.SelectMany(t => new[] { "--transport", t })];

        using CliProcess bench = CliProcess.Start(dir, args);
        await bench.WaitForExitAsync(TimeSpan.FromMinutes(2));

        Assert.True(bench.ExitCode == 0, $"exit {bench.ExitCode}\n{bench.Stdout}\n{string.Join('\n', bench.StderrLines)}");
        using JsonDocument document = JsonDocument.Parse(File.ReadAllBytes(json));
        Dictionary<string, JsonElement> rows = document.RootElement.GetProperty("results").EnumerateArray()
            .ToDictionary(r => r.GetProperty("transport").GetString()!, StringComparer.Ordinal);
        Assert.Equal(Transports.Order(), rows.Keys.Order());
        foreach ((string transport, JsonElement row) in rows)
        {
            foreach (string field in new[] { "mib_s", "rtt_4k_p50_us", "rtt_4k_p99_us", "cold_ms", "cpu_s_per_gib", "peak_rss_mib" })
            {
                Assert.True(row.GetProperty(field).GetDouble() > 0, $"{transport}.{field} = {row.GetProperty(field)}");
            }
            JsonElement bulk = Assert.Single(row.GetProperty("bulk").EnumerateArray());
            Assert.Equal(1L << 20, bulk.GetProperty("bytes").GetInt64());
            Assert.True(bulk.GetProperty("mib_s").GetDouble() > 0, $"{transport}.bulk.mib_s = {bulk.GetProperty("mib_s")}");
        }

        // Both of the issue's gRPC targets were evaluated and printed with a verdict.
        Assert.Contains("target 1MiB push MiB/s, tensorp-push / grpc-tls", bench.Stdout, StringComparison.Ordinal);
        Assert.Contains("target 4KiB push p50, tensorp-push / grpc-tls unary", bench.Stdout, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Bench_TwoRounds_ReportsMediansAndEveryRound()
    {
        using var dir = new TestDirectory();
        string json = dir.File("bench.json");
        string[] args = ["bench", "--quick", "--size", "1MiB", "--rounds", "2", "--json", json, "--transport", "tcp", "--transport", "tensorp-push"];

        using CliProcess bench = CliProcess.Start(dir, args);
        await bench.WaitForExitAsync(TimeSpan.FromMinutes(2));

        Assert.True(bench.ExitCode == 0, $"exit {bench.ExitCode}\n{bench.Stdout}\n{string.Join('\n', bench.StderrLines)}");
        using JsonDocument document = JsonDocument.Parse(File.ReadAllBytes(json));
        JsonElement[] rounds = [.. document.RootElement.GetProperty("rounds").EnumerateArray()];
        Assert.Equal(2, rounds.Length);
        foreach (string transport in new[] { "tcp", "tensorp-push" })
        {
            double[] p50s = [.. rounds.Select(r => r.GetProperty("results").EnumerateArray().Single(x => x.GetProperty("transport").GetString() == transport).GetProperty("rtt_4k_p50_us").GetDouble())];
            double median = document.RootElement.GetProperty("results").EnumerateArray()
                .Single(x => x.GetProperty("transport").GetString() == transport).GetProperty("rtt_4k_p50_us").GetDouble();
            // Two rounds: the median is their mean (to the JSON's 0.1 us rounding).
            Assert.InRange(median, p50s.Average() - 0.11, p50s.Average() + 0.11);
        }
        Assert.Contains("median of 2 interleaved rounds", bench.Stdout, StringComparison.Ordinal);
        Assert.Contains("target 4KiB push p50, tensorp-push / tcp rtt", bench.Stdout, StringComparison.Ordinal);
        Assert.Contains("median of 2 rounds:", bench.Stdout, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Bench_QuicRows_MoveBulkThroughTheZeroCopyApiAndStillEcho()
    {
        using var dir = new TestDirectory();
        string json = dir.File("bench.json");
        // The QUIC rows send bulk through QuicStream's zero-copy writes (several in flight, all pinning one chunk) and
        // sink it with filling reads, while the echo keeps the Stream adapter: the server acknowledges the byte count
        // it read (a wrong count fails the run) and every field must come out positive.
        string[] args = ["bench", "--quick", "--size", "4MiB", "--json", json, "--transport", "quic", "--transport", "quic-large-datagram"];

        using CliProcess bench = CliProcess.Start(dir, args);
        await bench.WaitForExitAsync(TimeSpan.FromMinutes(2));

        Assert.True(bench.ExitCode == 0, $"exit {bench.ExitCode}\n{bench.Stdout}\n{string.Join('\n', bench.StderrLines)}");
        using JsonDocument document = JsonDocument.Parse(File.ReadAllBytes(json));
        JsonElement[] rows = [.. document.RootElement.GetProperty("results").EnumerateArray()];
        Assert.Equal(["quic", "quic-large-datagram"], rows.Select(r => r.GetProperty("transport").GetString()!).Order());
        foreach (JsonElement row in rows)
        {
            string transport = row.GetProperty("transport").GetString()!;
            foreach (string field in new[] { "mib_s", "rtt_4k_p50_us", "cold_ms", "cpu_s_per_gib" })
            {
                Assert.True(row.GetProperty(field).GetDouble() > 0, $"{transport}.{field} = {row.GetProperty(field)}");
            }
            JsonElement bulk = Assert.Single(row.GetProperty("bulk").EnumerateArray());
            Assert.Equal(4L << 20, bulk.GetProperty("bytes").GetInt64());
        }
    }
}
