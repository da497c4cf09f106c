using System.Net;
using Microsoft.Extensions.Logging;
using TensorProtocol.Wire;

namespace TensorProtocol;

/// <summary>What a pushed tensor's sender experiences when the receive queue is full.</summary>
public enum QueueFullBehavior
{
    /// <summary>The push fails at once with <see cref="TensorErrorKind.QueueFull"/>.</summary>
    Refuse,

    /// <summary>The receiver holds the push until there is room (up to <see cref="TensorNodeOptions.QueueWaitTimeout"/>).</summary>
    Wait,
}

/// <summary>Settings of a <see cref="TensorNode"/>.</summary>
public sealed record TensorNodeOptions
{
    /// <summary>The application protocol on the wire (ALPN); both nodes must agree.</summary>
    public const string DefaultApplicationProtocol = "tensorp/1";

    /// <summary>The default <see cref="MaxTensorBytes"/>: 16 GiB, the protocol's default payload limit.</summary>
    public const long DefaultMaxTensorBytes = WireFormat.DefaultMaxPayloadLength;

    /// <summary>The default <see cref="ReceiveMemoryBudget"/>: 16 GiB, so the largest default tensor fits.</summary>
    public const long DefaultReceiveMemoryBudget = 16L << 30;

    /// <summary>Where the node listens (and dials from). Port 0 picks a free one. Default: all interfaces, IPv4 and IPv6.</summary>
    public IPEndPoint LocalEndPoint { get; init; } = new(IPAddress.IPv6Any, 0);

    /// <summary>
    /// The identity key file (PEM, created with mode 0600 if missing). Null: an ephemeral identity, new each start.
    /// </summary>
    public string? IdentityPath { get; init; }

    /// <summary>The application protocol (ALPN).</summary>
    public string ApplicationProtocol { get; init; } = DefaultApplicationProtocol;

    /// <summary>
    /// Largest tensor payload this node accepts, pushed to it or pulled by it; checked against the header before
    /// anything is allocated. Default: 16 GiB (<see cref="DefaultMaxTensorBytes"/>). A push must also fit the whole
    /// <see cref="ReceiveMemoryBudget"/>; a larger one is refused as too large.
    /// </summary>
    public long MaxTensorBytes { get; init; } = DefaultMaxTensorBytes;

    /// <summary>How many received tensors may wait in the queue.</summary>
    public int ReceiveQueueCapacity { get; init; } = 1024;

    /// <summary>
    /// Bytes that pushed tensors (queued, or arriving) may hold in total; a tensor leaves the budget when the
    /// application takes it from the queue. A push that would exceed what is left is treated like a full queue, one
    /// larger than the whole budget is refused as too large, so senders cannot make the node allocate without bound.
    /// Memory is committed as payload bytes arrive, not when a header announces them. Default: 16 GiB
    /// (<see cref="DefaultReceiveMemoryBudget"/>), room for one tensor of the default maximum; lower it on machines
    /// with less memory to spare.
    /// </summary>
    public long ReceiveMemoryBudget { get; init; } = DefaultReceiveMemoryBudget;

    /// <summary>
    /// Received payloads of at least this many bytes land in native memory that the <see cref="TensorData"/> owns
    /// instead of a managed array. <see cref="TensorData.Dispose"/> releases it at once — to the node's buffer pool
    /// (<see cref="ReceiveBufferRetention"/>), where the next payload of a similar size reuses it — and a finalizer
    /// unmaps it if the tensor is forgotten. An array is freed only by a garbage collection, whenever the collector gets
    /// to it. Default: <see cref="DefaultNativeReceiveThreshold"/>: only payloads no array can hold (above 2 GiB), so a
    /// span taken from a received tensor keeps its memory alive as an array span does. Hosts that release every tensor
    /// explicitly should set it lower: the C ABI (and so Python) uses 1 MiB. Measured on this project's VM, repeated
    /// 1 GiB pushes into fresh arrays ran at 400–1600 MiB/s, into pooled native memory at 1700–1850 MiB/s.
    /// </summary>
    /// <remarks>
    /// A span into native memory does not keep the tensor alive: keep the tensor referenced (or dispose it after use, in
    /// a <c>using</c>) while reading its payload through a span.
    /// </remarks>
    public long NativeReceiveThreshold { get; init; } = DefaultNativeReceiveThreshold;

    /// <summary>The default <see cref="NativeReceiveThreshold"/>: none, so only payloads larger than any array go native.</summary>
    public const long DefaultNativeReceiveThreshold = long.MaxValue;

    /// <summary>
    /// Bytes of released received tensors' native memory the node keeps for later payloads of a similar size (at most
    /// 16 mappings), so tensors of the same shapes arriving again and again are written into memory that is already
    /// mapped: the kernel zeroes and maps every fresh 4 KiB page on first write, which on a VM costs a quarter to half a
    /// second of CPU per GiB. Only tensors in native memory (<see cref="NativeReceiveThreshold"/>) that were disposed
    /// come back. Kept memory goes back to the system after <see cref="ReceiveBufferLifetime"/> unused, when a fresh
    /// mapping is refused, and at shutdown; it never exceeds <see cref="ReceiveMemoryBudget"/>. 0 keeps none. Default:
    /// <see cref="DefaultReceiveBufferRetention"/> (2 GiB).
    /// </summary>
    public long ReceiveBufferRetention { get; init; } = DefaultReceiveBufferRetention;

    /// <summary>The default <see cref="ReceiveBufferRetention"/>: 2 GiB.</summary>
    public const long DefaultReceiveBufferRetention = 2L << 30;

    /// <summary>How long a kept receive buffer (<see cref="ReceiveBufferRetention"/>) may go unused before it is unmapped (at most a day). Default: 10 s.</summary>
    public TimeSpan ReceiveBufferLifetime { get; init; } = TimeSpan.FromSeconds(10);

    /// <summary>What a sender experiences when the queue is full.</summary>
    public QueueFullBehavior QueueFullBehavior { get; init; } = QueueFullBehavior.Refuse;

    /// <summary>
    /// With <see cref="QueueFullBehavior.Wait"/>: how long a push may wait for room. Anything beyond ~49 days (up to
    /// <see cref="TimeSpan.MaxValue"/>) waits without a limit; a sender counts at most 30 days of it into its deadline.
    /// </summary>
    public TimeSpan QueueWaitTimeout { get; init; } = TimeSpan.FromSeconds(30);

    /// <summary>Pooled connections unused for this long are closed.</summary>
    public TimeSpan PoolIdleTimeout { get; init; } = TimeSpan.FromMinutes(5);

    /// <summary>At most this many pooled connections; the least recently used one is closed to make room.</summary>
    public int MaxPooledConnections { get; init; } = 64;

    /// <summary>Dialing a peer fails after this long.</summary>
    public TimeSpan ConnectTimeout { get; init; } = TimeSpan.FromSeconds(10);

    /// <summary>
    /// How long a peer may take to send a request header; a pushed payload, and a pulled one to be taken, get this plus
    /// their size at <see cref="MinTransferRate"/>. A stream that misses its deadline is aborted, so a stalled or
    /// hostile peer cannot hold queue room or memory. At most a day.
    /// </summary>
    public TimeSpan RequestTimeout { get; init; } = TimeSpan.FromSeconds(30);

    /// <summary>
    /// The slowest rate, in bytes per second, at which a payload may arrive or be taken (default 1 MiB/s). A pushed
    /// payload must keep up while it arrives: each 64 MiB of it is due by <see cref="RequestTimeout"/> plus the time its
    /// end takes at this rate, so a sender that trickles loses its reserved share of
    /// <see cref="ReceiveMemoryBudget"/> as soon as it falls behind, not at the end of a deadline sized for the whole
    /// tensor (hours, for 16 GiB). It also bounds this node's own pushes and pulls (how long they wait for a peer), so a
    /// higher value gives up on slow peers sooner both ways. Lower it for links slower than this; at least 1 KiB/s.
    /// </summary>
    public long MinTransferRate { get; init; } = 1 << 20;

    /// <summary>Nodes allowed to push to this node; null allows every authenticated node.</summary>
    public IReadOnlySet<NodeId>? AllowedSenders { get; init; }

    /// <summary>Nodes allowed to pull from this node; null allows every authenticated node.</summary>
    public IReadOnlySet<NodeId>? AllowedPullers { get; init; }

    /// <summary>
    /// The shortest time between two progress reports of one transfer (the first and the completing report are
    /// always made). Default: 100 ms; zero reports every acknowledged or received chunk (a few MiB).
    /// </summary>
    public TimeSpan ProgressInterval { get; init; } = TimeSpan.FromMilliseconds(100);

    /// <summary>Where logs go; the default writes nothing.</summary>
    public ILoggerFactory? LoggerFactory { get; init; }

    internal void Validate()
    {
        ArgumentNullException.ThrowIfNull(LocalEndPoint);
        if (string.IsNullOrEmpty(ApplicationProtocol) || System.Text.Encoding.UTF8.GetByteCount(ApplicationProtocol) > 31)
        {
            throw new ArgumentException("An application protocol (ALPN) of 1 to 31 bytes is required.", nameof(ApplicationProtocol));
        }
        if (MaxTensorBytes < 0)
        {
            throw new ArgumentOutOfRangeException(nameof(MaxTensorBytes), MaxTensorBytes, "Must be 0 or more.");
        }
        if (ReceiveQueueCapacity < 1)
        {
            throw new ArgumentOutOfRangeException(nameof(ReceiveQueueCapacity), ReceiveQueueCapacity, "Must be at least 1.");
        }
        if (ReceiveMemoryBudget < 1)
        {
            throw new ArgumentOutOfRangeException(nameof(ReceiveMemoryBudget), ReceiveMemoryBudget, "Must be positive.");
        }
        if (NativeReceiveThreshold < 0)
        {
            throw new ArgumentOutOfRangeException(nameof(NativeReceiveThreshold), NativeReceiveThreshold, "Must be 0 or more.");
        }
        if (ReceiveBufferRetention < 0)
        {
            throw new ArgumentOutOfRangeException(nameof(ReceiveBufferRetention), ReceiveBufferRetention, "Must be 0 or more.");
        }
        if (ReceiveBufferLifetime <= TimeSpan.Zero || ReceiveBufferLifetime > TimeSpan.FromDays(1))
        {
            throw new ArgumentOutOfRangeException(nameof(ReceiveBufferLifetime), ReceiveBufferLifetime, "Must be positive and at most a day.");
        }
        if (MaxPooledConnections < 1)
        {
            throw new ArgumentOutOfRangeException(nameof(MaxPooledConnections), MaxPooledConnections, "Must be at least 1.");
        }
        if (ProgressInterval < TimeSpan.Zero)
        {
            throw new ArgumentOutOfRangeException(nameof(ProgressInterval), ProgressInterval, "Must be zero or more.");
        }
        if (PoolIdleTimeout <= TimeSpan.Zero || ConnectTimeout <= TimeSpan.Zero || RequestTimeout <= TimeSpan.Zero || QueueWaitTimeout < TimeSpan.Zero)
        {
            throw new ArgumentOutOfRangeException(nameof(PoolIdleTimeout), "Timeouts must be positive.");
        }
        if (MinTransferRate < 1024)
        {
            throw new ArgumentOutOfRangeException(nameof(MinTransferRate), MinTransferRate, "Must be at least 1024 bytes per second.");
        }
        if (RequestTimeout > TimeSpan.FromDays(1))
        {
            throw new ArgumentOutOfRangeException(nameof(RequestTimeout), RequestTimeout, "Must be at most a day.");
        }
    }
}
