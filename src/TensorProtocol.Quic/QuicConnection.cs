using System.Net;
using System.Threading.Channels;
using Microsoft.Extensions.Logging;
using TensorProtocol.Quic.Internal;
using TensorProtocol.Quic.Native;

namespace TensorProtocol.Quic;

/// <summary>
/// A QUIC connection to one authenticated peer. Made by <see cref="QuicEndpoint.ConnectAsync"/> or
/// <see cref="QuicEndpoint.AcceptConnectionAsync"/>; driven by its endpoint's loop thread.
/// </summary>
public sealed partial class QuicConnection : IAsyncDisposable
{
    /// <summary>The error code sent when a cancelled write or a disposed connection has to abort something.</summary>
    internal const long CancelledErrorCode = 0;

    /// <summary>The error code a stream is aborted with when <see cref="InboundStreamHandler"/> failed on it.</summary>
    internal const long InternalErrorCode = 1;

    private readonly QuicEndpoint _endpoint;
    private readonly Channel<QuicStream> _incomingStreams = Channel.CreateUnbounded<QuicStream>(new UnboundedChannelOptions { SingleWriter = true });
    private readonly ILogger _logger;
    private volatile QuicException? _terminalError;
    private int _disposed;

    private QuicConnection(QuicEndpoint endpoint, bool isServer, IPEndPoint remoteEndPoint, QuicConnectionOptions options, ILogger logger)
    {
        _endpoint = endpoint;
        IsServer = isServer;
        _nextBidiId = isServer ? 1 : 0; // client-opened bidirectional streams are 0, 4, 8, ...; server-opened 1, 5, 9, ...
        RemoteEndPoint = remoteEndPoint;
        Options = options;
        _logger = logger;
        _remoteBidiCredit.Limit = options.MaxInboundBidirectionalStreams; // our initial_max_streams_* parameters
        _remoteUniCredit.Limit = options.MaxInboundUnidirectionalStreams;
    }

    /// <summary>Whether this side accepted the connection (rather than dialing it).</summary>
    public bool IsServer { get; }

    /// <summary>The peer's address.</summary>
    public IPEndPoint RemoteEndPoint { get; }

    /// <summary>The local socket's address.</summary>
    public IPEndPoint LocalEndPoint => _endpoint.LocalEndPoint;

    /// <summary>The peer's authenticated Ed25519 public key.</summary>
    public QuicPublicKey RemotePublicKey { get; private set; }

    /// <summary>The application protocol (ALPN) both sides agreed on.</summary>
    public string NegotiatedApplicationProtocol { get; private set; } = "";

    /// <summary>The settings this connection runs with.</summary>
    public QuicConnectionOptions Options { get; }

    /// <summary>The endpoint that owns this connection.</summary>
    public QuicEndpoint Endpoint => _endpoint;

    /// <summary>Whether the connection has ended (closed by either side, timed out, or failed).</summary>
    public bool IsClosed => _terminalError is not null;

    /// <summary>Why the connection ended, once it has; null while it is usable.</summary>
    public QuicException? CloseReason => _terminalError;

    /// <summary>Set once the connection has ended; later operations fail with it.</summary>
    internal QuicException? TerminalError => _terminalError;

    /// <summary>
    /// Optional: serves a peer-opened stream on the endpoint's loop thread, before it is offered to
    /// <see cref="AcceptInboundStreamAsync"/>, when all of its data (through FIN) arrived in one batch of packets — a
    /// small request answered at once, without handing it to another thread and back. Return true to take the stream
    /// (it is then never offered); false leaves it to <see cref="AcceptInboundStreamAsync"/> untouched. The handler
    /// must not block: it may read with <see cref="QuicStream.Peek"/> and <see cref="QuicStream.ReadBuffered"/> and
    /// queue writes (they go out with this batch's acknowledgements). An exception it throws aborts the stream.
    /// </summary>
    public Func<QuicStream, bool>? InboundStreamHandler
    {
        get => Volatile.Read(ref _inboundStreamHandler);
        set => Volatile.Write(ref _inboundStreamHandler, value);
    }

    private Func<QuicStream, bool>? _inboundStreamHandler;

    /// <summary>
    /// Opens a stream, waiting while the peer's stream limit is reached (until it grants more or
    /// <paramref name="cancellationToken"/> fires).
    /// </summary>
    public ValueTask<QuicStream> OpenOutboundStreamAsync(QuicStreamType type = QuicStreamType.Bidirectional, CancellationToken cancellationToken = default)
    {
        ThrowIfDisposed();
        if (_terminalError is { } error)
        {
            return ValueTask.FromException<QuicStream>(error);
        }
        if (cancellationToken.IsCancellationRequested)
        {
            return ValueTask.FromCanceled<QuicStream>(cancellationToken);
        }
        if (type == QuicStreamType.Bidirectional && TryClaimBidiStream() is { } claimed)
        {
            return ValueTask.FromResult(claimed);
        }
        var source = new CompletionSource<QuicStream>();
        BeginSlowOpen(type);
        Post(() => OpenStreamOnLoop(type, source));
        if (!cancellationToken.CanBeCanceled)
        {
            return source.ValueTask;
        }
        return WithCancellation(source, cancellationToken);

        async ValueTask<QuicStream> WithCancellation(CompletionSource<QuicStream> s, CancellationToken ct)
        {
            await using (ct.UnsafeRegister(static (state, token) =>
            {
                var (conn, src) = ((QuicConnection, CompletionSource<QuicStream>))state!;
                conn.Post(() => conn.CancelOpen(src, token));
            }, (this, s)).ConfigureAwait(false))
            {
                return await s.ValueTask.ConfigureAwait(false);
            }
        }
    }

    /// <summary>Waits for the next stream the peer opens.</summary>
    public async ValueTask<QuicStream> AcceptInboundStreamAsync(CancellationToken cancellationToken = default)
    {
        ThrowIfDisposed();
        try
        {
            QuicStream stream = await _incomingStreams.Reader.ReadAsync(cancellationToken).ConfigureAwait(false);
            Post(() => OnStreamAccepted(stream));
            return stream;
        }
        catch (ChannelClosedException)
        {
            throw _terminalError ?? new QuicException(QuicErrorKind.OperationAborted, "The connection was closed.");
        }
    }

    /// <summary>
    /// Closes the connection with an application error code (0 for a normal close) that the peer sees. Pending
    /// operations fail; unacknowledged data is abandoned. Completes once the close was sent.
    /// </summary>
    public ValueTask CloseAsync(long errorCode, string? reason = null)
    {
        ThrowIfNotAnErrorCode(errorCode);
        var source = new CompletionSource<bool>();
        Post(() =>
        {
            CloseOnLoop(errorCode, reason);
            source.TrySetResult(true);
        });
        return source.AsValueTask;
    }

    /// <summary>A snapshot of RTT, congestion window and counters, read on the loop thread.</summary>
    public ValueTask<QuicConnectionStatistics> GetStatisticsAsync()
    {
        var source = new CompletionSource<QuicConnectionStatistics>();
        Post(() => source.TrySetResult(ReadStatistics()));
        return source.ValueTask;
    }

    /// <summary>Closes with error code 0 if still open, and lets the endpoint forget the connection.</summary>
    public async ValueTask DisposeAsync()
    {
        if (Interlocked.Exchange(ref _disposed, 1) != 0)
        {
            return;
        }
        _endpoint.OnConnectionAcceptedByUser(this);
        try
        {
            await CloseAsync(0, "disposed").ConfigureAwait(false);
        }
        catch (ObjectDisposedException)
        {
            // The endpoint went first; it closed us already.
        }
    }

    /// <inheritdoc/>
    public override string ToString() => $"{(IsServer ? "server" : "client")} connection {LogId} to {RemoteEndPoint}";

    /// <summary>
    /// Starts a batch: what this thread asks of this connection (or of other connections of its endpoint) until the
    /// batch is disposed reaches the loop in one turn, so a header and a payload written back to back share packets.
    /// </summary>
    public QuicBatch Batch() => new(_endpoint);

    internal void Post(Action work) => _endpoint.Post(work);

    /// <summary>The largest application error code: QUIC carries codes as varints (RFC 9000 §16), 62 bits.</summary>
    internal const long MaxErrorCode = (1L << 62) - 1;

    /// <summary>
    /// Refuses a code QUIC cannot carry before it reaches ngtcp2, whose varint encoder asserts on it (an abort of the
    /// whole process where the library is built with assertions, as Debian's is).
    /// </summary>
    internal static void ThrowIfNotAnErrorCode(long errorCode, [System.Runtime.CompilerServices.CallerArgumentExpression(nameof(errorCode))] string? name = null)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(errorCode, name);
        ArgumentOutOfRangeException.ThrowIfGreaterThan(errorCode, MaxErrorCode, name);
    }

    private void ThrowIfDisposed() => ObjectDisposedException.ThrowIf(Volatile.Read(ref _disposed) != 0, this);
}
