using System.Buffers;
using System.Runtime.ExceptionServices;
using TensorProtocol.Quic;
using TensorProtocol.Wire;

namespace TensorProtocol.Node;

/// <summary>
/// Sends a header frame and a payload on a stream without copying the payload. Without a progress sink each segment
/// (up to 2 GiB, 1 GiB above that size) is one write, <see cref="SegmentWindow"/> queued at a time; with one, the
/// payload is cut into <see cref="ProgressChunkSize"/> chunks, <see cref="Window"/> queued at a time. A write completes
/// when the peer has acknowledged all of it, which is what progress reports count and what lets the next chunk be
/// queued.
/// </summary>
/// <remarks>
/// Chunks cost: each is a completion on the thread pool and a hand-off back to the loop, and the transport hands all
/// queued, unsent writes to ngtcp2 for every packet (up to 16 vectors). Measured in-process on 2 cores (256 MiB
/// pushes, medians of six alternating runs): one write ~780 MiB/s; 8 MiB chunks all queued at once ~665 MiB/s
/// (+10 % CPU); 8 MiB chunks four at a time ~740 MiB/s; 64 MiB chunks ~765 MiB/s; with 1 GiB pushes even 64 MiB
/// chunks cost a few percent of CPU. So chunks are used only where they buy something: progress. Four queued chunks
/// keep 32 MiB ahead — twice the default maximum stream window — so the stream does not run dry while the next chunk
/// is queued (a thread-pool hop, tens of microseconds).
/// </remarks>
internal static class PayloadWriter
{
    // Small enough for progress a person can watch (a step per 8 MiB: ~60 a second at 500 MiB/s, one per 0.8 s at
    // 10 MiB/s).
    internal const int ProgressChunkSize = 8 << 20;

    internal const int Window = 4;

    internal const int SegmentWindow = 2;

    /// <summary>
    /// Queues the header and the first chunks before returning (so they go out at once). When more remain, or progress
    /// is reported, a pump queues the rest as earlier chunks are acknowledged; otherwise nothing runs until
    /// <see cref="PayloadWrites.WhenDone"/> is asked, which by then usually finds every write acknowledged and needs
    /// no continuation at all (for a small push the acknowledgement arrives with the receiver's answer).
    /// </summary>
    internal static PayloadWrites Start(QuicStream stream, byte[] header, TensorData tensor, ProgressReporter? progress, CancellationToken cancellationToken)
    {
        // Held until the last write has ended, so disposing the tensor (or its file reader) mid-send cannot release
        // the memory between two chunks.
        IDisposable? lease = tensor.KeepMemoryAlive();
        try
        {
            ReadOnlySequence<byte> payload = tensor.PayloadSequence;
            var writer = new ChunkWriter(stream, payload, progress is null ? int.MaxValue : ProgressChunkSize, cancellationToken);
            using QuicBatch batch = stream.Connection.Batch();
            ValueTask headerWrite = stream.WriteAsync(header, completeWrites: payload.IsEmpty, cancellationToken);
            var queued = new Queue<(ValueTask Write, int Length)>(Window + 1);
            queued.Enqueue((headerWrite, 0));
            // Without progress a write is a whole segment (1 GiB above 2 GiB): two queued are a gigabyte ahead.
            int window = progress is null ? SegmentWindow : Window;
            for (int i = 0; i < window && writer.TryWriteNext(out ValueTask write, out int length); i++)
            {
                queued.Enqueue((write, length));
            }
            var writes = new PayloadWrites(stream, writer, queued, progress, lease);
            if (progress is not null || writer.HasMore)
            {
                writes.WhenDone();
            }
            return writes;
        }
        catch
        {
            lease?.Dispose();
            throw;
        }
    }

    /// <summary>The writes of one payload, and the memory lease they hold until every one has ended.</summary>
    internal sealed class PayloadWrites(QuicStream stream, ChunkWriter writer, Queue<(ValueTask Write, int Length)> queued, ProgressReporter? progress, IDisposable? lease)
    {
        private Task? _done;

        /// <summary>
        /// Completes when every write has been acknowledged, or fails with the first failure once every queued write
        /// has ended (no chunk is queued after a failure). Idempotent; must be called once the writes are no longer
        /// of interest, since the lease is released only through it. Writes that already ended are taken without a
        /// continuation (awaiting a completed write does not yield).
        /// </summary>
        internal Task WhenDone() => _done ??= PumpAsync(stream, writer, queued, progress, lease);
    }

    // The transport completes writes in stream order, so awaiting them in order reports acknowledged bytes as they
    // come. Every queued write is awaited even after a failure, so none is left unobserved.
    private static async Task PumpAsync(QuicStream stream, ChunkWriter writer, Queue<(ValueTask Write, int Length)> queued, ProgressReporter? progress, IDisposable? lease)
    {
        using IDisposable? held = lease;
        ExceptionDispatchInfo? failure = null;
        while (queued.TryDequeue(out (ValueTask Write, int Length) next))
        {
            try
            {
                await next.Write.ConfigureAwait(false);
            }
            catch (Exception e) when (e is QuicException or OperationCanceledException or InvalidOperationException)
            {
                failure ??= ExceptionDispatchInfo.Capture(e);
                continue;
            }
            if (failure is not null)
            {
                continue;
            }
            progress?.Advance(next.Length);
            try
            {
                if (next.Length > 0 && writer.TryWriteNext(out ValueTask write, out int length))
                {
                    queued.Enqueue((write, length));
                }
            }
            catch (ObjectDisposedException e)
            {
                // Memory this node does not keep alive went away mid-send (a caller's MemoryManager segment). Reset
                // the stream so the peer stops waiting for the rest, instead of holding it until its deadline.
                failure = ExceptionDispatchInfo.Capture(e);
                stream.Abort(QuicAbortDirection.Write, (long)ResponseStatus.InternalError);
            }
        }
        failure?.Throw();
    }

    /// <summary>Walks the payload's segments in chunks, queueing one write per chunk (FIN with the last).</summary>
    internal sealed class ChunkWriter(QuicStream stream, ReadOnlySequence<byte> payload, int chunkSize, CancellationToken cancellationToken)
    {
        private SequencePosition _position = payload.Start;
        private ReadOnlyMemory<byte> _segment;
        private long _remaining = payload.Length;

        public bool HasMore => _remaining > 0;

        public bool TryWriteNext(out ValueTask write, out int length)
        {
            if (_remaining == 0)
            {
                write = default;
                length = 0;
                return false;
            }
            while (_segment.IsEmpty)
            {
                payload.TryGet(ref _position, out _segment);
            }
            ReadOnlyMemory<byte> chunk = _segment[..Math.Min(chunkSize, _segment.Length)];
            _segment = _segment[chunk.Length..];
            _remaining -= chunk.Length;
            length = chunk.Length;
            write = stream.WriteAsync(chunk, completeWrites: _remaining == 0, cancellationToken);
            return true;
        }
    }
}
