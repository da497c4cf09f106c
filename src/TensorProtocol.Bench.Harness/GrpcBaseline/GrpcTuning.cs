namespace TensorProtocol.Bench.GrpcBaseline;

/// <summary>
/// The gRPC configuration the baselines use: the issue's, which no variant measured on the project's 2-core machine
/// beat reliably (other chunk sizes and windows, copying instead of wrapping, larger Kestrel frames; the numbers are
/// in docs/benchmarks.md).
/// </summary>
internal static class GrpcTuning
{
    /// <summary>Payload bytes per streamed message: the chunk size the issue names, and as fast as any measured.</summary>
    public const int ChunkSize = 64 << 10;

    /// <summary>
    /// HTTP/2 flow-control windows, the connection's and each stream's, on both sides: 16 MiB, as the issue asks,
    /// keeps a loopback transfer from ever waiting for a WINDOW_UPDATE (the protocol's default 64 KiB would stall it
    /// at every chunk). 1 MiB and 4 MiB windows were not reliably faster (docs/benchmarks.md).
    /// </summary>
    public const int WindowSize = 16 << 20;

    /// <summary>The largest message either side accepts: one chunk plus protobuf framing.</summary>
    public const int MaxMessageSize = ChunkSize + 1024;
}
