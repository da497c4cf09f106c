namespace TensorProtocol.Tests;

/// <summary>Tests that measure the whole process (allocations) run after, and apart from, everything else.</summary>
[CollectionDefinition(Name, DisableParallelization = true)]
public sealed class SerialCollection
{
    internal const string Name = "Serial (process-wide measurements)";
}
