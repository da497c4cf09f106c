using System.Text.Json;
using TensorProtocol.Bench.Client;
using TensorProtocol.Bench.Targets;

namespace TensorProtocol.Bench;

/// <summary>
/// The top-level run: one client child process per target (which starts its own server child), one after the
/// other so they never compete for the cores; all of them again for each further round.
/// </summary>
internal static class Driver
{
    // Past the client's own deadline, so a client that is merely slow reports its own failure first.
    private static readonly TimeSpan Grace = TimeSpan.FromSeconds(30);

    public static async Task<BenchReport> RunAsync(IReadOnlyList<IBenchTarget> targets, RunSettings settings, int rounds, CancellationToken cancellationToken)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(rounds, 1);
        var all = new List<IReadOnlyList<TransportResult>>();
        var failed = new List<string>();
        for (int round = 1; round <= rounds; round++)
        {
            // Rounds interleave the targets (every target once per round), so drift over the run hits all of them alike.
            if (rounds > 1)
            {
                await Console.Error.WriteLineAsync($"round {round} of {rounds}");
            }
            var results = new List<TransportResult>();
            foreach (IBenchTarget target in targets)
            {
                string[] args = [BenchArguments.Child, BenchArguments.ClientRole, BenchArguments.Transport, target.Name, .. settings.ToArguments()];
                await using ChildProcess client = ChildProcess.StartSelf($"[{target.Name} client]", args);
                try
                {
                    string json = await client.ReadLineAsync(ClientMode.ResultPrefix, settings.TransportDeadline + Grace, cancellationToken);
                    results.Add(JsonSerializer.Deserialize<TransportResult>(json)
                        ?? throw new InvalidDataException($"{client.Label} sent an empty result."));
                }
                catch (Exception e) when (e is TimeoutException or InvalidOperationException or InvalidDataException or JsonException)
                {
                    await Console.Error.WriteLineAsync($"{target.Name}: FAILED: {e.Message}");
                    if (!failed.Contains(target.Name))
                    {
                        failed.Add(target.Name);
                    }
                }
            }
            all.Add(results);
        }
        return new BenchReport(all, failed);
    }
}
