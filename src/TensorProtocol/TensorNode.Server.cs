using System.Diagnostics;
using TensorProtocol.Internal;
using TensorProtocol.Node;
using TensorProtocol.Quic;
using TensorProtocol.Wire;

namespace TensorProtocol;

// The responder side: accept peers, serve one operation per stream.
public sealed partial class TensorNode
{
    private async Task AcceptLoopAsync(QuicEndpoint endpoint, CancellationToken cancellationToken)
    {
        var connections = new List<Task>();
        try
        {
            while (true)
            {
                QuicConnection connection = await endpoint.AcceptConnectionAsync(cancellationToken).ConfigureAwait(false);
                connections.RemoveAll(t => t.IsCompleted);
                connections.Add(ServeConnectionAsync(connection, cancellationToken));
            }
        }
        catch (Exception e) when (e is OperationCanceledException or ObjectDisposedException or QuicException)
        {
            // Shutdown.
        }
        await Task.WhenAll(connections).ConfigureAwait(false);
    }

    private async Task ServeConnectionAsync(QuicConnection connection, CancellationToken cancellationToken)
    {
        var peer = new NodeId(connection.RemotePublicKey);
        // Requests that arrive whole are answered on the loop thread; the rest come through the accept below.
        connection.InboundStreamHandler = stream => TryServeOnLoop(stream, peer);
        var streams = new List<Task>();
        try
        {
            while (true)
            {
                QuicStream stream = await connection.AcceptInboundStreamAsync(cancellationToken).ConfigureAwait(false);
                streams.RemoveAll(t => t.IsCompleted);
                streams.Add(ServeStreamAsync(stream, peer, cancellationToken));
            }
        }
        catch (Exception e) when (e is OperationCanceledException or ObjectDisposedException or QuicException)
        {
            // The peer went away, or we are shutting down.
        }
        finally
        {
            // ServeStreamAsync never throws, so this waits for every stream and then always closes the connection.
            await Task.WhenAll(streams).ConfigureAwait(false);
            await connection.DisposeAsync().ConfigureAwait(false);
        }
    }

    /// <summary>One operation. Never throws: every failure ends this stream only.</summary>
    private async Task ServeStreamAsync(QuicStream stream, NodeId peer, CancellationToken cancellationToken)
    {
        await using (stream.ConfigureAwait(false))
        {
            try
            {
                if (!stream.CanWrite)
                {
                    // No way to answer (the node allows no unidirectional streams; this is a second line).
                    stream.Abort(QuicAbortDirection.Read, (long)ResponseStatus.BadRequest);
                    return;
                }
                var reader = new FrameReader(stream);
                // A peer that opens streams and never finishes its header must not hold them (and the memory the
                // reservation below would take) forever: keep-alives keep its connection from idling out.
                using var headerDeadline = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
                headerDeadline.CancelAfter(_options.RequestTimeout);
                // A push larger than the whole receive budget could never be queued: TooLarge, not "retry later".
                long maxPayload = Math.Min(_options.MaxTensorBytes, _options.ReceiveMemoryBudget);
                var (request, error) = await FrameIO.ReadAsync<RequestHeader>(reader, maxPayload, headerDeadline.Token).ConfigureAwait(false);
                if (request is null)
                {
                    await RefuseAsync(stream, peer, "request", "?", error.Status, error.Message).ConfigureAwait(false);
                    return;
                }
                if (request.Operation == Operation.Push)
                {
                    await ServePushAsync(stream, reader, peer, request, cancellationToken).ConfigureAwait(false);
                }
                else if (!await reader.AtEndAsync(headerDeadline.Token).ConfigureAwait(false))
                {
                    await RefuseAsync(stream, peer, "pull", request.Name, ResponseStatus.BadRequest, "bytes after the pull request").ConfigureAwait(false);
                }
                else
                {
                    await ServePullAsync(stream, peer, request).ConfigureAwait(false);
                }
            }
            catch (OperationCanceledException) when (!cancellationToken.IsCancellationRequested)
            {
                // A deadline (header or stalled payload) passed: end this stream only.
                stream.Abort(QuicAbortDirection.Both, (long)ResponseStatus.BadRequest);
                Log.StreamFailed(_logger, peer, "the request did not arrive in time");
            }
            catch (OperationCanceledException) when (cancellationToken.IsCancellationRequested)
            {
                // The node is stopping while it waited for a header, for room in the queue or for a payload: nothing
                // was answered yet. Say ShuttingDown; a stream that just ended would be a protocol error to the peer.
                stream.Abort(QuicAbortDirection.Read, (long)ResponseStatus.ShuttingDown);
                _ = Observe(stream.WriteAsync(s_shuttingDown.ToFrame(), completeWrites: true));
                Log.StreamFailed(_logger, peer, "the node is shutting down");
            }
            catch (Exception e) when (e is QuicException or OperationCanceledException or ObjectDisposedException or EndOfStreamException)
            {
                Log.StreamFailed(_logger, peer, e.Message);
            }
            catch (Exception e)
            {
                // A defect of ours, not the peer's doing: end this stream only, and say so.
                stream.Abort(QuicAbortDirection.Both, (long)ResponseStatus.InternalError);
                Log.StreamFailedUnexpectedly(_logger, peer, e);
            }
        }
    }

    private async Task ServePushAsync(QuicStream stream, FrameReader reader, NodeId peer, RequestHeader request, CancellationToken cancellationToken)
    {
        TensorMetadata metadata = request.Tensor!;
        if (_options.AllowedSenders is { } allowed && !allowed.Contains(peer))
        {
            await RefuseAsync(stream, peer, "push", request.Name, ResponseStatus.NotAllowed, "this node does not accept tensors from you").ConfigureAwait(false);
            return;
        }
        long length = metadata.ByteLength;
        bool reserved = _options.QueueFullBehavior == QueueFullBehavior.Wait
            ? await _queue.ReserveAsync(length, _options.QueueWaitTimeout, cancellationToken).ConfigureAwait(false)
            : _queue.TryReserve(length);
        if (!reserved)
        {
            // Before any of the payload is read: a node that stopped receiving tells the sender at once.
            (ResponseStatus status, string reason) = _queue.IsCompleted
                ? (ResponseStatus.ShuttingDown, "the node no longer receives tensors")
                : (ResponseStatus.QueueFull, "the receive queue is full");
            await RefuseAsync(stream, peer, "push", request.Name, status, reason).ConfigureAwait(false);
            return;
        }
        bool queued = false;
        PayloadBuffer? payload = null;
        try
        {
            // Allocated once, after every limit was checked; the QUIC layer writes each byte straight into it.
            try
            {
                payload = PayloadBuffer.Allocate(length, _options.NativeReceiveThreshold, _receiveBuffers);
            }
            catch (OutOfMemoryException e)
            {
                // The budget allowed it but the system (or the GC) did not: this node's limit, so retry later.
                await RefuseAsync(stream, peer, "push", request.Name, ResponseStatus.QueueFull, $"no memory for the payload: {e.Message}").ConfigureAwait(false);
                return;
            }
            // The reservation holds budget. The payload is read piece by piece, each due by the transfer deadline of
            // where it ends (counted from here): a sender that falls behind MinTransferRate loses the reservation then,
            // not at the end of a deadline sized for the whole. The whole payload's deadline, armed first, also bounds an
            // empty payload's end of stream.
            using var payloadDeadline = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
            long started = Stopwatch.GetTimestamp();
            payloadDeadline.CancelAfter(TransferDeadline(length));
            void PieceDue(long end)
            {
                TimeSpan left = TransferDeadline(end) - Stopwatch.GetElapsedTime(started);
                if (left > TimeSpan.Zero)
                {
                    payloadDeadline.CancelAfter(left);
                }
                else
                {
                    payloadDeadline.Cancel(); // nothing is registered on it between two reads
                }
            }
            if (!await reader.ReadPayloadAsync(payload, progress: null, payloadDeadline.Token, PieceDue).ConfigureAwait(false))
            {
                await RefuseAsync(stream, peer, "push", request.Name, ResponseStatus.BadRequest, $"the payload ended before {length} bytes").ConfigureAwait(false);
                return;
            }
            if (!await reader.AtEndAsync(payloadDeadline.Token).ConfigureAwait(false))
            {
                await RefuseAsync(stream, peer, "push", request.Name, ResponseStatus.BadRequest, "bytes after the payload").ConfigureAwait(false);
                return;
            }
            if (metadata.DType == DType.BOOL && !payload.HoldsOnlyBooleans())
            {
                await RefuseAsync(stream, peer, "push", request.Name, ResponseStatus.BadRequest, "a BOOL payload may hold only bytes 0 and 1").ConfigureAwait(false);
                return;
            }
            ResponseHeader? refusal = Deliver(request.Name, payload.ToTensor(metadata), peer, out queued);
            await stream.WriteAsync(refusal?.ToFrame() ?? s_okFrame, completeWrites: true).ConfigureAwait(false);
        }
        finally
        {
            // A payload that did not make it into the queue is freed now (native memory) rather than at a GC.
            payload?.Dispose();
            if (!queued)
            {
                _queue.Release(length);
            }
        }
    }

    private async Task ServePullAsync(QuicStream stream, NodeId peer, RequestHeader request)
    {
        if (_options.AllowedPullers is { } allowed && !allowed.Contains(peer))
        {
            await RefuseAsync(stream, peer, "pull", request.Name, ResponseStatus.NotAllowed, "this node does not serve tensors to you").ConfigureAwait(false);
            return;
        }
        if (!_registered.TryGetValue(request.Name, out TensorData? tensor))
        {
            await RefuseAsync(stream, peer, "pull", request.Name, ResponseStatus.NotFound, $"no tensor named '{request.Name}' is registered").ConfigureAwait(false);
            return;
        }
        if (tensor.IsReleased)
        {
            // Disposed (or its file reader closed) while still registered: nothing to serve.
            await RefuseAsync(stream, peer, "pull", request.Name, ResponseStatus.NotFound, $"the tensor registered as '{request.Name}' was disposed").ConfigureAwait(false);
            return;
        }
        byte[] header = new ResponseHeader(ResponseStatus.Ok, tensor: tensor.Metadata).ToFrame();
        // Served without copying: the registered memory is pinned until the puller acknowledged it.
        Task writes = PayloadWriter.Start(stream, header, tensor, progress: null, CancellationToken.None).WhenDone();
        await AwaitPullTakenAsync(stream, writes, tensor.ByteLength, peer).ConfigureAwait(false);
    }

    /// <summary>
    /// How long a transfer of <paramref name="bytes"/> may take: <paramref name="requestTimeout"/> plus the bytes at
    /// <paramref name="minRate"/> bytes per second (a slower peer loses the stream), capped at 30 days so that no size
    /// overflows a timer.
    /// </summary>
    internal static TimeSpan TransferDeadline(TimeSpan requestTimeout, long bytes, long minRate) =>
        TimeSpan.FromSeconds(Math.Min(requestTimeout.TotalSeconds + bytes / (double)minRate, TimeSpan.FromDays(30).TotalSeconds));

    private TimeSpan TransferDeadline(long bytes) => TransferDeadline(_options.RequestTimeout, bytes, _options.MinTransferRate);

    /// <summary>
    /// Waits until the puller acknowledged the whole answer, but not forever: a puller that stops granting credit would
    /// otherwise keep the stream, and the registered tensor's memory its writes hold, for as long as keep-alives keep
    /// its connection up. Past the deadline the stream is reset and the writes end. Never throws.
    /// </summary>
    private async Task AwaitPullTakenAsync(QuicStream stream, Task writes, long bytes, NodeId peer)
    {
        try
        {
            await writes.WaitAsync(TransferDeadline(bytes)).ConfigureAwait(false);
        }
        catch (TimeoutException)
        {
            stream.Abort(QuicAbortDirection.Both, (long)ResponseStatus.BadRequest);
            Log.StreamFailed(_logger, peer, "the puller did not take the tensor in time");
            await writes.ConfigureAwait(ConfigureAwaitOptions.SuppressThrowing);
        }
        catch (Exception e) when (e is QuicException or OperationCanceledException or ObjectDisposedException or InvalidOperationException)
        {
            Log.StreamFailed(_logger, peer, e.Message);
        }
        catch (Exception e)
        {
            stream.Abort(QuicAbortDirection.Both, (long)ResponseStatus.InternalError);
            Log.StreamFailedUnexpectedly(_logger, peer, e);
        }
    }

    private async Task RefuseAsync(QuicStream stream, NodeId peer, string operation, string name, ResponseStatus status, string reason)
    {
        _metrics!.Refused(status.ToString());
        Log.Refused(_logger, operation, name, peer, status.ToString(), reason);
        // Whatever payload follows is not wanted: STOP_SENDING spares the peer sending it.
        stream.Abort(QuicAbortDirection.Read, (long)status);
        await RespondAsync(stream, new ResponseHeader(status, reason)).ConfigureAwait(false);
    }

    private static async Task RespondAsync(QuicStream stream, ResponseHeader response)
    {
        await stream.WriteAsync(response.ToFrame(), completeWrites: true).ConfigureAwait(false);
    }
}
