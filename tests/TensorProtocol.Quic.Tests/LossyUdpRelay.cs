using System.Net;
using System.Net.Sockets;

namespace TensorProtocol.Quic.Tests;

/// <summary>
/// An in-process UDP relay on 127.0.0.1 that makes the path between one client and one server imperfect: it drops,
/// duplicates and reorders datagrams, each decided by a seeded <see cref="Random"/> per direction. The client sends
/// to <see cref="EndPoint"/> (the client-facing socket); the relay forwards from its server-facing socket, so the
/// server sees the relay, replies to it, and the relay forwards those replies to the last client address it heard.
/// Two threads (one per direction) do blocking receives; <see cref="Dispose"/> stops and joins them.
/// </summary>
internal sealed class LossyUdpRelay : IDisposable
{
    private const int MaxDatagram = 65536;

    private readonly Socket _clientFacing;
    private readonly Socket _serverFacing;
    private readonly SocketAddress _serverAddress;
    private readonly SocketAddress _clientAddress;
    private readonly Thread _toServer;
    private readonly Thread _toClient;
    private readonly double _dropRate;
    private readonly double _duplicateRate;
    private readonly double _reorderRate;
    private readonly int _seed;
    private volatile bool _clientKnown;
    private volatile bool _stopping;
    private volatile bool _blackhole;
    private volatile bool _serverUnheard;
    private volatile bool _serverHeardOnlyForRetry;
    private volatile int _pathMtu = MaxDatagram;
    private long _forwarded, _dropped, _duplicated, _reordered, _blackholed, _tooBig, _sendFailed;

    /// <param name="server">Where the server listens.</param>
    /// <param name="seed">Seeds the per-direction random decisions.</param>
    /// <param name="dropRate">Fraction of datagrams dropped, in each direction.</param>
    /// <param name="duplicateRate">Fraction of datagrams sent twice.</param>
    /// <param name="reorderRate">Fraction of datagrams held back and sent after the next one.</param>
    internal LossyUdpRelay(IPEndPoint server, int seed, double dropRate = 0.05, double duplicateRate = 0.01, double reorderRate = 0.02)
    {
        _seed = seed;
        _dropRate = dropRate;
        _duplicateRate = duplicateRate;
        _reorderRate = reorderRate;
        _serverAddress = server.Serialize();
        _clientFacing = CreateSocket();
        _serverFacing = CreateSocket();
        _clientAddress = new SocketAddress(AddressFamily.InterNetwork);
        EndPoint = (IPEndPoint)_clientFacing.LocalEndPoint!;
        _toServer = new Thread(() => Pump(_clientFacing, _serverFacing, toServer: true)) { IsBackground = true, Name = "relay client->server" };
        _toClient = new Thread(() => Pump(_serverFacing, _clientFacing, toServer: false)) { IsBackground = true, Name = "relay server->client" };
        _toServer.Start();
        _toClient.Start();
    }

    /// <summary>The client-facing address: dial this instead of the server.</summary>
    internal IPEndPoint EndPoint { get; }

    /// <summary>While true, every datagram in both directions is dropped: the peers go silent to each other.</summary>
    internal bool Blackhole
    {
        get => _blackhole;
        set => _blackhole = value;
    }

    /// <summary>
    /// While true, only what the server sends is dropped: the client's datagrams still reach it, as the packets of a
    /// sender with a forged source address reach a server whose answers go elsewhere.
    /// </summary>
    internal bool ServerUnheard
    {
        get => _serverUnheard;
        set => _serverUnheard = value;
    }

    /// <summary>
    /// While true, of what the server sends only Retry packets get through: the client proves its address, and then
    /// its handshake stalls, as a host that answers Retry and goes no further can make it.
    /// </summary>
    internal bool ServerHeardOnlyForRetry
    {
        get => _serverHeardOnlyForRetry;
        set => _serverHeardOnlyForRetry = value;
    }

    internal long Forwarded => Interlocked.Read(ref _forwarded);
    internal long Dropped => Interlocked.Read(ref _dropped);
    internal long Duplicated => Interlocked.Read(ref _duplicated);
    internal long Reordered => Interlocked.Read(ref _reordered);
    internal long Blackholed => Interlocked.Read(ref _blackholed);
    internal long TooBig => Interlocked.Read(ref _tooBig);

    /// <summary>Datagrams the relay meant to forward but its send failed (a full socket buffer): lost, and not by design.</summary>
    internal long SendFailed => Interlocked.Read(ref _sendFailed);

    /// <summary>
    /// Datagrams the kernel dropped because one of the relay's receive buffers was full (the relay's threads fell behind,
    /// as they can on a loaded machine): lost, and not by design. Read from the drops column of /proc/net/udp.
    /// </summary>
    internal long KernelDropped => UdpSocketDrops.Read(EndPoint.Port) + UdpSocketDrops.Read(((IPEndPoint)_serverFacing.LocalEndPoint!).Port);

    /// <summary>Whether anything was lost that the relay was not told to drop.</summary>
    internal bool LostByAccident => SendFailed > 0 || KernelDropped > 0;

    /// <summary>The largest UDP payload forwarded; bigger datagrams are dropped, as a router drops what its link cannot carry.</summary>
    internal int PathMtu
    {
        get => _pathMtu;
        set => _pathMtu = value;
    }

    private static Socket CreateSocket()
    {
        var socket = new Socket(AddressFamily.InterNetwork, SocketType.Dgram, ProtocolType.Udp);
        // As root, past net.core.rmem_max / wmem_max (SO_RCVBUFFORCE, SO_SNDBUFFORCE), so a relay thread that is not
        // scheduled for a while does not lose what queues up meanwhile; otherwise as much as the limits allow.
        if (!TrySetForced(socket, SoRcvBufForce, 8 << 20))
        {
            socket.ReceiveBufferSize = 8 << 20;
        }
        if (!TrySetForced(socket, SoSndBufForce, 8 << 20))
        {
            socket.SendBufferSize = 8 << 20;
        }
        socket.ReceiveTimeout = 50; // so the pump notices Dispose without relying on close() unblocking recvfrom
        socket.Bind(new IPEndPoint(IPAddress.Loopback, 0));
        return socket;
    }

    private const int SolSocket = 1, SoSndBufForce = 32, SoRcvBufForce = 33;

    private static bool TrySetForced(Socket socket, int option, int bytes)
    {
        try
        {
            socket.SetRawSocketOption(SolSocket, option, BitConverter.GetBytes(bytes));
            return true;
        }
        catch (SocketException)
        {
            return false; // not root (EPERM)
        }
    }

    private void Pump(Socket from, Socket to, bool toServer)
    {
        var random = new Random(_seed * 2 + (toServer ? 0 : 1));
        byte[] buffer = new byte[MaxDatagram];
        byte[] held = new byte[MaxDatagram];
        int heldLength = -1;
        var source = new SocketAddress(AddressFamily.InterNetwork);
        while (!_stopping)
        {
            int n;
            try
            {
                n = from.ReceiveFrom(buffer, SocketFlags.None, source);
            }
            catch (SocketException e) when (e.SocketErrorCode is SocketError.TimedOut or SocketError.WouldBlock or SocketError.ConnectionReset or SocketError.Interrupted)
            {
                continue;
            }
            catch (Exception) when (_stopping)
            {
                return;
            }
            SocketAddress destination;
            if (toServer)
            {
                if (!_clientKnown)
                {
                    // One client per relay: the first address heard is the client; the other pump reads it only
                    // after the volatile write below publishes it.
                    source.Buffer.Span.CopyTo(_clientAddress.Buffer.Span);
                    _clientAddress.Size = source.Size;
                    _clientKnown = true;
                }
                else if (!source.Equals(_clientAddress))
                {
                    continue;
                }
                destination = _serverAddress;
            }
            else
            {
                if (!_clientKnown || !source.Equals(_serverAddress))
                {
                    continue; // nobody to forward to yet, or not from the server
                }
                destination = _clientAddress;
            }
            // A QUIC v1 Retry: long header (0x80) of type 3 (0x30).
            bool retry = n > 0 && (buffer[0] & 0xb0) == 0xb0;
            if (_blackhole || (_serverUnheard && !toServer) || (_serverHeardOnlyForRetry && !toServer && !retry))
            {
                Interlocked.Increment(ref _blackholed);
                continue;
            }
            if (n > _pathMtu)
            {
                Interlocked.Increment(ref _tooBig);
                continue;
            }
            // One draw per decision, always in the same order, so a seed replays the same pattern of fates.
            double drop = random.NextDouble(), duplicate = random.NextDouble(), reorder = random.NextDouble();
            if (drop < _dropRate)
            {
                Interlocked.Increment(ref _dropped);
                continue;
            }
            if (heldLength < 0 && reorder < _reorderRate)
            {
                // Hold this one back; it goes out right after the next datagram that survives.
                Buffer.BlockCopy(buffer, 0, held, 0, n);
                heldLength = n;
                Interlocked.Increment(ref _reordered);
                continue;
            }
            Send(to, buffer, n, destination);
            if (duplicate < _duplicateRate)
            {
                Send(to, buffer, n, destination);
                Interlocked.Increment(ref _duplicated);
            }
            if (heldLength >= 0)
            {
                Send(to, held, heldLength, destination);
                heldLength = -1;
            }
        }
    }

    private void Send(Socket socket, byte[] data, int length, SocketAddress destination)
    {
        try
        {
            socket.SendTo(data.AsSpan(0, length), SocketFlags.None, destination);
            Interlocked.Increment(ref _forwarded);
        }
        catch (SocketException)
        {
            // A full socket buffer or an ICMP error from an earlier send: the datagram is lost, like on a real path.
            Interlocked.Increment(ref _sendFailed);
        }
        catch (ObjectDisposedException) when (_stopping)
        {
        }
    }

    /// <inheritdoc/>
    public override string ToString() =>
        $"relay {EndPoint}: forwarded {Forwarded}, dropped {Dropped}, duplicated {Duplicated}, reordered {Reordered}, blackholed {Blackholed}, too big {TooBig}, " +
        $"send failed {SendFailed}, dropped by the kernel {KernelDropped}";

    public void Dispose()
    {
        _stopping = true;
        _toServer.Join();
        _toClient.Join();
        _clientFacing.Dispose();
        _serverFacing.Dispose();
    }
}
