namespace TensorProtocol.Cli;

/// <summary>
/// The progress of one transfer as plain lines (stdout redirected): nothing for a transfer that ends within
/// <paramref name="delay"/>, then at most one line per <paramref name="period"/>, each showing more bytes than the last,
/// as <c>sending NAME: 512.0 MiB / 1.00 GiB (50 %), 640.0 MiB/s, ETA 1 s</c>. The completing report writes nothing:
/// the caller prints the outcome of the transfer.
/// </summary>
/// <remarks>
/// Lines are written only when a report comes, and the node reports only when bytes move; a stalled transfer stays
/// silent. The node makes reports one at a time, in order, which is all the synchronization this needs.
/// </remarks>
internal sealed class ProgressLines(string verb, string name, TimeSpan delay, TimeSpan period, Action<string> write)
    : IProgress<TransferProgress>
{
    private TimeSpan _due = delay;
    private string? _shownBytes;

    public void Report(TransferProgress value)
    {
        if (value.IsComplete || value.Elapsed < _due)
        {
            return;
        }
        string bytes = TransferText.Size(value.BytesTransferred);
        if (bytes == _shownBytes)
        {
            return;
        }
        _shownBytes = bytes;
        _due = value.Elapsed + period;
        write($"{verb} {name}: {TransferText.Progress(value)}");
    }
}
