using System.Diagnostics.Metrics;
using System.Net;
using System.Security.Cryptography;

namespace TensorProtocol.Tests;

public sealed class TensorNodeTests : NodeTestBase
{
    [Fact]
    public async Task Push_ArrivesWithNameMetadataPayloadAndSender()
    {
        await using TensorNode receiver = await StartNodeAsync();
        await using TensorNode sender = await StartNodeAsync();
        var tensor = TensorData.FromArray(new float[] { 1, 2, 3, 4, 5, 6 }, [2, 3], requiresGrad: true);

        await sender.SendAsync(receiver.Ticket.ToString(), "weights", tensor, Timeout());

        ReceivedTensor received = await receiver.ReceiveAsync(Timeout());
        Assert.Equal("weights", received.Name);
        Assert.Equal(sender.NodeId, received.Sender);
        Assert.Equal(DType.F32, received.Data.DType);
        Assert.Equal([2L, 3L], received.Data.Shape.ToArray());
        Assert.True(received.Data.Metadata.RequiresGrad);
        Assert.Equal(new float[] { 1, 2, 3, 4, 5, 6 }, received.Data.AsSpan<float>().ToArray());
        Assert.False(receiver.TryReceive(out _));
    }

    [Fact]
    public async Task Pull_ReturnsTheRegisteredTensor_AndNotFoundOtherwise()
    {
        await using TensorNode server = await StartNodeAsync();
        await using TensorNode client = await StartNodeAsync();
        TensorData tensor = Floats(1000, seed: 1);
        server.Register("embeddings", tensor);

        TensorData pulled = await client.RequestAsync(server.Ticket, "embeddings", Timeout());
        Assert.Equal(tensor.Metadata, pulled.Metadata);
        Assert.True(tensor.Payload.Span.SequenceEqual(pulled.Payload.Span));

        var missing = await Assert.ThrowsAsync<TensorProtocolException>(() => client.RequestAsync(server.Ticket, "nope", Timeout()));
        Assert.Equal(TensorErrorKind.NotFound, missing.Kind);
        Assert.True(server.Unregister("embeddings"));
        var gone = await Assert.ThrowsAsync<TensorProtocolException>(() => client.RequestAsync(server.Ticket, "embeddings", Timeout()));
        Assert.Equal(TensorErrorKind.NotFound, gone.Kind);
    }

    [Fact]
    public async Task ConcurrentSends_ToTwoPeers_AllArrive()
    {
        await using TensorNode a = await StartNodeAsync();
        await using TensorNode b = await StartNodeAsync();
        await using TensorNode sender = await StartNodeAsync();
        await Task.WhenAll(
            Enumerable.Range(0, 20).Select(i => sender.SendAsync(i % 2 == 0 ? a.Ticket : b.Ticket, $"t{i}", Floats(100, i), Timeout())));
        Assert.Equal(10, a.QueuedCount);
        Assert.Equal(10, b.QueuedCount);
        Assert.Equal(2, sender.PoolSize);
    }

    [Fact]
    public async Task RapidFire_1000Sends_AllReceivedInFull()
    {
        await using TensorNode receiver = await StartNodeAsync();
        await using TensorNode sender = await StartNodeAsync();
        for (int i = 0; i < 1000; i++)
        {
            await sender.SendAsync(receiver.Ticket, $"t{i}", Floats(64, i), Timeout());
        }
        var names = new HashSet<string>();
        while (receiver.TryReceive(out ReceivedTensor? t))
        {
            Assert.Equal(Floats(64, int.Parse(t.Name[1..], System.Globalization.CultureInfo.InvariantCulture)).Payload.ToArray(), t.Data.Payload.ToArray());
            Assert.True(names.Add(t.Name));
        }
        Assert.Equal(1000, names.Count);
        Assert.Equal(1, sender.Dials); // one handshake for all of them
    }

    [Fact]
    public async Task LargeTensor_1GiB_ArrivesBitExact()
    {
        await using TensorNode receiver = await StartNodeAsync();
        await using TensorNode sender = await StartNodeAsync();
        byte[] bytes = GC.AllocateUninitializedArray<byte>(1 << 30);
        new Random(5).NextBytes(bytes);
        byte[] expected = SHA256.HashData(bytes);
        var tensor = TensorData.FromArray(bytes, [1L << 30]);

        await sender.SendAsync(receiver.Ticket, "big", tensor, Timeout(TimeSpan.FromMinutes(3)));
        using TensorData received = (await receiver.ReceiveAsync(Timeout())).Data;
        Assert.Equal(expected, SHA256.HashData(received.Payload.Span));
    }

    [Fact]
    public async Task OneSender_SeveralReceivers_EachGetsItsTensor()
    {
        await using TensorNode sender = await StartNodeAsync();
        TensorNode[] receivers = await Task.WhenAll(Enumerable.Range(0, 3).Select(_ => StartNodeAsync()));
        try
        {
            TensorData tensor = Floats(4096, 9);
            await Task.WhenAll(receivers.Select(r => sender.SendAsync(r.Ticket, "broadcast", tensor, Timeout())));
            foreach (TensorNode r in receivers)
            {
                ReceivedTensor t = await r.ReceiveAsync(Timeout());
                Assert.True(tensor.Payload.Span.SequenceEqual(t.Data.Payload.Span));
            }
        }
        finally
        {
            foreach (TensorNode r in receivers)
            {
                await r.DisposeAsync();
            }
        }
    }

    [Fact]
    public async Task Send_ToANodeThatIsNotRunning_FailsWithConnection()
    {
        TensorNode gone = await StartNodeAsync();
        NodeTicket ticket = gone.Ticket;
        await gone.ShutdownAsync();
        await using TensorNode sender = await StartNodeAsync();
        var e = await Assert.ThrowsAsync<TensorProtocolException>(() => sender.SendAsync(ticket, "x", Floats(4, 1), Timeout()));
        Assert.Equal(TensorErrorKind.Connection, e.Kind);
    }

    [Fact]
    public async Task Shutdown_DuringASend_FailsItWithShutdown()
    {
        await using TensorNode receiver = await StartNodeAsync(o => o with { QueueFullBehavior = QueueFullBehavior.Wait, ReceiveQueueCapacity = 1 });
        TensorNode sender = await StartNodeAsync();
        await sender.SendAsync(receiver.Ticket, "fills the queue", Floats(4, 1), Timeout());
        Task blocked = sender.SendAsync(receiver.Ticket, "waits for room", Floats(4, 2), Timeout());
        Assert.False(blocked.IsCompleted);
        await sender.ShutdownAsync();
        var e = await Assert.ThrowsAsync<TensorProtocolException>(() => blocked.WaitAsync(TimeSpan.FromSeconds(10)));
        Assert.Equal(TensorErrorKind.Shutdown, e.Kind);
    }

    [Fact]
    public async Task ReceiveAll_YieldsTensorsAsTheyArrive_AndEndsAtShutdown()
    {
        TensorNode receiver = await StartNodeAsync();
        await using TensorNode sender = await StartNodeAsync();
        var names = new List<string>();
        var allFive = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        Task consume = Task.Run(async () =>
        {
            await foreach (ReceivedTensor t in receiver.ReceiveAllAsync(Timeout()))
            {
                names.Add(t.Name);
                if (names.Count == 5)
                {
                    allFive.SetResult();
                }
            }
        });
        for (int i = 0; i < 5; i++)
        {
            await sender.SendAsync(receiver.Ticket, $"n{i}", Floats(4, i), Timeout());
        }
        await allFive.Task.WaitAsync(TimeSpan.FromSeconds(30));
        await receiver.ShutdownAsync(); // the enumeration then ends on its own
        await consume.WaitAsync(TimeSpan.FromSeconds(30));
        Assert.Equal(["n0", "n1", "n2", "n3", "n4"], names);
    }

    [Fact]
    public async Task Send_WhileThePeerIsStarting_EitherArrivesOrFailsWithConnection_ThenARetryArrives()
    {
        // The peer's identity and port are known before it runs (an identity file and a fixed port), as after a restart.
        string keyFile = Path.Combine(Directory.CreateTempSubdirectory("tp-node-").FullName, "peer.key");
        IPEndPoint address;
        NodeId id;
        await using (TensorNode probe = await StartNodeAsync(o => o with { IdentityPath = keyFile }))
        {
            address = probe.LocalEndPoint;
            id = probe.NodeId;
        }
        var ticket = new NodeTicket(id, [address]);
        await using TensorNode sender = await StartNodeAsync();

        Task<TensorNode> starting = Task.Run(() => StartNodeAsync(o => o with { IdentityPath = keyFile, LocalEndPoint = address }));
        Task send = sender.SendAsync(ticket, "early", Floats(4, 1), Timeout());
        await using TensorNode peer = await starting;
        Exception? failure = await Record.ExceptionAsync(() => send.WaitAsync(TimeSpan.FromSeconds(30)));
        if (failure is not null)
        {
            Assert.Equal(TensorErrorKind.Connection, Assert.IsType<TensorProtocolException>(failure).Kind);
            await sender.SendAsync(ticket, "early", Floats(4, 1), Timeout()); // the defined recovery: retry
        }
        Assert.Equal("early", (await peer.ReceiveAsync(Timeout())).Name);
    }

    [Fact]
    public async Task Start_OnAPortInUse_FailsWithIo()
    {
        await using TensorNode first = await StartNodeAsync();
        var second = new TensorNode(Options(o => o with { LocalEndPoint = first.LocalEndPoint }));
        var e = Assert.Throws<TensorProtocolException>(second.Start);
        Assert.Equal(TensorErrorKind.Io, e.Kind);
    }

    [Fact]
    public async Task NotStartedNode_HasNoTicket_AndStartIsIdempotent()
    {
        await using var node = new TensorNode(Options());
        Assert.Throws<InvalidOperationException>(() => node.Ticket);
        node.Start();
        node.Start();
        Assert.Equal(node.NodeId, node.Ticket.NodeId);
        Assert.Equal(node.LocalEndPoint.Port, Assert.Single(node.Ticket.GetAddresses()).Port);
    }

    [Fact]
    public async Task Receive_WithTimeout_ThrowsCanceled_AndTryReceiveReturnsFalse()
    {
        await using TensorNode node = await StartNodeAsync();
        Assert.False(node.TryReceive(out _));
        await Assert.ThrowsAnyAsync<OperationCanceledException>(async () => await node.ReceiveAsync(new CancellationTokenSource(100).Token));
    }

    [Theory]
    [InlineData("")]
    [InlineData("not-a-ticket")]
    [InlineData("tensorp1")]
    [InlineData("tensorp1!!!!")]
    public async Task Send_BadTicket_ThrowsTicketFormatException(string ticket)
    {
        await using TensorNode node = await StartNodeAsync();
        await Assert.ThrowsAsync<TicketFormatException>(() => node.SendAsync(ticket, "x", Floats(1, 1), Timeout()));
        await Assert.ThrowsAsync<TicketFormatException>(() => node.RequestAsync(ticket, "x", Timeout()));
    }

    [Fact]
    public async Task EveryOperation_AfterShutdown_FailsWithShutdown()
    {
        TensorNode node = await StartNodeAsync();
        await using TensorNode peer = await StartNodeAsync();
        await node.ShutdownAsync();
        await node.ShutdownAsync(); // idempotent

        static void AssertShutdown(TensorProtocolException e) => Assert.Equal(TensorErrorKind.Shutdown, e.Kind);
        AssertShutdown(await Assert.ThrowsAsync<TensorProtocolException>(() => node.SendAsync(peer.Ticket, "x", Floats(1, 1))));
        AssertShutdown(await Assert.ThrowsAsync<TensorProtocolException>(() => node.RequestAsync(peer.Ticket, "x")));
        AssertShutdown(await Assert.ThrowsAsync<TensorProtocolException>(async () => await node.ReceiveAsync()));
        AssertShutdown(Assert.Throws<TensorProtocolException>(() => node.TryReceive(out _)));
        AssertShutdown(Assert.Throws<TensorProtocolException>(() => node.Register("x", Floats(1, 1))));
        AssertShutdown(Assert.Throws<TensorProtocolException>(() => node.Unregister("x")));
        AssertShutdown(Assert.Throws<TensorProtocolException>(() => node.Ticket));
        AssertShutdown(Assert.Throws<TensorProtocolException>(() => node.Start()));
    }

    [Fact]
    public async Task PoolReuse_TwoSends_OneConnectionOneHandshake()
    {
        await using TensorNode receiver = await StartNodeAsync();
        await using TensorNode sender = await StartNodeAsync();
        await sender.SendAsync(receiver.Ticket, "a", Floats(4, 1), Timeout());
        await sender.SendAsync(receiver.Ticket, "b", Floats(4, 2), Timeout());
        Assert.Equal(1, sender.PoolSize);
        Assert.Equal(1, sender.Dials);
        IReadOnlyList<PeerStatistics> stats = await sender.GetPeerStatisticsAsync();
        Assert.Equal(receiver.NodeId, Assert.Single(stats).Peer);
        Assert.Equal(2, stats[0].TensorsSent);
    }

    [Fact]
    public async Task Dial_SkipsTicketAddressesTheSocketCannotUse()
    {
        // The receiver is dual stack; its ticket lists an IPv6 address first. An IPv4-bound sender must skip it and
        // use the IPv4 one instead of failing (found from Python, where nodes are often bound to 127.0.0.1).
        await using TensorNode receiver = await StartNodeAsync(o => o with { LocalEndPoint = new IPEndPoint(IPAddress.IPv6Any, 0) });
        await using TensorNode sender = await StartNodeAsync();
        int port = receiver.LocalEndPoint.Port;
        // 192.0.2.1 (TEST-NET-1) stands for a LAN address: a loopback-bound socket cannot reach it and must not try.
        var ticket = new NodeTicket(receiver.NodeId, [
            new IPEndPoint(IPAddress.IPv6Loopback, port), new IPEndPoint(IPAddress.Parse("192.0.2.1"), port), new IPEndPoint(IPAddress.Loopback, port)]);
        var started = System.Diagnostics.Stopwatch.StartNew();
        await sender.SendAsync(ticket, "a", Floats(4, 1), Timeout());
        Assert.Equal(1, receiver.QueuedCount);
        Assert.True(started.Elapsed < TimeSpan.FromSeconds(5), $"took {started.Elapsed}: an unusable address was tried");

        // A fresh sender (the first one has a pooled connection to this peer): nothing in the ticket is usable.
        await using TensorNode ipv4Only = await StartNodeAsync();
        var unreachable = new NodeTicket(receiver.NodeId, [new IPEndPoint(IPAddress.IPv6Loopback, port)]);
        var error = await Assert.ThrowsAsync<TensorProtocolException>(() => ipv4Only.SendAsync(unreachable, "b", Floats(4, 2), Timeout()));
        Assert.Equal(TensorErrorKind.Connection, error.Kind);
        Assert.Contains("reachable", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task ConcurrentFirstSends_DialOnce()
    {
        await using TensorNode receiver = await StartNodeAsync();
        await using TensorNode sender = await StartNodeAsync();
        await Task.WhenAll(Enumerable.Range(0, 16).Select(i => sender.SendAsync(receiver.Ticket, $"t{i}", Floats(16, i), Timeout())));
        Assert.Equal(1, sender.Dials);
        Assert.Equal(16, receiver.QueuedCount);
    }

    [Fact]
    public async Task Allowlists_RefusePushAndPull_AndStoreNothing()
    {
        await using TensorNode stranger = await StartNodeAsync();
        await using TensorNode friend = await StartNodeAsync();
        await using TensorNode guarded = await StartNodeAsync(o => o with
        {
            AllowedSenders = new HashSet<NodeId> { friend.NodeId },
            AllowedPullers = new HashSet<NodeId> { friend.NodeId },
        });
        guarded.Register("secret", Floats(8, 1));

        var push = await Assert.ThrowsAsync<TensorProtocolException>(() => stranger.SendAsync(guarded.Ticket, "x", Floats(1 << 20, 1), Timeout()));
        Assert.Equal(TensorErrorKind.NotAllowed, push.Kind);
        var pull = await Assert.ThrowsAsync<TensorProtocolException>(() => stranger.RequestAsync(guarded.Ticket, "secret", Timeout()));
        Assert.Equal(TensorErrorKind.NotAllowed, pull.Kind);
        Assert.Equal(0, guarded.QueuedCount);

        await friend.SendAsync(guarded.Ticket, "ok", Floats(8, 2), Timeout());
        Assert.Equal(friend.NodeId, (await guarded.ReceiveAsync(Timeout())).Sender);
        Assert.Equal(8, (await friend.RequestAsync(guarded.Ticket, "secret", Timeout())).Shape[0]);
    }

    [Fact]
    public async Task QueueFull_RefusesWithQueueFull_ThenAcceptsAfterAReceive()
    {
        await using TensorNode receiver = await StartNodeAsync(o => o with { ReceiveQueueCapacity = 2 });
        await using TensorNode sender = await StartNodeAsync();
        await sender.SendAsync(receiver.Ticket, "1", Floats(4, 1), Timeout());
        await sender.SendAsync(receiver.Ticket, "2", Floats(4, 2), Timeout());
        var full = await Assert.ThrowsAsync<TensorProtocolException>(() => sender.SendAsync(receiver.Ticket, "3", Floats(4, 3), Timeout()));
        Assert.Equal(TensorErrorKind.QueueFull, full.Kind);
        Assert.True(receiver.TryReceive(out _));
        await sender.SendAsync(receiver.Ticket, "3", Floats(4, 3), Timeout());
        Assert.Equal(2, receiver.QueuedCount);
    }

    [Fact]
    public async Task ManyRefusedLargePushes_DoNotStallThePooledConnection()
    {
        // Each refused 1 MiB push leaves part of its payload in the receiver's stream buffer before STOP_SENDING
        // stops it. Those bytes must go back to the connection's flow-control window (64 MiB at most): 100 refusals
        // would otherwise use it up and leave the pooled connection unable to carry another byte.
        await using TensorNode receiver = await StartNodeAsync(o => o with { ReceiveQueueCapacity = 1 });
        await using TensorNode sender = await StartNodeAsync();
        await sender.SendAsync(receiver.Ticket, "first", Floats(4, 1), Timeout());
        TensorData large = Floats(256 << 10, 2); // 1 MiB
        for (int i = 0; i < 100; i++)
        {
            var full = await Assert.ThrowsAsync<TensorProtocolException>(() => sender.SendAsync(receiver.Ticket, "refused", large, Timeout()));
            Assert.Equal(TensorErrorKind.QueueFull, full.Kind);
        }
        Assert.True(receiver.TryReceive(out _));
        await sender.SendAsync(receiver.Ticket, "after", large, Timeout());
        Assert.True(receiver.TryReceive(out ReceivedTensor? after));
        Assert.Equal("after", after.Name);
        Assert.Equal(1, sender.PoolSize);
    }

    [Fact]
    public async Task ReceiveMemoryBudget_RefusesWhatWouldNotFitNow_AsQueueFull()
    {
        await using TensorNode receiver = await StartNodeAsync(o => o with { ReceiveMemoryBudget = 1 << 20 });
        await using TensorNode sender = await StartNodeAsync();
        await sender.SendAsync(receiver.Ticket, "first", Floats(150_000, 1), Timeout()); // 600 kB of the 1 MiB
        var e = await Assert.ThrowsAsync<TensorProtocolException>(() => sender.SendAsync(receiver.Ticket, "second", Floats(150_000, 2), Timeout()));
        Assert.Equal(TensorErrorKind.QueueFull, e.Kind);
        Assert.True(receiver.TryReceive(out _)); // frees the budget
        await sender.SendAsync(receiver.Ticket, "second", Floats(150_000, 2), Timeout());
    }

    [Fact]
    public async Task ReceiveMemoryBudget_RefusesWhatCouldNeverFit_AsTooLarge()
    {
        // MaxTensorBytes stays at its 16 GiB default: the smaller budget is the limit.
        await using TensorNode receiver = await StartNodeAsync(o => o with { ReceiveMemoryBudget = 1 << 20 });
        await using TensorNode sender = await StartNodeAsync();
        var e = await Assert.ThrowsAsync<TensorProtocolException>(() => sender.SendAsync(receiver.Ticket, "big", Floats(1 << 19, 1), Timeout()));
        Assert.Equal(TensorErrorKind.TooLarge, e.Kind);
        await sender.SendAsync(receiver.Ticket, "small", Floats(1000, 1), Timeout());
        Assert.Equal(1, receiver.QueuedCount);
    }

    [Fact]
    public async Task TooLarge_ForTheReceiver_IsRefusedBeforeAllocation()
    {
        await using TensorNode receiver = await StartNodeAsync(o => o with { MaxTensorBytes = 1024 });
        await using TensorNode sender = await StartNodeAsync();
        var e = await Assert.ThrowsAsync<TensorProtocolException>(() => sender.SendAsync(receiver.Ticket, "big", Floats(1 << 16, 1), Timeout()));
        Assert.Equal(TensorErrorKind.TooLarge, e.Kind);
        Assert.Equal(0, receiver.QueuedCount);
    }

    [Theory]
    [InlineData(false)]
    [InlineData(true)] // progress: 8 MiB chunks instead of 64 MiB
    public async Task SegmentedTensor_IsPushedAndPulled_InOrder(bool withProgress)
    {
        await using TensorNode server = await StartNodeAsync();
        await using TensorNode client = await StartNodeAsync();
        // Segments that end inside elements and inside chunks, and one of a single byte.
        byte[] all = new byte[(70 << 20) + 4];
        new Random(11).NextBytes(all);
        int[] cuts = [0, 5 << 20, (5 << 20) + 1, (69 << 20) + 3, all.Length];
        TensorData tensor = TensorData.FromSegments(new TensorMetadata(DType.F32, [all.Length / 4]),
            [.. cuts.Zip(cuts.Skip(1)).Select(c => (ReadOnlyMemory<byte>)all.AsMemory(c.First, c.Second - c.First))]);
        IProgress<TransferProgress>? progress = withProgress ? new SynchronousProgress<TransferProgress>(_ => { }) : null;

        await client.SendAsync(server.Ticket, "segments", tensor, progress, Timeout());
        ReceivedTensor pushed = await server.ReceiveAsync(Timeout());
        server.Register("segments", tensor);
        TensorData pulled = await client.RequestAsync(server.Ticket, "segments", progress, Timeout());

        Assert.True(all.AsSpan().SequenceEqual(pushed.Data.Payload.Span));
        Assert.True(all.AsSpan().SequenceEqual(pulled.Payload.Span));
    }

    [Fact]
    public async Task EmptyTensor_IsPushedAndPulled_WithProgressThatOnlyCompletes()
    {
        await using TensorNode server = await StartNodeAsync();
        await using TensorNode client = await StartNodeAsync();
        TensorData empty = TensorData.FromArray(Array.Empty<float>(), [0, 3]);
        var reports = new List<TransferProgress>();
        var progress = new SynchronousProgress<TransferProgress>(reports.Add);

        await client.SendAsync(server.Ticket, "empty", empty, progress, Timeout());
        ReceivedTensor pushed = await server.ReceiveAsync(Timeout());
        Assert.Equal([0L, 3], pushed.Data.Shape.ToArray());
        server.Register("empty", empty);
        TensorData pulled = await client.RequestAsync(server.Ticket, "empty", progress, Timeout());

        Assert.Equal(0, pulled.ByteLength);
        Assert.Equal([0L, 3], pulled.Shape.ToArray());
        Assert.Equal(2, reports.Count);
        Assert.All(reports, r => Assert.True(r.IsComplete));
    }

    [Fact]
    public async Task DisposingANativeTensorDuringItsSend_DefersTheReleaseUntilTheSendNoLongerReadsIt()
    {
        await using TensorNode receiver = await StartNodeAsync();
        await using TensorNode sender = await StartNodeAsync(o => o with { ProgressInterval = TimeSpan.Zero });
        const int Size = 64 << 20;
        var memory = new NativeAllocation(Size);
        new Random(4).NextBytes(memory.Span(0, Size));
        byte[] expected = memory.Span(0, Size).ToArray();
        TensorData tensor = TensorData.FromNativeMemory(new TensorMetadata(DType.U8, [Size]), memory.Address, Size, memory);
        // Disposed as soon as the first chunk is acknowledged, with the rest still queued or in flight.
        var progress = new SynchronousProgress<TransferProgress>(p =>
        {
            if (p.BytesTransferred > 0)
            {
                tensor.Dispose();
            }
        });

        await sender.SendAsync(receiver.Ticket, "t", tensor, progress, Timeout());

        ReceivedTensor received = await receiver.ReceiveAsync(Timeout());
        Assert.True(expected.AsSpan().SequenceEqual(received.Data.Payload.Span));
        await memory.Released.WaitAsync(TestTimeout); // released once the last write let go of it
        Assert.Equal(1, memory.Disposals);
    }

    [Fact]
    public async Task Register_WhatTheProtocolCannotCarry_IsRefusedAtOnce()
    {
        // Every pull of these would fail (the answer's header cannot be encoded): refuse them when registered.
        await using TensorNode node = await StartNodeAsync();
        var deep = new TensorData(new TensorMetadata(DType.U8, Enumerable.Repeat(1L, 33).ToArray()), new byte[1]);
        Assert.Contains("33 dimensions", Assert.Throws<ArgumentException>(() => node.Register("deep", deep)).Message, StringComparison.Ordinal);
        Assert.Throws<ArgumentException>(() => node.Register(new string('n', 1025), Floats(1, 1)));
        node.Register(new string('n', 1024), Floats(1, 1)); // the longest name the protocol carries
    }

    [Fact]
    public async Task SendOrRegister_ADisposedNativeTensor_ThrowsObjectDisposed()
    {
        await using TensorNode receiver = await StartNodeAsync();
        await using TensorNode sender = await StartNodeAsync();
        var memory = new NativeAllocation(16);
        TensorData tensor = TensorData.FromNativeMemory(new TensorMetadata(DType.U8, [16]), memory.Address, 16, memory);
        tensor.Dispose();
        await Assert.ThrowsAsync<ObjectDisposedException>(() => sender.SendAsync(receiver.Ticket, "gone", tensor, Timeout()));
        Assert.Throws<ObjectDisposedException>(() => sender.Register("gone", tensor));
        Assert.Equal(0, sender.Dials); // refused before dialing
    }

    [Fact]
    public async Task Pull_OfATensorDisposedWhileRegistered_IsNotFound()
    {
        await using TensorNode server = await StartNodeAsync();
        await using TensorNode client = await StartNodeAsync();
        var memory = new NativeAllocation(16);
        TensorData tensor = TensorData.FromNativeMemory(new TensorMetadata(DType.U8, [16]), memory.Address, 16, memory);
        server.Register("t", tensor);
        tensor.Dispose();
        var e = await Assert.ThrowsAsync<TensorProtocolException>(() => client.RequestAsync(server.Ticket, "t", Timeout()));
        Assert.Equal(TensorErrorKind.NotFound, e.Kind);
        Assert.Contains("was disposed", e.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task IdlePooledConnections_AreClosed()
    {
        await using TensorNode receiver = await StartNodeAsync();
        await using TensorNode sender = await StartNodeAsync(o => o with { PoolIdleTimeout = TimeSpan.FromMilliseconds(200) });
        await sender.SendAsync(receiver.Ticket, "a", Floats(4, 1), Timeout());
        Assert.Equal(1, sender.PoolSize);
        // Poll (bounded) for the sweeper: the scenario itself is "stay idle past the timeout".
        for (var clock = System.Diagnostics.Stopwatch.StartNew(); sender.PoolSize != 0 && clock.Elapsed < TimeSpan.FromSeconds(10);)
        {
            await Task.Delay(50);
        }
        Assert.Equal(0, sender.PoolSize);
        await sender.SendAsync(receiver.Ticket, "b", Floats(4, 2), Timeout());
        Assert.Equal(2, sender.Dials);
    }

    [Fact]
    public async Task PoolOverflow_EvictsTheLeastRecentlyUsed()
    {
        await using TensorNode a = await StartNodeAsync();
        await using TensorNode b = await StartNodeAsync();
        await using TensorNode c = await StartNodeAsync();
        await using TensorNode sender = await StartNodeAsync(o => o with { MaxPooledConnections = 2 });
        await sender.SendAsync(a.Ticket, "1", Floats(4, 1), Timeout());
        await sender.SendAsync(b.Ticket, "2", Floats(4, 2), Timeout());
        await sender.SendAsync(a.Ticket, "3", Floats(4, 3), Timeout()); // a is now more recent than b
        await sender.SendAsync(c.Ticket, "4", Floats(4, 4), Timeout()); // evicts b
        Assert.Equal(2, sender.PoolSize);
        long dials = sender.Dials;
        await sender.SendAsync(a.Ticket, "5", Floats(4, 5), Timeout());
        Assert.Equal(dials, sender.Dials); // a stayed pooled
        await sender.SendAsync(b.Ticket, "6", Floats(4, 6), Timeout());
        Assert.Equal(dials + 1, sender.Dials); // b had to be dialed again
    }

    [Fact]
    public async Task DeadPooledConnection_IsRedialedTransparently()
    {
        await using TensorNode sender = await StartNodeAsync();
        TensorNode receiver = await StartNodeAsync();
        IPEndPoint address = receiver.LocalEndPoint;
        string keyFile = Path.Combine(Directory.CreateTempSubdirectory("tp-node-").FullName, "node.key");
        await receiver.ShutdownAsync();
        // A receiver with a persistent identity, restarted on the same port: the pooled connection dies with it.
        await using (TensorNode first = await StartNodeAsync(o => o with { IdentityPath = keyFile, LocalEndPoint = address }))
        {
            await sender.SendAsync(first.Ticket, "before", Floats(4, 1), Timeout());
        }
        await using TensorNode second = await StartNodeAsync(o => o with { IdentityPath = keyFile, LocalEndPoint = address });
        await sender.SendAsync(second.Ticket, "after", Floats(4, 2), Timeout());
        Assert.Equal("after", (await second.ReceiveAsync(Timeout())).Name);
        Assert.Equal(2, sender.Dials);
    }

    [Fact]
    public async Task ManyPeers_32x100_NothingLostOrDuplicated()
    {
        await using TensorNode receiver = await StartNodeAsync(o => o with { ReceiveQueueCapacity = 4000 });
        TensorNode[] senders = await Task.WhenAll(Enumerable.Range(0, 32).Select(_ => StartNodeAsync()));
        try
        {
            await Task.WhenAll(senders.Select((s, si) => Task.Run(async () =>
            {
                for (int i = 0; i < 100; i++)
                {
                    await s.SendAsync(receiver.Ticket, $"{si}/{i}", Floats(16, si * 1000 + i), Timeout());
                }
            })));
            var seen = new HashSet<(NodeId, string)>();
            while (receiver.TryReceive(out ReceivedTensor? t))
            {
                Assert.True(seen.Add((t.Sender, t.Name)), $"duplicate {t.Name}");
            }
            Assert.Equal(3200, seen.Count);
        }
        finally
        {
            foreach (TensorNode s in senders)
            {
                await s.DisposeAsync();
            }
        }
    }

    [Fact]
    public async Task Metrics_CountSentAndReceivedTensors()
    {
        long sent = 0, received = 0;
        using var listener = new MeterListener();
        listener.InstrumentPublished = (instrument, l) =>
        {
            if (instrument.Meter.Name == "TensorProtocol")
            {
                l.EnableMeasurementEvents(instrument);
            }
        };
        listener.SetMeasurementEventCallback<long>((instrument, value, _, _) =>
        {
            if (instrument.Name == "tensorp.tensors.sent") Interlocked.Add(ref sent, value);
            if (instrument.Name == "tensorp.tensors.received") Interlocked.Add(ref received, value);
        });
        listener.Start();
        await using TensorNode receiver = await StartNodeAsync();
        await using TensorNode sender = await StartNodeAsync();
        await sender.SendAsync(receiver.Ticket, "m", Floats(4, 1), Timeout());
        Assert.True(Interlocked.Read(ref sent) >= 1);
        Assert.True(Interlocked.Read(ref received) >= 1);
    }
}
