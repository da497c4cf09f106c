using System.CommandLine;
using Spectre.Console;
using TensorProtocol.Cli.Demo;

namespace TensorProtocol.Cli.Commands;

/// <summary><c>tensorp demo</c>: two nodes in this process push and pull real tensors and report what arrived.</summary>
internal static class DemoCommand
{
    public static Command Create(CommonOptions common)
    {
        var mib = new Option<int>("--mib")
        {
            Description = "Size of the large shard pushed and pulled back, in MiB (1..2047); the throughput is measured on it.",
            DefaultValueFactory = _ => 256,
            HelpName = "N",
            Validators = { r => { if (r.GetValueOrDefault<int>() is < 1 or > 2047) { r.AddError("--mib must be within 1..2047."); } } },
        };
        var samples = new Option<int>("--samples")
        {
            Description = "How many 4 KiB pushes and pulls are timed for the latency percentiles (after a tenth as many warm-up rounds).",
            DefaultValueFactory = _ => 1000,
            HelpName = "N",
            Validators = { r => { if (r.GetValueOrDefault<int>() is < 10 or > 1_000_000) { r.AddError("--samples must be within 10..1000000."); } } },
        };
        var command = new Command("demo",
            "Run two nodes in this process on loopback: alice pushes a model-and-batch set of tensors (several dtypes and shapes) and a large shard " +
            "to bob and pulls the shard back; print what arrived (name, dtype, shape, size, sender, sha256), the throughput, and the 4 KiB latency " +
            "p50/p99. Exits 0 only when every tensor arrived with the same dtype, shape and checksum from the right sender; 1 when one did not.")
        {
            mib, samples,
        };
        command.SetAction((parse, cancellationToken) => common.RunAsync(parse, "demo", async loggers =>
        {
            int shardMib = parse.GetValue(mib);
            int latencySamples = parse.GetValue(samples);
            DemoResult result;
            if (Output.IsTerminal)
            {
                result = await AnsiConsole.Status().StartAsync("starting", context =>
                    new DemoRun(shardMib, latencySamples, loggers, text => context.Status(Markup.Escape(text))).RunAsync(cancellationToken)).ConfigureAwait(false);
            }
            else
            {
                // Redirected: no spinner; the report below is the output.
                result = await new DemoRun(shardMib, latencySamples, loggers, _ => { }).RunAsync(cancellationToken).ConfigureAwait(false);
            }
            DemoReport.Print(result);
            if (!result.AllIntact)
            {
                string[] bad = [.. result.Mismatches.Select(a => $"{a.Via} of '{a.Name}'")];
                int badProbes = result.PushLatency.Probes - result.PushLatency.Intact + result.PullLatency.Probes - result.PullLatency.Intact;
                throw new CliException(ExitCodes.Other,
                    $"demo: {bad.Length} of {result.Arrivals.Count} tensors ({string.Join(", ", bad)}) and {badProbes} 4 KiB probes did not arrive intact. " +
                    "This is a bug: please report it with the output of 'tensorp demo -vv'.");
            }
            return ExitCodes.Ok;
        }));
        return command;
    }
}
