using System.Buffers.Binary;
using System.Net;
using System.Net.Sockets;
using Microsoft.Extensions.Logging;

namespace TensorProtocol.Quic.Tests;

public sealed class EndpointTests : QuicTestBase
{
    [Fact]
    public async Task UnknownVersion_GetsVersionNegotiationListingV1()
    {
        await using QuicEndpoint server = CreateEndpoint();
        using var raw = new Socket(AddressFamily.InterNetwork, SocketType.Dgram, ProtocolType.Udp);
        raw.Bind(new IPEndPoint(IPAddress.Loopback, 0));

        // A long-header Initial-sized packet with a version nobody speaks (0x1a2a3a4a), 8-byte IDs, padded to 1200.
        var packet = new byte[1200];
        packet[0] = 0xc0;
        BinaryPrimitives.WriteUInt32BigEndian(packet.AsSpan(1), 0x1a2a3a4a);
        packet[5] = 8;
        new Random(1).NextBytes(packet.AsSpan(6, 8));
        packet[14] = 8;
        new Random(2).NextBytes(packet.AsSpan(15, 8));
        await raw.SendToAsync(packet, server.LocalEndPoint);

        var reply = new byte[1500];
        int n = await raw.ReceiveAsync(reply, Timeout(TimeSpan.FromSeconds(10)));
        Assert.True(n >= 7 + 16 + 4);
        Assert.Equal(0u, BinaryPrimitives.ReadUInt32BigEndian(reply.AsSpan(1))); // version 0 = Version Negotiation
        Assert.Equal(8, reply[5]);
        Assert.True(reply.AsSpan(6, 8).SequenceEqual(packet.AsSpan(15, 8)));  // IDs swapped back to the sender
        int versionsAt = 6 + 8 + 1 + 8;
        var versions = new List<uint>();
        for (int i = versionsAt; i + 4 <= n; i += 4)
        {
            versions.Add(BinaryPrimitives.ReadUInt32BigEndian(reply.AsSpan(i)));
        }
        Assert.Contains(1u, versions);
    }

    [Fact]
    public async Task UnknownConnectionId_GetsStatelessReset_ShorterThanTheTrigger()
    {
        await using QuicEndpoint server = CreateEndpoint();
        using var raw = new Socket(AddressFamily.InterNetwork, SocketType.Dgram, ProtocolType.Udp);
        raw.Bind(new IPEndPoint(IPAddress.Loopback, 0));
        var packet = new byte[200];
        new Random(3).NextBytes(packet);
        packet[0] = 0x40; // short header, fixed bit set
        await raw.SendToAsync(packet, server.LocalEndPoint);

        var reply = new byte[1500];
        int n = await raw.ReceiveAsync(reply, Timeout(TimeSpan.FromSeconds(10)));
        Assert.True(n < packet.Length, $"reset of {n} bytes for a {packet.Length}-byte trigger");
        Assert.True(n >= 21);
        Assert.Equal(0x40, reply[0] & 0xc0); // looks like a short-header packet, as RFC 9000 §10.3 requires
    }

    [Fact]
    public async Task Garbage_IsDropped_AndTheEndpointKeepsWorking()
    {
        await using QuicEndpoint server = CreateEndpoint();
        await using QuicEndpoint client = CreateEndpoint();
        using var raw = new Socket(AddressFamily.InterNetwork, SocketType.Dgram, ProtocolType.Udp);
        raw.Bind(new IPEndPoint(IPAddress.Loopback, 0));
        var random = new Random(4);
        for (int i = 0; i < 2000; i++)
        {
            var junk = new byte[random.Next(1, 1500)];
            random.NextBytes(junk);
            if (i % 2 == 0)
            {
                junk[0] |= 0x80; // long header: walks the Initial / version paths
            }
            await raw.SendToAsync(junk, server.LocalEndPoint);
        }
        var (c, s) = await ConnectPairAsync(client, server);
        Assert.Equal(client.PublicKey, s.RemotePublicKey);
    }

    [Fact]
    public async Task AcceptQueueFull_RefusesFurtherConnections()
    {
        await using QuicEndpoint server = CreateEndpoint(acceptQueue: 1);
        await using QuicEndpoint first = CreateEndpoint();
        await using QuicEndpoint second = CreateEndpoint();
        // Not accepted by the application: it occupies the only place in the queue.
        QuicConnection waiting = await first.ConnectAsync(server.LocalEndPoint, server.PublicKey, Timeout());
        QuicException error = await Assert.ThrowsAsync<QuicException>(async () =>
            await second.ConnectAsync(server.LocalEndPoint, server.PublicKey, Timeout()));
        Assert.Equal(QuicErrorKind.ConnectionRefused, error.Kind);

        QuicConnection accepted = await server.AcceptConnectionAsync(Timeout());
        Assert.Equal(first.PublicKey, accepted.RemotePublicKey);
        // Accepting frees the place.
        QuicConnection third = await second.ConnectAsync(server.LocalEndPoint, server.PublicKey, Timeout());
        Assert.Equal(second.PublicKey, (await server.AcceptConnectionAsync(Timeout())).RemotePublicKey);
        await waiting.DisposeAsync();
        await third.DisposeAsync();
    }

    [Fact]
    public async Task AcceptQueue_KeepsThePlaceOfAConnectionThatClosedBeforeBeingAccepted()
    {
        // A peer that connects and closes before the application accepts must not free its place when the connection
        // is reaped: the dead connection still waits in the queue, and such peers could otherwise fill it without end.
        await using QuicEndpoint server = CreateEndpoint(acceptQueue: 1);
        await using QuicEndpoint first = CreateEndpoint();
        await using QuicEndpoint second = CreateEndpoint();
        QuicConnection gone = await first.ConnectAsync(server.LocalEndPoint, server.PublicKey, Timeout());
        await gone.DisposeAsync();
        var clock = System.Diagnostics.Stopwatch.StartNew();
        while (server.ConnectionCountForTests != 0)
        {
            Assert.True(clock.Elapsed < TimeSpan.FromSeconds(10), "the closed connection was never reaped");
            await Task.Delay(5);
        }
        QuicException error = await Assert.ThrowsAsync<QuicException>(async () =>
            await second.ConnectAsync(server.LocalEndPoint, server.PublicKey, Timeout()));
        Assert.Equal(QuicErrorKind.ConnectionRefused, error.Kind);

        QuicConnection dead = await server.AcceptConnectionAsync(Timeout());
        Assert.True(dead.IsClosed);
        await dead.DisposeAsync();
        // Taken, it frees the place.
        await using QuicConnection next = await second.ConnectAsync(server.LocalEndPoint, server.PublicKey, Timeout());
        Assert.Equal(second.PublicKey, (await server.AcceptConnectionAsync(Timeout())).RemotePublicKey);
    }

    [Fact]
    public async Task Dispose_ClosesConnections_PeerSeesConnectionAborted()
    {
        QuicEndpoint server = CreateEndpoint();
        await using QuicEndpoint client = CreateEndpoint(QuicConnectionOptions.Default with { IdleTimeout = TimeSpan.FromSeconds(60) });
        var (c, _) = await ConnectPairAsync(client, server);
        Task<QuicStream> pending = c.AcceptInboundStreamAsync(Timeout()).AsTask();
        var clock = System.Diagnostics.Stopwatch.StartNew();
        await server.DisposeAsync();
        QuicException error = await Assert.ThrowsAsync<QuicException>(() => pending);
        Assert.Equal(QuicErrorKind.ConnectionAborted, error.Kind);
        Assert.Equal(0, error.ApplicationErrorCode);
        Assert.True(clock.Elapsed < TimeSpan.FromSeconds(10), "the close was not sent: the client waited for a timeout");
        await Assert.ThrowsAsync<ObjectDisposedException>(async () => await server.AcceptConnectionAsync());
    }

    [Fact]
    public async Task DisposeAsync_PostedWhileTheLoopRuns_WithNoConnectionLeft_StillStopsTheLoop()
    {
        // The bench's client disposes its connection, then its endpoint; once, the endpoint's shutdown reached the
        // loop mid-turn (after the turn's shutdown check, taken by the second drain of posted work), and with no
        // connection left the loop parked without a timeout for good. The hook posts the shutdown at exactly that point.
        QuicEndpoint endpoint = CreateEndpoint();
        // Installed once the loop is idle: before its first turns it would end the loop before the scenario begins.
        Assert.True(SpinWait.SpinUntil(() => endpoint.IsParked, TimeSpan.FromSeconds(10)));
        Task? disposing = null;
        endpoint.AfterReceiveForTests = () =>
        {
            if (disposing is null)
            {
                disposing = endpoint.DisposeAsync().AsTask(); // on the loop: enqueues the shutdown, wakes nothing
            }
        };
        endpoint.WakeIdle(); // one turn: the hook runs between its receive and its second drain

        Assert.True(SpinWait.SpinUntil(() => disposing is not null, TimeSpan.FromSeconds(10)));
        Task finished = await Task.WhenAny(disposing!, Task.Delay(TimeSpan.FromSeconds(10)));
        Assert.True(finished == disposing, "the loop parked after the shutdown began and never stopped");
        await disposing!;
    }

    [Fact]
    public async Task OperationsAfterDispose_FailInsteadOfHanging()
    {
        QuicEndpoint server = CreateEndpoint();
        QuicEndpoint client = CreateEndpoint();
        var (c, s) = await ConnectPairAsync(client, server);
        QuicStream stream = await c.OpenOutboundStreamAsync(QuicStreamType.Bidirectional, Timeout());
        await client.DisposeAsync();
        await server.DisposeAsync();
        TimeSpan bound = TimeSpan.FromSeconds(10);

        await Assert.ThrowsAsync<QuicException>(async () => await stream.WriteAsync(new byte[10], Timeout()).AsTask().WaitAsync(bound));
        await Assert.ThrowsAsync<QuicException>(async () => await stream.ReadAsync(new byte[10], Timeout()).AsTask().WaitAsync(bound));
        await Assert.ThrowsAsync<QuicException>(async () => await c.OpenOutboundStreamAsync(QuicStreamType.Bidirectional, Timeout()).AsTask().WaitAsync(bound));
        await Assert.ThrowsAsync<QuicException>(async () => await s.AcceptInboundStreamAsync(Timeout()).AsTask().WaitAsync(bound));
        QuicConnectionStatistics stats = await c.GetStatisticsAsync().AsTask().WaitAsync(bound);
        Assert.True(stats.BytesSent > 0);
        await c.CloseAsync(0).AsTask().WaitAsync(bound);
        await c.DisposeAsync();
        await Assert.ThrowsAsync<ObjectDisposedException>(async () => await client.ConnectAsync(server.LocalEndPoint, server.PublicKey, Timeout()));
    }

    [Fact]
    public async Task Create_SamePortTwice_FailsWithAddressInUse()
    {
        await using QuicEndpoint first = CreateEndpoint();
        QuicException error = Assert.Throws<QuicException>(() => QuicEndpoint.Create(new QuicEndpointOptions
        {
            LocalEndPoint = first.LocalEndPoint,
            ApplicationProtocols = [Alpn],
        }));
        Assert.Equal(QuicErrorKind.AddressInUse, error.Kind);
        Assert.Equal(QuicErrorScope.Endpoint, error.Scope);
    }

    [Fact]
    public void Create_InvalidOptions_Throws()
    {
        Assert.Throws<ArgumentException>(() => QuicEndpoint.Create(new QuicEndpointOptions()));
        Assert.Throws<ArgumentOutOfRangeException>(() => QuicEndpoint.Create(new QuicEndpointOptions
        {
            ApplicationProtocols = [Alpn],
            ConnectionOptions = QuicConnectionOptions.Default with { MaxDatagramSize = 100 },
        }));
        Assert.Throws<ArgumentOutOfRangeException>(() => QuicEndpoint.Create(new QuicEndpointOptions
        {
            ApplicationProtocols = [Alpn],
            ConnectionOptions = QuicConnectionOptions.Default with { AckThreshold = 0 },
        }));
        Assert.Throws<ArgumentOutOfRangeException>(() => QuicEndpoint.Create(new QuicEndpointOptions { ApplicationProtocols = [Alpn], MaxHandshakesPerAddress = 0 }));
        // What GnuTLS takes: at most 8 names of at most 31 bytes (else every connection would fail later).
        Assert.Throws<ArgumentException>(() => QuicEndpoint.Create(new QuicEndpointOptions { ApplicationProtocols = [new string('a', 32)] }));
        Assert.Throws<ArgumentException>(() => QuicEndpoint.Create(new QuicEndpointOptions { ApplicationProtocols = [.. Enumerable.Range(0, 9).Select(i => $"p{i}")] }));
    }

    [Fact]
    public async Task LongestAlpnAndLongestList_StillConnect()
    {
        string longest = new('x', 31);
        IReadOnlyList<string> eight = [.. Enumerable.Range(0, 7).Select(i => $"other/{i}"), longest];
        await using QuicEndpoint server = CreateEndpoint(alpn: eight);
        await using QuicEndpoint client = CreateEndpoint(alpn: [longest]);
        var (c, s) = await ConnectPairAsync(client, server);
        Assert.Equal(longest, c.NegotiatedApplicationProtocol);
        await c.DisposeAsync();
        await s.DisposeAsync();
    }

    [Fact]
    public async Task DualStackEndpoint_AcceptsIPv4AndIPv6()
    {
        await using QuicEndpoint server = CreateEndpoint(address: IPAddress.IPv6Any);
        await using QuicEndpoint v4 = CreateEndpoint();
        await using QuicEndpoint v6 = CreateEndpoint(address: IPAddress.IPv6Loopback);
        int port = server.LocalEndPoint.Port;
        Task<QuicConnection> accept = server.AcceptConnectionAsync(Timeout()).AsTask();
        QuicConnection a = await v4.ConnectAsync(new IPEndPoint(IPAddress.Loopback, port), server.PublicKey, Timeout());
        Assert.Equal(v4.PublicKey, (await accept).RemotePublicKey);
        accept = server.AcceptConnectionAsync(Timeout()).AsTask();
        QuicConnection b = await v6.ConnectAsync(new IPEndPoint(IPAddress.IPv6Loopback, port), server.PublicKey, Timeout());
        Assert.Equal(v6.PublicKey, (await accept).RemotePublicKey);
        await a.DisposeAsync();
        await b.DisposeAsync();
    }

    [Fact]
    public async Task Logging_ReportsHandshakesWithStableEventIds()
    {
        var sink = new ListLoggerProvider();
        using ILoggerFactory factory = LoggerFactory.Create(b => b.AddProvider(sink).SetMinimumLevel(LogLevel.Debug));
        await using QuicEndpoint server = QuicEndpoint.Create(new QuicEndpointOptions
        {
            LocalEndPoint = new IPEndPoint(IPAddress.Loopback, 0),
            ApplicationProtocols = [Alpn],
            LoggerFactory = factory,
        });
        await using QuicEndpoint client = CreateEndpoint();
        await ConnectPairAsync(client, server);
        Assert.Contains(sink.Events, e => e.Id == 1);
        Assert.Contains(sink.Events, e => e.Id == 3 && e.Message.Contains(client.PublicKey.ToString(), StringComparison.Ordinal));
    }

    private sealed class ListLoggerProvider : ILoggerProvider, ILogger
    {
        private readonly object _lock = new();
        private readonly List<(int Id, string Message)> _events = [];

        public IReadOnlyList<(int Id, string Message)> Events
        {
            get
            {
                lock (_lock)
                {
                    return [.. _events];
                }
            }
        }

        public ILogger CreateLogger(string categoryName) => this;
        public void Dispose() { }
        public IDisposable? BeginScope<TState>(TState state) where TState : notnull => null;
        public bool IsEnabled(LogLevel logLevel) => true;

        public void Log<TState>(LogLevel logLevel, EventId eventId, TState state, Exception? exception, Func<TState, Exception?, string> formatter)
        {
            lock (_lock)
            {
                _events.Add((eventId.Id, formatter(state, exception)));
            }
        }
    }
}
