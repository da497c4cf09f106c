using System.Globalization;
using TensorProtocol.Bench;

// The bench executable: argument parsing and the plain-text report around the harness library, which
// `tensorp bench` shares. The harness re-executes this program with hidden --child/--port options for its
// client and server child processes.

const int UsageError = 2;
string usage =
    $"""
    usage: TensorProtocol.Bench [--quick] [--json FILE] [--transport NAME]... [--size SIZE]... [--rounds N]

      --quick           smaller runs (64 MiB and 256 MiB pushes, fewer round trips and connects)
      --json FILE       also write the results to FILE as JSON
      --transport NAME  measure only NAME; repeatable; default: all of {string.Join(", ", BenchHarness.TargetNames)}
      --size SIZE       push this many bytes (4096, 64KiB, 1GiB; at most 1GiB); repeatable; default: 1MiB, 64MiB and 1GiB
      --rounds N        measure every transport N times, interleaved, and report medians (and each target's median
                        ratio); default 1
    """;

var options = new BenchOptions();
var transports = new List<string>();
var sizes = new List<long>();
string? jsonPath = null, childRole = null;
int port = 0;
try
{
    for (int i = 0; i < args.Length; i++)
    {
        switch (args[i])
        {
            case BenchArguments.Quick:
                options = options with { Quick = true };
                break;
            case BenchArguments.Json:
                jsonPath = ValueOf(args, ref i);
                break;
            case BenchArguments.Transport:
                string name = ValueOf(args, ref i);
                transports.Add(BenchHarness.IsTarget(name) ? name : throw new UsageException($"unknown transport '{name}'"));
                break;
            case BenchArguments.Size:
                string size = ValueOf(args, ref i);
                sizes.Add(BenchSizes.TryParse(size, out long bytes) ? bytes : throw new UsageException($"bad size '{size}'"));
                break;
            case BenchArguments.Rounds:
                string rounds = ValueOf(args, ref i);
                options = options with
                {
                    Rounds = int.TryParse(rounds, NumberStyles.None, CultureInfo.InvariantCulture, out int n) && n is >= 1 and <= 100
                        ? n
                        : throw new UsageException($"bad round count '{rounds}' (1..100)"),
                };
                break;
            case BenchArguments.Child:
                childRole = ValueOf(args, ref i);
                break;
            case BenchArguments.Port:
                string value = ValueOf(args, ref i);
                if (!int.TryParse(value, NumberStyles.None, CultureInfo.InvariantCulture, out port) || port > ushort.MaxValue)
                {
                    throw new UsageException($"bad port '{value}'");
                }
                break;
            case "-h" or "--help":
                Console.WriteLine(usage);
                return 0;
            default:
                throw new UsageException($"unknown argument '{args[i]}'");
        }
    }
}
catch (UsageException e)
{
    await Console.Error.WriteLineAsync($"error: {e.Message}\n\n{usage}");
    return UsageError;
}

options = options with { Transports = transports, Sizes = sizes };
if (childRole is not null)
{
    return await BenchHarness.RunChildAsync(options, childRole, transports.SingleOrDefault() ?? "", port);
}

BenchReport report = await BenchHarness.RunAsync(options);
report.WriteText(Console.Out);
if (jsonPath is not null)
{
    report.WriteJson(jsonPath);
}
return report.FailedTransports.Count == 0 ? 0 : 1;

static string ValueOf(string[] args, ref int i) =>
    ++i < args.Length ? args[i] : throw new UsageException($"{args[i - 1]} needs a value");

internal sealed class UsageException(string message) : Exception(message);
