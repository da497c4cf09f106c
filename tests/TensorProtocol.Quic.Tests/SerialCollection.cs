namespace TensorProtocol.Quic.Tests;

/// <summary>
/// Heavy tests (bulk transfers, process-wide memory measurements) run alone: on a small machine they would starve
/// each other, and RSS is a property of the whole process.
/// </summary>
[CollectionDefinition(Name, DisableParallelization = true)]
public sealed class SerialCollection
{
    internal const string Name = "Serial (heavy or process-wide)";
}
