using System.CommandLine;
using TensorProtocol.Bench;

namespace TensorProtocol.Cli.Commands;

/// <summary>
/// <c>tensorp bench</c>: the loopback benchmark of TensorProtocol against raw TCP, TLS over TCP, QUIC and gRPC
/// (the harness library the bench project also runs), as a table with ratios and the issue's targets.
/// </summary>
internal static class BenchCommand
{
    /// <summary>How the harness re-executes tensorp for its child processes: <c>tensorp bench --child ...</c>.</summary>
    private static readonly string[] SelfArguments = ["bench"];

    public static Command Create(CommonOptions common)
    {
        var json = new Option<FileInfo>(BenchArguments.Json)
        {
            Description = "Also write the results to FILE as JSON, in the shape scripts/bench writes.",
            HelpName = "FILE",
        };
        var quick = new Option<bool>(BenchArguments.Quick)
        {
            Description = "Smaller runs: 64 MiB and 256 MiB pushes, fewer round trips and cold connects (about a minute).",
        };
        var transports = new Option<string[]>(BenchArguments.Transport)
        {
            Description = $"Measure only this target (repeat for several). Default: all of {string.Join(", ", BenchHarness.TargetNames)}.",
            HelpName = "NAME",
            Arity = ArgumentArity.OneOrMore,
        };
        transports.AcceptOnlyFromAmong([.. BenchHarness.TargetNames]);
        var sizes = new Option<string[]>(BenchArguments.Size)
        {
            Description = "Push this many bytes (4096, 64KiB, 1GiB; at most 1GiB); repeat for several. Default: 1MiB, 64MiB and 1GiB (with --quick: 64MiB and 256MiB).",
            HelpName = "SIZE",
            Arity = ArgumentArity.OneOrMore,
            Validators =
            {
                r =>
                {
                    foreach (string size in r.GetValueOrDefault<string[]>() ?? [])
                    {
                        if (!BenchSizes.TryParse(size, out _))
                        {
                            r.AddError($"--size '{size}' is not a byte count such as 4096, 64KiB or 1GiB (at most 1GiB).");
                        }
                    }
                },
            },
        };
        var rounds = new Option<int>(BenchArguments.Rounds)
        {
            Description = "Measure every target this many times, interleaved, and report medians and each target's median ratio (default 1).",
            HelpName = "N",
            DefaultValueFactory = _ => 1,
            Validators = { r => { if (r.GetValueOrDefault<int>() is < 1 or > 100) { r.AddError("--rounds must be within 1..100."); } } },
        };
        // The harness's own child processes: not for people.
        var child = new Option<string>(BenchArguments.Child) { Hidden = true };
        var port = new Option<int>(BenchArguments.Port) { Hidden = true };

        var command = new Command("bench", "Benchmark pushes over loopback (1 GiB, 64 MiB, 4 KiB latency, cold first send) against TCP, TLS, QUIC and gRPC, in separate processes.")
        {
            json, quick, transports, sizes, rounds, child, port,
        };
        command.SetAction((parse, cancellationToken) => common.RunAsync(parse, "bench", async _ =>
        {
            var options = new BenchOptions
            {
                Quick = parse.GetValue(quick),
                Rounds = parse.GetValue(rounds),
                Transports = parse.GetValue(transports) ?? [],
                Sizes = [.. (parse.GetValue(sizes) ?? []).Select(s => BenchSizes.TryParse(s, out long bytes) ? bytes : 0)],
                SelfArguments = SelfArguments,
            };
            if (parse.GetValue(child) is { } role)
            {
                return await BenchHarness.RunChildAsync(options, role, options.Transports.Single(), parse.GetValue(port)).ConfigureAwait(false);
            }

            BenchReport report = await BenchHarness.RunAsync(options, cancellationToken).ConfigureAwait(false);
            BenchTable.Write(report);
            if (parse.GetValue(json) is { } file)
            {
                report.WriteJson(file.FullName);
                Output.Line($"results written to {file.FullName}");
            }
            return report.FailedTransports.Count == 0
                ? ExitCodes.Ok
                : throw new CliException($"bench: {string.Join(", ", report.FailedTransports)} failed (see the messages above).");
        }));
        return command;
    }
}
