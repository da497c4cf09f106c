namespace TensorProtocol.Bench.GrpcBaseline;

/// <summary>
/// The gRPC configuration the baselines use: the best one measured on the project's 2-core machine (see
/// docs/benchmarks.md for the variants tried and their numbers).
/// </summary>
internal static class GrpcTuning
{
    /// <summary>Payload bytes per streamed message.</summary>
    public static int ChunkSize { get; } = EnvInt("TP_GRPC_CHUNK", 64 << 10);

    /// <summary>
    /// HTTP/2 flow-control windows, both the connection's and each stream's: 16 MiB keeps a loopback transfer from
    /// ever waiting for a WINDOW_UPDATE (the 64 KiB protocol default would stall it every 64 KiB).
    /// </summary>
    public static int WindowSize { get; } = EnvInt("TP_GRPC_WINDOW", 16 << 20);

    /// <summary>Largest HTTP/2 frame Kestrel accepts.</summary>
    public static int MaxFrameSize { get; } = EnvInt("TP_GRPC_FRAME", 16 << 10);

    /// <summary>Whether the client wraps the tensor's memory in each message instead of copying it.</summary>
    public static bool UnsafeWrap { get; } = EnvInt("TP_GRPC_WRAP", 1) != 0;

    /// <summary>The largest message either side accepts: one chunk plus protobuf framing.</summary>
    public static int MaxMessageSize => ChunkSize + 1024;

    private static int EnvInt(string name, int fallback) =>
        int.TryParse(Environment.GetEnvironmentVariable(name), System.Globalization.CultureInfo.InvariantCulture, out int value) ? value : fallback;
}
