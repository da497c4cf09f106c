using System.Globalization;
using TensorProtocol.Bench.Client;
using TensorProtocol.Bench.Targets;

namespace TensorProtocol.Bench;

/// <summary>
/// Loopback benchmark of the registered transports and of the tensor node's push and pull, in three kinds of
/// process, all this executable: the driver (no mode) runs a <c>client</c> child per target, and each client runs
/// the <c>server</c> child it measures against.
/// </summary>
internal static class Program
{
    private const int UsageError = 2;

    private static string Usage =>
        $"""
        usage: TensorProtocol.Bench [--quick] [--json FILE] [--transport NAME]...

          --quick           smaller runs (256 MiB bulk, fewer round trips and connects)
          --json FILE       also write the results to FILE as JSON
          --transport NAME  measure only NAME; repeatable; default: all of {string.Join(", ", TargetRegistry.All.Select(t => t.Name))}

        internal modes, started by the benchmark itself:
          TensorProtocol.Bench client --transport NAME [--quick]
          TensorProtocol.Bench server --transport NAME [--port N] [--quick]
        """;

    public static async Task<int> Main(string[] args)
    {
        try
        {
            return args switch
            {
                ["server", .. var rest] => await RunServerAsync(rest),
                ["client", .. var rest] => await RunClientAsync(rest),
                _ => await RunDriverAsync(args),
            };
        }
        catch (UsageException e)
        {
            await Console.Error.WriteLineAsync($"error: {e.Message}\n\n{Usage}");
            return UsageError;
        }
    }

    private static async Task<int> RunDriverAsync(string[] args)
    {
        bool quick = false;
        string? jsonPath = null;
        var targets = new List<IBenchTarget>();
        for (int i = 0; i < args.Length; i++)
        {
            switch (args[i])
            {
                case "--quick":
                    quick = true;
                    break;
                case "--json":
                    jsonPath = ValueOf(args, ref i);
                    break;
                case "--transport":
                    IBenchTarget target = FindTarget(ValueOf(args, ref i));
                    if (!targets.Contains(target))
                    {
                        targets.Add(target);
                    }
                    break;
                case "-h" or "--help":
                    Console.WriteLine(Usage);
                    return 0;
                default:
                    throw new UsageException($"unknown argument '{args[i]}'");
            }
        }
        return await Driver.RunAsync(targets.Count > 0 ? targets : TargetRegistry.All, quick, jsonPath);
    }

    private static async Task<int> RunClientAsync(string[] args)
    {
        IBenchTarget? target = null;
        bool quick = false;
        for (int i = 0; i < args.Length; i++)
        {
            switch (args[i])
            {
                case "--transport":
                    target = FindTarget(ValueOf(args, ref i));
                    break;
                case "--quick":
                    quick = true;
                    break;
                default:
                    throw new UsageException($"unknown client argument '{args[i]}'");
            }
        }
        return await ClientMode.RunAsync(
            target ?? throw new UsageException("client needs --transport"),
            quick ? RunSettings.Quick : RunSettings.Full);
    }

    private static async Task<int> RunServerAsync(string[] args)
    {
        IBenchTarget? target = null;
        int port = 0;
        bool quick = false;
        for (int i = 0; i < args.Length; i++)
        {
            switch (args[i])
            {
                case "--transport":
                    target = FindTarget(ValueOf(args, ref i));
                    break;
                case "--port":
                    string value = ValueOf(args, ref i);
                    if (!int.TryParse(value, NumberStyles.None, CultureInfo.InvariantCulture, out port) || port > ushort.MaxValue)
                    {
                        throw new UsageException($"bad port '{value}'");
                    }
                    break;
                case "--quick":
                    quick = true;
                    break;
                default:
                    throw new UsageException($"unknown server argument '{args[i]}'");
            }
        }
        return await (target ?? throw new UsageException("server needs --transport"))
            .RunServerAsync(port, quick ? RunSettings.Quick : RunSettings.Full);
    }

    private static string ValueOf(string[] args, ref int i) =>
        ++i < args.Length ? args[i] : throw new UsageException($"{args[i - 1]} needs a value");

    private static IBenchTarget FindTarget(string name) =>
        TargetRegistry.Find(name) ?? throw new UsageException($"unknown transport '{name}'");

    private sealed class UsageException(string message) : Exception(message);
}
