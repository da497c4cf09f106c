using System.Collections.Concurrent;
using System.Net;
using System.Net.Sockets;
using System.Runtime.InteropServices;
using System.Security.Cryptography;
using System.Threading.Channels;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Abstractions;
using TensorProtocol.Quic.Interop;
using TensorProtocol.Quic.Internal;
using TensorProtocol.Quic.Native;

namespace TensorProtocol.Quic;

/// <summary>
/// One UDP socket that both accepts and dials QUIC connections (like an Iroh endpoint: outgoing connections leave
/// from the listening port). One loop thread owns the socket, the timers and every connection; public calls reach
/// it through a queue, and while it sleeps the calling thread runs the turn itself (or, if another thread holds it,
/// wakes the loop through an eventfd). Continuations of public calls run on the thread pool.
/// </summary>
public sealed partial class QuicEndpoint : IAsyncDisposable
{
    internal const int SendBufferSize = 64 * 1024;

    private readonly QuicIdentity _identity;
    private readonly bool _ownsIdentity;
    private readonly ILogger _logger;
    private readonly ConcurrentQueue<Action> _work = new();
    private readonly Channel<QuicConnection> _accepted = Channel.CreateUnbounded<QuicConnection>(new UnboundedChannelOptions { SingleWriter = true });
    private readonly Thread _thread;
    // A SafeHandle, not a bare int: Wake() may race with the loop's cleanup, and a write to a closed (and reused)
    // descriptor number would land in some other file.
    private readonly Microsoft.Win32.SafeHandles.SafeFileHandle _eventFd;
    private readonly WakeTimer? _wakeTimer;
    private readonly TaskCompletionSource _stopped = new(TaskCreationOptions.RunContinuationsAsynchronously);
    // 1 while the loop is (about to be) parked in ppoll: only then does Post have to write the eventfd. A loop that is
    // running drains the work queue before it parks again, so posts meanwhile cost no system call and no extra turn.
    private int _parked;
    private int _disposeRequested;
    private int _pendingAccepts;

    private unsafe QuicEndpoint(QuicEndpointOptions options)
    {
        Options = options;
        _logger = (options.LoggerFactory ?? NullLoggerFactory.Instance).CreateLogger("TensorProtocol.Quic");
        _ownsIdentity = options.Identity is null;
        _identity = options.Identity ?? QuicIdentity.Generate();
        try
        {
            Tls = new TlsContext(_identity, options.ApplicationProtocols);
            Socket = new UdpSocket(options.LocalEndPoint, options.SocketBufferSize, options.UseGso);
        }
        catch
        {
            Tls?.Dispose();
            if (_ownsIdentity)
            {
                _identity.Dispose();
            }
            throw;
        }
        int eventFd = libc.eventfd(0, libc.EFD_NONBLOCK | libc.EFD_CLOEXEC);
        if (eventFd < 0)
        {
            Socket.Dispose();
            Tls.Dispose();
            throw new QuicException(QuicErrorKind.InternalError, $"eventfd failed (errno {Marshal.GetLastPInvokeError()}).");
        }
        _eventFd = new Microsoft.Win32.SafeHandles.SafeFileHandle(eventFd, ownsHandle: true);
        _wakeTimer = WakeTimer.TryCreate();
        LocalEndPoint = Socket.LocalEndPoint;
        LocalAddress = (byte*)NativeMemory.AllocZeroed(SocketAddressNative.MaxLength);
        LocalAddressLength = SocketAddressNative.Write(Socket.LocalEndPoint, Socket.Family, LocalAddress);
        SendBuffer = (byte*)NativeMemory.AlignedAlloc(SendBufferSize + 65536, 64);
        PathStorage = (ngtcp2.ngtcp2_path_storage*)NativeMemory.AllocZeroed((nuint)sizeof(ngtcp2.ngtcp2_path_storage));
        PathStorage->path.local.addr = &PathStorage->local_addrbuf;
        PathStorage->path.remote.addr = &PathStorage->remote_addrbuf;
        RandomNumberGenerator.Fill(_resetSecret);
        // Short name: Linux shows 15 characters of it (top -H, perf).
        _thread = new Thread(Run) { IsBackground = true, Name = $"quic :{LocalEndPoint.Port}" };
        _thread.Start();
        Log.EndpointStarted(_logger, LocalEndPoint, PublicKey, Socket.GroEnabled, Socket.GsoEnabled);
    }

    /// <summary>Whether this machine has what the QUIC layer needs (ngtcp2 1.x with GnuTLS).</summary>
    public static bool IsSupported => QuicNative.IsSupported;

    /// <summary>Why <see cref="IsSupported"/> is false (which library or package is missing), else null.</summary>
    public static string? NotSupportedReason => QuicNative.NotSupportedReason;

    /// <summary>Binds the socket and starts the loop thread.</summary>
    /// <exception cref="PlatformNotSupportedException">ngtcp2 or GnuTLS is missing; the message names the package.</exception>
    /// <exception cref="QuicException">The address is in use (<see cref="QuicErrorKind.AddressInUse"/>).</exception>
    public static QuicEndpoint Create(QuicEndpointOptions options)
    {
        ArgumentNullException.ThrowIfNull(options);
        QuicNative.ThrowIfNotSupported();
        options.Validate();
        return new QuicEndpoint(options);
    }

    /// <summary>The settings this endpoint was made with.</summary>
    public QuicEndpointOptions Options { get; }

    /// <summary>The bound address (with the real port when 0 was asked for).</summary>
    public IPEndPoint LocalEndPoint { get; }

    /// <summary>This endpoint's identity: the key peers must name to dial it.</summary>
    public QuicPublicKey PublicKey => _identity.PublicKey;

    /// <summary>Whether outgoing datagrams are segmented by the kernel (UDP GSO); false after a failed probe.</summary>
    public bool GsoEnabled => Socket.GsoEnabled;

    /// <summary>Whether incoming datagrams are coalesced by the kernel (UDP GRO).</summary>
    public bool GroEnabled => Socket.GroEnabled;

    internal UdpSocket Socket { get; }

    /// <summary>Receive-buffer blocks; enough for a few full stream windows. Loop thread only.</summary>
    internal BlockPool BlockPool { get; } = new(32 << 20);
    internal TlsContext Tls { get; }
    internal AddressFamily SocketFamily => Socket.Family;
    internal unsafe byte* LocalAddress { get; }
    internal int LocalAddressLength { get; }
    internal unsafe byte* SendBuffer { get; }
    internal unsafe ngtcp2.ngtcp2_path_storage* PathStorage { get; }

    /// <summary>
    /// Dials <paramref name="remoteEndPoint"/> and completes once both sides are authenticated: the peer proved it
    /// holds <paramref name="expectedPeerKey"/>, and it accepted our key.
    /// </summary>
    /// <exception cref="QuicException">
    /// <see cref="QuicErrorKind.AuthenticationFailed"/> (wrong key), <see cref="QuicErrorKind.AlpnMismatch"/>,
    /// <see cref="QuicErrorKind.ConnectionRefused"/> (nothing listening), <see cref="QuicErrorKind.Timeout"/>.
    /// </exception>
    public async ValueTask<QuicConnection> ConnectAsync(IPEndPoint remoteEndPoint, QuicPublicKey expectedPeerKey, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(remoteEndPoint);
        if (expectedPeerKey.IsWeak)
        {
            // Most likely default (a key never set, or a failed TryParse): any peer could prove it.
            throw new ArgumentException($"{expectedPeerKey} is not a usable Ed25519 public key (a point of small order; the all-zero key is one).", nameof(expectedPeerKey));
        }
        ThrowIfDisposed();
        cancellationToken.ThrowIfCancellationRequested();
        if (remoteEndPoint.Address.IsIPv4MappedToIPv6)
        {
            // One spelling of the peer's address: what the socket layer reports back (ICMP errors, datagrams) is read as
            // IPv4, and RemoteEndPoint must compare equal to it (a refused dial fails fast, loopback is recognised).
            remoteEndPoint = new IPEndPoint(remoteEndPoint.Address.MapToIPv4(), remoteEndPoint.Port);
        }
        var source = new CompletionSource<QuicConnection>();
        QuicConnection? created = null;
        Post(() =>
        {
            if (source.IsCompleted)
            {
                return; // cancelled before this ran (a QuicBatch held it while the cancellation was posted)
            }
            try
            {
                if (_shuttingDown || _stopped.Task.IsCompleted)
                {
                    throw new ObjectDisposedException(nameof(QuicEndpoint));
                }
                if (_connections.Count >= Options.MaxConnections)
                {
                    throw new QuicException(QuicErrorKind.ConnectionRefused, $"The endpoint already holds {Options.MaxConnections} connections.");
                }
                created = QuicConnection.CreateClient(this, remoteEndPoint, expectedPeerKey, source, _logger);
                Volatile.Write(ref created, created);
                AddConnection(created);
                MarkDirty(created); // before anything is sent ngtcp2's expiry is "never": write the Initial now
            }
            catch (Exception e)
            {
                source.TrySetException(e is QuicException or ArgumentException or ObjectDisposedException ? e : new QuicException(QuicErrorKind.InternalError, e.Message, innerException: e));
            }
        });
        await using (cancellationToken.UnsafeRegister(static state =>
        {
            var (endpoint, src, getConn) = ((QuicEndpoint, CompletionSource<QuicConnection>, Func<QuicConnection?>))state!;
            endpoint.Post(() =>
            {
                QuicConnection? c = getConn();
                var error = new OperationCanceledException("The connection attempt was cancelled.");
                if (src.TrySetException(error) && c is not null)
                {
                    c.CloseOnLoop(0, "cancelled");
                }
            });
        }, (this, source, (Func<QuicConnection?>)(() => created))).ConfigureAwait(false))
        {
            try
            {
                return await source.ValueTask.ConfigureAwait(false);
            }
            catch (OperationCanceledException) when (cancellationToken.IsCancellationRequested)
            {
                throw new OperationCanceledException("The connection attempt was cancelled.", cancellationToken);
            }
        }
    }

    /// <summary>Waits for the next authenticated incoming connection.</summary>
    public async ValueTask<QuicConnection> AcceptConnectionAsync(CancellationToken cancellationToken = default)
    {
        ThrowIfDisposed();
        if (!Options.AcceptIncomingConnections)
        {
            throw new InvalidOperationException("This endpoint does not accept incoming connections.");
        }
        try
        {
            QuicConnection connection = await _accepted.Reader.ReadAsync(cancellationToken).ConfigureAwait(false);
            OnConnectionAcceptedByUser(connection);
            return connection;
        }
        catch (ChannelClosedException)
        {
            throw new ObjectDisposedException(nameof(QuicEndpoint));
        }
    }

    /// <summary>Closes every connection (error code 0, so peers learn at once) and stops the loop.</summary>
    public async ValueTask DisposeAsync()
    {
        if (Interlocked.Exchange(ref _disposeRequested, 1) == 0)
        {
            _work.Enqueue(BeginShutdown);
            Wake();
        }
        await _stopped.Task.ConfigureAwait(false);
    }

    // One thread at a time runs what is posted after the stop; the others only queue it (see DrainAfterStop).
    private int _drainingAfterStop;

    /// <summary>Called before each piece of work that runs after the stop (tests: to post from another thread then).</summary>
    internal Action? BeforeWorkAfterStopForTests;

    /// <summary>
    /// Runs work posted after the loop stopped, serialized, on whichever thread posted it. No lock is held while work
    /// runs: a completion may wait for a cancellation callback that is itself posting here (disposing a token
    /// registration waits for its running callback), and that post must not block. A post that finds another thread
    /// draining leaves its work to that thread.
    /// </summary>
    private void DrainAfterStop()
    {
        while (Interlocked.CompareExchange(ref _drainingAfterStop, 1, 0) == 0)
        {
            try
            {
                while (_work.TryDequeue(out Action? work))
                {
                    BeforeWorkAfterStopForTests?.Invoke();
                    try
                    {
                        work();
                    }
                    catch (Exception e) when (e is ObjectDisposedException or QuicException or InvalidOperationException)
                    {
                        // The operation's own completion already carries the error.
                    }
                }
            }
            finally
            {
                Volatile.Write(ref _drainingAfterStop, 0);
            }
            if (_work.IsEmpty)
            {
                return; // else: queued after our last look, by a thread that saw us draining; take it
            }
        }
    }

    internal void OnConnectionAcceptedByUser(QuicConnection connection)
    {
        if (connection.IsServer && Interlocked.Exchange(ref connection.PendingAcceptFlag, 0) == 1)
        {
            Interlocked.Decrement(ref _pendingAccepts);
        }
    }

    private void ThrowIfDisposed() => ObjectDisposedException.ThrowIf(Volatile.Read(ref _disposeRequested) != 0, this);

    /// <inheritdoc/>
    public override string ToString() => $"QuicEndpoint {LocalEndPoint} ({PublicKey})";
}
