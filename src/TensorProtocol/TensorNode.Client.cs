using System.Diagnostics;
using TensorProtocol.Internal;
using TensorProtocol.Node;
using TensorProtocol.Quic;
using TensorProtocol.Wire;

namespace TensorProtocol;

// The requester side: push and pull over pooled connections.
public sealed partial class TensorNode
{
    /// <summary>
    /// Pushes <paramref name="tensor"/> to the node behind <paramref name="ticket"/> and completes when that node has
    /// the whole tensor in its receive queue. The payload is sent without copying, in any size the receiver accepts.
    /// </summary>
    /// <exception cref="TicketFormatException">The ticket is malformed (nothing is dialed).</exception>
    /// <exception cref="TensorProtocolException">Refused (NotAllowed, TooLarge, QueueFull), Connection, Timeout, Protocol or Shutdown.</exception>
    public Task SendAsync(string ticket, string name, TensorData tensor, CancellationToken cancellationToken = default) =>
        SendAsync(NodeTicket.Parse(ticket), name, tensor, progress: null, cancellationToken);

    /// <inheritdoc cref="SendAsync(NodeTicket, string, TensorData, IProgress{TransferProgress}?, CancellationToken)"/>
    public Task SendAsync(string ticket, string name, TensorData tensor, IProgress<TransferProgress>? progress, CancellationToken cancellationToken = default) =>
        SendAsync(NodeTicket.Parse(ticket), name, tensor, progress, cancellationToken);

    /// <inheritdoc cref="SendAsync(string, string, TensorData, CancellationToken)"/>
    public Task SendAsync(NodeTicket ticket, string name, TensorData tensor, CancellationToken cancellationToken = default) =>
        SendAsync(ticket, name, tensor, progress: null, cancellationToken);

    /// <summary>
    /// Pushes <paramref name="tensor"/> to the node behind <paramref name="ticket"/> and completes when that node has
    /// the whole tensor in its receive queue, reporting the payload bytes the receiver has acknowledged so far.
    /// </summary>
    /// <param name="ticket">The receiving node.</param>
    /// <param name="name">The name the receiver sees.</param>
    /// <param name="tensor">Sent without copying; its memory must not change until the send completes.</param>
    /// <param name="progress">
    /// Told the bytes acknowledged by the receiver: once at the start, then at most once per
    /// <see cref="TensorNodeOptions.ProgressInterval"/>, and once with every byte when the receiver has the tensor
    /// (only then, so a report with <see cref="TransferProgress.IsComplete"/> means success). Called from the thread
    /// pool, one report at a time, never from the transport's thread; an exception it throws fails the send.
    /// Null for none.
    /// </param>
    /// <param name="cancellationToken">Cancels the send (the stream is reset).</param>
    /// <exception cref="TicketFormatException">The ticket is malformed (nothing is dialed).</exception>
    /// <exception cref="ObjectDisposedException">The tensor was disposed.</exception>
    /// <exception cref="TensorProtocolException">Refused (NotAllowed, TooLarge, QueueFull), Connection, Timeout, Protocol or Shutdown.</exception>
    public async Task SendAsync(NodeTicket ticket, string name, TensorData tensor, IProgress<TransferProgress>? progress, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(ticket);
        ArgumentException.ThrowIfNullOrEmpty(name);
        ArgumentNullException.ThrowIfNull(tensor);
        tensor.ThrowIfDisposed();
        ThrowIfShutDown();
        _ = Started;
        RequestHeader request;
        try
        {
            request = RequestHeader.Push(name, tensor.Metadata);
        }
        catch (ArgumentException e)
        {
            throw new TensorProtocolException(TensorErrorKind.Serialization, e.Message, e);
        }
        byte[] header = request.ToFrame();
        long start = Stopwatch.GetTimestamp();
        ProgressReporter? reporter = ProgressReporter.Start(progress, tensor.ByteLength, start, _options.ProgressInterval);
        PayloadWriter.PayloadWrites? sent = null;
        await WithConnectionAsync(ticket, async (connection, ct) =>
        {
            reporter?.Restart();
            QuicStream stream = await OpenStreamAsync(connection, ct).ConfigureAwait(false);
            await using (stream.ConfigureAwait(false))
            {
                // Header and payload go out back to back; the payload is pinned, not copied.
                PayloadWriter.PayloadWrites writes = sent = PayloadWriter.Start(stream, header, tensor, reporter, ct);
                using var answerDeadline = CancellationTokenSource.CreateLinkedTokenSource(ct);
                TimeSpan limit = PushAnswerDeadline(tensor.ByteLength);
                answerDeadline.CancelAfter(limit);
                try
                {
                    var (response, error) = await FrameIO.ReadAsync<ResponseHeader>(new FrameReader(stream, FrameReader.AnswerScratchSize), 0, answerDeadline.Token).ConfigureAwait(false);
                    if (response is null)
                    {
                        stream.Abort(QuicAbortDirection.Both, (long)ResponseStatus.BadRequest);
                        await Observe(writes.WhenDone()).ConfigureAwait(false);
                        throw new TensorProtocolException(TensorErrorKind.Protocol, $"{ticket.NodeId} sent no valid response: {error.Message}");
                    }
                    if (response.Status != ResponseStatus.Ok)
                    {
                        // The rest of the payload is not wanted. A refusal comes with STOP_SENDING, but do not rely on
                        // it: a peer that refused and stopped reading without it would hold the payload pinned here.
                        stream.Abort(QuicAbortDirection.Write, (long)response.Status);
                        await Observe(writes.WhenDone()).ConfigureAwait(false);
                        throw Refusal(ticket.NodeId, "push", name, response);
                    }
                }
                catch (OperationCanceledException) when (answerDeadline.IsCancellationRequested && !ct.IsCancellationRequested)
                {
                    stream.Abort(QuicAbortDirection.Both, (long)ResponseStatus.BadRequest);
                    throw new TensorProtocolException(TensorErrorKind.Timeout, $"{ticket.NodeId} did not answer the push of '{name}' within {limit.TotalSeconds:0.#} s.");
                }
                finally
                {
                    // Ok means the receiver holds every byte: do not wait for our side's acknowledgements too (the
                    // payload stays pinned until they come; a retransmission could only be a duplicate the peer drops).
                    // Usually they came with the answer, and this finishes at once.
                    _ = Observe(writes.WhenDone());
                }
            }
            return true;
        }, cancellationToken, mayRetry: async () =>
        {
            // A payload the peer acknowledged in full reached it: the answer (not the push) was lost, and sending it
            // again could queue the tensor twice. The caller decides; everything else is retried on a fresh connection.
            if (sent is not { } writes)
            {
                return true; // the connection failed before the stream was opened: nothing was sent
            }
            try
            {
                await writes.WhenDone().ConfigureAwait(false);
                return false;
            }
            catch (Exception e) when (e is QuicException or OperationCanceledException or InvalidOperationException or ObjectDisposedException)
            {
                return true;
            }
        }).ConfigureAwait(false);
        _pool!.RecordTransfer(ticket.NodeId, tensor.ByteLength, pulled: false);
        _metrics!.Sent(tensor.ByteLength, Stopwatch.GetElapsedTime(start));
        reporter?.Complete();
    }

    /// <summary>Fetches the tensor registered as <paramref name="name"/> on the node behind <paramref name="ticket"/>.</summary>
    /// <remarks>
    /// A tensor above 2 GiB arrives in native memory that the returned <see cref="TensorData"/> owns: dispose it when
    /// done to release the memory at once.
    /// </remarks>
    /// <exception cref="TicketFormatException">The ticket is malformed (nothing is dialed).</exception>
    /// <exception cref="TensorProtocolException">NotFound, NotAllowed, TooLarge, Connection, Timeout, Protocol or Shutdown.</exception>
    public Task<TensorData> RequestAsync(string ticket, string name, CancellationToken cancellationToken = default) =>
        RequestAsync(NodeTicket.Parse(ticket), name, progress: null, cancellationToken);

    /// <inheritdoc cref="RequestAsync(NodeTicket, string, IProgress{TransferProgress}?, CancellationToken)"/>
    public Task<TensorData> RequestAsync(string ticket, string name, IProgress<TransferProgress>? progress, CancellationToken cancellationToken = default) =>
        RequestAsync(NodeTicket.Parse(ticket), name, progress, cancellationToken);

    /// <inheritdoc cref="RequestAsync(string, string, CancellationToken)"/>
    public Task<TensorData> RequestAsync(NodeTicket ticket, string name, CancellationToken cancellationToken = default) =>
        RequestAsync(ticket, name, progress: null, cancellationToken);

    /// <summary>
    /// Fetches the tensor registered as <paramref name="name"/> on the node behind <paramref name="ticket"/>,
    /// reporting the payload bytes received so far.
    /// </summary>
    /// <param name="ticket">The serving node.</param>
    /// <param name="name">The registered name.</param>
    /// <param name="progress">
    /// Told the bytes received: once when the peer's answer announces the size, then at most once per
    /// <see cref="TensorNodeOptions.ProgressInterval"/>, and once with every byte when the tensor is complete and
    /// checked. Called from the thread pool, one report at a time, never from the transport's thread; an exception it
    /// throws fails the pull. Null for none.
    /// </param>
    /// <param name="cancellationToken">Cancels the pull.</param>
    /// <remarks>
    /// A tensor above 2 GiB arrives in native memory that the returned <see cref="TensorData"/> owns: dispose it when
    /// done to release the memory at once.
    /// </remarks>
    /// <exception cref="TicketFormatException">The ticket is malformed (nothing is dialed).</exception>
    /// <exception cref="TensorProtocolException">NotFound, NotAllowed, TooLarge, Connection, Timeout, Protocol or Shutdown.</exception>
    public async Task<TensorData> RequestAsync(NodeTicket ticket, string name, IProgress<TransferProgress>? progress, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(ticket);
        ArgumentException.ThrowIfNullOrEmpty(name);
        ThrowIfShutDown();
        _ = Started;
        RequestHeader request;
        try
        {
            request = RequestHeader.Pull(name);
        }
        catch (ArgumentException e)
        {
            throw new TensorProtocolException(TensorErrorKind.Serialization, e.Message, e);
        }
        byte[] header = request.ToFrame();
        long start = Stopwatch.GetTimestamp();
        ProgressReporter? reporter = null;
        return await WithConnectionAsync(ticket, async (connection, ct) =>
        {
            QuicStream stream = await OpenStreamAsync(connection, ct).ConfigureAwait(false);
            await using (stream.ConfigureAwait(false))
            {
                // The answer is proof enough that the request arrived: waiting for its acknowledgement first would add
                // the peer's ACK delay (a lone packet is acknowledged late, and not with the answer) to every pull.
                ValueTask requestWrite = stream.WriteAsync(header, completeWrites: true, ct);
                // The answer's header within RequestTimeout, then its payload within RequestTimeout + its size at
                // MinTransferRate: a peer that stalls (keep-alives hold its connection up) must not hold this call and its
                // buffer forever.
                using var deadline = CancellationTokenSource.CreateLinkedTokenSource(ct);
                TimeSpan limit = _options.RequestTimeout;
                deadline.CancelAfter(limit);
                try
                {
                    var reader = new FrameReader(stream);
                    var (response, error) = await FrameIO.ReadAsync<ResponseHeader>(reader, _options.MaxTensorBytes, deadline.Token).ConfigureAwait(false);
                    if (response is null)
                    {
                        TensorErrorKind kind = error.Status == ResponseStatus.TooLarge ? TensorErrorKind.TooLarge : TensorErrorKind.Protocol;
                        throw new TensorProtocolException(kind, $"{ticket.NodeId} answered the pull of '{name}' badly: {error.Message}");
                    }
                    if (response.Status != ResponseStatus.Ok || response.Tensor is null)
                    {
                        throw Refusal(ticket.NodeId, "pull", name, response);
                    }
                    long length = response.Tensor.ByteLength;
                    // One reporter across a redial, so reports never go backwards.
                    reporter?.Restart();
                    reporter ??= ProgressReporter.Start(progress, length, start, _options.ProgressInterval);
                    // Checked against MaxTensorBytes by the decoder before this single allocation.
                    using PayloadBuffer payload = AllocatePayload(length, _options.NativeReceiveThreshold, _receiveBuffers);
                    limit = TransferDeadline(length);
                    deadline.CancelAfter(limit);
                    if (!await reader.ReadPayloadAsync(payload, reporter, deadline.Token).ConfigureAwait(false) || !await reader.AtEndAsync(deadline.Token).ConfigureAwait(false))
                    {
                        throw new TensorProtocolException(TensorErrorKind.Protocol, $"{ticket.NodeId} sent a payload of the wrong length for '{name}'.");
                    }
                    if (response.Tensor.DType == DType.BOOL && !payload.HoldsOnlyBooleans())
                    {
                        throw new TensorProtocolException(TensorErrorKind.Protocol, $"{ticket.NodeId} sent a BOOL payload for '{name}' with bytes other than 0 and 1.");
                    }
                    _pool!.RecordTransfer(ticket.NodeId, length, pulled: true);
                    TensorData tensor = payload.ToTensor(response.Tensor);
                    try
                    {
                        reporter?.Complete();
                    }
                    catch
                    {
                        tensor.Dispose();
                        throw;
                    }
                    return tensor;
                }
                catch (OperationCanceledException) when (deadline.IsCancellationRequested && !ct.IsCancellationRequested)
                {
                    stream.Abort(QuicAbortDirection.Both, (long)ResponseStatus.BadRequest);
                    throw new TensorProtocolException(TensorErrorKind.Timeout, $"{ticket.NodeId} did not answer the pull of '{name}' within {limit.TotalSeconds:0.#} s.");
                }
                finally
                {
                    _ = Observe(requestWrite);
                }
            }
        }, cancellationToken).ConfigureAwait(false);
    }

    /// <summary>
    /// How long a push may wait for its answer: the receiver's header and payload deadlines (RequestTimeout, then
    /// RequestTimeout + the size at MinTransferRate) plus a queue wait (<see cref="TensorNodeOptions.QueueWaitTimeout"/>), this node's
    /// own settings standing in for the peer's. A safety net against a peer that never answers, not a tight bound.
    /// </summary>
    private TimeSpan PushAnswerDeadline(long bytes) =>
        TransferDeadline(_options.RequestTimeout * 2 + Min(_options.QueueWaitTimeout, TimeSpan.FromDays(30)), bytes, _options.MinTransferRate);

    private static TimeSpan Min(TimeSpan a, TimeSpan b) => a < b ? a : b;

    /// <summary>
    /// Opens the operation's stream. A pooled connection closed under the operation (another one found it dead, or
    /// the node is shutting down) is a connection failure, not an <see cref="ObjectDisposedException"/> for the caller.
    /// </summary>
    private static async ValueTask<QuicStream> OpenStreamAsync(QuicConnection connection, CancellationToken cancellationToken)
    {
        try
        {
            return await connection.OpenOutboundStreamAsync(QuicStreamType.Bidirectional, cancellationToken).ConfigureAwait(false);
        }
        catch (ObjectDisposedException e)
        {
            throw new QuicException(QuicErrorKind.ConnectionAborted, "The connection was closed.", innerException: e);
        }
    }

    /// <summary>Allocates a payload destination; memory refused by the system is this node's failure, not the peer's.</summary>
    private static PayloadBuffer AllocatePayload(long length, long nativeThreshold, ReceiveBufferPool? pool)
    {
        try
        {
            return PayloadBuffer.Allocate(length, nativeThreshold, pool);
        }
        catch (OutOfMemoryException e)
        {
            throw new TensorProtocolException(TensorErrorKind.Io, $"No memory for a payload of {length} bytes: {e.Message}", e);
        }
    }

    /// <summary>
    /// Runs <paramref name="operation"/> on the pooled connection to the ticket's node. A pooled connection that turns
    /// out dead (it was reused, and failed before the peer answered) is dropped and the operation retried once on a
    /// fresh one; every other failure maps to a <see cref="TensorProtocolException"/>.
    /// </summary>
    private async Task<T> WithConnectionAsync<T>(NodeTicket ticket, Func<QuicConnection, CancellationToken, Task<T>> operation, CancellationToken cancellationToken, Func<ValueTask<bool>>? mayRetry = null)
    {
        using var linked = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken, _shutdown.Token);
        CancellationToken ct = linked.Token;
        for (int attempt = 0; ; attempt++)
        {
            ConnectionPool.Lease lease;
            try
            {
                lease = await _pool!.GetAsync(ticket, ct).ConfigureAwait(false);
            }
            catch (OperationCanceledException) when (_shutdown.IsCancellationRequested)
            {
                throw ShutDownError();
            }
            catch (ObjectDisposedException)
            {
                throw ShutDownError();
            }
            // Held for the whole operation: the pool closes no connection for idleness or size while it is in use.
            using (lease)
            {
                QuicConnection connection = lease.Connection;
                try
                {
                    return await operation(connection, ct).ConfigureAwait(false);
                }
                catch (QuicException e) when (e.Scope == QuicErrorScope.Connection || connection.IsClosed)
                {
                    _pool.Invalidate(ticket.NodeId, connection);
                    if (lease.Reused && attempt == 0 && !_shutdown.IsCancellationRequested && e.Kind != QuicErrorKind.OperationAborted
                        && (mayRetry is null || await mayRetry().ConfigureAwait(false)))
                    {
                        continue; // the pooled connection had died (idle timeout, peer restart): redial once
                    }
                    throw MapConnectionError(ticket.NodeId, e);
                }
                catch (QuicException e)
                {
                    throw new TensorProtocolException(TensorErrorKind.Connection, $"The operation with {ticket.NodeId} failed: {e.Message}", e);
                }
                catch (OperationCanceledException) when (_shutdown.IsCancellationRequested && !cancellationToken.IsCancellationRequested)
                {
                    throw ShutDownError();
                }
            }
        }
    }

    private TensorProtocolException MapConnectionError(NodeId peer, QuicException e)
    {
        if (_shutdown.IsCancellationRequested)
        {
            return ShutDownError();
        }
        TensorErrorKind kind = e.Kind switch
        {
            QuicErrorKind.Timeout or QuicErrorKind.IdleTimeout => TensorErrorKind.Timeout,
            QuicErrorKind.ProtocolViolation or QuicErrorKind.AlpnMismatch => TensorErrorKind.Protocol,
            _ => TensorErrorKind.Connection,
        };
        return new TensorProtocolException(kind, $"The connection to {peer} failed: {e.Message}", e);
    }

    private static TensorProtocolException Refusal(NodeId peer, string operation, string name, ResponseHeader response)
    {
        TensorErrorKind kind = response.Status switch
        {
            ResponseStatus.NotFound => TensorErrorKind.NotFound,
            ResponseStatus.NotAllowed => TensorErrorKind.NotAllowed,
            ResponseStatus.TooLarge => TensorErrorKind.TooLarge,
            ResponseStatus.QueueFull => TensorErrorKind.QueueFull,
            ResponseStatus.ShuttingDown => TensorErrorKind.Shutdown,
            ResponseStatus.Ok => TensorErrorKind.Protocol, // Ok without the tensor a pull needs
            _ => TensorErrorKind.Protocol,
        };
        return new TensorProtocolException(kind, $"{peer} refused the {operation} of '{name}': {response.Status} ({response.Message}).");
    }

    /// <inheritdoc cref="Observe(ValueTask)"/>
    private static Task Observe(Task writes) => Observe(new ValueTask(writes));

    /// <summary>Takes a write's outcome once the operation no longer depends on it (the peer stopped reading, say).</summary>
    private static async Task Observe(ValueTask write)
    {
        try
        {
            await write.ConfigureAwait(false);
        }
        catch (Exception e) when (e is QuicException or OperationCanceledException)
        {
            // Expected once the peer refused (it stopped reading), or once the answer made the write moot.
        }
    }
}
