namespace TensorProtocol.Bench;

/// <summary>How much of each measurement to do.</summary>
internal sealed record RunSettings(
    long BulkBytes,
    long BulkWarmupBytes,
    int RttWarmup,
    int RttIterations,
    int ColdWarmup,
    int ColdIterations,
    TimeSpan TransportDeadline)
{
    public static RunSettings Full { get; } = new(
        BulkBytes: 1L << 30,
        BulkWarmupBytes: 64L << 20,
        RttWarmup: 200,
        RttIterations: 2000,
        ColdWarmup: 3,
        ColdIterations: 50,
        TransportDeadline: TimeSpan.FromMinutes(10));

    /// <summary>
    /// Small enough for a two-core machine to run tcp and tls-tcp in well under a minute, large enough that the
    /// bulk phase still lasts long compared with the 10 ms tick of the kernel's CPU accounting.
    /// </summary>
    public static RunSettings Quick { get; } = new(
        BulkBytes: 256L << 20,
        BulkWarmupBytes: 32L << 20,
        RttWarmup: 100,
        RttIterations: 1000,
        ColdWarmup: 2,
        ColdIterations: 20,
        TransportDeadline: TimeSpan.FromSeconds(60));

    /// <summary>Whether these are the <see cref="Quick"/> settings (children are told with <c>--quick</c>).</summary>
    public bool IsQuick => this == Quick;
}
