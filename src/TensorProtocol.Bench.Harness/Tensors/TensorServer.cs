using System.Net;
using TensorProtocol.Bench.Server;

namespace TensorProtocol.Bench.Tensors;

/// <summary>
/// The server child of a tensor target: a node on 127.0.0.1 that discards every tensor pushed to it as soon as it
/// is queued and, for pulls, serves the registered <see cref="BenchTensors"/>. It announces its ticket as the
/// endpoint info and otherwise behaves like every server child (<see cref="ServerMode.ServeParentAsync"/>).
/// </summary>
internal static class TensorServer
{
    /// <summary>Room above the largest tensor for its header and for smaller tensors still in the queue.</summary>
    private const long Slack = 16L << 20;

    public static async Task<int> RunAsync(string name, TensorOperation operation, RunSettings settings, int port)
    {
        string label = $"[{name} server]";
        using var stop = new CancellationTokenSource();
        await using TensorNode node = await TensorNode.StartAsync(new TensorNodeOptions
        {
            LocalEndPoint = new IPEndPoint(IPAddress.Loopback, port),
            MaxTensorBytes = settings.LargestBulk + Slack,
            // The previous tensor may not be drained yet when the next one arrives.
            ReceiveMemoryBudget = 2 * Math.Max(settings.LargestBulk, settings.BulkWarmupBytes) + Slack,
            ReceiveQueueCapacity = 1024,
            // It disposes every tensor it takes (below), like the C ABI's hosts: large payloads go to native memory,
            // which the next one of the size reuses.
            NativeReceiveThreshold = 1 << 20,
        });
        if (operation == TensorOperation.Pull)
        {
            // Only the pull server holds the big tensors, so they do not inflate the push server's peak RSS.
            foreach (long bytes in settings.BulkSizes)
            {
                node.Register(BenchTensors.Bulk(bytes), BenchTensors.Random(bytes));
            }
            node.Register(BenchTensors.Warmup, BenchTensors.Random(settings.BulkWarmupBytes));
        }
        node.Register(BenchTensors.Small, BenchTensors.Random(Protocol.EchoMessageSize));

        Task drain = DrainAsync(node, stop.Token);
        int exitCode = await ServerMode.ServeParentAsync(label, node.Ticket.ToString(), drain, "receive loop");
        await stop.CancelAsync();
        return exitCode;
    }

    private static async Task DrainAsync(TensorNode node, CancellationToken cancellationToken)
    {
        try
        {
            await foreach (ReceivedTensor received in node.ReceiveAllAsync(cancellationToken))
            {
                // Discarded: taking it out of the queue releases its place and budget, disposing it its memory.
                received.Data.Dispose();
            }
        }
        catch (OperationCanceledException) when (cancellationToken.IsCancellationRequested)
        {
            // Stopping.
        }
    }
}
