using System.Buffers;
using System.Runtime.ExceptionServices;
using TensorProtocol.Quic;

namespace TensorProtocol.Node;

/// <summary>
/// Sends a header frame and a payload on a stream without copying the payload: it is cut into chunks of at most
/// <see cref="ChunkSize"/> bytes, all queued at once (they go out back to back, as one write would), and each chunk's
/// write completes when the peer has acknowledged it — which is what progress reports count, and what lets the
/// transport unpin a chunk as soon as it is acknowledged.
/// </summary>
internal static class PayloadWriter
{
    // Small enough for progress a person can watch (~60 steps a second at 500 MiB/s), large enough that the writes'
    // bookkeeping stays negligible (a 16 GiB tensor is 2048 writes).
    internal const int ChunkSize = 8 << 20;

    /// <summary>
    /// Queues the header and every chunk (the last with FIN) before returning; the task completes when all are
    /// acknowledged, or fails with the first failure once every write has ended.
    /// </summary>
    internal static Task WriteAsync(QuicStream stream, byte[] header, ReadOnlySequence<byte> payload, ProgressReporter? progress, CancellationToken cancellationToken)
    {
        var writes = new List<(ValueTask Write, int Length)>(1 + (int)Math.Min(1 << 16, (payload.Length + ChunkSize - 1) / ChunkSize))
        {
            (stream.WriteAsync(header, completeWrites: payload.IsEmpty, cancellationToken), 0),
        };
        long remaining = payload.Length;
        foreach (ReadOnlyMemory<byte> segment in payload)
        {
            for (int offset = 0; offset < segment.Length; offset += ChunkSize)
            {
                ReadOnlyMemory<byte> chunk = segment.Slice(offset, Math.Min(ChunkSize, segment.Length - offset));
                remaining -= chunk.Length;
                writes.Add((stream.WriteAsync(chunk, completeWrites: remaining == 0, cancellationToken), chunk.Length));
            }
        }
        return AwaitInOrderAsync(writes, progress);
    }

    // The transport completes writes in stream order, so awaiting them in order reports acknowledged bytes as they
    // come. Every write is awaited even after a failure, so none is left unobserved.
    private static async Task AwaitInOrderAsync(List<(ValueTask Write, int Length)> writes, ProgressReporter? progress)
    {
        ExceptionDispatchInfo? failure = null;
        foreach ((ValueTask write, int length) in writes)
        {
            try
            {
                await write.ConfigureAwait(false);
                if (failure is null)
                {
                    progress?.Advance(length);
                }
            }
            catch (Exception e) when (e is QuicException or OperationCanceledException or InvalidOperationException)
            {
                failure ??= ExceptionDispatchInfo.Capture(e);
            }
        }
        failure?.Throw();
    }
}
