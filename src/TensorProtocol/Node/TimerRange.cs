namespace TensorProtocol.Node;

/// <summary>
/// What a timer can take: <see cref="CancellationTokenSource.CancelAfter(TimeSpan)"/> refuses delays beyond
/// uint.MaxValue - 1 ms (about 49.7 days). Options that allow longer ones mean "no limit" by them.
/// </summary>
internal static class TimerRange
{
    internal static readonly TimeSpan Max = TimeSpan.FromMilliseconds(uint.MaxValue - 1);

    /// <summary>Cancels <paramref name="source"/> after <paramref name="delay"/>, or never if no timer can take it.</summary>
    internal static void CancelAfterOrNever(this CancellationTokenSource source, TimeSpan delay)
    {
        if (delay <= Max)
        {
            source.CancelAfter(delay);
        }
    }
}
