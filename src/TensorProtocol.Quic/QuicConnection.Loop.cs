using System.Text;
using Microsoft.Extensions.Logging;
using TensorProtocol.Quic.Interop;
using TensorProtocol.Quic.Internal;
using TensorProtocol.Quic.Native;

namespace TensorProtocol.Quic;

// The connection's life on the loop thread: packets in, packets out, streams, close. Loop thread only.
public sealed unsafe partial class QuicConnection
{
    private enum State
    {
        Handshaking,
        Connected,
        Closing,   // we sent CONNECTION_CLOSE; answer stragglers with it until the deadline
        Draining,  // the peer closed; stay silent until the deadline
        Released,
    }

    private const int MaxVectors = 16;

    // What one GSO send may carry: a UDP payload of at most 65535 less the IPv4 and UDP headers (65507; IPv6 allows
    // 65527). A batch of 64 KiB (16 packets of 4096 bytes, 8 of 8192, ...) is refused whole with EMSGSIZE.
    private const int MaxBatchBytes = 65507;

    private State _state;
    private readonly Dictionary<long, QuicStream> _streams = [];
    private readonly Queue<QuicStream> _sendQueue = new();
    private readonly List<QuicStream> _readReady = [];
    private readonly List<QuicStream> _arrivedStreams = []; // peer-opened during this batch, not yet offered
    private readonly Queue<(QuicStreamType Type, CompletionSource<QuicStream> Source)> _pendingOpens = new();
    private readonly List<ConnectionIdKey> _cids = [];
    private bool _streamCreditChanged;
    private string? _authFailure;
    private bool _peerVerified;
    private byte[]? _closePacket;
    private int _packetsWhileClosing;
    private long _bytesSent, _bytesReceived, _packetsSent, _packetsReceived, _lostFramesOfClosedStreams;
    internal ulong Deadline;            // when Closing/Draining ends
    internal bool Dirty;                // in the endpoint's list of connections to write
    internal bool Touched;              // in the endpoint's list of connections that received packets
    internal int PendingAcceptFlag;     // 1 while this server connection counts against the accept queue
    internal bool QueuedForAccept;      // handed to the accept channel: its place is released when the application takes it
    internal bool RetryRequested;       // ngtcp2 said NGTCP2_ERR_RETRY: the endpoint answers with a Retry, the state goes
    internal UInt128? HandshakeSource;  // counted against its source's validated handshakes until the handshake ends
    // The endpoint's bookkeeping (QuicEndpoint.Timers.cs): the expiry its timer heap holds for this connection, whether
    // something since may have moved it, whether it is in the list of terminated connections, and its index in the list
    // of all connections.
    internal ulong ScheduledExpiry = ulong.MaxValue;
    internal bool TimerMayHaveMoved;
    internal bool InTerminatedList;
    internal int ListIndex = -1;
    internal QuicEndpoint.TimerSlot? TimerSlot;

    internal IReadOnlyList<ConnectionIdKey> ConnectionIds => _cids;

    internal bool IsReleased => _state == State.Released;

    internal bool IsTerminated => _state is State.Closing or State.Draining or State.Released;

    internal bool IsHandshaking => _state == State.Handshaking;

    // ---- handshake ----

    private void OnHandshakeCompleted()
    {
        // GnuTLS enforces a mandatory ALPN only when the peer sends the extension at all: one that leaves it out would
        // otherwise complete the handshake with no protocol agreed (RFC 9001 §8.1 says fail it).
        NegotiatedApplicationProtocol = ReadSelectedAlpn()
            ?? throw new QuicException(QuicErrorKind.AlpnMismatch, "The peer negotiated no application protocol (it sent no ALPN).");
        if (!_peerVerified)
        {
            throw new QuicException(QuicErrorKind.AuthenticationFailed, "The handshake completed without a verified peer certificate.");
        }
        if (IsServer)
        {
            // The server completes only after the client's Certificate, CertificateVerify and Finished: the client
            // is authenticated, and only now may anything it sent reach the application.
            _state = State.Connected;
            PublishStreamCredit();
            Log.HandshakeCompleted(_logger, LogId, RemoteEndPoint, RemotePublicKey);
            _endpoint.EnqueueAccepted(this);
        }
    }

    private void OnHandshakeConfirmed()
    {
        if (!IsServer && _state == State.Handshaking)
        {
            // HANDSHAKE_DONE: the server has verified our certificate too, so the connection is really usable.
            _state = State.Connected;
            PublishStreamCredit();
            Log.HandshakeCompleted(_logger, LogId, RemoteEndPoint, RemotePublicKey);
            _connectSource?.TrySetResult(this);
            _connectSource = null;
        }
    }

    // ---- streams ----

    private void OnRemoteStreamOpened(long streamId)
    {
        // A stream opens every lower-numbered one of its type with it: the count comes from the ID.
        bool bidi = (streamId & 0x2) == 0;
        ref RemoteStreamCredit credit = ref bidi ? ref _remoteBidiCredit : ref _remoteUniCredit;
        credit.Opened = Math.Max(credit.Opened, (streamId >> 2) + 1);
        GrantOwedStreamCredit(bidi, onlyIfLow: true);
        var stream = new QuicStream(this, streamId, isLocal: false);
        _streams[streamId] = stream;
        // Offered after the batch (OfferArrivedStreams), when it is known whether all its data came with it.
        _arrivedStreams.Add(stream);
    }

    /// <summary>
    /// Offers the streams the peer opened in this batch: a complete one to <see cref="InboundStreamHandler"/>
    /// first, then to the accept queue.
    /// </summary>
    private void OfferArrivedStreams()
    {
        Func<QuicStream, bool>? handler = InboundStreamHandler;
        foreach (QuicStream stream in _arrivedStreams)
        {
            if (handler is not null && _state == State.Connected && stream.HasAllData && TryHandleOnLoop(handler, stream))
            {
                OnStreamAccepted(stream);
                continue;
            }
            _incomingStreams.Writer.TryWrite(stream);
        }
        _arrivedStreams.Clear();
    }

    private bool TryHandleOnLoop(Func<QuicStream, bool> handler, QuicStream stream)
    {
        try
        {
            return handler(stream);
        }
        catch (Exception e)
        {
            // Never into the loop: whatever the handler already took from the stream cannot be offered again.
            Log.InboundStreamHandlerFailed(_logger, LogId, stream.Id, e);
            stream.Abort(QuicAbortDirection.Both, InternalErrorCode);
            return true;
        }
    }

    private void OnStreamData(long streamId, byte* data, int length, bool fin)
    {
        if (_streams.TryGetValue(streamId, out QuicStream? stream))
        {
            stream.OnData(data, length, fin);
        }
    }

    private void OnStreamClosed(long streamId, long? errorCode)
    {
        // Still known to ngtcp2 inside this callback: keep its loss count for the connection's statistics.
        _lostFramesOfClosedStreams += (long)ngtcp2.ngtcp2_conn_get_stream_loss_count(Conn, streamId);
        if (_streams.Remove(streamId, out QuicStream? stream))
        {
            stream.OnClosed(errorCode);
            if (!stream.IsLocal)
            {
                // ngtcp2 does not raise the peer's stream limit by itself. Grant a new stream only once this one is
                // closed *and* the application took it, so unaccepted streams cannot pile up without bound.
                stream.StreamCreditOwed = true;
                if (stream.Accepted)
                {
                    GrantStreamCredit(stream);
                }
            }
        }
    }

    private void GrantStreamCredit(QuicStream stream)
    {
        if (!stream.StreamCreditOwed || _state is not (State.Handshaking or State.Connected))
        {
            return;
        }
        stream.StreamCreditOwed = false;
        // Granting it at once costs an ack-eliciting packet of its own whenever nothing else is being sent — for a
        // request/response peer whose next request came too late to carry the acknowledgement of our answer, a
        // datagram, its acknowledgement and a wake-up of each loop per request. So owed credit rides along with the
        // next packet that carries stream data (WritePackets), and goes on its own only once the peer has less than
        // half its limit left; the peer always has at least that many in hand.
        bool bidi = stream.Type == QuicStreamType.Bidirectional;
        (bidi ? ref _remoteBidiCredit : ref _remoteUniCredit).Owed++;
        GrantOwedStreamCredit(bidi, onlyIfLow: true);
    }

    /// <summary>
    /// Grants the peer what we owe it for streams of one type: always, or with <paramref name="onlyIfLow"/> only once
    /// it has less than half its limit left.
    /// </summary>
    private void GrantOwedStreamCredit(bool bidi, bool onlyIfLow)
    {
        ref RemoteStreamCredit credit = ref bidi ? ref _remoteBidiCredit : ref _remoteUniCredit;
        if (credit.Owed == 0)
        {
            return; // the usual case on every write: nothing owed
        }
        int limit = bidi ? Options.MaxInboundBidirectionalStreams : Options.MaxInboundUnidirectionalStreams;
        if (onlyIfLow && credit.Limit - credit.Opened >= Math.Max(1, limit / 2))
        {
            return;
        }
        if (bidi)
        {
            ngtcp2.ngtcp2_conn_extend_max_streams_bidi(Conn, (nuint)credit.Owed);
        }
        else
        {
            ngtcp2.ngtcp2_conn_extend_max_streams_uni(Conn, (nuint)credit.Owed);
        }
        credit.Limit += credit.Owed;
        credit.Owed = 0;
        if (onlyIfLow)
        {
            _endpoint.MarkDirty(this); // on its own: a write must carry it (the other caller is writing already)
        }
    }

    /// <summary>The peer's streams of one type: how many it may open in all, has opened, and we owe it for closed ones.</summary>
    private struct RemoteStreamCredit
    {
        public long Limit;
        public long Opened;
        public long Owed;
    }

    private RemoteStreamCredit _remoteBidiCredit;
    private RemoteStreamCredit _remoteUniCredit;

    /// <summary>The peer's bidirectional stream credit, read on the loop (for tests).</summary>
    internal ValueTask<(long Limit, long Opened, long Owed)> GetRemoteBidiCreditAsync()
    {
        var source = new CompletionSource<(long, long, long)>();
        Post(() => source.TrySetResult((_remoteBidiCredit.Limit, _remoteBidiCredit.Opened, _remoteBidiCredit.Owed)));
        return source.ValueTask;
    }

    /// <summary>The application took <paramref name="stream"/> from the accept queue.</summary>
    internal void OnStreamAccepted(QuicStream stream)
    {
        stream.Accepted = true;
        GrantStreamCredit(stream);
    }

    private void OpenStreamOnLoop(QuicStreamType type, CompletionSource<QuicStream> source)
    {
        if (source.IsCompleted)
        {
            // Cancelled before this ran (a QuicBatch held it while the cancellation was posted): open nothing.
            EndSlowOpen(type);
            return;
        }
        if (_terminalError is { } error)
        {
            source.TrySetException(error);
            EndSlowOpen(type);
            return;
        }
        if (_pendingOpens.Count > 0 || !TryOpen(type, source))
        {
            _pendingOpens.Enqueue((type, source));
            return;
        }
        EndSlowOpen(type);
    }

    private bool TryOpen(QuicStreamType type, CompletionSource<QuicStream> source)
    {
        long id;
        int rv = type == QuicStreamType.Bidirectional
            ? ngtcp2.ngtcp2_conn_open_bidi_stream(Conn, &id, null)
            : ngtcp2.ngtcp2_conn_open_uni_stream(Conn, &id, null);
        if (rv == ngtcp2.NGTCP2_ERR_STREAM_ID_BLOCKED)
        {
            return false;
        }
        if (rv != 0)
        {
            source.TrySetException(new QuicException(QuicErrorKind.InternalError, $"Could not open a stream: {QuicNative.Ngtcp2Error(rv)}."));
            return true;
        }
        var stream = new QuicStream(this, id, isLocal: true);
        _streams[id] = stream;
        if (type == QuicStreamType.Bidirectional)
        {
            PublishStreamCredit(openedId: id);
        }
        source.TrySetResult(stream);
        return true;
    }

    private void CancelOpen(CompletionSource<QuicStream> source, CancellationToken token)
    {
        if (source.TrySetException(new OperationCanceledException(token)))
        {
            // Left in the queue; TryOpenPending skips completed sources.
        }
    }

    private void TryOpenPending()
    {
        while (_pendingOpens.Count > 0 && _terminalError is null)
        {
            var (type, source) = _pendingOpens.Peek();
            if (source.IsCompleted)
            {
                _pendingOpens.Dequeue();
                EndSlowOpen(type);
                continue;
            }
            if (!TryOpen(type, source))
            {
                return;
            }
            _pendingOpens.Dequeue();
            EndSlowOpen(type);
        }
    }

    internal void ScheduleSend(QuicStream stream)
    {
        if (!stream.InSendQueue && !stream.Closed)
        {
            stream.InSendQueue = true;
            _sendQueue.Enqueue(stream);
        }
        _endpoint.MarkDirty(this);
    }

    internal void AddReadReady(QuicStream stream) => _readReady.Add(stream);

    /// <summary>Grants the peer the credit the application freed by reading (outside any ngtcp2 callback).</summary>
    internal void FlushCredit(QuicStream stream)
    {
        ulong n = stream.TakeCredit();
        if (n == 0 || _state is not (State.Handshaking or State.Connected))
        {
            return;
        }
        ngtcp2.ngtcp2_conn_extend_max_stream_offset(Conn, stream.Id, n);
        ngtcp2.ngtcp2_conn_extend_max_offset(Conn, n);
        _endpoint.MarkDirty(this);
    }

    /// <summary>
    /// Gives the peer back connection-level credit for stream data that will never be read (the stream failed or was
    /// discarded with bytes still buffered). Only the connection's window: the stream's no longer matters.
    /// </summary>
    internal void ReturnConnectionCredit(ulong n)
    {
        if (n == 0 || _state is not (State.Handshaking or State.Connected))
        {
            return;
        }
        ngtcp2.ngtcp2_conn_extend_max_offset(Conn, n);
        _endpoint.MarkDirty(this);
    }

    internal void ShutdownStreamWrite(long id, long errorCode)
    {
        if (_state is State.Handshaking or State.Connected)
        {
            ngtcp2.ngtcp2_conn_shutdown_stream_write(Conn, 0, id, (ulong)errorCode);
            _endpoint.MarkDirty(this);
        }
    }

    internal void ShutdownStreamRead(long id, long errorCode)
    {
        if (_state is State.Handshaking or State.Connected)
        {
            ngtcp2.ngtcp2_conn_shutdown_stream_read(Conn, 0, id, (ulong)errorCode);
            _endpoint.MarkDirty(this);
        }
    }

    // ---- packets in ----

    internal void OnPacket(ngtcp2.ngtcp2_path* path, byte* data, int length, ulong now)
    {
        switch (_state)
        {
            case State.Closing:
                // Answer a peer that keeps talking with our close again, exponentially less often.
                _packetsWhileClosing++;
                if (_closePacket is not null && (_packetsWhileClosing & (_packetsWhileClosing - 1)) == 0)
                {
                    _endpoint.SendRaw(_closePacket, path->remote.addr, (int)path->remote.addrlen);
                }
                return;
            case State.Draining:
            case State.Released:
                return;
        }
        _bytesReceived += length;
        _packetsReceived++;
        _pacingIdle = false;
        ngtcp2.ngtcp2_pkt_info pi = default;
        int rv = ngtcp2.ngtcp2_conn_read_pkt_versioned(Conn, path, ngtcp2.NGTCP2_PKT_INFO_V1, &pi, data, (nuint)length, now);
        if (rv != 0)
        {
            HandleError(rv, now);
            return;
        }
        _endpoint.MarkDirty(this);
    }

    /// <summary>After a batch of datagrams: completes reads, grants credit, opens streams that got credit.</summary>
    internal void AfterPackets()
    {
        if (_arrivedStreams.Count > 0)
        {
            OfferArrivedStreams();
        }
        if (_readReady.Count > 0)
        {
            foreach (QuicStream stream in _readReady)
            {
                stream.FlushRead();
                FlushCredit(stream);
            }
            _readReady.Clear();
        }
        if (_streamCreditChanged)
        {
            _streamCreditChanged = false;
            TryOpenPending();
            PublishStreamCredit();
        }
        ProbeBlockedStreams();
    }

    /// <summary>
    /// A stream blocked by flow control is not written, so it would never learn that the peer sent STOP_SENDING
    /// (ngtcp2 1.11 has no callback for it). After packets arrive, let each blocked stream with a waiting write try
    /// again: ngtcp2 answers STREAM_DATA_BLOCKED (still fine) or STREAM_SHUT_WR (stopped) without writing anything.
    /// </summary>
    private void ProbeBlockedStreams()
    {
        if (_blockedStreams == 0)
        {
            return;
        }
        foreach (QuicStream stream in _streams.Values)
        {
            if (stream.SendBlocked && stream.HasPendingWrites)
            {
                stream.OnSendUnblocked();
            }
        }
    }

    private int _blockedStreams;

    internal void OnStreamSendBlocked(bool blocked) => _blockedStreams += blocked ? 1 : -1;

    internal void OnExpiry(ulong now)
    {
        _pacingIdle = false;
        if (_state is State.Closing or State.Draining)
        {
            return;
        }
        int rv = ngtcp2.ngtcp2_conn_handle_expiry(Conn, now);
        if (rv != 0)
        {
            HandleError(rv, now);
            return;
        }
        _endpoint.MarkDirty(this);
    }

    internal ulong Expiry => _state switch
    {
        State.Closing or State.Draining => Deadline,
        State.Released => ulong.MaxValue,
        State.Connected when _pacingIdle => _expiryBeforePacing,
        _ => ngtcp2.ngtcp2_conn_get_expiry(_handle.Conn), // reading the timers does not move them
    };

    // Set after a write that left ngtcp2 nothing to send: its deadline then, without the pacing deadline the write
    // set. Any call that can move ngtcp2's timers (a packet in, a timer handled, another write) clears it.
    private bool _pacingIdle;
    private ulong _expiryBeforePacing;

    /// <summary>An ICMP "port unreachable" came back for this connection's peer.</summary>
    internal void OnUnreachable(ulong now)
    {
        if (_state == State.Handshaking && !IsServer)
        {
            Terminate(new QuicException(QuicErrorKind.ConnectionRefused, $"No QUIC endpoint is listening at {RemoteEndPoint} (port unreachable)."));
            EnterDeadline(State.Draining, now, 0);
        }
    }

    // ---- packets out ----

    /// <summary>Writes as many packets as congestion control, pacing and flow control allow, in GSO batches.</summary>
    internal void WritePackets(ulong now)
    {
        if (_state is not (State.Handshaking or State.Connected))
        {
            return;
        }
        _pacingIdle = false;
        if (_sendQueue.Count > 0 && _state == State.Connected)
        {
            // Stream data goes out now: the stream credit we owe the peer rides along at no cost.
            GrantOwedStreamCredit(bidi: true, onlyIfLow: false);
            GrantOwedStreamCredit(bidi: false, onlyIfLow: false);
        }
        long packetsBefore = _packetsSent;
        bool drained = false;
        byte* buffer = _endpoint.SendBuffer;
        ngtcp2.ngtcp2_path_storage* ps = _endpoint.PathStorage;
        ngtcp2.ngtcp2_vec* vecs = stackalloc ngtcp2.ngtcp2_vec[MaxVectors];
        int maxSize = (int)ngtcp2.ngtcp2_conn_get_path_max_tx_udp_payload_size(Conn);
        int batchCapacity = Math.Clamp(MaxBatchBytes / maxSize, 1, 64);
        // Pacing: write what the send quantum allows now; ngtcp2's expiry wakes us for the rest.
        nuint quantum = ngtcp2.ngtcp2_conn_get_send_quantum(Conn);
        int budget = (int)Math.Clamp((long)quantum / maxSize, 1, 1024);

        int batchLength = 0, segmentSize = 0, packets = 0;
        while (true)
        {
            QuicStream? stream = null;
            while (_sendQueue.Count > 0)
            {
                QuicStream candidate = _sendQueue.Peek();
                if (candidate.Closed || candidate.SendBlocked || !candidate.HasDataToSend)
                {
                    _sendQueue.Dequeue();
                    candidate.InSendQueue = false;
                    continue;
                }
                stream = candidate;
                break;
            }

            long streamId = -1;
            int vecCount = 0;
            uint flags = ngtcp2.NGTCP2_WRITE_STREAM_FLAG_MORE;
            bool fin = false;
            if (stream is not null)
            {
                streamId = stream.Id;
                vecCount = stream.FillVectors(vecs, MaxVectors, out fin);
                if (fin)
                {
                    flags |= ngtcp2.NGTCP2_WRITE_STREAM_FLAG_FIN;
                }
            }

            ngtcp2.ngtcp2_pkt_info pi = default;
            nint accepted = -1;
            // Room for a path MTU probe (up to MaxDatagramSize; the send buffer has that much slack past SendBufferSize):
            // ngtcp2 cuts ordinary packets to the path's size itself, but writes a probe only where it fits.
            nint n = ngtcp2.ngtcp2_conn_writev_stream_versioned(Conn, &ps->path, ngtcp2.NGTCP2_PKT_INFO_V1, &pi, buffer + batchLength, (nuint)Options.MaxDatagramSize, &accepted, flags, streamId, vecs, (nuint)vecCount, now);
            if (n < 0)
            {
                switch ((int)n)
                {
                    case ngtcp2.NGTCP2_ERR_WRITE_MORE:
                        stream!.OnWritten(accepted, fin);
                        RotateSendQueue(stream);
                        continue;
                    case ngtcp2.NGTCP2_ERR_STREAM_DATA_BLOCKED:
                        stream!.OnSendBlocked();
                        _sendQueue.Dequeue();
                        stream.InSendQueue = false;
                        continue; // dequeued, so this cannot spin
                    case ngtcp2.NGTCP2_ERR_STREAM_SHUT_WR:
                    case ngtcp2.NGTCP2_ERR_STREAM_NOT_FOUND:
                        _sendQueue.Dequeue();
                        stream!.InSendQueue = false;
                        // We did not shut it (HasDataToSend was true): the peer's STOP_SENDING did.
                        stream.OnPeerStoppedReading();
                        continue;
                    default:
                        Flush(buffer, batchLength, segmentSize, ps);
                        HandleError((int)n, now);
                        return;
                }
            }
            if (n == 0)
            {
                drained = stream is null; // no stream data offered, and ngtcp2 had nothing of its own left
                break;
            }
            if (stream is not null && accepted >= 0)
            {
                stream.OnWritten(accepted, fin);
                RotateSendQueue(stream);
            }
            _bytesSent += n;
            _packetsSent++;
            if (n > maxSize)
            {
                // A path MTU probe travels alone: in a GSO batch its size would become the segment size of the packets
                // after it, and a probe the local link refuses (EMSGSIZE) would take them down with it.
                Flush(buffer, batchLength, segmentSize, ps);
                Flush(buffer + batchLength, (int)n, (int)n, ps);
                batchLength = 0;
                packets = 0;
                if (--budget == 0)
                {
                    break;
                }
                continue;
            }
            if (packets == 0)
            {
                segmentSize = (int)n;
            }
            else if (n > segmentSize)
            {
                // GSO needs equal segments (the last may be shorter): send what we have, restart with this one.
                Flush(buffer, batchLength, segmentSize, ps);
                Buffer.MemoryCopy(buffer + batchLength, buffer, n, n);
                batchLength = 0;
                packets = 0;
                segmentSize = (int)n;
            }
            batchLength += (int)n;
            packets++;
            if (n < segmentSize || packets >= batchCapacity || batchLength + maxSize > MaxBatchBytes)
            {
                Flush(buffer, batchLength, segmentSize, ps);
                batchLength = 0;
                packets = 0;
            }
            if (--budget == 0)
            {
                break;
            }
        }
        Flush(buffer, batchLength, segmentSize, ps);
        if (drained && _packetsSent != packetsBefore && _state == State.Connected)
        {
            // The pacing deadline set below only spaces the next packet, and there is none: waking the loop for it (a
            // few microseconds after every request a parked loop's borrower sends) would cost a context switch per
            // request for nothing. ngtcp2 passed its pacing check in this batch, so its deadline now has none in it.
            _expiryBeforePacing = ngtcp2.ngtcp2_conn_get_expiry(Conn);
            _pacingIdle = true;
        }
        ngtcp2.ngtcp2_conn_update_pkt_tx_time(Conn, now);
    }

    private void RotateSendQueue(QuicStream stream)
    {
        // Round robin: a stream that still has data goes to the back so concurrent streams share the path.
        if (_sendQueue.Count > 1 && _sendQueue.Peek() == stream)
        {
            _sendQueue.Enqueue(_sendQueue.Dequeue());
        }
    }

    private void Flush(byte* buffer, int length, int segmentSize, ngtcp2.ngtcp2_path_storage* ps)
    {
        if (length > 0)
        {
            _endpoint.Socket.Send(buffer, length, segmentSize, ps->path.remote.addr, (int)ps->path.remote.addrlen);
        }
    }

    // ---- errors and close ----

    private void HandleError(int liberr, ulong now)
    {
        switch (liberr)
        {
            case ngtcp2.NGTCP2_ERR_DRAINING:
                Terminate(ErrorFromPeerClose());
                EnterDeadline(State.Draining, now, 3);
                return;
            case ngtcp2.NGTCP2_ERR_CLOSING:
                EnterDeadline(State.Closing, now, 3);
                return;
            case ngtcp2.NGTCP2_ERR_IDLE_CLOSE:
                Terminate(new QuicException(QuicErrorKind.IdleTimeout, $"The connection to {RemoteEndPoint} was idle for longer than {Options.IdleTimeout.TotalSeconds:0.###} s."));
                EnterDeadline(State.Draining, now, 0);
                return;
            case ngtcp2.NGTCP2_ERR_HANDSHAKE_TIMEOUT:
                Terminate(new QuicException(QuicErrorKind.Timeout, $"The handshake with {RemoteEndPoint} did not finish within {Options.HandshakeTimeout.TotalSeconds:0.###} s."));
                EnterDeadline(State.Draining, now, 0);
                return;
            case ngtcp2.NGTCP2_ERR_RETRY:
                // The client's first Initial held CRYPTO data that does not start at 0 (the start was lost or is late):
                // ngtcp2 wants its address validated before buffering it. No close (nothing is written for it); the
                // endpoint sends a Retry and this state goes at the end of the turn, so it neither holds a place nor
                // swallows the client's retransmissions.
                RetryRequested = true;
                Terminate(new QuicException(QuicErrorKind.ConnectionRefused, $"The first Initial from {RemoteEndPoint} was answered with a Retry."));
                EnterDeadline(State.Draining, now, 0);
                return;
            case ngtcp2.NGTCP2_ERR_DROP_CONN:
            case ngtcp2.NGTCP2_ERR_RECV_VERSION_NEGOTIATION:
            case ngtcp2.NGTCP2_ERR_VERSION_NEGOTIATION_FAILURE:
                Terminate(liberr == ngtcp2.NGTCP2_ERR_DROP_CONN
                    ? new QuicException(QuicErrorKind.ProtocolViolation, $"The connection to {RemoteEndPoint} was dropped: {QuicNative.Ngtcp2Error(liberr)}.")
                    : new QuicException(QuicErrorKind.VersionNegotiationFailed, $"{RemoteEndPoint} does not speak QUIC version 1."));
                EnterDeadline(State.Draining, now, 0);
                return;
        }

        ngtcp2.ngtcp2_ccerr ccerr;
        ngtcp2.ngtcp2_ccerr_default(&ccerr);
        QuicException error;
        if (liberr == ngtcp2.NGTCP2_ERR_CRYPTO)
        {
            byte alert = ngtcp2.ngtcp2_conn_get_tls_alert(Conn);
            ngtcp2.ngtcp2_ccerr_set_tls_alert(&ccerr, alert, null, 0);
            error = ErrorFromTls(alert, local: true);
        }
        else if (liberr == ngtcp2.NGTCP2_ERR_CALLBACK_FAILURE && _callbackFailure is not null)
        {
            error = _callbackFailure as QuicException ?? new QuicException(QuicErrorKind.InternalError, $"Internal error while processing a packet: {_callbackFailure.Message}", innerException: _callbackFailure);
            ngtcp2.ngtcp2_ccerr_set_liberr(&ccerr, liberr, null, 0);
        }
        else
        {
            ngtcp2.ngtcp2_ccerr_set_liberr(&ccerr, liberr, null, 0);
            error = new QuicException(QuicErrorKind.ProtocolViolation, $"QUIC error on the connection to {RemoteEndPoint}: {QuicNative.Ngtcp2Error(liberr)}.", transportErrorCode: ccerr.error_code);
        }
        SendClose(&ccerr, now);
        Terminate(error);
        EnterDeadline(State.Closing, now, 3);
    }

    private QuicException ErrorFromTls(byte alert, bool local)
    {
        if (_authFailure is not null)
        {
            return new QuicException(QuicErrorKind.AuthenticationFailed, $"Authentication of {RemoteEndPoint} failed: {_authFailure}.", transportErrorCode: ngtcp2.NGTCP2_CRYPTO_ERROR + alert);
        }
        return alert switch
        {
            120 => new QuicException(QuicErrorKind.AlpnMismatch, $"{RemoteEndPoint} speaks none of the application protocols [{string.Join(", ", _endpoint.Options.ApplicationProtocols)}].", transportErrorCode: ngtcp2.NGTCP2_CRYPTO_ERROR + alert),
            42 or 43 or 44 or 45 or 46 or 48 or 49 or 51 or 116 => new QuicException(QuicErrorKind.AuthenticationFailed, $"{(local ? "We" : "The peer")} rejected the {(local ? "peer's" : "our")} certificate during the handshake with {RemoteEndPoint} (TLS alert {alert}).", transportErrorCode: ngtcp2.NGTCP2_CRYPTO_ERROR + alert),
            _ => new QuicException(QuicErrorKind.ProtocolViolation, $"The TLS handshake with {RemoteEndPoint} failed (TLS alert {alert}).", transportErrorCode: ngtcp2.NGTCP2_CRYPTO_ERROR + alert),
        };
    }

    private QuicException ErrorFromPeerClose()
    {
        ngtcp2.ngtcp2_ccerr* ccerr = ngtcp2.ngtcp2_conn_get_ccerr(Conn);
        string reason = ccerr->reasonlen > 0 ? Encoding.UTF8.GetString(ccerr->reason, (int)Math.Min(ccerr->reasonlen, 1024)) : "";
        string suffix = reason.Length > 0 ? $": {reason}" : "";
        if (ccerr->type == ngtcp2.ngtcp2_ccerr_type.NGTCP2_CCERR_TYPE_APPLICATION)
        {
            return new QuicException(QuicErrorKind.ConnectionAborted, $"The peer {RemoteEndPoint} closed the connection with error code {ccerr->error_code}{suffix}.", applicationErrorCode: (long)ccerr->error_code);
        }
        ulong code = ccerr->error_code;
        if (code >= ngtcp2.NGTCP2_CRYPTO_ERROR && code < ngtcp2.NGTCP2_CRYPTO_ERROR + 256)
        {
            return ErrorFromTls((byte)(code - ngtcp2.NGTCP2_CRYPTO_ERROR), local: false);
        }
        if (code == ngtcp2.NGTCP2_CONNECTION_REFUSED)
        {
            return new QuicException(QuicErrorKind.ConnectionRefused, $"{RemoteEndPoint} refused the connection{suffix}.", transportErrorCode: code);
        }
        if (code == ngtcp2.NGTCP2_NO_ERROR)
        {
            return new QuicException(QuicErrorKind.ConnectionAborted, $"The peer {RemoteEndPoint} closed the connection{suffix}.", applicationErrorCode: 0, transportErrorCode: code);
        }
        return new QuicException(QuicErrorKind.ProtocolViolation, $"The peer {RemoteEndPoint} closed the connection with transport error 0x{code:x}{suffix}.", transportErrorCode: code);
    }

    internal void CloseOnLoop(long errorCode, string? reason)
    {
        if (_state is not (State.Handshaking or State.Connected))
        {
            return;
        }
        ulong now = _endpoint.CurrentTime;
        byte[] reasonBytes = Encoding.UTF8.GetBytes(reason ?? "");
        if (reasonBytes.Length > 256)
        {
            Array.Resize(ref reasonBytes, 256);
        }
        ngtcp2.ngtcp2_ccerr ccerr;
        ngtcp2.ngtcp2_ccerr_default(&ccerr);
        fixed (byte* r = reasonBytes)
        {
            ngtcp2.ngtcp2_ccerr_set_application_error(&ccerr, (ulong)errorCode, r, (nuint)reasonBytes.Length);
            SendClose(&ccerr, now);
        }
        Terminate(new QuicException(QuicErrorKind.OperationAborted, $"The connection was closed locally with error code {errorCode}.", applicationErrorCode: errorCode));
        EnterDeadline(State.Closing, now, 3);
    }

    private void SendClose(ngtcp2.ngtcp2_ccerr* ccerr, ulong now)
    {
        byte* buffer = _endpoint.SendBuffer;
        ngtcp2.ngtcp2_path_storage* ps = _endpoint.PathStorage;
        ngtcp2.ngtcp2_pkt_info pi = default;
        nint n = ngtcp2.ngtcp2_conn_write_connection_close_versioned(Conn, &ps->path, ngtcp2.NGTCP2_PKT_INFO_V1, &pi, buffer, (nuint)Math.Max(ngtcp2.NGTCP2_MAX_UDP_PAYLOAD_SIZE, (int)ngtcp2.ngtcp2_conn_get_path_max_tx_udp_payload_size(Conn)), ccerr, now);
        if (n > 0)
        {
            _closePacket = new ReadOnlySpan<byte>(buffer, (int)n).ToArray();
            _endpoint.Socket.Send(buffer, (int)n, (int)n, ps->path.remote.addr, (int)ps->path.remote.addrlen);
        }
    }

    private void EnterDeadline(State state, ulong now, int ptoMultiple)
    {
        _state = state;
        ulong pto = ptoMultiple == 0 ? 0 : ngtcp2.ngtcp2_conn_get_pto(Conn);
        Deadline = now + ((ulong)ptoMultiple * pto);
        _endpoint.OnTerminated(this);
        _endpoint.MarkDirty(this);
    }

    /// <summary>Fails everything pending with <paramref name="error"/>; the first error wins.</summary>
    internal void Terminate(QuicException error)
    {
        if (_terminalError is not null)
        {
            return;
        }
        _terminalError = error;
        Log.ConnectionTerminated(_logger, LogId, RemoteEndPoint, error.Kind, error.Message);
        _connectSource?.TrySetException(error);
        _connectSource = null;
        _incomingStreams.Writer.TryComplete();
        while (_pendingOpens.Count > 0)
        {
            var (type, source) = _pendingOpens.Dequeue();
            source.TrySetException(error);
            EndSlowOpen(type);
        }
        lock (_openLock)
        {
            _claimableBidi = 0;
        }
        foreach (QuicStream stream in _streams.Values)
        {
            stream.OnConnectionTerminated(error);
        }
        _sendQueue.Clear();
        _readReady.Clear();
        _arrivedStreams.Clear();
    }

    /// <summary>Ends the connection for good: fails what is pending and frees native state. Loop thread.</summary>
    internal void Release(QuicException error)
    {
        if (_state == State.Released)
        {
            return;
        }
        Terminate(error);
        _streams.Clear();
        _state = State.Released;
        ReleaseNative();
    }

    /// <summary>The endpoint is going away: tell the peer, then release.</summary>
    internal void CloseForShutdown()
    {
        CloseOnLoop(0, "endpoint disposed");
    }

    private QuicConnectionStatistics ReadStatistics()
    {
        if (_state == State.Released)
        {
            return new QuicConnectionStatistics { BytesSent = _bytesSent, BytesReceived = _bytesReceived, PacketsSent = _packetsSent, PacketsReceived = _packetsReceived, StreamFramesLost = _lostFramesOfClosedStreams };
        }
        ngtcp2.ngtcp2_conn_info info;
        ngtcp2.ngtcp2_conn_get_conn_info_versioned(Conn, ngtcp2.NGTCP2_CONN_INFO_V1, &info);
        long lost = _lostFramesOfClosedStreams;
        foreach (long id in _streams.Keys)
        {
            lost += (long)ngtcp2.ngtcp2_conn_get_stream_loss_count(Conn, id);
        }
        return new QuicConnectionStatistics
        {
            SmoothedRtt = TimeSpan.FromTicks((long)(info.smoothed_rtt / 100)),
            MinRtt = TimeSpan.FromTicks((long)(info.min_rtt / 100)),
            LatestRtt = TimeSpan.FromTicks((long)(info.latest_rtt / 100)),
            CongestionWindow = (long)info.cwnd,
            BytesInFlight = (long)info.bytes_in_flight,
            BytesSent = _bytesSent,
            BytesReceived = _bytesReceived,
            PacketsSent = _packetsSent,
            PacketsReceived = _packetsReceived,
            StreamFramesLost = lost,
            MaxDatagramSize = (int)ngtcp2.ngtcp2_conn_get_path_max_tx_udp_payload_size(Conn),
        };
    }
}
