using TensorProtocol.Internal;
using TensorProtocol.Quic;
using TensorProtocol.Wire;

namespace TensorProtocol.Node;

/// <summary>
/// Reads one operation's frame and payload from a stream with as few round trips through the QUIC loop as possible:
/// the length prefix, the header and (for small tensors) the whole payload usually arrive together, so the first
/// read takes up to <see cref="ScratchSize"/> bytes at once and hands payload bytes over from there. Beyond those
/// first bytes, payload goes straight from the decrypted packets into its destination. Every limit is checked
/// before allocating.
/// </summary>
internal sealed class FrameReader(QuicStream stream, int scratchSize = FrameReader.ScratchSize)
{
    // Each read is a round trip through the loop and the thread pool (~20 µs); one read for a whole small push
    // is worth copying up to 16 KiB twice.
    internal const int ScratchSize = 16 * 1024;

    /// <summary>
    /// Enough for a response without a payload (a push's answer) in one read; a longer header is read past it. The
    /// full scratch was most of a 4 KiB push's ~21 KB of allocations.
    /// </summary>
    internal const int AnswerScratchSize = 256;

    // Between two reads (one round through the loop and the thread pool, ~20 µs when all is well, more when the pool
    // is busy) arriving bytes wait in the stream's buffer and are copied from there into the destination, so chunks
    // are large. Smaller ones only when the caller asked for progress, which needs the steps.
    internal const int ChunkSize = 64 << 20;
    internal const int ProgressChunkSize = 8 << 20;

    private readonly byte[] _scratch = new byte[scratchSize];
    private int _start;
    private int _end;

    private int Buffered => _end - _start;

    /// <summary>The header bytes, or null if the stream ended first or the length prefix is out of range.</summary>
    internal async ValueTask<byte[]?> ReadHeaderAsync(CancellationToken cancellationToken)
    {
        while (Buffered < WireFormat.LengthPrefixSize)
        {
            if (!await FillAsync(cancellationToken).ConfigureAwait(false))
            {
                return null;
            }
        }
        if (!Frame.TryReadHeaderLength(_scratch.AsSpan(_start, WireFormat.LengthPrefixSize), out int length, out _))
        {
            return null;
        }
        _start += WireFormat.LengthPrefixSize;
        byte[] header = new byte[length]; // ≤ 64 KiB, checked by TryReadHeaderLength
        int copied = TakeBuffered(header);
        if (copied < length && !await ReadExactlyAsync(header.AsMemory(copied), cancellationToken).ConfigureAwait(false))
        {
            return null;
        }
        return header;
    }

    /// <summary>
    /// Fills <paramref name="payload"/> exactly, in reads of at most <see cref="ChunkSize"/> bytes, or
    /// <see cref="ProgressChunkSize"/> when progress is reported (native payloads above 2 GiB need several reads
    /// anyway; reads also pace pre-faulting); false if the stream ended first. <paramref name="pieceDue"/> is told where
    /// each read will end before it starts, to set that piece's deadline.
    /// </summary>
    internal async ValueTask<bool> ReadPayloadAsync(PayloadBuffer payload, ProgressReporter? progress, CancellationToken cancellationToken, Action<long>? pieceDue = null)
    {
        int chunkSize = progress is null ? ChunkSize : ProgressChunkSize;
        for (long offset = 0; offset < payload.Length;)
        {
            Memory<byte> chunk = payload.Chunk(offset, chunkSize);
            pieceDue?.Invoke(offset + chunk.Length);
            int copied = TakeBuffered(chunk.Span);
            // The rest goes straight from the decrypted packets into the destination.
            if (copied < chunk.Length && !await ReadExactlyAsync(chunk[copied..], cancellationToken).ConfigureAwait(false))
            {
                return false;
            }
            offset += chunk.Length;
            progress?.Advance(chunk.Length);
        }
        return true;
    }

    /// <summary>Whether the peer finished the stream right after what was read (extra bytes are a protocol error).</summary>
    internal async ValueTask<bool> AtEndAsync(CancellationToken cancellationToken)
    {
        if (Buffered > 0)
        {
            return false;
        }
        if (stream.ReadsCompleted)
        {
            return true;
        }
        return await stream.ReadAsync(_scratch.AsMemory(0, 1), cancellationToken).ConfigureAwait(false) == 0;
    }

    private int TakeBuffered(Span<byte> destination)
    {
        int n = Math.Min(Buffered, destination.Length);
        _scratch.AsSpan(_start, n).CopyTo(destination);
        _start += n;
        return n;
    }

    private async ValueTask<bool> FillAsync(CancellationToken cancellationToken)
    {
        if (_start > 0)
        {
            _scratch.AsSpan(_start, Buffered).CopyTo(_scratch);
            _end -= _start;
            _start = 0;
        }
        int n = await stream.ReadAsync(_scratch.AsMemory(_end), cancellationToken).ConfigureAwait(false);
        _end += n;
        return n > 0;
    }

    private async ValueTask<bool> ReadExactlyAsync(Memory<byte> buffer, CancellationToken cancellationToken)
    {
        try
        {
            await stream.ReadExactlyAsync(buffer, cancellationToken).ConfigureAwait(false);
            return true;
        }
        catch (EndOfStreamException)
        {
            return false;
        }
    }
}
