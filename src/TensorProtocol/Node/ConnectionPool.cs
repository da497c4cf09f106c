using System.Diagnostics;
using System.Net;
using System.Net.Sockets;
using TensorProtocol.Quic;

namespace TensorProtocol.Node;

/// <summary>
/// One outgoing connection per peer, reused across pushes and pulls. Concurrent first uses of a peer share one dial;
/// a failed dial is forgotten (the next use dials again); idle connections close after a while, and past the size
/// limit the least recently used idle one is closed. A connection in use (an operation holds a <see cref="Lease"/> on
/// it, or is waiting for its dial) is never closed for idleness or size: the limit is exceeded until it is released.
/// </summary>
internal sealed class ConnectionPool : IAsyncDisposable
{
    private readonly QuicEndpoint _endpoint;
    private readonly TensorNodeOptions _options;
    private readonly NodeMetrics _metrics;
    private readonly Dictionary<NodeId, Entry> _entries = [];
    private readonly object _lock = new();
    private readonly CancellationTokenSource _stop = new();
    private readonly Task _sweeper;
    private long _dials;

    internal sealed class Entry(Task<QuicConnection> connection)
    {
        public readonly Task<QuicConnection> Connection = connection;
        public long LastUsed = Stopwatch.GetTimestamp();
        public long Bytes;
        public long Tensors;
        public long PulledBytes;
        public long PulledTensors;
        public int Leases; // operations using the connection or waiting for its dial; under _lock
    }

    /// <summary>An operation's use of a pooled connection; disposing it marks the connection idle again.</summary>
    internal sealed class Lease : IDisposable
    {
        private readonly ConnectionPool _pool;
        private readonly Entry _entry;
        private int _released;

        internal Lease(ConnectionPool pool, Entry entry, QuicConnection connection, bool reused)
        {
            _pool = pool;
            _entry = entry;
            Connection = connection;
            Reused = reused;
        }

        public QuicConnection Connection { get; }

        /// <summary>Whether an earlier operation already used this connection (so it may have died meanwhile).</summary>
        public bool Reused { get; }

        public void Dispose()
        {
            if (Interlocked.Exchange(ref _released, 1) == 0)
            {
                _pool.Release(_entry);
            }
        }
    }

    internal ConnectionPool(QuicEndpoint endpoint, TensorNodeOptions options, NodeMetrics metrics)
    {
        _endpoint = endpoint;
        _options = options;
        _metrics = metrics;
        _sweeper = SweepIdleAsync();
    }

    /// <summary>Handshakes started so far (tests count them to prove reuse).</summary>
    internal long Dials => Interlocked.Read(ref _dials);

    internal int Count
    {
        get
        {
            lock (_lock)
            {
                return _entries.Count;
            }
        }
    }

    /// <summary>
    /// Returns a lease on the pooled connection to the ticket's node, dialing it if needed. Dispose the lease when the
    /// operation ends.
    /// </summary>
    internal async ValueTask<Lease> GetAsync(NodeTicket ticket, CancellationToken cancellationToken)
    {
        Entry entry;
        bool reused;
        List<QuicConnection>? evicted = null;
        lock (_lock)
        {
            ObjectDisposedException.ThrowIf(_stop.IsCancellationRequested, this);
            if (_entries.TryGetValue(ticket.NodeId, out Entry? existing) && !IsDead(existing))
            {
                entry = existing;
                reused = true;
            }
            else
            {
                entry = new Entry(DialAsync(ticket));
                _entries[ticket.NodeId] = entry;
                reused = false;
                evicted = EvictOverflow();
            }
            entry.LastUsed = Stopwatch.GetTimestamp();
            entry.Leases++;
        }
        if (evicted is not null)
        {
            await CloseAllAsync(evicted).ConfigureAwait(false);
        }
        try
        {
            QuicConnection connection = await entry.Connection.WaitAsync(cancellationToken).ConfigureAwait(false);
            return new Lease(this, entry, connection, reused);
        }
        catch
        {
            Release(entry);
            if (!cancellationToken.IsCancellationRequested)
            {
                Forget(ticket.NodeId, entry); // the dial failed: the next use dials again
            }
            throw;
        }
    }

    private void Release(Entry entry)
    {
        List<QuicConnection>? evicted;
        lock (_lock)
        {
            entry.Leases--;
            entry.LastUsed = Stopwatch.GetTimestamp();
            evicted = EvictOverflow(); // the limit may have been exceeded while every connection was busy
        }
        if (evicted is not null)
        {
            _ = CloseAllAsync(evicted);
        }
    }

    /// <summary>Drops the pooled connection to <paramref name="peer"/> if it is <paramref name="connection"/> (it died).</summary>
    internal void Invalidate(NodeId peer, QuicConnection connection)
    {
        lock (_lock)
        {
            if (_entries.TryGetValue(peer, out Entry? entry) && entry.Connection.IsCompletedSuccessfully && entry.Connection.Result == connection)
            {
                _entries.Remove(peer);
            }
        }
        _ = connection.DisposeAsync().AsTask();
    }

    /// <summary>A push to <paramref name="peer"/>, or a pull from it (<paramref name="pulled"/>), finished.</summary>
    internal void RecordTransfer(NodeId peer, long bytes, bool pulled)
    {
        lock (_lock)
        {
            if (_entries.TryGetValue(peer, out Entry? entry))
            {
                if (pulled)
                {
                    entry.PulledBytes += bytes;
                    entry.PulledTensors++;
                }
                else
                {
                    entry.Bytes += bytes;
                    entry.Tensors++;
                }
                entry.LastUsed = Stopwatch.GetTimestamp();
            }
        }
    }

    internal async ValueTask<IReadOnlyList<PeerStatistics>> GetStatisticsAsync()
    {
        List<(NodeId Peer, Entry Entry)> entries;
        lock (_lock)
        {
            entries = [.. _entries.Select(e => (e.Key, e.Value))];
        }
        var result = new List<PeerStatistics>(entries.Count);
        foreach (var (peer, entry) in entries)
        {
            if (!entry.Connection.IsCompletedSuccessfully)
            {
                continue;
            }
            QuicConnectionStatistics stats = await entry.Connection.Result.GetStatisticsAsync().ConfigureAwait(false);
            result.Add(new PeerStatistics(peer, stats.SmoothedRtt, Interlocked.Read(ref entry.Bytes), Interlocked.Read(ref entry.Tensors),
                Interlocked.Read(ref entry.PulledBytes), Interlocked.Read(ref entry.PulledTensors),
                DateTimeOffset.UtcNow - Stopwatch.GetElapsedTime(Volatile.Read(ref entry.LastUsed))));
        }
        return result;
    }

    /// <summary>How long a dial waits for an address to answer before it tries the next one beside it (RFC 8305's 250 ms).</summary>
    internal static readonly TimeSpan AttemptStagger = TimeSpan.FromMilliseconds(250);

    private async Task<QuicConnection> DialAsync(NodeTicket ticket)
    {
        Interlocked.Increment(ref _dials);
        QuicPublicKey key = ticket.NodeId.PublicKey;
        if (key.IsWeak)
        {
            // A ticket built in code around default(NodeId) (parsing refuses such keys): any peer could prove it.
            throw new TensorProtocolException(TensorErrorKind.Connection, $"{ticket.NodeId} is not a usable node id: a point of small order, which anyone could sign for.");
        }
        // The addresses are tried as in "Happy Eyeballs" (RFC 8305): the next one starts when the one before failed or
        // has not answered within AttemptStagger, and the first handshake to complete wins. One after the other, an
        // address that swallows packets (another network's interface in a wildcard-bound node's ticket, a firewalled
        // port) would use up ConnectTimeout and leave the working ones untried.
        IPEndPoint[] candidates = [.. ticket.GetAddresses().Where(CanReach)];
        QuicException? last = null;
        bool timedOut = false;
        using var deadline = CancellationTokenSource.CreateLinkedTokenSource(_stop.Token);
        deadline.CancelAfterOrNever(_options.ConnectTimeout);
        var attempts = new List<Task<QuicConnection>>();
        Task stagger = Task.CompletedTask;
        int next = 0;
        try
        {
            while (next < candidates.Length || attempts.Count > 0)
            {
                if (next < candidates.Length && stagger.IsCompleted)
                {
                    attempts.Add(_endpoint.ConnectAsync(candidates[next++], key, deadline.Token).AsTask());
                    stagger = next < candidates.Length ? Task.Delay(AttemptStagger, deadline.Token) : Task.CompletedTask;
                }
                // The deadline ends the attempts (and the stagger) too, so this never waits past it.
                Task[] waitingOn = next < candidates.Length ? [.. attempts, stagger] : [.. attempts];
                Task finished = await Task.WhenAny(waitingOn).ConfigureAwait(false);
                if (deadline.IsCancellationRequested)
                {
                    timedOut = !_stop.IsCancellationRequested;
                    break;
                }
                if (finished is not Task<QuicConnection> attempt)
                {
                    continue; // no answer yet: the next address starts beside it
                }
                attempts.Remove(attempt);
                if (attempt.IsCompletedSuccessfully)
                {
                    _metrics.ConnectionOpened();
                    return attempt.Result;
                }
                if (attempt.Exception?.InnerException is not QuicException e)
                {
                    await attempt.ConfigureAwait(false); // not about the address (the endpoint was disposed, ...): rethrown
                    continue;
                }
                last = e; // refused, or another node (or protocol) at that address: the next one starts at once
                stagger = Task.CompletedTask;
            }
        }
        finally
        {
            // The attempts still running lost (or the deadline passed): cancel them, and close any that completes anyway.
            deadline.Cancel();
            foreach (Task<QuicConnection> loser in attempts)
            {
                _ = loser.ContinueWith(static t =>
                {
                    if (t.IsCompletedSuccessfully)
                    {
                        _ = t.Result.DisposeAsync().AsTask();
                    }
                    _ = t.Exception; // observed: a cancelled or failed attempt is expected here
                }, CancellationToken.None, TaskContinuationOptions.ExecuteSynchronously, TaskScheduler.Default);
            }
        }
        _stop.Token.ThrowIfCancellationRequested();
        if (timedOut)
        {
            throw new TensorProtocolException(TensorErrorKind.Timeout, $"Could not reach {ticket.NodeId} within {_options.ConnectTimeout.TotalSeconds:0.#} s.");
        }
        string why = last?.Message ?? $"none of its {ticket.AddressCount} addresses is reachable from {_endpoint.LocalEndPoint}";
        TensorErrorKind kind = last?.Kind switch
        {
            QuicErrorKind.Timeout or QuicErrorKind.IdleTimeout => TensorErrorKind.Timeout,
            QuicErrorKind.AlpnMismatch or QuicErrorKind.ProtocolViolation => TensorErrorKind.Protocol,
            _ => TensorErrorKind.Connection,
        };
        throw new TensorProtocolException(kind, $"Could not connect to {ticket.NodeId}: {why}", last);
    }

    /// <summary>Whether this node's socket can send to <paramref name="address"/> at all (address family, loopback).</summary>
    private bool CanReach(IPEndPoint address)
    {
        IPAddress local = _endpoint.LocalEndPoint.Address;
        if (local.Equals(IPAddress.IPv6Any))
        {
            return true; // dual stack
        }
        bool remoteIsV4 = address.AddressFamily == AddressFamily.InterNetwork || address.Address.IsIPv4MappedToIPv6;
        bool localIsV4 = local.AddressFamily == AddressFamily.InterNetwork || local.IsIPv4MappedToIPv6;
        // A socket bound to a loopback address can only talk to loopback: the kernel never routes its packets out,
        // so trying another address would only burn the connect timeout.
        return remoteIsV4 == localIsV4 && (!IPAddress.IsLoopback(local) || IPAddress.IsLoopback(address.Address));
    }

    private static bool IsDead(Entry entry) =>
        entry.Connection.IsFaulted || entry.Connection.IsCanceled || (entry.Connection.IsCompletedSuccessfully && entry.Connection.Result.IsClosed);

    private void Forget(NodeId peer, Entry entry)
    {
        lock (_lock)
        {
            if (_entries.TryGetValue(peer, out Entry? current) && current == entry)
            {
                _entries.Remove(peer);
            }
        }
    }

    // Under _lock. Only idle connections go: one in use (or still dialing for someone) stays, over the limit if need be.
    private List<QuicConnection>? EvictOverflow()
    {
        List<QuicConnection>? evicted = null;
        while (_entries.Count > _options.MaxPooledConnections)
        {
            KeyValuePair<NodeId, Entry>? oldest = null;
            foreach (KeyValuePair<NodeId, Entry> candidate in _entries)
            {
                if (candidate.Value.Leases == 0 && candidate.Value.Connection.IsCompleted && (oldest is null || candidate.Value.LastUsed < oldest.Value.Value.LastUsed))
                {
                    oldest = candidate;
                }
            }
            if (oldest is not { } victim)
            {
                break;
            }
            _entries.Remove(victim.Key);
            _metrics.ConnectionEvicted();
            if (victim.Value.Connection.IsCompletedSuccessfully)
            {
                (evicted ??= []).Add(victim.Value.Connection.Result);
            }
        }
        return evicted;
    }

    private async Task SweepIdleAsync()
    {
        TimeSpan period = TimeSpan.FromTicks(Math.Clamp(_options.PoolIdleTimeout.Ticks / 4, TimeSpan.TicksPerMillisecond * 10, TimeSpan.TicksPerSecond * 5));
        using var timer = new PeriodicTimer(period);
        try
        {
            while (await timer.WaitForNextTickAsync(_stop.Token).ConfigureAwait(false))
            {
                List<QuicConnection> idle = [];
                lock (_lock)
                {
                    foreach (var (peer, entry) in _entries.ToArray())
                    {
                        if (IsDead(entry) || (entry.Leases == 0 && entry.Connection.IsCompleted && Stopwatch.GetElapsedTime(entry.LastUsed) > _options.PoolIdleTimeout))
                        {
                            _entries.Remove(peer);
                            _metrics.ConnectionEvicted();
                            if (entry.Connection.IsCompletedSuccessfully)
                            {
                                idle.Add(entry.Connection.Result);
                            }
                        }
                    }
                }
                await CloseAllAsync(idle).ConfigureAwait(false);
            }
        }
        catch (OperationCanceledException)
        {
        }
    }

    private static async Task CloseAllAsync(List<QuicConnection> connections)
    {
        foreach (QuicConnection connection in connections)
        {
            try
            {
                await connection.DisposeAsync().ConfigureAwait(false);
            }
            catch (ObjectDisposedException)
            {
            }
        }
    }

    public async ValueTask DisposeAsync()
    {
        List<QuicConnection> all = [];
        lock (_lock)
        {
            if (_stop.IsCancellationRequested)
            {
                return;
            }
            _stop.Cancel();
            foreach (Entry entry in _entries.Values)
            {
                if (entry.Connection.IsCompletedSuccessfully)
                {
                    all.Add(entry.Connection.Result);
                }
            }
            _entries.Clear();
        }
        await _sweeper.ConfigureAwait(false);
        await CloseAllAsync(all).ConfigureAwait(false);
        _stop.Dispose();
    }
}
