using System.Text.Json;
using TensorProtocol.Bench.Client;
using TensorProtocol.Bench.Targets;

namespace TensorProtocol.Bench;

/// <summary>
/// The top-level run: one client child process per target (which starts its own server child), one after the
/// other so they never compete for the cores.
/// </summary>
internal static class Driver
{
    // Past the client's own deadline, so a client that is merely slow reports its own failure first.
    private static readonly TimeSpan Grace = TimeSpan.FromSeconds(30);

    public static async Task<BenchReport> RunAsync(IReadOnlyList<IBenchTarget> targets, RunSettings settings, CancellationToken cancellationToken)
    {
        var results = new List<TransportResult>();
        var failed = new List<string>();
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
                failed.Add(target.Name);
            }
        }
        return new BenchReport(results, failed);
    }
}
