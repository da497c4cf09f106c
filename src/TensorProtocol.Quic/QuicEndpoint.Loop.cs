using System.Buffers.Binary;
using System.Net;
using System.Runtime.ExceptionServices;
using System.Runtime.InteropServices;
using System.Security.Cryptography;
using Microsoft.Extensions.Logging;
using TensorProtocol.Quic.Interop;
using TensorProtocol.Quic.Internal;
using TensorProtocol.Quic.Native;

namespace TensorProtocol.Quic;

// The loop thread: receive, route by connection ID, run timers, write, reap. Everything here is loop-only.
public sealed unsafe partial class QuicEndpoint
{
    private readonly List<QuicConnection> _connections = [];
    private readonly Dictionary<ConnectionIdKey, QuicConnection> _byCid = [];
    private readonly List<QuicConnection> _dirty = [];
    private readonly List<QuicConnection> _touched = [];
    private readonly byte[] _resetSecret = new byte[32];
    // Validated handshakes in progress per source (MaxHandshakesPerAddress), and first packets dropped for that limit.
    private readonly Dictionary<UInt128, int> _validatedHandshakes = [];
    private long _handshakesDeferred;
    private bool _shuttingDown;
    private ulong _resetWindowStart;
    private int _resetsInWindow;

    private const int MaxStatelessResetsPerSecond = 100;

    /// <summary>
    /// The loop's clock. ngtcp2 asserts that a connection never sees time go backwards, so every timestamp handed
    /// to it comes from here, and this only moves forward.
    /// </summary>
    internal ulong CurrentTime { get; private set; }

    private ulong Tick()
    {
        ulong now = QuicNative.Now();
        if (now > CurrentTime)
        {
            CurrentTime = now;
        }
        return CurrentTime;
    }
    private const int MaxReceiveBatchesPerTurn = 1;

    // False only right after a ppoll that reported the socket without datagrams (see ReceiveAll).
    private bool _socketMayBeReadable = true;

    private void Run()
    {
        Exception? failure = null;
        // Pacing sleeps are often tens of microseconds; the default 50 µs timer slack would stretch every one of them.
        libc.prctl(libc.PR_SET_TIMERSLACK, 1, 0, 0, 0);
        _turn.Enter();
        try
        {
            var received = new UdpSocket.Received[UdpSocket.BatchSize];
            while (true)
            {
                Tick();
                DrainWork();
                if (_shuttingDown && AllReleasedOrClosing())
                {
                    break;
                }
                ReceiveAll(received);
                AfterReceiveForTests?.Invoke();
                // What the packets set off on this thread (a stream handler's answer, credit for what it read) goes
                // out with their acknowledgements rather than in packets of its own.
                DrainWork();
                ulong now = Tick();
                RunTimers(now);
                WriteDirty(now);
                Reap(now);
                Wait();
            }
        }
        catch (Exception e)
        {
            failure = e;
            Log.LoopFailed(_logger, LocalEndPoint, e);
        }
        finally
        {
            try
            {
                Cleanup(failure);
            }
            finally
            {
                _turn.Exit();
            }
        }
    }

    private void DrainWork()
    {
        while (_work.TryDequeue(out Action? work))
        {
            work();
        }
    }

    private void ReceiveAll(UdpSocket.Received[] received)
    {
        if (!_socketMayBeReadable)
        {
            // ppoll just said the socket had nothing (the wake was a post or a timer): skip a recvmmsg that would only
            // say EAGAIN. A datagram landing since then keeps the socket readable, so the next ppoll returns at once.
            _socketMayBeReadable = true;
            return;
        }
        for (int round = 0; round < MaxReceiveBatchesPerTurn; round++)
        {
            int n = Socket.ReceiveBatch(received);
            if (n == 0)
            {
                break;
            }
            ulong now = Tick();
            for (int i = 0; i < n; i++)
            {
                ref UdpSocket.Received r = ref received[i];
                for (int offset = 0; offset < r.Length; offset += r.SegmentSize)
                {
                    OnDatagram(r.Data + offset, Math.Min(r.SegmentSize, r.Length - offset), r.Address, r.AddressLength, now);
                }
            }
            foreach (QuicConnection c in _touched)
            {
                c.Touched = false;
                if (!c.IsReleased)
                {
                    c.AfterPackets();
                }
            }
            _touched.Clear();
            if (n < UdpSocket.BatchSize)
            {
                break;
            }
        }
    }

    private void OnDatagram(byte* data, int length, byte* address, int addressLength, ulong now)
    {
        ngtcp2.ngtcp2_version_cid vc;
        int rv = ngtcp2.ngtcp2_pkt_decode_version_cid(&vc, data, (nuint)length, QuicConnection.ConnectionIdLength);
        if (rv == ngtcp2.NGTCP2_ERR_VERSION_NEGOTIATION)
        {
            SendVersionNegotiation(&vc, address, addressLength);
            return;
        }
        if (rv != 0 || vc.dcidlen > ngtcp2.NGTCP2_MAX_CIDLEN)
        {
            return; // not QUIC, or garbage: drop silently
        }
        var key = new ConnectionIdKey(new ReadOnlySpan<byte>(vc.dcid, (int)vc.dcidlen));
        ngtcp2.ngtcp2_path path = default;
        path.local.addr = LocalAddress;
        path.local.addrlen = (uint)LocalAddressLength;
        path.remote.addr = address;
        path.remote.addrlen = (uint)addressLength;
        if (_byCid.TryGetValue(key, out QuicConnection? connection))
        {
            connection.OnPacket(&path, data, length, now);
            Touch(connection);
            if (connection.RetryRequested)
            {
                RetryAfterRequest(connection, data, length, address, addressLength, now);
            }
            return;
        }
        if ((data[0] & 0x80) != 0)
        {
            TryAccept(&path, data, length, address, addressLength, now);
        }
        else
        {
            SendStatelessReset(&vc, length, address, addressLength, now);
        }
    }

    private void TryAccept(ngtcp2.ngtcp2_path* path, byte* data, int length, byte* address, int addressLength, ulong now)
    {
        if (!Options.AcceptIncomingConnections || _shuttingDown)
        {
            return;
        }
        ngtcp2.ngtcp2_pkt_hd hd;
        if (ngtcp2.ngtcp2_accept(&hd, data, (nuint)length) != 0 || hd.type != ngtcp2.NGTCP2_PKT_INITIAL)
        {
            return; // not a valid first Initial (ngtcp2 also checks the 1200-byte minimum and the 8-byte minimum DCID)
        }
        int waiting = Volatile.Read(ref _pendingAccepts);
        if (waiting >= Options.AcceptQueueCapacity || _connections.Count >= Options.MaxConnections)
        {
            // Bounded: a flood of handshakes gets CONNECTION_REFUSED, not memory.
            SendStatelessClose(&hd, ngtcp2.NGTCP2_CONNECTION_REFUSED, address, addressLength, "the accept queue is full");
            return;
        }
        TokenCheck token = CheckToken(&hd, address, addressLength, now, out ngtcp2.ngtcp2_cid originalDcid);
        if (token == TokenCheck.Invalid)
        {
            Interlocked.Increment(ref _invalidTokens);
            SendStatelessClose(&hd, ngtcp2.NGTCP2_INVALID_TOKEN, address, addressLength, "its address validation token is invalid or expired");
            return;
        }
        if (token == TokenCheck.None && waiting >= Options.RetryThreshold)
        {
            SendRetry(&hd, address, addressLength, now);
            return;
        }
        UInt128? source = null;
        if (token == TokenCheck.Valid)
        {
            source = HandshakeSourceKey(address);
            // Beyond its allowance a source may still take up to half of the places that are free: a burst of honest
            // clients behind one address (a NAT, a cloud subnet's /64) is not held to a few per retransmission round
            // while the queue is empty, and one source that stalls still holds at most about a third of the queue.
            int allowance = Math.Max(Options.MaxHandshakesPerAddress, (Options.AcceptQueueCapacity - waiting) / 2);
            if (_validatedHandshakes.GetValueOrDefault(source.Value) >= allowance)
            {
                _handshakesDeferred++; // dropped: the client's retransmission may find a place
                LogDeferred(address, now);
                return;
            }
        }
        QuicConnection connection;
        try
        {
            connection = QuicConnection.CreateServer(this, &hd, address, addressLength, token == TokenCheck.Valid ? &originalDcid : null, _logger);
        }
        catch (QuicException e)
        {
            Log.ConnectionRefused(_logger, SocketAddressNative.Read(address), e.Message);
            return;
        }
        connection.PendingAcceptFlag = 1;
        Interlocked.Increment(ref _pendingAccepts);
        if (source is { } key)
        {
            connection.HandshakeSource = key;
            _validatedHandshakes[key] = _validatedHandshakes.GetValueOrDefault(key) + 1;
        }
        AddConnection(connection);
        connection.OnPacket(path, data, length, now);
        Touch(connection);
        if (connection.RetryRequested)
        {
            RetryAfterRequest(connection, data, length, address, addressLength, now);
        }
    }

    // ngtcp2 answered a client's Initial with NGTCP2_ERR_RETRY: validate the address statelessly (the connection is
    // already draining and goes at the end of the turn).
    private void RetryAfterRequest(QuicConnection connection, byte* data, int length, byte* address, int addressLength, ulong now)
    {
        connection.RetryRequested = false;
        ngtcp2.ngtcp2_pkt_hd hd;
        if (ngtcp2.ngtcp2_accept(&hd, data, (nuint)length) == 0 && hd.type == ngtcp2.NGTCP2_PKT_INITIAL)
        {
            SendRetry(&hd, address, addressLength, now);
        }
    }

    private void SendStatelessReset(ngtcp2.ngtcp2_version_cid* vc, int length, byte* address, int addressLength, ulong now)
    {
        // A reset must be shorter than what provoked it (no amplification, no reset loops) and rate limited.
        const int minimumLength = 1 + QuicConnection.ConnectionIdLength + ngtcp2.NGTCP2_MIN_STATELESS_RESET_RANDLEN + ngtcp2.NGTCP2_STATELESS_RESET_TOKENLEN + 4;
        if (length < minimumLength + 1 || vc->dcidlen != QuicConnection.ConnectionIdLength)
        {
            return;
        }
        if (now - _resetWindowStart > 1_000_000_000UL)
        {
            _resetWindowStart = now;
            _resetsInWindow = 0;
        }
        if (++_resetsInWindow > MaxStatelessResetsPerSecond)
        {
            return;
        }
        ngtcp2.ngtcp2_cid cid;
        new ReadOnlySpan<byte>(vc->dcid, (int)vc->dcidlen).CopyTo(new Span<byte>(cid.data, ngtcp2.NGTCP2_MAX_CIDLEN));
        cid.datalen = vc->dcidlen;
        byte* token = stackalloc byte[ngtcp2.NGTCP2_STATELESS_RESET_TOKENLEN];
        MakeResetToken(&cid, token);
        int randLength = Math.Min(length - 1 - ngtcp2.NGTCP2_STATELESS_RESET_TOKENLEN, 41);
        byte* rand = stackalloc byte[randLength];
        RandomNumberGenerator.Fill(new Span<byte>(rand, randLength));
        nint n = ngtcp2.ngtcp2_pkt_write_stateless_reset(SendBuffer, SendBufferSize, token, rand, (nuint)randLength);
        if (n > 0)
        {
            Socket.Send(SendBuffer, (int)n, (int)n, address, addressLength);
        }
    }

    private void SendVersionNegotiation(ngtcp2.ngtcp2_version_cid* vc, byte* address, int addressLength)
    {
        if (!Options.AcceptIncomingConnections)
        {
            return;
        }
        uint* versions = stackalloc uint[1];
        versions[0] = ngtcp2.NGTCP2_PROTO_VER_V1;
        byte unused = (byte)RandomNumberGenerator.GetInt32(256);
        // Swap the IDs: the reply goes back to the sender.
        nint n = ngtcp2.ngtcp2_pkt_write_version_negotiation(SendBuffer, SendBufferSize, unused, vc->scid, vc->scidlen, vc->dcid, vc->dcidlen, versions, 1);
        if (n > 0)
        {
            Socket.Send(SendBuffer, (int)n, (int)n, address, addressLength);
        }
    }

    private void WriteDirty(ulong now)
    {
        // A connection can become dirty again while writing (e.g. an error): iterate by index.
        for (int i = 0; i < _dirty.Count; i++)
        {
            QuicConnection c = _dirty[i];
            c.Dirty = false;
            if (!c.IsReleased)
            {
                c.WritePackets(now);
            }
        }
        _dirty.Clear();
    }

    private void RemoveConnection(QuicConnection c)
    {
        foreach (ConnectionIdKey key in c.ConnectionIds)
        {
            if (_byCid.TryGetValue(key, out QuicConnection? owner) && owner == c)
            {
                _byCid.Remove(key);
            }
        }
        RemoveFromList(c);
        EndHandshakeCount(c);
        // A connection waiting in the accept queue keeps its place until the application takes it (and finds it
        // closed): it is still in the channel, and releasing the place here would let a peer that connects and
        // closes, over and over, grow the queue of dead connections (and their buffered data) without bound.
        if (!c.QueuedForAccept && Interlocked.Exchange(ref c.PendingAcceptFlag, 0) == 1)
        {
            Interlocked.Decrement(ref _pendingAccepts);
        }
        c.Release(c.TerminalError ?? new QuicException(QuicErrorKind.OperationAborted, "The connection was released."));
    }

    private void Wait()
    {
        if (_dirty.Count > 0)
        {
            return;
        }
        if (_shuttingDown && AllReleasedOrClosing())
        {
            // The shutdown began after this turn's check at the top (DisposeAsync posted while the loop ran, and the
            // second drain took it): with no connection left there is no timer to wake for, so parking now would be
            // for good. The next turn's check ends the loop.
            return;
        }
        // Park first, then look at the queue: a post that lands after the look sees the flag and either runs the turn
        // itself (it can take the turn lock once we let go of it) or writes the eventfd.
        Interlocked.Exchange(ref _parked, 1);
        if (!_work.IsEmpty)
        {
            Volatile.Write(ref _parked, 0);
            return;
        }
        ulong next = NextExpiry();
        _parkedUntil = next;
        libc.pollfd* fds = stackalloc libc.pollfd[3];
        fds[0] = new libc.pollfd { fd = Socket.Fd, events = libc.POLLIN };
        fds[1] = new libc.pollfd { fd = (int)_eventFd.DangerousGetHandle(), events = libc.POLLIN };
        // Disarmed while the loop runs: only a borrowed turn arms it (an earlier deadline than this timeout).
        fds[2] = new libc.pollfd { fd = _wakeTimer?.Fd ?? -1, events = libc.POLLIN };
        libc.timespec timeout;
        libc.timespec* timeoutPointer = null;
        if (next != ulong.MaxValue)
        {
            ulong now = QuicNative.Now();
            ulong wait = next > now ? next - now : 0;
            timeout.tv_sec = (long)(wait / 1_000_000_000UL);
            timeout.tv_nsec = (long)(wait % 1_000_000_000UL);
            timeoutPointer = &timeout;
        }
        int rv;
        _turn.Exit();
        try
        {
            rv = libc.ppoll(fds, 3, timeoutPointer, null);
            Volatile.Write(ref _parked, 0);
        }
        finally
        {
            _turn.Enter();
        }
        if (_wakeTimer is { IsArmed: true } timer)
        {
            if (rv > 0 && (fds[2].revents & libc.POLLIN) != 0)
            {
                _wakeTimerFired++;
            }
            timer.Disarm(); // fired or not: the turn that follows recomputes every deadline
        }
        if (_borrowedTurnFailure is { } failure)
        {
            ExceptionDispatchInfo.Throw(failure);
        }
        if (rv < 0)
        {
            return; // interrupted: nothing is known about the socket
        }
        _socketMayBeReadable = (fds[0].revents & libc.POLLIN) != 0;
        if (rv == 0)
        {
            return;
        }
        if ((fds[0].revents & libc.POLLERR) != 0)
        {
            Socket.DrainErrors(OnIcmpError);
        }
        if ((fds[1].revents & libc.POLLIN) != 0)
        {
            ulong value;
            libc.read((int)_eventFd.DangerousGetHandle(), &value, sizeof(ulong));
        }
    }

    private void OnIcmpError(IPEndPoint destination, int errno)
    {
        // Only "port unreachable" ends a dial early: nothing listens there. Other ICMP errors (fragmentation needed,
        // TTL exceeded, host unreachable on one path) are often transient, and any of them can be spoofed by an
        // off-path host that knows our port: the handshake's own timeout decides those.
        if (errno != libc.ECONNREFUSED)
        {
            return;
        }
        ulong now = Tick();
        foreach (QuicConnection c in _connections)
        {
            if (!c.IsServer && c.IsHandshaking && c.RemoteEndPoint.Equals(destination))
            {
                c.OnUnreachable(now);
            }
        }
    }

    private void BeginShutdown()
    {
        _shuttingDown = true;
        _accepted.Writer.TryComplete();
        foreach (QuicConnection c in _connections)
        {
            c.CloseForShutdown();
        }
    }

    /// <summary>First packets dropped because their source had MaxHandshakesPerAddress validated handshakes in progress (for tests).</summary>
    internal long HandshakesDeferred => Interlocked.Read(ref _handshakesDeferred);

    /// <summary>Runs on the loop between receiving and the second drain of posted work (tests place a post there).</summary>
    internal Action? AfterReceiveForTests { get; set; }

    private bool AllReleasedOrClosing()
    {
        // Closing connections already told their peers; nothing more is owed to them on shutdown.
        foreach (QuicConnection c in _connections)
        {
            if (!c.IsTerminated)
            {
                return false;
            }
        }
        return true;
    }

    private void Cleanup(Exception? failure)
    {
        var error = failure is null
            ? new QuicException(QuicErrorKind.OperationAborted, "The endpoint was disposed.")
            : new QuicException(QuicErrorKind.InternalError, $"The endpoint loop failed: {failure.Message}", innerException: failure);
        for (int i = _connections.Count - 1; i >= 0; i--)
        {
            RemoveConnection(_connections[i]);
        }
        _timers.Clear();
        _timerMoved.Clear();
        _terminated.Clear();
        _accepted.Writer.TryComplete();
        while (_accepted.Reader.TryRead(out QuicConnection? c))
        {
            c.Release(error);
        }
        Socket.Dispose();
        Tls.Dispose();
        _eventFd.Dispose();
        _wakeTimer?.Dispose();
        NativeMemory.Free(LocalAddress);
        NativeMemory.AlignedFree(SendBuffer);
        NativeMemory.Free(PathStorage);
        if (_ownsIdentity)
        {
            _identity.Dispose();
        }
        Log.EndpointStopped(_logger, LocalEndPoint);
        Volatile.Write(ref _disposeRequested, 1);
        _stopped.TrySetResult();
        // Work queued while we were stopping still needs an answer; Post runs anything queued after this itself.
        DrainAfterStop();
    }

    /// <summary>
    /// Who a validated handshake counts against: an IPv4 address (also when it reaches an IPv6 socket mapped), the /64
    /// prefix of a routable IPv6 address — one host usually has a whole /64 to choose source addresses from — or a
    /// link-local address itself.
    /// </summary>
    internal static UInt128 HandshakeSourceKey(byte* address)
    {
        if (*(ushort*)address == libc.AF_INET)
        {
            return BinaryPrimitives.ReadUInt32BigEndian(new ReadOnlySpan<byte>(&((libc.sockaddr_in*)address)->sin_addr, 4));
        }
        var ip = new ReadOnlySpan<byte>(((libc.sockaddr_in6*)address)->sin6_addr, 16);
        if (ip[..10].IndexOfAnyExcept((byte)0) < 0 && ip[10] == 0xff && ip[11] == 0xff)
        {
            return BinaryPrimitives.ReadUInt32BigEndian(ip[12..]); // IPv4-mapped: the same key as the IPv4 address
        }
        if (ip[0] == 0xfe && (ip[1] & 0xc0) == 0x80)
        {
            // Link-local (fe80::/10): every neighbour on the link shares the /64, so each counts by its whole address
            // (no routable address's /64 key has a link-local high half, and IPv4 keys have none at all).
            return new UInt128(BinaryPrimitives.ReadUInt64BigEndian(ip), BinaryPrimitives.ReadUInt64BigEndian(ip[8..]));
        }
        // Above every IPv4 key: the prefix in the high half, a marker bit in the low one.
        return new UInt128(BinaryPrimitives.ReadUInt64BigEndian(ip), 1UL << 32);
    }

    // At most one line a second, with how many were deferred since the last one: an operator whose clients time out
    // learns why, and a flood does not become a flood of log lines.
    private void LogDeferred(byte* address, ulong now)
    {
        if (now - _deferredLoggedAt < 1_000_000_000UL && _deferredLoggedAt != 0)
        {
            return;
        }
        Log.HandshakesDeferred(_logger, _handshakesDeferred - _deferredLogged, SocketAddressNative.Read(address));
        _deferredLoggedAt = now;
        _deferredLogged = _handshakesDeferred;
    }

    private ulong _deferredLoggedAt;
    private long _deferredLogged;

    private void EndHandshakeCount(QuicConnection c)
    {
        if (c.HandshakeSource is not { } key)
        {
            return;
        }
        c.HandshakeSource = null;
        if (_validatedHandshakes.TryGetValue(key, out int count) && count > 1)
        {
            _validatedHandshakes[key] = count - 1;
        }
        else
        {
            _validatedHandshakes.Remove(key); // nothing kept for sources that have nothing in progress
        }
    }

    private void Touch(QuicConnection c)
    {
        if (!c.Touched)
        {
            c.Touched = true;
            _touched.Add(c);
        }
    }

    internal void MarkDirty(QuicConnection c)
    {
        if (!c.Dirty)
        {
            c.Dirty = true;
            _dirty.Add(c);
        }
    }

    internal void RegisterConnectionId(ConnectionIdKey key, QuicConnection connection) => _byCid[key] = connection;

    internal bool TryRegisterConnectionId(ConnectionIdKey key, QuicConnection connection) => _byCid.TryAdd(key, connection);

    internal void UnregisterConnectionId(ConnectionIdKey key, QuicConnection connection)
    {
        if (_byCid.TryGetValue(key, out QuicConnection? owner) && owner == connection)
        {
            _byCid.Remove(key);
        }
    }

    internal void MakeResetToken(ngtcp2.ngtcp2_cid* cid, byte* token)
    {
        fixed (byte* secret = _resetSecret)
        {
            if (ngtcp2_crypto.ngtcp2_crypto_generate_stateless_reset_token(token, secret, (nuint)_resetSecret.Length, cid) != 0)
            {
                throw new QuicException(QuicErrorKind.InternalError, "Could not derive a stateless reset token.");
            }
        }
    }

    internal void EnqueueAccepted(QuicConnection connection)
    {
        EndHandshakeCount(connection);
        connection.QueuedForAccept = true;
        if (!_accepted.Writer.TryWrite(connection))
        {
            connection.CloseOnLoop(0, "endpoint closing");
        }
    }

    internal void SendRaw(byte[] packet, void* address, int addressLength)
    {
        fixed (byte* p = packet)
        {
            Socket.Send(p, packet.Length, packet.Length, address, addressLength);
        }
    }
}
