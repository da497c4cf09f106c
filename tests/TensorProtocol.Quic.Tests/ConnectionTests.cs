namespace TensorProtocol.Quic.Tests;

public sealed class ConnectionTests : QuicTestBase
{
    [Theory]
    [InlineData(QuicCongestionControl.Bbr, 1452)]
    [InlineData(QuicCongestionControl.Cubic, 1452)]
    [InlineData(QuicCongestionControl.Reno, 1452)]
    [InlineData(QuicCongestionControl.Bbr, 65000)]
    [InlineData(QuicCongestionControl.Bbr, 4096)] // sizes that divide 64 KiB: a 64 KiB GSO batch is more than a UDP send carries
    [InlineData(QuicCongestionControl.Bbr, 16384)]
    public async Task Transfer_WorksWithEveryCongestionControllerAndDatagramSize(QuicCongestionControl cc, int datagram)
    {
        var options = QuicConnectionOptions.Default with { CongestionControl = cc, MaxDatagramSize = datagram };
        await using QuicEndpoint server = CreateEndpoint(options);
        await using QuicEndpoint client = CreateEndpoint(options);
        var (c, s) = await ConnectPairAsync(client, server);
        byte[] payload = RandomBytes(16 << 20, seed: (int)cc + datagram);
        QuicStream stream = await c.OpenOutboundStreamAsync(QuicStreamType.Bidirectional, Timeout());
        Task write = stream.WriteAsync(payload, completeWrites: true, Timeout()).AsTask();
        QuicStream incoming = await s.AcceptInboundStreamAsync(Timeout());
        var received = new byte[payload.Length];
        await incoming.ReadExactlyAsync(received, Timeout());
        await write;
        Assert.True(payload.AsSpan().SequenceEqual(received));
        Assert.Equal(0, await incoming.ReadAsync(new byte[1], Timeout()));

        QuicConnectionStatistics stats = await c.GetStatisticsAsync();
        Assert.True(stats.SmoothedRtt > TimeSpan.Zero);
        Assert.True(stats.BytesSent >= payload.Length);
        Assert.True(stats.CongestionWindow > 0);
        Assert.True(stats.MaxDatagramSize <= datagram);
        Assert.True(client.DatagramsRefused == 0, $"the kernel refused {client.DatagramsRefused} datagrams (whole GSO batches)");
    }

    [Fact]
    public async Task Transfer_WithoutGso_UsesBatchedDatagramsAndArrivesIntact()
    {
        QuicEndpoint Create() => QuicEndpoint.Create(new QuicEndpointOptions
        {
            LocalEndPoint = new System.Net.IPEndPoint(System.Net.IPAddress.Loopback, 0),
            ApplicationProtocols = [Alpn],
            UseGso = false,
        });
        await using QuicEndpoint server = Create();
        await using QuicEndpoint client = Create();
        Assert.False(client.GsoEnabled);
        var (c, s) = await ConnectPairAsync(client, server);
        byte[] payload = RandomBytes(16 << 20, seed: 5);
        QuicStream stream = await c.OpenOutboundStreamAsync(QuicStreamType.Bidirectional, Timeout());
        Task write = stream.WriteAsync(payload, completeWrites: true, Timeout()).AsTask();
        QuicStream incoming = await s.AcceptInboundStreamAsync(Timeout());
        var received = new byte[payload.Length];
        await incoming.ReadExactlyAsync(received, Timeout());
        await write;
        Assert.True(payload.AsSpan().SequenceEqual(received));
    }

    [Fact]
    public async Task UnidirectionalStream_CarriesDataOneWay()
    {
        await using QuicEndpoint server = CreateEndpoint();
        await using QuicEndpoint client = CreateEndpoint();
        var (c, s) = await ConnectPairAsync(client, server);
        QuicStream uni = await c.OpenOutboundStreamAsync(QuicStreamType.Unidirectional, Timeout());
        Assert.False(uni.CanRead);
        await uni.WriteAsync("one way"u8.ToArray(), completeWrites: true, Timeout());
        QuicStream incoming = await s.AcceptInboundStreamAsync(Timeout());
        Assert.Equal(QuicStreamType.Unidirectional, incoming.Type);
        Assert.False(incoming.CanWrite);
        var buffer = new byte[7];
        await incoming.ReadExactlyAsync(buffer, Timeout());
        Assert.Equal("one way", System.Text.Encoding.ASCII.GetString(buffer));
    }

    [Fact]
    public async Task OpenStream_WaitsForPeerCredit_ThenProceeds()
    {
        var tight = QuicConnectionOptions.Default with { MaxInboundBidirectionalStreams = 2 };
        await using QuicEndpoint server = CreateEndpoint(tight);
        await using QuicEndpoint client = CreateEndpoint();
        var (c, s) = await ConnectPairAsync(client, server);
        // Open and finish 20 streams one after another: the peer must keep granting credit as streams close.
        for (int i = 0; i < 20; i++)
        {
            await EchoOneByteAsync(await c.OpenOutboundStreamAsync(QuicStreamType.Bidirectional, Timeout()), s, (byte)i);
        }
    }

    /// <summary>
    /// Sends <paramref name="value"/> and FIN on <paramref name="stream"/>; the peer's side of it (taken from
    /// <paramref name="server"/>'s accept queue) echoes it and FIN; both ends see the byte and the end, then close.
    /// </summary>
    private static async Task EchoOneByteAsync(QuicStream stream, QuicConnection server, byte value)
    {
        await stream.WriteAsync(new byte[] { value }, completeWrites: true, Timeout());
        QuicStream incoming = await server.AcceptInboundStreamAsync(Timeout());
        var one = new byte[1];
        await incoming.ReadExactlyAsync(one, Timeout());
        Assert.Equal(value, one[0]);
        await incoming.WriteAsync(one, completeWrites: true, Timeout());
        await stream.ReadExactlyAsync(one, Timeout());
        Assert.Equal(value, one[0]);
        Assert.Equal(0, await stream.ReadAsync(one, Timeout()));
        Assert.Equal(0, await incoming.ReadAsync(one, Timeout()));
        await stream.DisposeAsync();
        await incoming.DisposeAsync();
    }

    [Fact]
    public async Task StreamCredit_IsGrantedInBatches_WithoutLoweringTheLimit()
    {
        var tight = QuicConnectionOptions.Default with { MaxInboundBidirectionalStreams = 8 };
        await using QuicEndpoint server = CreateEndpoint(tight);
        await using QuicEndpoint client = CreateEndpoint();
        var (c, s) = await ConnectPairAsync(client, server);

        // Three finished streams. A stream's credit rides along with the next answer the server writes (if it closed
        // before it), but the last one closes on the client's acknowledgement of the last answer, with nothing to ride
        // on: with five of eight still in hand, it is not sent on its own.
        for (byte i = 0; i < 3; i++)
        {
            await EchoOneByteAsync(await c.OpenOutboundStreamAsync(QuicStreamType.Bidirectional, Timeout()), s, i);
        }
        Assert.True(SpinWait.SpinUntil(() => s.GetRemoteBidiCreditAsync().AsTask().Result.Owed >= 1, TimeSpan.FromSeconds(10)));
        (long limit, long opened, long owed) = await s.GetRemoteBidiCreditAsync();
        Assert.Equal(3, opened);
        Assert.Equal(11, limit + owed); // 8 to start with, 3 earned: granted or owed, none lost

        // Seven streams open at once (the peer may have eight): what is still owed is granted once fewer than four are left.
        var held = new List<QuicStream>();
        for (int i = 0; i < 7; i++)
        {
            QuicStream stream = await c.OpenOutboundStreamAsync(QuicStreamType.Bidirectional, Timeout());
            await stream.WriteAsync(new byte[] { 1 }, completeWrites: false, Timeout()); // the peer learns of it
            held.Add(stream);
            held.Add(await s.AcceptInboundStreamAsync(Timeout())); // taken, and kept open
        }
        (limit, opened, owed) = await s.GetRemoteBidiCreditAsync();
        Assert.Equal(10, opened);
        Assert.Equal(0, owed);
        Assert.Equal(11, limit);

        // With seven held open, the eighth still opens and completes: the limit's concurrency is intact.
        await EchoOneByteAsync(await c.OpenOutboundStreamAsync(QuicStreamType.Bidirectional, Timeout()), s, 42);
        foreach (QuicStream stream in held)
        {
            stream.Abort(QuicAbortDirection.Both, 0);
            await stream.DisposeAsync();
        }
    }

    [Fact]
    public async Task KeepAlive_KeepsAnIdleConnectionOpenPastTheIdleTimeout()
    {
        var options = QuicConnectionOptions.Default with { IdleTimeout = TimeSpan.FromSeconds(1), KeepAliveInterval = TimeSpan.FromMilliseconds(200) };
        await using QuicEndpoint server = CreateEndpoint(options);
        await using QuicEndpoint client = CreateEndpoint(options);
        var (c, s) = await ConnectPairAsync(client, server);
        // The scenario itself is "stay idle for three idle timeouts"; this delay is the idleness, not a synchronisation.
        await Task.Delay(TimeSpan.FromSeconds(3));
        QuicStream stream = await c.OpenOutboundStreamAsync(QuicStreamType.Bidirectional, Timeout());
        await stream.WriteAsync(new byte[] { 42 }, completeWrites: true, Timeout());
        QuicStream incoming = await s.AcceptInboundStreamAsync(Timeout());
        var one = new byte[1];
        await incoming.ReadExactlyAsync(one, Timeout());
        Assert.Equal(42, one[0]);
    }

    [Fact]
    public async Task IdleTimeout_WithoutKeepAlive_EndsTheConnectionWithIdleTimeout()
    {
        var options = QuicConnectionOptions.Default with { IdleTimeout = TimeSpan.FromMilliseconds(500) };
        await using QuicEndpoint server = CreateEndpoint(options);
        await using QuicEndpoint client = CreateEndpoint(options);
        var (c, _) = await ConnectPairAsync(client, server);
        QuicException error = await Assert.ThrowsAsync<QuicException>(async () => await c.AcceptInboundStreamAsync(Timeout()));
        Assert.Equal(QuicErrorKind.IdleTimeout, error.Kind);
    }

    [Fact]
    public async Task IdleTimeouts_OfManyConnections_EachFire_AndEveryConnectionIsReaped()
    {
        // The endpoint keeps its connections' timers in a heap and asks only the connections a turn touched for their
        // expiry again: every one of 200 idle connections must still time out, on both sides, and be reaped — while
        // one pair with keep-alives stays up and usable.
        const int count = 200;
        var idle = QuicConnectionOptions.Default with { IdleTimeout = TimeSpan.FromMilliseconds(600) };
        await using QuicEndpoint server = CreateEndpoint(idle);
        await using QuicEndpoint client = CreateEndpoint(idle);
        await using QuicEndpoint kept = CreateEndpoint(idle with { IdleTimeout = TimeSpan.FromSeconds(2), KeepAliveInterval = TimeSpan.FromMilliseconds(200) });
        var pairs = new List<(QuicConnection Client, QuicConnection Server)>();
        for (int i = 0; i < count; i++)
        {
            pairs.Add(await ConnectPairAsync(client, server));
        }
        var (keptClient, keptServer) = await ConnectPairAsync(kept, server);

        foreach (var (c, s) in pairs)
        {
            Assert.Equal(QuicErrorKind.IdleTimeout, (await Assert.ThrowsAsync<QuicException>(async () => await c.AcceptInboundStreamAsync(Timeout()))).Kind);
            Assert.Equal(QuicErrorKind.IdleTimeout, (await Assert.ThrowsAsync<QuicException>(async () => await s.AcceptInboundStreamAsync(Timeout()))).Kind);
        }
        var clock = System.Diagnostics.Stopwatch.StartNew();
        while (client.ConnectionCountForTests != 0 || server.ConnectionCountForTests != 1)
        {
            Assert.True(clock.Elapsed < TimeSpan.FromSeconds(10), $"not reaped: client {client.ConnectionCountForTests}, server {server.ConnectionCountForTests}");
            await Task.Delay(5);
        }

        QuicStream stream = await keptClient.OpenOutboundStreamAsync(QuicStreamType.Bidirectional, Timeout());
        await stream.WriteAsync(new byte[] { 7 }, completeWrites: true, Timeout());
        QuicStream incoming = await keptServer.AcceptInboundStreamAsync(Timeout());
        var one = new byte[1];
        await incoming.ReadExactlyAsync(one, Timeout());
        Assert.Equal(7, one[0]);
        foreach (var (c, s) in pairs)
        {
            await c.DisposeAsync();
            await s.DisposeAsync();
        }
    }

    [Fact]
    public async Task Close_WithCode_PeerSeesTheCodeAndReason()
    {
        await using QuicEndpoint server = CreateEndpoint();
        await using QuicEndpoint client = CreateEndpoint();
        var (c, s) = await ConnectPairAsync(client, server);
        Task<QuicStream> pending = s.AcceptInboundStreamAsync(Timeout()).AsTask();
        await c.CloseAsync(1234, "bye now");
        QuicException error = await Assert.ThrowsAsync<QuicException>(() => pending);
        Assert.Equal(QuicErrorKind.ConnectionAborted, error.Kind);
        Assert.Equal(1234, error.ApplicationErrorCode);
        Assert.Contains("bye now", error.Message, StringComparison.Ordinal);
        // Local operations after the close fail with the local reason.
        QuicException local = await Assert.ThrowsAsync<QuicException>(async () => await c.OpenOutboundStreamAsync(QuicStreamType.Bidirectional, Timeout()));
        Assert.Equal(QuicErrorKind.OperationAborted, local.Kind);
    }

    [Fact]
    public async Task StreamAdapter_BehavesLikeAStream()
    {
        await using QuicEndpoint server = CreateEndpoint();
        await using QuicEndpoint client = CreateEndpoint();
        var (c, s) = await ConnectPairAsync(client, server);
        QuicStream stream = await c.OpenOutboundStreamAsync(QuicStreamType.Bidirectional, Timeout());
        byte[] payload = RandomBytes(3 << 20, seed: 11);
        Task send = Task.Run(async () =>
        {
            await using Stream writer = stream.AsStream();
            for (int i = 0; i < payload.Length; i += 4096)
            {
                await writer.WriteAsync(payload.AsMemory(i, Math.Min(4096, payload.Length - i)));
            }
        });
        QuicStream incoming = await s.AcceptInboundStreamAsync(Timeout());
        using var received = new MemoryStream();
        await incoming.AsStream().CopyToAsync(received, Timeout());
        await send;
        Assert.True(payload.AsSpan().SequenceEqual(received.ToArray()));
    }
}
