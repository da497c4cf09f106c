using System.Collections.Concurrent;
using System.Net;
using System.Net.NetworkInformation;
using System.Net.Sockets;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Abstractions;
using TensorProtocol.Internal;
using TensorProtocol.Node;
using TensorProtocol.Quic;
using TensorProtocol.Wire;

namespace TensorProtocol;

/// <summary>
/// A tensor node: an authenticated QUIC endpoint that peers push tensors to and pull registered tensors from, and
/// that pushes and pulls over pooled connections itself. Create it, <see cref="Start"/> it (or use
/// <see cref="StartAsync"/>), hand its <see cref="Ticket"/> to peers.
/// </summary>
public sealed partial class TensorNode : IAsyncDisposable
{
    private readonly TensorNodeOptions _options;
    private readonly ILogger _logger;
    private readonly ReceiveQueue _queue;
    private readonly ConcurrentDictionary<string, TensorData> _registered = new(StringComparer.Ordinal);
    private readonly CancellationTokenSource _shutdown = new();
    private readonly object _stateLock = new();
    private QuicIdentity? _identity;
    private QuicEndpoint? _endpoint;
    private ConnectionPool? _pool;
    // Released receive buffers kept for the next payloads of a similar size (null: keep none).
    private readonly ReceiveBufferPool? _receiveBuffers;
    private NodeMetrics? _metrics;
    private Task? _acceptLoop;
    private NodeTicket? _ticket;
    private int _state; // 0 created, 1 started, 2 shut down
    private Task? _shutdownTask; // set with _state = 2: what every ShutdownAsync awaits

    /// <summary>Creates a node; nothing is bound until <see cref="Start"/>.</summary>
    public TensorNode(TensorNodeOptions? options = null)
    {
        _options = options ?? new TensorNodeOptions();
        _options.Validate();
        _logger = (_options.LoggerFactory ?? NullLoggerFactory.Instance).CreateLogger("TensorProtocol.Node");
        _queue = new ReceiveQueue(_options.ReceiveQueueCapacity, _options.ReceiveMemoryBudget);
        long retention = Math.Min(_options.ReceiveBufferRetention, _options.ReceiveMemoryBudget); // kept memory within the budget's size
        _receiveBuffers = retention > 0 ? new ReceiveBufferPool(retention, _options.ReceiveBufferLifetime) : null;
    }

    /// <summary>Creates and starts a node.</summary>
    public static Task<TensorNode> StartAsync(TensorNodeOptions? options = null, CancellationToken cancellationToken = default)
    {
        cancellationToken.ThrowIfCancellationRequested();
        var node = new TensorNode(options);
        node.Start();
        return Task.FromResult(node);
    }

    /// <summary>Loads or creates the identity, binds the socket and starts accepting peers. Idempotent.</summary>
    /// <exception cref="TensorProtocolException"><see cref="TensorErrorKind.Io"/> (identity file, address in use) or <see cref="TensorErrorKind.Shutdown"/>.</exception>
    public void Start()
    {
        lock (_stateLock)
        {
            if (_state == 1)
            {
                return;
            }
            ThrowIfShutDown();
            try
            {
                _identity = _options.IdentityPath is null ? QuicIdentity.Generate() : QuicIdentity.LoadOrCreate(_options.IdentityPath);
                _endpoint = QuicEndpoint.Create(new QuicEndpointOptions
                {
                    LocalEndPoint = _options.LocalEndPoint,
                    Identity = _identity,
                    ApplicationProtocols = [_options.ApplicationProtocol],
                    LoggerFactory = _options.LoggerFactory,
                    ConnectionOptions = QuicConnectionOptions.Default with
                    {
                        // Pooled connections idle for minutes: keep NAT bindings and the peer's idle timer alive.
                        KeepAliveInterval = TimeSpan.FromSeconds(15),
                        IdleTimeout = TimeSpan.FromSeconds(60),
                        HandshakeTimeout = _options.ConnectTimeout,
                        // Every operation is a request and its answer on one bidirectional stream: a peer that opens a
                        // unidirectional one breaks the stream limit, and QUIC closes its connection.
                        MaxInboundUnidirectionalStreams = 0,
                    },
                });
            }
            catch (Exception e) when (e is IOException or InvalidDataException or UnauthorizedAccessException)
            {
                // QuicException is an IOException too: an address already in use lands here.
                _identity?.Dispose();
                _identity = null;
                throw new TensorProtocolException(TensorErrorKind.Io, $"The node could not start: {e.Message}", e);
            }
            _metrics = new NodeMetrics(() => _pool?.Count ?? 0);
            _pool = new ConnectionPool(_endpoint, _options, _metrics);
            _ticket = new NodeTicket(new NodeId(_endpoint.PublicKey), DirectAddresses(_endpoint.LocalEndPoint));
            _acceptLoop = AcceptLoopAsync(_endpoint, _shutdown.Token);
            _state = 1;
            Log.NodeStarted(_logger, NodeId, _ticket);
        }
    }

    /// <summary>This node's identity (its Ed25519 public key).</summary>
    public NodeId NodeId => new(Started.PublicKey);

    /// <summary>The ticket peers use to reach this node: its id and direct addresses.</summary>
    public NodeTicket Ticket
    {
        get
        {
            _ = Started;
            return _ticket!;
        }
    }

    /// <summary>The local socket address.</summary>
    public IPEndPoint LocalEndPoint => Started.LocalEndPoint;

    /// <summary>How many outgoing connections are pooled.</summary>
    public int PoolSize => _pool?.Count ?? 0;

    /// <summary>Tensors waiting in the receive queue.</summary>
    public int QueuedCount => _queue.Count;

    internal long Dials => _pool?.Dials ?? 0;

    /// <summary>Completes when a push first waits for room in the receive queue (<see cref="QueueFullBehavior.Wait"/>).</summary>
    internal Task PushWaitingForRoom => _queue.FirstWait;

    /// <summary>The released receive buffers kept for reuse (tests read it); null when none are kept.</summary>
    internal ReceiveBufferPool? ReceiveBuffers => _receiveBuffers;

    /// <summary>RTT, bytes, tensors and last use of each pooled peer.</summary>
    public ValueTask<IReadOnlyList<PeerStatistics>> GetPeerStatisticsAsync()
    {
        ThrowIfShutDown();
        return _pool is null ? ValueTask.FromResult<IReadOnlyList<PeerStatistics>>([]) : _pool.GetStatisticsAsync();
    }

    /// <summary>
    /// Makes <paramref name="tensor"/> available to peers' <see cref="RequestAsync(NodeTicket, string, CancellationToken)"/>
    /// under <paramref name="name"/> (replacing any earlier one). Served without copying, at any size; keep the tensor
    /// undisposed while it is registered.
    /// </summary>
    /// <exception cref="ObjectDisposedException">The tensor was disposed.</exception>
    /// <exception cref="ArgumentException">
    /// The name (over 1024 UTF-8 bytes) or the tensor (over 32 dimensions, too much metadata) is beyond what the protocol
    /// carries, so no pull could be answered.
    /// </exception>
    public void Register(string name, TensorData tensor)
    {
        ArgumentNullException.ThrowIfNull(tensor);
        tensor.ThrowIfDisposed();
        // Refused now rather than at every pull: a name or a description beyond the protocol's limits (name length,
        // rank, metadata) could never be served.
        ValidateName(name);
        _ = TensorDescriptor.GetEncodedLength(tensor.Metadata, nameof(tensor));
        ThrowIfShutDown();
        _registered[name] = tensor;
    }

    /// <summary>
    /// Throws <see cref="ArgumentException"/> if <paramref name="name"/> cannot name a tensor on the wire: it is empty,
    /// longer than the protocol's 1024 bytes of UTF-8, or holds an unpaired surrogate. Every push, pull and
    /// <see cref="Register"/> refuses such a name; this says so before anything is done.
    /// </summary>
    public static void ValidateName(string name) => _ = RequestHeader.Pull(name);

    /// <summary>Withdraws a registered tensor; false if none had that name.</summary>
    public bool Unregister(string name)
    {
        ThrowIfShutDown();
        return _registered.TryRemove(name, out _);
    }

    /// <summary>Takes the next received tensor if one is waiting (never blocks).</summary>
    public bool TryReceive([System.Diagnostics.CodeAnalysis.NotNullWhen(true)] out ReceivedTensor? tensor)
    {
        ThrowIfShutDown();
        return _queue.TryDequeue(out tensor);
    }

    /// <summary>
    /// Stops taking pushes, the first step of a receiver's orderly stop: from now on each push is refused with
    /// <see cref="TensorErrorKind.Shutdown"/> (before its payload is read), while the tensors already queued, which
    /// their senders were told arrived, can still be taken: <see cref="TryReceive"/> returns them and then false,
    /// <see cref="ReceiveAllAsync"/> ends after them, <see cref="ReceiveAsync"/> throws Shutdown once none is left. Then
    /// call <see cref="ShutdownAsync"/>, which frees whatever was not taken. Pulls are still served.
    /// </summary>
    public void StopReceiving()
    {
        ThrowIfShutDown();
        _queue.Complete();
    }

    /// <summary>Waits for the next received tensor.</summary>
    public async ValueTask<ReceivedTensor> ReceiveAsync(CancellationToken cancellationToken = default)
    {
        ThrowIfShutDown();
        try
        {
            return await _queue.DequeueAsync(cancellationToken).ConfigureAwait(false);
        }
        catch (System.Threading.Channels.ChannelClosedException)
        {
            throw ShutDownError();
        }
    }

    /// <summary>Every received tensor, as it arrives, until shutdown or cancellation.</summary>
    public IAsyncEnumerable<ReceivedTensor> ReceiveAllAsync(CancellationToken cancellationToken = default)
    {
        ThrowIfShutDown();
        return _queue.ReadAllAsync(cancellationToken);
    }

    /// <summary>
    /// Stops accepting, closes every connection and fails pending operations; tensors still queued and not taken are
    /// released. Idempotent: every call, also one made while another is under way, completes once the node is down.
    /// </summary>
    public ValueTask ShutdownAsync()
    {
        lock (_stateLock)
        {
            if (_state != 2)
            {
                _state = 2;
                // On the thread pool: not under _stateLock, and not on a caller's synchronization context that may
                // block on the result (the C ABI does).
                _shutdownTask = Task.Run(ShutdownCoreAsync);
            }
            return new ValueTask(_shutdownTask!);
        }
    }

    private async Task ShutdownCoreAsync()
    {
        _shutdown.Cancel();
        _queue.Complete();
        if (_pool is not null)
        {
            await _pool.DisposeAsync().ConfigureAwait(false);
        }
        if (_endpoint is not null)
        {
            await _endpoint.DisposeAsync().ConfigureAwait(false);
        }
        if (_acceptLoop is not null)
        {
            await _acceptLoop.ConfigureAwait(false);
        }
        // Nothing can take what is still queued now (TryReceive and ReceiveAsync throw Shutdown, and no push can
        // arrive any more; a ReceiveAllAsync loop still running takes what it dequeues first): free the memory instead
        // of keeping it for as long as this object is reachable.
        while (_queue.TryDequeue(out ReceivedTensor? unread))
        {
            unread!.Data.Dispose();
        }
        _identity?.Dispose();
        _metrics?.Dispose();
        _receiveBuffers?.Dispose(); // tensors still held unmap their memory themselves when released
        Log.NodeStopped(_logger, _ticket?.NodeId);
    }

    /// <inheritdoc/>
    public ValueTask DisposeAsync() => ShutdownAsync();

    private QuicEndpoint Started
    {
        get
        {
            ThrowIfShutDown();
            return _endpoint ?? throw new InvalidOperationException("The node is not started; call Start() first.");
        }
    }

    private void ThrowIfShutDown()
    {
        if (Volatile.Read(ref _state) == 2)
        {
            throw ShutDownError();
        }
    }

    private static TensorProtocolException ShutDownError() => new(TensorErrorKind.Shutdown, "The node has been shut down.");

    /// <summary>The addresses peers can dial: the bound one, or every up interface's when bound to a wildcard.</summary>
    private static List<IPEndPoint> DirectAddresses(IPEndPoint local)
    {
        if (!local.Address.Equals(IPAddress.Any) && !local.Address.Equals(IPAddress.IPv6Any))
        {
            return [new IPEndPoint(local.Address.IsIPv4MappedToIPv6 ? local.Address.MapToIPv4() : local.Address, local.Port)];
        }
        bool dualStack = local.Address.Equals(IPAddress.IPv6Any);
        var addresses = new List<IPEndPoint>();
        var loopback = new List<IPEndPoint>();
        foreach (NetworkInterface nic in NetworkInterface.GetAllNetworkInterfaces())
        {
            if (nic.OperationalStatus != OperationalStatus.Up)
            {
                continue;
            }
            foreach (UnicastIPAddressInformation info in nic.GetIPProperties().UnicastAddresses)
            {
                IPAddress a = info.Address;
                // An IPv4-only socket cannot use IPv6; link-local addresses need a scope the peer cannot know.
                if (a.AddressFamily == AddressFamily.InterNetworkV6 && (!dualStack || a.IsIPv6LinkLocal))
                {
                    continue;
                }
                (IPAddress.IsLoopback(a) ? loopback : addresses).Add(new IPEndPoint(a, local.Port));
            }
        }
        // Real interfaces first; loopback last (it only helps a peer on the same machine).
        addresses.AddRange(loopback);
        return addresses.Count > NodeTicket.MaxAddresses ? addresses[..NodeTicket.MaxAddresses] : addresses;
    }
}
