namespace TensorProtocol.Tests;

/// <summary>
/// Transfers above 2 GiB: each needs ~4.5 GiB of memory (both ends in one process) and most of the 2 cores, so they
/// run one at a time, apart from the parallel tests. Their trait finds them: <c>--filter Category=Large</c>.
/// </summary>
[CollectionDefinition(Name, DisableParallelization = true)]
public sealed class LargeTransferCollection
{
    internal const string Name = "Large transfers (above 2 GiB)";

    /// <summary>The trait name and value that mark the large tests.</summary>
    internal const string Category = "Category";
    internal const string Large = "Large";
}
