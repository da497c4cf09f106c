using System.Diagnostics;
using TensorProtocol.Quic;
using TensorProtocol.Wire;

namespace TensorProtocol.Tests;

/// <summary>The requesting side against peers that are slow, wrong or hostile, and a pool under its own timers.</summary>
public sealed class NodeRequesterTests : NodeTestBase
{
    [Fact]
    public async Task PushHeldLongerThanThePoolIdleTimeout_KeepsItsConnection()
    {
        // The receiver holds the push until its queue has room; meanwhile the sender's idle sweep (every 50 ms here)
        // must not close a connection an operation is using.
        await using TensorNode receiver = await StartNodeAsync(o => o with { QueueFullBehavior = QueueFullBehavior.Wait, ReceiveQueueCapacity = 1 });
        await using TensorNode sender = await StartNodeAsync(o => o with { PoolIdleTimeout = TimeSpan.FromMilliseconds(200) });
        await sender.SendAsync(receiver.Ticket, "first", Floats(4, 1), Timeout());
        Task held = sender.SendAsync(receiver.Ticket, "held", Floats(4, 2), Timeout());
        await Task.Delay(800); // four idle timeouts pass while the push waits
        Assert.False(held.IsCompleted);
        Assert.True(receiver.TryReceive(out _));
        await held.WaitAsync(TimeSpan.FromSeconds(10));
        Assert.True(receiver.TryReceive(out ReceivedTensor? second));
        Assert.Equal("held", second.Name);
    }

    [Fact]
    public async Task PoolOverItsLimit_KeepsBusyConnections_AndShrinksOnceTheyAreIdle()
    {
        await using TensorNode a = await StartNodeAsync(o => o with { QueueFullBehavior = QueueFullBehavior.Wait, ReceiveQueueCapacity = 1 });
        await using TensorNode b = await StartNodeAsync();
        await using TensorNode sender = await StartNodeAsync(o => o with { MaxPooledConnections = 1 });
        await sender.SendAsync(a.Ticket, "fill", Floats(4, 1), Timeout());
        Task held = sender.SendAsync(a.Ticket, "held", Floats(4, 2), Timeout()); // a holds it: a's connection is busy
        await sender.SendAsync(b.Ticket, "other", Floats(4, 3), Timeout()); // over the limit: the busy one must stay
        Assert.False(held.IsCompleted);
        Assert.True(a.TryReceive(out _));
        await held.WaitAsync(TimeSpan.FromSeconds(10));
        Assert.True(a.TryReceive(out ReceivedTensor? late));
        Assert.Equal("held", late.Name);
        Assert.Equal(1, sender.PoolSize); // both idle now: back to the limit
    }

    [Fact]
    public async Task TicketWithAnotherNodesKey_FailsWithATypedConnectionError()
    {
        await using TensorNode real = await StartNodeAsync();
        await using TensorNode other = await StartNodeAsync();
        await using TensorNode sender = await StartNodeAsync();
        var forged = new NodeTicket(other.NodeId, real.Ticket.GetAddresses());
        var e = await Assert.ThrowsAsync<TensorProtocolException>(() => sender.SendAsync(forged, "x", Floats(4, 1), Timeout()));
        Assert.Equal(TensorErrorKind.Connection, e.Kind);
        Assert.Equal(QuicErrorKind.AuthenticationFailed, Assert.IsType<QuicException>(e.InnerException).Kind);
        Assert.Equal(0, real.QueuedCount);
    }

    [Fact]
    public async Task PeerThatNeverAnswers_TimesOutThePushAndThePull()
    {
        await using var silent = new FakeNode(async (_, stream, stop) =>
        {
            await FakeNode.ReadRequestAsync(stream, Timeout());
            await Task.Delay(System.Threading.Timeout.InfiniteTimeSpan, stop); // reads everything, answers nothing
        });
        await using TensorNode sender = await StartNodeAsync(o => o with { RequestTimeout = TimeSpan.FromMilliseconds(200), QueueWaitTimeout = TimeSpan.Zero });
        var clock = Stopwatch.StartNew();
        var push = await Assert.ThrowsAsync<TensorProtocolException>(() => sender.SendAsync(silent.Ticket, "x", Floats(4, 1), Timeout()));
        Assert.Equal(TensorErrorKind.Timeout, push.Kind);
        var pull = await Assert.ThrowsAsync<TensorProtocolException>(() => sender.RequestAsync(silent.Ticket, "x", Timeout()));
        Assert.Equal(TensorErrorKind.Timeout, pull.Kind);
        Assert.True(clock.Elapsed < TimeSpan.FromSeconds(10), $"took {clock.Elapsed}");
    }

    [Fact]
    public async Task RefusalWithoutStopSending_EndsThePushAtOnce()
    {
        // The peer refuses after the header and then neither reads nor tells us to stop: the push must not wait for
        // acknowledgements of a payload nobody will take (8 MiB, far beyond the peer's window).
        await using var refusing = new FakeNode(async (_, stream, stop) =>
        {
            var prefix = new byte[4];
            await stream.ReadExactlyAsync(prefix, Timeout());
            await stream.ReadExactlyAsync(new byte[BitConverter.ToInt32(prefix)], Timeout());
            await stream.WriteAsync(new ResponseHeader(ResponseStatus.QueueFull, "busy").ToFrame(), completeWrites: true, Timeout());
            await Task.Delay(System.Threading.Timeout.InfiniteTimeSpan, stop);
        });
        await using TensorNode sender = await StartNodeAsync();
        var clock = Stopwatch.StartNew();
        var e = await Assert.ThrowsAsync<TensorProtocolException>(() => sender.SendAsync(refusing.Ticket, "big", Floats(2 << 20, 1), Timeout()));
        Assert.Equal(TensorErrorKind.QueueFull, e.Kind);
        Assert.True(clock.Elapsed < TimeSpan.FromSeconds(10), $"took {clock.Elapsed}");
    }

    [Fact]
    public async Task PushWhoseAnswerIsLostAfterTheWholePayloadArrived_IsNotSentAgain()
    {
        // The first push is answered; the second is read in full (the peer acknowledges every byte, which it makes
        // sure we saw by sending a byte of its answer and waiting for that byte's acknowledgement), then the peer closes
        // the connection. Redialing and pushing again could queue the tensor twice: it must fail instead.
        int pushes = 0;
        await using var peer = new FakeNode(async (connection, stream, stop) =>
        {
            await FakeNode.ReadRequestAsync(stream, Timeout());
            byte[] ok = new ResponseHeader(ResponseStatus.Ok).ToFrame();
            if (Interlocked.Increment(ref pushes) != 2)
            {
                await stream.WriteAsync(ok, completeWrites: true, Timeout());
                return;
            }
            await stream.WriteAsync(ok.AsMemory(0, 1), Timeout());
            await connection.CloseAsync(99, "gone");
        });
        await using TensorNode sender = await StartNodeAsync();
        await sender.SendAsync(peer.Ticket, "one", Floats(4, 1), Timeout());
        var e = await Assert.ThrowsAsync<TensorProtocolException>(() => sender.SendAsync(peer.Ticket, "two", Floats(4, 2), Timeout()));
        Assert.Equal(TensorErrorKind.Connection, e.Kind);
        Assert.Equal(2, Volatile.Read(ref pushes));
        Assert.Equal(1, peer.Connections);
    }

    [Fact]
    public async Task TicketWithTheAllZeroNodeId_IsRefusedBeforeDialing()
    {
        // A ticket built in code around default(NodeId): any peer could prove that key, so it is never dialed.
        await using TensorNode target = await StartNodeAsync();
        await using TensorNode sender = await StartNodeAsync();
        var zero = new NodeTicket(new NodeId(new byte[32]), target.Ticket.GetAddresses());
        var e = await Assert.ThrowsAsync<TensorProtocolException>(() => sender.SendAsync(zero, "x", Floats(4, 1), Timeout()));
        Assert.Equal(TensorErrorKind.Connection, e.Kind);
        Assert.Contains("small order", e.Message, StringComparison.Ordinal);
        Assert.Equal(0, target.QueuedCount);
    }

    [Fact]
    public async Task PulledBoolPayload_WithBytesOtherThan0And1_IsAProtocolError()
    {
        await using var peer = new FakeNode(async (_, stream, stop) =>
        {
            await FakeNode.ReadRequestAsync(stream, Timeout());
            byte[] answer = new ResponseHeader(ResponseStatus.Ok, tensor: new TensorMetadata(DType.BOOL, [4])).ToFrame();
            byte[] bytes = [.. answer, 0, 1, 7, 1];
            await stream.WriteAsync(bytes, completeWrites: true, Timeout());
        });
        await using TensorNode puller = await StartNodeAsync();
        var e = await Assert.ThrowsAsync<TensorProtocolException>(() => puller.RequestAsync(peer.Ticket, "b", Timeout()));
        Assert.Equal(TensorErrorKind.Protocol, e.Kind);
        Assert.Contains("BOOL", e.Message, StringComparison.Ordinal);
    }
}
