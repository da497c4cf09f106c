using System.Buffers;

namespace TensorProtocol.Quic.Internal;

/// <summary>
/// One queued <see cref="QuicStream.WriteAsync(ReadOnlyMemory{byte}, bool, CancellationToken)"/>: the caller's
/// memory, pinned until the peer acknowledges it or the stream ends, and the completion its caller awaits.
/// </summary>
internal sealed unsafe class PendingWrite
{
    private readonly QuicStream _stream;
    private MemoryHandle _pin;
    private CancellationTokenRegistration _cancellation;

    internal PendingWrite(QuicStream stream, ReadOnlyMemory<byte> buffer, bool fin)
    {
        _stream = stream;
        _pin = buffer.Pin();
        Pointer = (byte*)_pin.Pointer;
        Length = buffer.Length;
        Fin = fin;
    }

    internal CompletionSource<bool> Source { get; } = new();
    internal byte* Pointer { get; }
    internal int Length { get; }
    internal bool Fin { get; }

    /// <summary>Whether the loop has queued it on its stream (false while a QuicBatch still holds it).</summary>
    internal bool Queued { get; set; }

    /// <summary>Stream offset of the first byte; set when the loop queues it.</summary>
    internal long Start { get; set; }

    internal long End => Start + Length;

    internal void RegisterCancellation(CancellationToken token)
    {
        _cancellation = token.UnsafeRegister(static (state, token) =>
        {
            var write = (PendingWrite)state!;
            write._stream.Connection.Post(() => write._stream.CancelWrite(write, token));
        }, this);
    }

    /// <summary>Completes the caller's task; the memory may stay pinned (see <see cref="Release"/>).</summary>
    internal void Complete(Exception? error)
    {
        _cancellation.Dispose();
        if (error is null)
        {
            Source.TrySetResult(true);
        }
        else
        {
            Source.TrySetException(error);
        }
    }

    /// <summary>Unpins: only when ngtcp2 can no longer read the memory (acknowledged, or the stream closed).</summary>
    internal void Release()
    {
        MemoryHandle pin = _pin;
        _pin = default;
        Unpin(pin);
    }

    /// <summary>
    /// Unpins caller memory on the loop. A caller's own MemoryManager may throw from Unpin; that is its bug to keep,
    /// not a reason to stop the loop or to leave the operation that held the pin uncompleted.
    /// </summary>
    internal static void Unpin(MemoryHandle pin)
    {
        try
        {
            pin.Dispose();
        }
        catch (Exception)
        {
        }
    }
}
