namespace TensorProtocol.Bench.Measurements;

internal static class Statistics
{
    /// <summary>Nearest-rank percentile (<paramref name="p"/> in (0, 1]); sorts <paramref name="samples"/> in place.</summary>
    public static long Percentile(long[] samples, double p)
    {
        if (samples.Length == 0)
        {
            throw new ArgumentException("No samples.", nameof(samples));
        }
        Array.Sort(samples);
        int rank = (int)Math.Ceiling(p * samples.Length);
        return samples[Math.Clamp(rank - 1, 0, samples.Length - 1)];
    }

    /// <summary>The median (the mean of the middle two for an even count).</summary>
    public static double Median(IEnumerable<double> values)
    {
        double[] sorted = [.. values.Order()];
        if (sorted.Length == 0)
        {
            throw new ArgumentException("No values.", nameof(values));
        }
        int middle = sorted.Length / 2;
        return sorted.Length % 2 == 1 ? sorted[middle] : (sorted[middle - 1] + sorted[middle]) / 2;
    }
}
