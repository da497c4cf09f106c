using System.Text.Json.Serialization;

namespace TensorProtocol.Bench;

/// <summary>Everything measured for one target (transport); one row of the report.</summary>
/// <param name="Transport">The target's name, e.g. <c>tensorp-push</c> or <c>grpc-tls</c>.</param>
/// <param name="Bulk">One bulk push per size, smallest first.</param>
/// <param name="RttP50Microseconds">Median of the 4 KiB request/acknowledgement (or echo) round trips.</param>
/// <param name="RttP99Microseconds">99th percentile of the same round trips.</param>
/// <param name="ColdMilliseconds">Median time from a brand-new client to its first 4 KiB acknowledged.</param>
/// <param name="ClientPeakRssMib">Peak resident memory of the client (sending) process.</param>
/// <param name="ServerPeakRssMib">Peak resident memory of the server (receiving) process.</param>
public sealed record TransportResult(
    string Transport,
    IReadOnlyList<BulkResult> Bulk,
    double RttP50Microseconds,
    double RttP99Microseconds,
    double ColdMilliseconds,
    double ClientPeakRssMib,
    double ServerPeakRssMib)
{
    /// <summary>The largest push: what the single MiB/s and CPU columns (and JSON's <c>mib_s</c>) show.</summary>
    [JsonIgnore]
    public BulkResult Largest => Bulk.MaxBy(b => b.Bytes) ?? throw new InvalidOperationException($"{Transport} has no bulk result.");

    /// <summary>Throughput of the largest push.</summary>
    [JsonIgnore]
    public double MibPerSecond => Largest.MibPerSecond;

    /// <summary>CPU time of both processes per GiB during the largest push.</summary>
    [JsonIgnore]
    public double CpuSecondsPerGib => Largest.CpuSecondsPerGib;

    /// <summary>The larger of the two processes' peaks: what the report's single RSS column shows.</summary>
    [JsonIgnore]
    public double PeakRssMib => Math.Max(ClientPeakRssMib, ServerPeakRssMib);

    /// <summary>The push of exactly <paramref name="bytes"/>, if this run measured one.</summary>
    public BulkResult? BulkOf(long bytes) => Bulk.FirstOrDefault(b => b.Bytes == bytes);
}
