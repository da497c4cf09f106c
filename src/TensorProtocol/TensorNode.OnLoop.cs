using TensorProtocol.Internal;
using TensorProtocol.Node;
using TensorProtocol.Quic;
using TensorProtocol.Wire;

namespace TensorProtocol;

// The responder's fast path. A request that arrived whole in one batch of packets (a small push, any pull) is
// answered on the QUIC loop thread, and the answer leaves in the packets that acknowledge the request: no hand-off to
// the thread pool and back, which on a loaded two-core machine costs more than everything else in a small push.
// Anything unusual — a refusal, a malformed request, a payload above InlinePayloadLimit, a full queue the sender
// should wait on — is left untouched to the ordinary async path (TensorNode.Server.cs), which answers every case.
// Nothing here may block or throw: it runs between packets.
public sealed partial class TensorNode
{
    /// <summary>
    /// The largest push payload copied on the loop thread. The copy stalls every connection of the endpoint while it
    /// runs (~10 µs per 256 KiB), and a larger push rarely arrives in one batch of packets anyway.
    /// </summary>
    internal const int InlinePayloadLimit = 256 * 1024;

    private static readonly byte[] s_okFrame = new ResponseHeader(ResponseStatus.Ok).ToFrame();
    private static readonly ResponseHeader s_shuttingDown = new(ResponseStatus.ShuttingDown, "the node is shutting down");

    /// <summary>The connection's <see cref="QuicConnection.InboundStreamHandler"/>: true if it took the stream.</summary>
    private bool TryServeOnLoop(QuicStream stream, NodeId peer)
    {
        long available = stream.BufferedLength;
        if (_shutdown.IsCancellationRequested || !stream.CanWrite || available > WireFormat.LengthPrefixSize + WireFormat.MaxHeaderLength + InlinePayloadLimit)
        {
            return false;
        }
        Span<byte> prefix = stackalloc byte[WireFormat.LengthPrefixSize];
        if (stream.Peek(prefix) < prefix.Length || !Frame.TryReadHeaderLength(prefix, out int headerLength, out _))
        {
            return false;
        }
        int frameLength = prefix.Length + headerLength;
        if (available < frameLength)
        {
            return false;
        }
        byte[] frame = new byte[frameLength];
        stream.Peek(frame);
        long maxPayload = Math.Min(_options.MaxTensorBytes, _options.ReceiveMemoryBudget);
        if (!RequestHeader.TryDecode(frame.AsSpan(prefix.Length), maxPayload, out RequestHeader? request, out _))
        {
            return false;
        }
        return request.Operation == Operation.Push
            ? TryServePushOnLoop(stream, peer, request, frame, available)
            : TryServePullOnLoop(stream, peer, request, frame, available);
    }

    private bool TryServePushOnLoop(QuicStream stream, NodeId peer, RequestHeader request, byte[] frame, long available)
    {
        TensorMetadata metadata = request.Tensor!;
        long length = metadata.ByteLength;
        // BOOL payloads are checked byte by byte (and may be refused) on the async path.
        if ((_options.AllowedSenders is { } allowed && !allowed.Contains(peer)) || metadata.DType == DType.BOOL
            || length > InlinePayloadLimit || length >= _options.NativeReceiveThreshold
            || available != frame.Length + length)
        {
            return false;
        }
        if (!_queue.TryReserve(length))
        {
            return false; // refused or waited for on the async path
        }
        bool queued = false;
        try
        {
            byte[] payload;
            try
            {
                payload = GC.AllocateUninitializedArray<byte>((int)length);
            }
            catch (OutOfMemoryException)
            {
                return false; // the async path answers QueueFull
            }
            // From here the stream is ours: consume the frame, then the payload straight into its destination.
            stream.ReadBuffered(frame);
            if (stream.ReadBuffered(payload) != payload.Length || !stream.ReadsCompleted)
            {
                stream.Abort(QuicAbortDirection.Both, (long)ResponseStatus.InternalError); // cannot happen: all was counted
                return true;
            }
            ResponseHeader? refusal = Deliver(request.Name, new TensorData(metadata, payload), peer, out queued);
            // Nobody waits for the answer's acknowledgement; a failure to deliver it is the peer's to see.
            _ = stream.WriteAsync(refusal?.ToFrame() ?? s_okFrame, completeWrites: true);
            _ = stream.DisposeAsync();
            return true;
        }
        finally
        {
            if (!queued)
            {
                _queue.Release(length);
            }
        }
    }

    private bool TryServePullOnLoop(QuicStream stream, NodeId peer, RequestHeader request, byte[] frame, long available)
    {
        if ((_options.AllowedPullers is { } allowed && !allowed.Contains(peer)) || available != frame.Length
            || !_registered.TryGetValue(request.Name, out TensorData? tensor) || tensor.IsReleased)
        {
            return false;
        }
        stream.ReadBuffered(frame);
        byte[] header = new ResponseHeader(ResponseStatus.Ok, tensor: tensor.Metadata).ToFrame();
        Task writes;
        try
        {
            // Queues the header and the first segments now (they go out with this batch's acknowledgements).
            writes = PayloadWriter.Start(stream, header, tensor, progress: null, CancellationToken.None).WhenDone();
        }
        catch (ObjectDisposedException)
        {
            // Disposed since the check above.
            stream.Abort(QuicAbortDirection.Both, (long)ResponseStatus.NotFound);
            return true;
        }
        _ = FinishPullAsync(stream, writes, tensor.ByteLength, peer);
        return true;
    }

    private async Task FinishPullAsync(QuicStream stream, Task writes, long bytes, NodeId peer)
    {
        await using (stream.ConfigureAwait(false))
        {
            await AwaitPullTakenAsync(stream, writes, bytes, peer).ConfigureAwait(false);
        }
    }

    /// <summary>
    /// Puts a complete push into the receive queue, which takes over its reservation; null when it is queued, else the
    /// refusal to answer with (the tensor was disposed).
    /// </summary>
    private ResponseHeader? Deliver(string name, TensorData data, NodeId peer, out bool queued)
    {
        long length = data.ByteLength;
        if (!_queue.Enqueue(new ReceivedTensor(name, data, peer)))
        {
            data.Dispose();
            queued = false;
            return s_shuttingDown;
        }
        queued = true;
        _metrics!.Received(length);
        Log.Received(_logger, name, length, peer);
        return null;
    }
}
