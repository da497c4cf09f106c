namespace TensorProtocol.Tests;

/// <summary>
/// A receiver's orderly stop: <see cref="TensorNode.StopReceiving"/> refuses further pushes while what was already
/// acknowledged can still be taken, and a cancelled <see cref="TensorNode.ReceiveAllAsync"/> stops even while more is
/// queued (a peer that keeps pushing must not keep a stopping receiver going).
/// </summary>
public sealed class NodeStopReceivingTests : NodeTestBase
{
    [Fact]
    public async Task ReceiveAllAsync_CancelledWhileTensorsAreQueued_StopsAndLeavesTheRestQueued()
    {
        await using TensorNode receiver = await StartNodeAsync();
        await using TensorNode sender = await StartNodeAsync();
        for (int i = 0; i < 5; i++)
        {
            await sender.SendAsync(receiver.Ticket, $"t{i}", Floats(10, i), Timeout());
        }
        using var cts = new CancellationTokenSource();
        var taken = new List<string>();
        await Assert.ThrowsAnyAsync<OperationCanceledException>(async () =>
        {
            await foreach (ReceivedTensor received in receiver.ReceiveAllAsync(cts.Token))
            {
                taken.Add(received.Name);
                received.Data.Dispose();
                cts.Cancel(); // after the first; it went on yielding all five before
            }
        });
        Assert.Equal(["t0"], taken);
        Assert.Equal(4, receiver.QueuedCount); // nothing taken and dropped by the cancellation
    }

    [Fact]
    public async Task StopReceiving_RefusesLaterPushes_AndKeepsQueuedOnesReadable()
    {
        await using TensorNode receiver = await StartNodeAsync();
        await using TensorNode sender = await StartNodeAsync();
        await sender.SendAsync(receiver.Ticket, "before", Floats(10, 1), Timeout());
        receiver.StopReceiving();
        var refused = await Assert.ThrowsAsync<TensorProtocolException>(() => sender.SendAsync(receiver.Ticket, "after", Floats(10, 2), Timeout()));
        Assert.Equal(TensorErrorKind.Shutdown, refused.Kind);
        var names = new List<string>();
        await foreach (ReceivedTensor received in receiver.ReceiveAllAsync(Timeout()))
        {
            names.Add(received.Name);
            received.Data.Dispose();
        }
        Assert.Equal(["before"], names);
        Assert.False(receiver.TryReceive(out _));
        var e = await Assert.ThrowsAsync<TensorProtocolException>(() => receiver.ReceiveAsync(Timeout()).AsTask());
        Assert.Equal(TensorErrorKind.Shutdown, e.Kind);
    }

    [Fact]
    public async Task StopReceiving_EndsTheWaitOfAPushWaitingForRoom_WithShutdown()
    {
        await using TensorNode receiver = await StartNodeAsync(o => o with { QueueFullBehavior = QueueFullBehavior.Wait, ReceiveQueueCapacity = 1 });
        await using TensorNode sender = await StartNodeAsync();
        await sender.SendAsync(receiver.Ticket, "fills the queue", Floats(4, 1), Timeout());
        Task waiting = sender.SendAsync(receiver.Ticket, "waits for room", Floats(4, 2), Timeout());
        await receiver.PushWaitingForRoom.WaitAsync(TestTimeout);
        receiver.StopReceiving();
        var e = await Assert.ThrowsAsync<TensorProtocolException>(() => waiting.WaitAsync(TestTimeout));
        Assert.Equal(TensorErrorKind.Shutdown, e.Kind); // at once, not after QueueWaitTimeout with QueueFull
        Assert.True(receiver.TryReceive(out ReceivedTensor? queued));
        Assert.Equal("fills the queue", queued.Name);
    }
}
