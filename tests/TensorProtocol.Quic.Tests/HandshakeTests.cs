namespace TensorProtocol.Quic.Tests;

public sealed class HandshakeTests : QuicTestBase
{
    [Fact]
    public async Task Connect_BothSidesSeeEachOthersPublicKey()
    {
        await using QuicEndpoint server = CreateEndpoint();
        await using QuicEndpoint client = CreateEndpoint();
        var (c, s) = await ConnectPairAsync(client, server);
        Assert.Equal(server.PublicKey, c.RemotePublicKey);
        Assert.Equal(client.PublicKey, s.RemotePublicKey);
        Assert.Equal(Alpn, c.NegotiatedApplicationProtocol);
        Assert.Equal(Alpn, s.NegotiatedApplicationProtocol);
        Assert.True(s.IsServer);
        Assert.False(c.IsServer);

        QuicStream stream = await c.OpenOutboundStreamAsync(QuicStreamType.Bidirectional, Timeout());
        await stream.WriteAsync("hello"u8.ToArray(), completeWrites: true, Timeout());
        QuicStream accepted = await s.AcceptInboundStreamAsync(Timeout());
        var buffer = new byte[16];
        int n = await accepted.ReadAsync(buffer, Timeout());
        Assert.Equal("hello", System.Text.Encoding.ASCII.GetString(buffer, 0, n));
        await accepted.WriteAsync("world"u8.ToArray(), completeWrites: true, Timeout());
        n = await stream.ReadAsync(buffer, Timeout());
        Assert.Equal("world", System.Text.Encoding.ASCII.GetString(buffer, 0, n));
        Assert.Equal(0, await stream.ReadAsync(buffer, Timeout()));
        await c.DisposeAsync();
        await s.DisposeAsync();
    }
}

public sealed class AuthenticationTests : QuicTestBase
{
    [Fact]
    public async Task Connect_WrongExpectedKey_FailsWithAuthenticationFailed_AndAcceptorDeliversNothing()
    {
        await using QuicEndpoint server = CreateEndpoint();
        await using QuicEndpoint intruder = CreateEndpoint();
        await using QuicEndpoint honest = CreateEndpoint();
        using QuicIdentity someoneElse = QuicIdentity.Generate();

        Task<QuicConnection> accept = server.AcceptConnectionAsync(Timeout()).AsTask();
        QuicException error = await Assert.ThrowsAsync<QuicException>(async () =>
            await intruder.ConnectAsync(server.LocalEndPoint, someoneElse.PublicKey, Timeout()));
        Assert.Equal(QuicErrorKind.AuthenticationFailed, error.Kind);
        Assert.Contains(server.PublicKey.ToString(), error.Message, StringComparison.Ordinal);

        // The failed attempt must not surface on the acceptor: the first connection it delivers is the honest one.
        QuicConnection good = await honest.ConnectAsync(server.LocalEndPoint, server.PublicKey, Timeout());
        QuicConnection accepted = await accept;
        Assert.Equal(honest.PublicKey, accepted.RemotePublicKey);
        await good.DisposeAsync();
    }

    [Fact]
    public async Task Connect_NoCommonAlpn_FailsWithAlpnMismatch()
    {
        await using QuicEndpoint server = CreateEndpoint(alpn: ["tensorp-test/1"]);
        await using QuicEndpoint client = CreateEndpoint(alpn: ["something-else/9"]);
        QuicException error = await Assert.ThrowsAsync<QuicException>(async () =>
            await client.ConnectAsync(server.LocalEndPoint, server.PublicKey, Timeout()));
        Assert.Equal(QuicErrorKind.AlpnMismatch, error.Kind);
    }

    [Theory]
    [InlineData(true)]
    [InlineData(false)]
    public async Task Handshake_WithoutTheAlpnExtension_FailsWithAlpnMismatch(bool clientOmitsIt)
    {
        // GnuTLS enforces a mandatory ALPN only when the extension is present: a peer that leaves it out entirely must
        // still fail, on either side, and the server must deliver no connection.
        QuicEndpoint Create(bool omit) => QuicEndpoint.Create(new QuicEndpointOptions
        {
            LocalEndPoint = new System.Net.IPEndPoint(System.Net.IPAddress.Loopback, 0),
            ApplicationProtocols = [Alpn],
            OmitAlpnForTests = omit,
        });
        await using QuicEndpoint server = Create(!clientOmitsIt);
        await using QuicEndpoint client = Create(clientOmitsIt);
        Task<QuicConnection> accept = server.AcceptConnectionAsync(Timeout()).AsTask();
        QuicException error = await Assert.ThrowsAsync<QuicException>(async () =>
            await client.ConnectAsync(server.LocalEndPoint, server.PublicKey, Timeout()));
        Assert.True(error.Kind is QuicErrorKind.AlpnMismatch or QuicErrorKind.ConnectionAborted or QuicErrorKind.ProtocolViolation, $"{error.Kind}: {error.Message}");
        if (!clientOmitsIt)
        {
            Assert.Equal(QuicErrorKind.AlpnMismatch, error.Kind); // the client itself found no protocol agreed
        }
        // Nothing was accepted: an honest client still gets through afterwards, and is the first one accepted.
        await using QuicEndpoint honest = CreateEndpoint();
        if (clientOmitsIt)
        {
            await using QuicConnection good = await honest.ConnectAsync(server.LocalEndPoint, server.PublicKey, Timeout());
            QuicConnection accepted = await accept.WaitAsync(TimeSpan.FromSeconds(10));
            Assert.Equal(honest.PublicKey, accepted.RemotePublicKey);
            await accepted.DisposeAsync();
        }
    }

    [Fact]
    public async Task Connect_AlpnList_PicksCommonProtocol()
    {
        await using QuicEndpoint server = CreateEndpoint(alpn: ["tensorp/2", "tensorp/1"]);
        await using QuicEndpoint client = CreateEndpoint(alpn: ["tensorp/1"]);
        var (c, s) = await ConnectPairAsync(client, server);
        Assert.Equal("tensorp/1", c.NegotiatedApplicationProtocol);
        Assert.Equal("tensorp/1", s.NegotiatedApplicationProtocol);
    }

    [Fact]
    public async Task Connect_ClosedPort_FailsFastWithConnectionRefused()
    {
        int port;
        using (var probe = new System.Net.Sockets.Socket(System.Net.Sockets.AddressFamily.InterNetwork, System.Net.Sockets.SocketType.Dgram, System.Net.Sockets.ProtocolType.Udp))
        {
            probe.Bind(new System.Net.IPEndPoint(System.Net.IPAddress.Loopback, 0));
            port = ((System.Net.IPEndPoint)probe.LocalEndPoint!).Port;
        }
        // A long handshake timeout proves the failure comes from the ICMP error, not from waiting it out.
        await using QuicEndpoint client = CreateEndpoint(QuicConnectionOptions.Default with { HandshakeTimeout = TimeSpan.FromSeconds(60) });
        using QuicIdentity nobody = QuicIdentity.Generate();
        var clock = System.Diagnostics.Stopwatch.StartNew();
        QuicException error = await Assert.ThrowsAsync<QuicException>(async () =>
            await client.ConnectAsync(new System.Net.IPEndPoint(System.Net.IPAddress.Loopback, port), nobody.PublicKey, Timeout()));
        Assert.Equal(QuicErrorKind.ConnectionRefused, error.Kind);
        Assert.True(clock.Elapsed < TimeSpan.FromSeconds(10), $"took {clock.Elapsed}");
    }

    /// <summary>
    /// From a dual-stack socket, by every spelling of the address. The ICMP error for a v4-mapped address comes back as
    /// plain IPv4; it matched no connection, so the dial waited out its handshake timeout.
    /// </summary>
    [Theory]
    [InlineData("127.0.0.1")]
    [InlineData("::ffff:127.0.0.1")]
    [InlineData("::1")]
    public async Task Connect_ClosedPort_FromADualStackSocket_FailsFastWithConnectionRefused(string address)
    {
        System.Net.IPAddress target = System.Net.IPAddress.Parse(address);
        int port;
        using (var probe = new System.Net.Sockets.Socket(System.Net.Sockets.AddressFamily.InterNetworkV6, System.Net.Sockets.SocketType.Dgram, System.Net.Sockets.ProtocolType.Udp))
        {
            probe.DualMode = true;
            probe.Bind(new System.Net.IPEndPoint(System.Net.IPAddress.IPv6Any, 0)); // a port free on both families
            port = ((System.Net.IPEndPoint)probe.LocalEndPoint!).Port;
        }
        await using QuicEndpoint client = CreateEndpoint(QuicConnectionOptions.Default with { HandshakeTimeout = TimeSpan.FromSeconds(60) }, address: System.Net.IPAddress.IPv6Any);
        using QuicIdentity nobody = QuicIdentity.Generate();
        var clock = System.Diagnostics.Stopwatch.StartNew();
        QuicException error = await Assert.ThrowsAsync<QuicException>(async () =>
            await client.ConnectAsync(new System.Net.IPEndPoint(target, port), nobody.PublicKey, Timeout()));
        Assert.Equal(QuicErrorKind.ConnectionRefused, error.Kind);
        Assert.True(clock.Elapsed < TimeSpan.FromSeconds(10), $"took {clock.Elapsed}");
    }

    [Fact]
    public async Task Connect_HandshakeTimeout_FailsWithTimeout()
    {
        // A socket that swallows everything: no ICMP error, no answer.
        using var silent = new System.Net.Sockets.Socket(System.Net.Sockets.AddressFamily.InterNetwork, System.Net.Sockets.SocketType.Dgram, System.Net.Sockets.ProtocolType.Udp);
        silent.Bind(new System.Net.IPEndPoint(System.Net.IPAddress.Loopback, 0));
        await using QuicEndpoint client = CreateEndpoint(QuicConnectionOptions.Default with { HandshakeTimeout = TimeSpan.FromMilliseconds(500) });
        using QuicIdentity nobody = QuicIdentity.Generate();
        QuicException error = await Assert.ThrowsAsync<QuicException>(async () =>
            await client.ConnectAsync((System.Net.IPEndPoint)silent.LocalEndPoint!, nobody.PublicKey, Timeout()));
        Assert.Equal(QuicErrorKind.Timeout, error.Kind);
    }

    [Fact]
    public async Task Connect_Cancelled_ThrowsOperationCanceled()
    {
        using var silent = new System.Net.Sockets.Socket(System.Net.Sockets.AddressFamily.InterNetwork, System.Net.Sockets.SocketType.Dgram, System.Net.Sockets.ProtocolType.Udp);
        silent.Bind(new System.Net.IPEndPoint(System.Net.IPAddress.Loopback, 0));
        await using QuicEndpoint client = CreateEndpoint();
        using QuicIdentity nobody = QuicIdentity.Generate();
        using var cts = new CancellationTokenSource(TimeSpan.FromMilliseconds(200));
        await Assert.ThrowsAnyAsync<OperationCanceledException>(async () =>
            await client.ConnectAsync((System.Net.IPEndPoint)silent.LocalEndPoint!, nobody.PublicKey, cts.Token));
    }
}
