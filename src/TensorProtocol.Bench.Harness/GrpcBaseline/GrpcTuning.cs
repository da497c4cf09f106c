namespace TensorProtocol.Bench.GrpcBaseline;

/// <summary>
/// The gRPC configuration the baselines use: the fastest measured on the project's 2-core machine. Other chunk sizes,
/// copying instead of wrapping and larger Kestrel frames were no faster; docs/benchmarks.md has the numbers.
/// </summary>
internal static class GrpcTuning
{
    /// <summary>Payload bytes per streamed message: the chunk size the issue names, and as fast as any measured.</summary>
    public const int ChunkSize = 64 << 10;

    /// <summary>
    /// HTTP/2 flow-control windows, the connection's and each stream's, on both sides. Far above the protocol's
    /// default 64 KiB, which would stall a loopback transfer at every chunk; yet not the 16 MiB the issue suggested:
    /// 1 MiB pushed 1 GiB faster than 16 MiB in 9 of 10 alternating pairs (median 1.3x) on this machine.
    /// </summary>
    public const int WindowSize = 1 << 20;

    /// <summary>The largest message either side accepts: one chunk plus protobuf framing.</summary>
    public const int MaxMessageSize = ChunkSize + 1024;
}
