namespace TensorProtocol;

/// <summary>
/// How far one transfer has got, as reported to the <see cref="IProgress{T}"/> given to
/// <see cref="TensorNode.SendAsync(NodeTicket, string, TensorData, IProgress{TransferProgress}?, CancellationToken)"/>
/// (bytes the receiver acknowledged) or
/// <see cref="TensorNode.RequestAsync(NodeTicket, string, IProgress{TransferProgress}?, CancellationToken)"/>
/// (bytes received).
/// </summary>
/// <remarks>
/// Reports are made one at a time, in order. <see cref="Progress{T}"/> without a synchronization context hands each
/// to the thread pool, which may deliver them out of order: keep the largest <see cref="BytesTransferred"/> seen, or
/// use an <see cref="IProgress{T}"/> that handles the report where it is made.
/// </remarks>
/// <param name="BytesTransferred">Payload bytes done so far; never decreases within one transfer.</param>
/// <param name="TotalBytes">The payload's size.</param>
/// <param name="Elapsed">Time since the transfer started (for a pull: since the request was sent).</param>
public readonly record struct TransferProgress(long BytesTransferred, long TotalBytes, TimeSpan Elapsed)
{
    /// <summary>Whether every byte is done: the last report of a successful transfer.</summary>
    public bool IsComplete => BytesTransferred == TotalBytes;

    /// <summary>The share done, from 0 to 1 (1 for an empty payload).</summary>
    public double Fraction => TotalBytes == 0 ? 1 : (double)BytesTransferred / TotalBytes;

    /// <summary>The average rate since the start, in bytes per second; 0 before any time has passed.</summary>
    public double BytesPerSecond => Elapsed > TimeSpan.Zero ? BytesTransferred / Elapsed.TotalSeconds : 0;

    /// <summary>The time left at the average rate so far; null while nothing has been transferred yet.</summary>
    public TimeSpan? EstimatedRemaining =>
        IsComplete ? TimeSpan.Zero
        : BytesTransferred > 0 && BytesPerSecond > 0 ? TimeSpan.FromSeconds((TotalBytes - BytesTransferred) / BytesPerSecond)
        : null;
}
