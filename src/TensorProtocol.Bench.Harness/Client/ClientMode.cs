using System.Text.Json;
using TensorProtocol.Bench.Targets;

namespace TensorProtocol.Bench.Client;

/// <summary>
/// The client child process: measures one transport (starting its server) and prints the result as a
/// <c>result: &lt;json&gt;</c> line on stdout. A process per transport keeps one transport's memory, loaded
/// libraries and warmed-up code out of the next one's figures. End-of-file on stdin cancels the run.
/// </summary>
internal static class ClientMode
{
    public const string ResultPrefix = "result: ";

    public static async Task<int> RunAsync(IBenchTarget target, RunSettings settings)
    {
        string label = $"[{target.Name} client]";
        // Not disposed: the parent channel may cancel it at any time until this process exits.
        var cancel = new CancellationTokenSource(settings.TransportDeadline);
        _ = ParentChannel.ListenAsync(line => Console.Error.WriteLine($"{label} unknown request '{line}'"))
            .ContinueWith(_ => cancel.Cancel(), TaskScheduler.Default);
        try
        {
            TransportResult result = await target.MeasureAsync(settings, label, cancel.Token);
            Console.Out.WriteLine(ResultPrefix + JsonSerializer.Serialize(result));
            return 0;
        }
        catch (OperationCanceledException) when (cancel.IsCancellationRequested)
        {
            await Console.Error.WriteLineAsync($"{label} cancelled (deadline of {settings.TransportDeadline.TotalSeconds:0} s, or the parent stopped)");
            return 1;
        }
        catch (Exception e)
        {
            await Console.Error.WriteLineAsync($"{label} failed: {e}");
            return 1;
        }
    }
}
