using TensorProtocol.Bench.Targets;

namespace TensorProtocol.Bench.Tensors;

/// <summary>Which side moves the tensors: the client pushes them to the server, or pulls registered ones from it.</summary>
internal enum TensorOperation
{
    Push,
    Pull,
}

/// <summary>
/// The tensor node (<see cref="TensorNode"/>) itself rather than a byte stream: <c>tensorp-push</c> and
/// <c>tensorp-pull</c>. The server child is a node that drains its receive queue and serves registered tensors
/// (<see cref="TensorServer"/>); the client child is a node that pushes to it or pulls from it
/// (<see cref="TensorRun"/>).
/// </summary>
internal sealed class TensorNodeTarget(TensorOperation operation) : IBenchTarget
{
    public string Name => operation == TensorOperation.Push ? "tensorp-push" : "tensorp-pull";

    public Task<int> RunServerAsync(int port, RunSettings settings) => TensorServer.RunAsync(Name, operation, settings, port);

    public Task<TransportResult> MeasureAsync(RunSettings settings, string label, CancellationToken cancellationToken) =>
        TensorRun.RunAsync(Name, operation, settings, label, cancellationToken);
}

/// <summary>The tensors both sides agree on: names the server registers, sizes the client moves.</summary>
internal static class BenchTensors
{
    /// <summary>The name of the measured bulk tensor of <paramref name="bytes"/> (one of <see cref="RunSettings.BulkSizes"/>).</summary>
    public static string Bulk(long bytes) => "bulk-" + BenchSizes.Format(bytes);

    /// <summary>The bulk warm-up tensor (<see cref="RunSettings.BulkWarmupBytes"/>).</summary>
    public const string Warmup = "warmup";

    /// <summary>The round-trip and cold-start tensor (<see cref="Protocol.EchoMessageSize"/>, 4 KiB).</summary>
    public const string Small = "4k";

    /// <summary>A 1-D U8 tensor of random bytes (nothing on the path can compress it), wrapping the array without copying.</summary>
    public static TensorData Random(long bytes)
    {
        byte[] values = GC.AllocateUninitializedArray<byte>(checked((int)bytes));
        System.Random.Shared.NextBytes(values);
        return TensorData.FromArray(values);
    }
}
