using System.Text.RegularExpressions;

namespace TensorProtocol.Cli.Tests;

/// <summary><c>tensorp demo</c>, the README's main command, run as the real executable with a small shard.</summary>
public sealed partial class DemoCommandTests
{
    private static readonly string[] s_pushed =
    [
        "tok_embeddings.weight", "layers.0.attn.wqkv", "layers.0.mlp.w1", "layers.0.norm.weight", "optimizer.loss_scale",
        "batch.input_ids", "batch.attention_mask", "batch.pixels", "features.stft", "checkpoint.shard",
    ];

    [Fact]
    public async Task Demo_SmallShard_EveryTensorArrivesWithMatchingChecksumAndExits0()
    {
        using var dir = new TestDirectory();
        using CliProcess demo = await CliProcess.RunAsync(dir, CliProcess.ColourfulEnvironment, TimeSpan.FromSeconds(90),
            "demo", "--mib", "8", "--samples", "100");

        Assert.True(demo.ExitCode == 0, demo.AllOutput);
        Assert.Empty(demo.StderrLines);
        Assert.DoesNotContain('\u001b', demo.Stdout);
        Match[] rows = [.. demo.StdoutLines.Select(l => ArrivalRow().Match(l)).Where(m => m.Success)];
        Assert.Equal(
            [.. s_pushed.Select(n => ("push", n, "alice")), ("pull", "checkpoint.shard", "bob")],
            rows.Select(m => (m.Groups["via"].Value, m.Groups["name"].Value, m.Groups["from"].Value)));
        Assert.All(rows, m => Assert.Equal("match", m.Groups["check"].Value));
        Match shard = rows[^1];
        Assert.Equal(("F32", "[2048,1024]", "8.0 MiB"), (shard.Groups["dtype"].Value, shard.Groups["shape"].Value, shard.Groups["size"].Value));
        // The pulled copy of the shard has the checksum of the pushed one.
        Assert.Equal(rows[^2].Groups["sha"].Value, shard.Groups["sha"].Value);
        Assert.Contains(demo.StdoutLines, l => Throughput().IsMatch(l) && l.StartsWith("push 8.0 MiB", StringComparison.Ordinal));
        Assert.Contains(demo.StdoutLines, l => Throughput().IsMatch(l) && l.StartsWith("pull 8.0 MiB", StringComparison.Ordinal));
        Assert.Contains(demo.StdoutLines, l => Latency().IsMatch(l) && l.StartsWith("4 KiB push ×100", StringComparison.Ordinal));
        Assert.Contains(demo.StdoutLines, l => Latency().IsMatch(l) && l.StartsWith("4 KiB pull ×100", StringComparison.Ordinal));
        Assert.Equal("all 11 tensors and 220 probes arrived intact (dtype, shape, sha256 and sender match)", demo.StdoutLines[^1]);
    }

    [Fact]
    public async Task Demo_ShardTooLarge_Exit2WithOneLine()
    {
        using var dir = new TestDirectory();
        using CliProcess demo = await CliProcess.RunAsync(dir, "demo", "--mib", "4096");
        Assert.Equal(2, demo.ExitCode);
        string line = Assert.Single(demo.StderrLines);
        Assert.StartsWith("tensorp: error: --mib must be within 1..2047.", line, StringComparison.Ordinal);
    }

    [GeneratedRegex(@"^(?<via>push|pull)\s+(?<name>\S+)\s+(?<dtype>[A-Z0-9_]+)\s+(?<shape>\[[0-9,]*\])\s+(?<size>[0-9.]+ (?:B|KiB|MiB|GiB))\s+(?<from>alice|bob)\s+(?<sha>[0-9a-f]{12})\s+(?<check>match|MISMATCH)$")]
    private static partial Regex ArrivalRow();

    [GeneratedRegex(@": [0-9.]+ m?s, [0-9.]+ (?:B|KiB|MiB|GiB)/s$")]
    private static partial Regex Throughput();

    [GeneratedRegex(@": p50 [0-9]+ µs, p99 [0-9]+ µs$")]
    private static partial Regex Latency();
}
