using System.Diagnostics;
using System.Net;
using System.Net.Sockets;
using System.Security.Cryptography;
using TensorProtocol.Quic.Interop;
using TensorProtocol.Quic.Internal;

namespace TensorProtocol.Quic.Tests;

/// <summary>
/// Address validation with Retry packets: handshakes from addresses that never hear the server cannot fill the accept
/// queue, clients that do hear it still get in, and a token that is not ours is refused without keeping state.
/// </summary>
public sealed class AddressValidationTests : QuicTestBase
{
    private static QuicEndpoint CreateServer(int retryThreshold, int acceptQueue = 128) =>
        CreateServer(new QuicEndpointOptions { AcceptQueueCapacity = acceptQueue, RetryThreshold = retryThreshold });

    /// <summary>A server on loopback speaking the tests' ALPN, otherwise as <paramref name="options"/> say.</summary>
    private static QuicEndpoint CreateServer(QuicEndpointOptions options) =>
        QuicEndpoint.Create(options with { LocalEndPoint = new IPEndPoint(IPAddress.Loopback, 0), ApplicationProtocols = [Alpn] });

    [Fact]
    public async Task RetryForEveryClient_HandshakeCompletes_AndDataFlowsBothWays()
    {
        await using QuicEndpoint server = CreateServer(retryThreshold: 0);
        await using QuicEndpoint client = CreateEndpoint();
        var (c, s) = await ConnectPairAsync(client, server);
        Assert.Equal(1, server.RetriesSent);
        Assert.Equal(server.PublicKey, c.RemotePublicKey);
        Assert.Equal(client.PublicKey, s.RemotePublicKey);

        byte[] request = RandomBytes(200_000, seed: 1);
        QuicStream stream = await c.OpenOutboundStreamAsync(QuicStreamType.Bidirectional, Timeout());
        await stream.WriteAsync(request, completeWrites: true, Timeout());
        QuicStream accepted = await s.AcceptInboundStreamAsync(Timeout());
        var (length, hash) = await ReadAllHashedAsync(accepted, ct: Timeout());
        Assert.Equal(request.Length, length);
        Assert.Equal(System.Security.Cryptography.SHA256.HashData(request), hash);
        await accepted.WriteAsync("ok"u8.ToArray(), completeWrites: true, Timeout());
        var buffer = new byte[8];
        Assert.Equal(2, await stream.ReadAsync(buffer, Timeout()));
        await c.DisposeAsync();
        await s.DisposeAsync();
    }

    [Fact]
    public async Task HandshakesFromAddressesThatNeverAnswer_HoldAtMostTheThreshold_AndRealClientsStillConnect()
    {
        // Without Retry, these 20 handshakes would each hold a place until the handshake timeout: the queue of 8 would
        // be full and every further client refused.
        const int spoofed = 20, threshold = 2;
        await using QuicEndpoint server = CreateServer(retryThreshold: threshold, acceptQueue: 8);
        // The relay forwards the dialer's packets and drops every answer: to the server, the dialer is a forged address.
        using var relay = new LossyUdpRelay(server.LocalEndPoint, seed: 7, dropRate: 0, duplicateRate: 0, reorderRate: 0) { ServerUnheard = true };
        await using QuicEndpoint spoofer = CreateEndpoint();
        using var stopSpoofing = new CancellationTokenSource(TestTimeout);
        var dials = Enumerable.Range(0, spoofed)
            .Select(_ => spoofer.ConnectAsync(relay.EndPoint, server.PublicKey, stopSpoofing.Token).AsTask())
            .ToList();

        var clock = Stopwatch.StartNew();
        while (server.RetriesSent < spoofed - threshold)
        {
            Assert.True(clock.Elapsed < TimeSpan.FromSeconds(20), $"only {server.RetriesSent} Retry packets were sent; {relay}");
            await Task.Delay(5);
        }
        Assert.Equal(threshold, server.ConnectionCountForTests);

        await using QuicEndpoint client = CreateEndpoint();
        var (c, s) = await ConnectPairAsync(client, server);
        Assert.Equal(client.PublicKey, s.RemotePublicKey);
        Assert.Equal(server.PublicKey, c.RemotePublicKey);
        Assert.Equal(threshold + 1, server.ConnectionCountForTests);

        await stopSpoofing.CancelAsync();
        foreach (Task<QuicConnection> dial in dials)
        {
            // Cancelled now, or timed out already on a machine slow enough to take the handshake timeout to get here.
            Exception e = await Assert.ThrowsAnyAsync<Exception>(() => dial);
            Assert.True(e is OperationCanceledException or QuicException { Kind: QuicErrorKind.Timeout }, e.ToString());
        }
        await c.DisposeAsync();
        await s.DisposeAsync();
    }

    // A host at a real address can answer Retry and then stall its handshakes, each holding a place in the accept queue
    // until the handshake timeout. MaxHandshakesPerAddress caps what one source holds; its further first packets are
    // dropped (the client sends them again), other sources are untouched, and a place is free again once a stalled
    // handshake has timed out.
    [Fact]
    public async Task StalledValidatedHandshakes_FromOneSource_HoldItsAllowanceOnly_AndFreeItWhenTheyTimeOut()
    {
        const int limit = 3, dials = 8;
        await using QuicEndpoint server = CreateServer(new QuicEndpointOptions
        {
            RetryThreshold = 0,
            MaxHandshakesPerAddress = limit,
            AcceptQueueCapacity = 2 * limit + 2, // small: a source may also take half of the free places
            ConnectionOptions = QuicConnectionOptions.Default with { HandshakeTimeout = TimeSpan.FromSeconds(2) },
        });
        // The relay lets Retry packets through and nothing else the server sends: each dial proves its address, then stalls.
        using var relay = new LossyUdpRelay(server.LocalEndPoint, seed: 11, dropRate: 0, duplicateRate: 0, reorderRate: 0) { ServerHeardOnlyForRetry = true };
        await using QuicEndpoint staller = CreateEndpoint();
        using var stopStalling = new CancellationTokenSource(TestTimeout);
        var stalled = Enumerable.Range(0, dials)
            .Select(_ => staller.ConnectAsync(relay.EndPoint, server.PublicKey, stopStalling.Token).AsTask())
            .ToList();

        var clock = Stopwatch.StartNew();
        while (server.HandshakesDeferred < dials - limit)
        {
            Assert.True(clock.Elapsed < TimeSpan.FromSeconds(20), $"only {server.HandshakesDeferred} first packets were deferred; {relay}");
            await Task.Delay(5);
        }
        Assert.Equal(limit, server.ConnectionCountForTests);

        // Another source (127.0.0.2 is loopback too) is not held back.
        await using QuicEndpoint other = CreateEndpoint(address: IPAddress.Parse("127.0.0.2"));
        var (c, s) = await ConnectPairAsync(other, server);
        Assert.Equal(other.PublicKey, s.RemotePublicKey);
        Assert.Equal(limit + 1, server.ConnectionCountForTests);

        await stopStalling.CancelAsync();
        foreach (Task<QuicConnection> dial in stalled)
        {
            Exception e = await Assert.ThrowsAnyAsync<Exception>(() => dial);
            Assert.True(e is OperationCanceledException or QuicException { Kind: QuicErrorKind.Timeout }, e.ToString());
        }
        // Once the stalled handshakes time out on the server, the source's allowance is free: a client there gets in
        // (its first packets may be dropped until then; it sends them again).
        await using QuicEndpoint sameSource = CreateEndpoint();
        var (c2, s2) = await ConnectPairAsync(sameSource, server);
        Assert.Equal(sameSource.PublicKey, s2.RemotePublicKey);
        await c.DisposeAsync();
        await s.DisposeAsync();
        await c2.DisposeAsync();
        await s2.DisposeAsync();
    }

    // Honest clients behind one address (a NAT) dialing at once, with every default: past the Retry threshold they are
    // validated and counted against one source. Dropped first packets come back only at the clients' loss timer
    // (about 1, 3 and 7 s), so a fixed per-source allowance admitted ~16 per round and 20 of 100 timed out; while the
    // queue is mostly free a source may take half of it.
    [Fact]
    public async Task BurstFromOneAddress_AllConnect_WithTheDefaults()
    {
        const int dials = 100;
        await using QuicEndpoint server = CreateServer(new QuicEndpointOptions());
        using var stop = new CancellationTokenSource(TestTimeout);
        var accepted = new List<QuicConnection>();
        Task acceptLoop = Task.Run(async () =>
        {
            try
            {
                while (true)
                {
                    accepted.Add(await server.AcceptConnectionAsync(stop.Token));
                }
            }
            catch (OperationCanceledException)
            {
            }
        });
        await using QuicEndpoint client = CreateEndpoint();
        QuicConnection[] connections = await Task.WhenAll(Enumerable.Range(0, dials)
            .Select(_ => client.ConnectAsync(server.LocalEndPoint, server.PublicKey, stop.Token).AsTask()));
        Assert.Equal(dials, connections.Length);
        Assert.True(server.RetriesSent > 0, "the burst never passed the Retry threshold: it tests nothing");
        await stop.CancelAsync();
        await acceptLoop;
        Assert.Equal(dials, accepted.Count);
        foreach (QuicConnection c in connections.Concat(accepted))
        {
            await c.DisposeAsync();
        }
    }

    [Fact]
    public async Task ValidatedHandshakes_ThatComplete_GiveTheirPlaceBack()
    {
        await using QuicEndpoint server = CreateServer(new QuicEndpointOptions { RetryThreshold = 0, MaxHandshakesPerAddress = 1 });
        var pairs = new List<(QuicConnection, QuicConnection)>();
        var clients = new List<QuicEndpoint>();
        for (int i = 0; i < 4; i++)
        {
            QuicEndpoint client = CreateEndpoint();
            clients.Add(client);
            pairs.Add(await ConnectPairAsync(client, server));
        }
        Assert.Equal(4, server.RetriesSent);
        Assert.Equal(0, server.HandshakesDeferred);
        foreach (var (c, s) in pairs)
        {
            await c.DisposeAsync();
            await s.DisposeAsync();
        }
        foreach (QuicEndpoint client in clients)
        {
            await client.DisposeAsync();
        }
    }

    [Fact]
    public async Task ForgedRetryToken_IsRefusedWithInvalidToken_AndKeepsNoState()
    {
        await using QuicEndpoint server = CreateServer(retryThreshold: 0);
        // The Retry token magic byte, then what no secret of the server's sealed.
        byte[] forged = [0xb7, .. RandomBytes(89, seed: 3)];
        await using QuicEndpoint client = CreateEndpoint(QuicConnectionOptions.Default with { InitialTokenForTests = forged });
        QuicException error = await Assert.ThrowsAsync<QuicException>(async () =>
            await client.ConnectAsync(server.LocalEndPoint, server.PublicKey, Timeout()));
        Assert.Equal(QuicErrorKind.ProtocolViolation, error.Kind);
        Assert.Equal(0xbUL, error.TransportErrorCode); // INVALID_TOKEN
        Assert.True(server.InvalidTokensRefused >= 1);
        Assert.Equal(0, server.RetriesSent);
        Assert.Equal(0, server.ConnectionCountForTests);
    }

    [Theory]
    [InlineData(7, false)]
    [InlineData(8, true)]
    public async Task FirstInitial_WithADcidUnder8Bytes_IsDropped(int dcidLength, bool connects)
    {
        // RFC 9000 §7.2: a client's first DCID is at least 8 unpredictable bytes. A shorter one is no real client's,
        // and is dropped without an answer or any state (ngtcp2_accept refuses it; a check of our own before it
        // made no difference to this test).
        await using QuicEndpoint server = CreateServer(retryThreshold: 128);
        await using QuicEndpoint client = CreateEndpoint(QuicConnectionOptions.Default with
        {
            InitialDcidLengthForTests = dcidLength,
            HandshakeTimeout = TimeSpan.FromMilliseconds(700),
        });
        if (connects)
        {
            var (c, s) = await ConnectPairAsync(client, server);
            Assert.Equal(client.PublicKey, s.RemotePublicKey);
            await c.DisposeAsync();
            await s.DisposeAsync();
            return;
        }
        QuicException error = await Assert.ThrowsAsync<QuicException>(async () =>
            await client.ConnectAsync(server.LocalEndPoint, server.PublicKey, Timeout()));
        Assert.Equal(QuicErrorKind.Timeout, error.Kind);
        Assert.Equal(0, server.ConnectionCountForTests);
        Assert.Equal(0, server.RetriesSent);
    }

    [Fact]
    public unsafe void RetryTokens_AreBoundToTheAddressTheConnectionIdsAndTheirLifetime()
    {
        var tokens = new RetryTokens();
        byte* client = stackalloc byte[SocketAddressNative.MaxLength];
        byte* otherPort = stackalloc byte[SocketAddressNative.MaxLength];
        byte* otherHost = stackalloc byte[SocketAddressNative.MaxLength];
        int length = SocketAddressNative.Write(new IPEndPoint(IPAddress.Parse("192.0.2.7"), 40000), System.Net.Sockets.AddressFamily.InterNetworkV6, client);
        SocketAddressNative.Write(new IPEndPoint(IPAddress.Parse("192.0.2.7"), 40001), System.Net.Sockets.AddressFamily.InterNetworkV6, otherPort);
        SocketAddressNative.Write(new IPEndPoint(IPAddress.Parse("192.0.2.8"), 40000), System.Net.Sockets.AddressFamily.InterNetworkV6, otherHost);
        ngtcp2.ngtcp2_cid retryScid = Cid(16, 1), originalDcid = Cid(8, 2), otherScid = Cid(16, 3);
        const uint version = 1;
        const ulong now = 5_000_000_000;
        Span<byte> token = stackalloc byte[RetryTokens.MaxLength];
        int n = tokens.Generate(token, version, client, length, &retryScid, &originalDcid, now);
        Assert.True(n > 0);
        token = token[..n];
        Assert.True(RetryTokens.IsRetryToken(token));

        Assert.True(tokens.Verify(token, version, client, length, &retryScid, now + RetryTokens.Lifetime - 1, out ngtcp2.ngtcp2_cid read));
        Assert.Equal(originalDcid.datalen, read.datalen);
        Assert.True(new ReadOnlySpan<byte>(originalDcid.data, (int)originalDcid.datalen).SequenceEqual(new ReadOnlySpan<byte>(read.data, (int)read.datalen)));

        Assert.False(tokens.Verify(token, version, otherPort, length, &retryScid, now, out _), "another port");
        Assert.False(tokens.Verify(token, version, otherHost, length, &retryScid, now, out _), "another host");
        Assert.False(tokens.Verify(token, version, client, length, &otherScid, now, out _), "another connection ID");
        Assert.False(tokens.Verify(token, version, client, length, &retryScid, now + RetryTokens.Lifetime + 1, out _), "expired");
        Assert.False(new RetryTokens().Verify(token, version, client, length, &retryScid, now, out _), "another endpoint's secret");
        byte[] tampered = token.ToArray();
        tampered[n / 2] ^= 1;
        Assert.False(tokens.Verify(tampered, version, client, length, &retryScid, now, out _), "tampered");
        Assert.False(tokens.Verify(token[..(n - 1)], version, client, length, &retryScid, now, out _), "truncated");
    }

    private static unsafe ngtcp2.ngtcp2_cid Cid(int length, byte seed)
    {
        ngtcp2.ngtcp2_cid cid = default;
        for (int i = 0; i < length; i++)
        {
            cid.data[i] = (byte)(seed * 31 + i);
        }
        cid.datalen = (nuint)length;
        return cid;
    }

    /// <summary>
    /// A ClientHello in two Initials whose first was lost or overtaken: the server sees CRYPTO data that does not start
    /// at 0, and ngtcp2 asks for a Retry (NGTCP2_ERR_RETRY). The endpoint sent nothing and held the connection in Closing
    /// for three PTOs (~3 s), swallowing the client's retransmissions and holding a place; one such datagram from any
    /// spoofed address did it.
    /// </summary>
    [Fact]
    public async Task AnInitialWhoseCryptoDataDoesNotStartAtZero_IsAnsweredWithARetry_AndNoStateIsKept()
    {
        await using QuicEndpoint server = CreateEndpoint();
        using var raw = new Socket(AddressFamily.InterNetwork, SocketType.Dgram, ProtocolType.Udp);
        raw.Bind(new IPEndPoint(IPAddress.Loopback, 0));
        byte[] dcid = RandomNumberGenerator.GetBytes(8), scid = RandomNumberGenerator.GetBytes(8);

        await raw.SendToAsync(CraftedPackets.ClientInitial(dcid, scid, cryptoOffset: 1000, cryptoData: RandomNumberGenerator.GetBytes(100)), server.LocalEndPoint);
        await raw.SendToAsync(CraftedPackets.UnknownVersion(0x11), server.LocalEndPoint);
        List<byte[]> replies = await CraftedPackets.ReceiveUntilVersionNegotiation(raw);
        Assert.True(replies.Count == 1 && (replies[0][0] & 0xf0) == 0xf0, // a Retry: long header, type 3
            $"expected one Retry; got {replies.Count} replies, first bytes [{string.Join(", ", replies.Select(r => r[0].ToString("x2")))}]");

        // A second probe is read by a later turn than the Initial's, whose end dropped the connection.
        await raw.SendToAsync(CraftedPackets.UnknownVersion(0x12), server.LocalEndPoint);
        Assert.Empty(await CraftedPackets.ReceiveUntilVersionNegotiation(raw));
        Assert.Equal(0, server.ConnectionCountForTests);
    }

    /// <summary>The crafted Initials are real ones: the server decrypts this one, TLS rejects its garbage ClientHello, and a close comes back.</summary>
    [Fact]
    public async Task ACraftedInitialAtOffsetZero_IsDecrypted_AndItsGarbageHelloAnsweredWithAClose()
    {
        await using QuicEndpoint server = CreateEndpoint();
        using var raw = new Socket(AddressFamily.InterNetwork, SocketType.Dgram, ProtocolType.Udp);
        raw.Bind(new IPEndPoint(IPAddress.Loopback, 0));
        byte[] dcid = RandomNumberGenerator.GetBytes(8), scid = RandomNumberGenerator.GetBytes(8);
        byte[] hello = RandomNumberGenerator.GetBytes(100);
        hello[0] = 1; // ClientHello, 96 bytes long
        hello[1] = 0;
        hello[2] = 0;
        hello[3] = 96;
        await raw.SendToAsync(CraftedPackets.ClientInitial(dcid, scid, cryptoOffset: 0, cryptoData: hello), server.LocalEndPoint);
        await raw.SendToAsync(CraftedPackets.UnknownVersion(0x13), server.LocalEndPoint);
        byte[] reply = Assert.Single(await CraftedPackets.ReceiveUntilVersionNegotiation(raw));
        Assert.Equal(0xc0, reply[0] & 0xf0); // an Initial (carrying the CONNECTION_CLOSE)
    }
}
