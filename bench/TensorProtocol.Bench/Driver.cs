using System.Text.Json;
using TensorProtocol.Bench.Client;
using TensorProtocol.Bench.Targets;

namespace TensorProtocol.Bench;

/// <summary>
/// The top-level run: one client child process per target (which starts its own server child), one after the
/// other so they never compete for the cores, then the report.
/// </summary>
internal static class Driver
{
    // Past the client's own deadline, so a client that is merely slow reports its own failure first.
    private static readonly TimeSpan Grace = TimeSpan.FromSeconds(30);

    public static async Task<int> RunAsync(IReadOnlyList<IBenchTarget> targets, bool quick, string? jsonPath)
    {
        RunSettings settings = quick ? RunSettings.Quick : RunSettings.Full;
        var results = new List<TransportResult>();
        bool failed = false;
        foreach (IBenchTarget target in targets)
        {
            string[] args = quick ? ["client", "--transport", target.Name, "--quick"] : ["client", "--transport", target.Name];
            await using ChildProcess client = ChildProcess.StartSelf($"[{target.Name} client]", args);
            try
            {
                string json = await client.ReadLineAsync(ClientMode.ResultPrefix, settings.TransportDeadline + Grace, CancellationToken.None);
                results.Add(JsonSerializer.Deserialize<TransportResult>(json)
                    ?? throw new InvalidDataException($"{client.Label} sent an empty result."));
            }
            catch (Exception e) when (e is TimeoutException or InvalidOperationException or InvalidDataException or JsonException)
            {
                await Console.Error.WriteLineAsync($"{target.Name}: FAILED: {e.Message}");
                failed = true;
            }
        }

        Report.Print(results, Console.Out);
        if (jsonPath is not null)
        {
            Report.WriteJson(results, jsonPath);
        }
        return failed ? 1 : 0;
    }
}
