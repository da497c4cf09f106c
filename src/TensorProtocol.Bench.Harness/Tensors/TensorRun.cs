using System.Net;
using TensorProtocol.Bench.Client;
using TensorProtocol.Bench.Measurements;

namespace TensorProtocol.Bench.Tensors;

/// <summary>
/// All measurements of a tensor target, by a client node against a server process of its own, through the same
/// measurement loops and process statistics as the stream transports:
/// <list type="bullet">
/// <item>MiB/s and CPU: one bulk tensor per size pushed (timed until <see cref="TensorNode.SendAsync(NodeTicket, string, TensorData, CancellationToken)"/>
/// completes, i.e. the tensor is in the server's queue) or pulled, on the already pooled connection.</item>
/// <item>rtt: a 4 KiB tensor pushed (acknowledged) or pulled over the pooled connection.</item>
/// <item>cold: a freshly started client node (new identity, new socket, so a full handshake) pushes or pulls its
/// first 4 KiB tensor; the node's start is timed too, like a stream transport's client endpoint.</item>
/// </list>
/// </summary>
internal static class TensorRun
{
    private const double Mib = 1 << 20;

    public static async Task<TransportResult> RunAsync(
        string name, TensorOperation operation, RunSettings settings, string label, CancellationToken cancellationToken)
    {
        await using ServerProcess server = await ServerProcess.StartAsync(name, settings, cancellationToken);
        NodeTicket ticket = NodeTicket.Parse(server.EndpointInfo);
        ChildLog.Progress(label, $"server node {ticket.NodeId}");

        IReadOnlyList<BulkResult> bulk;
        RoundTripLatency.Result rtt;
        TensorData small = BenchTensors.Random(Protocol.EchoMessageSize);
        await using (TensorNode node = await TensorNode.StartAsync(ClientOptions(), cancellationToken))
        {
            // The round trips come first, on the pooled connection the first small transfer dials. Right after the bulk
            // transfers, which allocate, fill and free gigabytes in both processes (the stream transports reuse one 1 MiB
            // buffer), 4 KiB pushes measured 85-105 µs p50 against ~60 µs before them (docs/benchmarks.md, 2026-11-27,
            // session 4); every target now measures its round trips before its bulk transfers.
            await TransferAsync(node, ticket, operation, BenchTensors.Small, small, cancellationToken);
            ChildLog.Progress(label, $"4 KiB {(operation == TensorOperation.Push ? "pushes" : "pulls")} x{settings.RttIterations}");
            rtt = await RoundTripLatency.MeasureAsync(
                ct => TransferAsync(node, ticket, operation, BenchTensors.Small, small, ct),
                settings.RttWarmup, settings.RttIterations, cancellationToken);

            bulk = await MeasureBulkAsync(node, ticket, operation, server, settings, label, cancellationToken);
        }

        ChildLog.Progress(label, $"cold nodes x{settings.ColdIterations}");
        double coldMs = await ColdConnect.MeasureMedianMillisecondsAsync(
            async ct =>
            {
                TensorNode fresh = await TensorNode.StartAsync(ClientOptions(), ct);
                try
                {
                    await TransferAsync(fresh, ticket, operation, BenchTensors.Small, small, ct);
                }
                catch
                {
                    await fresh.DisposeAsync();
                    throw;
                }
                return fresh;
            },
            settings.ColdWarmup, settings.ColdIterations, cancellationToken);

        // Read while the server is still alive; VmHWM covers every phase above, in both processes.
        return new TransportResult(
            name, bulk, rtt.P50Microseconds, rtt.P99Microseconds, coldMs,
            ClientPeakRssMib: ProcessStats.PeakRssBytes(Environment.ProcessId) / Mib,
            ServerPeakRssMib: server.PeakRssBytes / Mib);
    }

    // Pulled tensors are disposed once checked (TransferAsync), so they may land in reusable native memory too.
    private static TensorNodeOptions ClientOptions() => new() { LocalEndPoint = new IPEndPoint(IPAddress.Loopback, 0), NativeReceiveThreshold = 1 << 20 };

    private static async Task<IReadOnlyList<BulkResult>> MeasureBulkAsync(
        TensorNode node, NodeTicket ticket, TensorOperation operation, ServerProcess server, RunSettings settings,
        string label, CancellationToken cancellationToken)
    {
        // For a push the client holds the tensors; for a pull the server registered them.
        TensorData? warmup = operation == TensorOperation.Push ? BenchTensors.Random(settings.BulkWarmupBytes) : null;

        // A warm-up transfer of the bulk kind (the pooled connection is dialed already).
        await TransferAsync(node, ticket, operation, BenchTensors.Warmup, warmup, cancellationToken);
        var results = new List<BulkResult>();
        foreach (long bytes in settings.BulkSizes)
        {
            ChildLog.Progress(label, $"bulk {BenchSizes.Format(bytes)}");
            TensorData? bulk = operation == TensorOperation.Push ? BenchTensors.Random(bytes) : null;
            // The first transfer of a size lands in fresh memory (the receiver's kernel maps and zeroes every page);
            // later ones reuse what the receiver released (TensorNodeOptions.ReceiveBufferRetention), as every transfer
            // of a repeated shape does.
            results.Add(await BulkThroughput.MeasureRepeatedSizeAsync(bytes, () => BulkThroughput.TimeAsync(
                server, ct => TransferAsync(node, ticket, operation, BenchTensors.Bulk(bytes), bulk, ct), cancellationToken), label));
        }
        return results;
    }

    /// <summary>Pushes <paramref name="tensor"/> as <paramref name="name"/>, or pulls the server's <paramref name="name"/> (then <paramref name="tensor"/> is unused).</summary>
    private static async Task TransferAsync(
        TensorNode node, NodeTicket ticket, TensorOperation operation, string name, TensorData? tensor, CancellationToken cancellationToken)
    {
        if (operation == TensorOperation.Push)
        {
            await node.SendAsync(ticket, name, tensor!, cancellationToken);
        }
        else
        {
            using TensorData pulled = await node.RequestAsync(ticket, name, cancellationToken);
            if (pulled.ByteLength == 0)
            {
                throw new InvalidDataException($"Pulled an empty '{name}'.");
            }
        }
    }
}
