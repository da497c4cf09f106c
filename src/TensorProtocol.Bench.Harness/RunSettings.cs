namespace TensorProtocol.Bench;

/// <summary>How much of each measurement to do. Client and server children get the same settings on their command line.</summary>
internal sealed record RunSettings(
    bool Quick,
    IReadOnlyList<long> BulkSizes,
    long BulkWarmupBytes,
    int RttWarmup,
    int RttIterations,
    int ColdWarmup,
    int ColdIterations,
    TimeSpan TransportDeadline)
{
    /// <summary>The issues' sizes: a 1 MiB, a 64 MiB and a 1 GiB push (issue 3 asks for all three, issue 4 the last two).</summary>
    public static RunSettings FullRun { get; } = new(
        Quick: false,
        BulkSizes: [1L << 20, 64L << 20, 1L << 30],
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
    public static RunSettings QuickRun { get; } = new(
        Quick: true,
        BulkSizes: [64L << 20, 256L << 20],
        BulkWarmupBytes: 32L << 20,
        RttWarmup: 100,
        RttIterations: 1000,
        ColdWarmup: 2,
        ColdIterations: 20,
        TransportDeadline: TimeSpan.FromSeconds(60));

    /// <summary>The largest bulk transfer: the one the report's single MiB/s and CPU columns show.</summary>
    public long LargestBulk => BulkSizes.Max();

    /// <summary>
    /// The full or quick settings, with other bulk sizes when <paramref name="sizes"/> is not empty. The warm-up
    /// shrinks to the largest size so that a run of small sizes stays short.
    /// </summary>
    public static RunSettings For(bool quick, IReadOnlyList<long> sizes)
    {
        RunSettings settings = quick ? QuickRun : FullRun;
        if (sizes.Count == 0)
        {
            return settings;
        }
        long[] sorted = [.. sizes.Distinct().Order()];
        return settings with { BulkSizes = sorted, BulkWarmupBytes = Math.Min(settings.BulkWarmupBytes, sorted[^1]) };
    }

    /// <summary>The arguments that make a child process rebuild these settings (see <see cref="For"/>).</summary>
    public IEnumerable<string> ToArguments()
    {
        if (Quick)
        {
            yield return BenchArguments.Quick;
        }
        foreach (long size in BulkSizes)
        {
            yield return BenchArguments.Size;
            yield return BenchSizes.Format(size);
        }
    }
}
