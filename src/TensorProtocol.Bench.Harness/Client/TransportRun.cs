using TensorProtocol.Bench.Measurements;
using TensorProtocol.Bench.Transports;

namespace TensorProtocol.Bench.Client;

/// <summary>All measurements for one transport, against a server process of its own.</summary>
internal static class TransportRun
{
    private const double Mib = 1 << 20;

    public static async Task<TransportResult> RunAsync(
        IBenchTransport transport, RunSettings settings, string label, CancellationToken cancellationToken)
    {
        await using ServerProcess server = await ServerProcess.StartAsync(transport.Name, settings, cancellationToken);
        ChildLog.Progress(label, $"server at {server.EndpointInfo}");

        // Round trips before bulk, as for every target (see TensorRun).
        ChildLog.Progress(label, $"4 KiB round trips x{settings.RttIterations}");
        RoundTripLatency.Result rtt = await RoundTripLatency.MeasureAsync(
            transport, server.EndpointInfo, settings.RttWarmup, settings.RttIterations, cancellationToken);

        IReadOnlyList<BulkResult> bulk = await BulkThroughput.MeasureAsync(transport, server, settings, label, cancellationToken);

        ChildLog.Progress(label, $"cold connects x{settings.ColdIterations}");
        double coldMs = await ColdConnect.MeasureMedianMillisecondsAsync(
            transport, server.EndpointInfo, settings.ColdWarmup, settings.ColdIterations, cancellationToken);

        // Read while the server is still alive; VmHWM covers every phase above, in both processes.
        return new TransportResult(
            transport.Name, bulk, rtt.P50Microseconds, rtt.P99Microseconds, coldMs,
            ClientPeakRssMib: ProcessStats.PeakRssBytes(Environment.ProcessId) / Mib,
            ServerPeakRssMib: server.PeakRssBytes / Mib);
    }
}
