namespace TensorProtocol.Bench;

/// <summary>Everything measured for one transport; one row of the report.</summary>
internal sealed record TransportResult(
    string Transport,
    double MibPerSecond,
    double RttP50Microseconds,
    double RttP99Microseconds,
    double ColdMilliseconds,
    double CpuSecondsPerGib,
    double ClientPeakRssMib,
    double ServerPeakRssMib)
{
    /// <summary>The larger of the two processes' peaks: what the report's single RSS column shows.</summary>
    public double PeakRssMib => Math.Max(ClientPeakRssMib, ServerPeakRssMib);
}
