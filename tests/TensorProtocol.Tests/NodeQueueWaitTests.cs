namespace TensorProtocol.Tests;

/// <summary>A receiver set to <see cref="QueueFullBehavior.Wait"/>: pushes that find the queue full wait for room.</summary>
public sealed class NodeQueueWaitTests : NodeTestBase
{
    /// <summary>A wait longer than a timer can take (~49.7 days) is a wait without a timer, not a failed push.</summary>
    [Theory]
    [InlineData(100)]
    [InlineData(-1)] // TimeSpan.MaxValue
    public async Task AWaitLongerThanATimerTakes_Waits_UntilThereIsRoom(int days)
    {
        TimeSpan wait = days < 0 ? TimeSpan.MaxValue : TimeSpan.FromDays(days);
        await using TensorNode receiver = await StartNodeAsync(o => o with { QueueFullBehavior = QueueFullBehavior.Wait, QueueWaitTimeout = wait, ReceiveQueueCapacity = 1 });
        await using TensorNode sender = await StartNodeAsync(o => o with { QueueWaitTimeout = wait }); // the sender's deadline counts it in too
        await sender.SendAsync(receiver.Ticket, "fills the queue", Floats(4, 1), Timeout());
        Task waiting = sender.SendAsync(receiver.Ticket, "waits for room", Floats(4, 2), Timeout());
        await Task.WhenAny(receiver.PushWaitingForRoom, waiting).WaitAsync(TestTimeout);
        Assert.False(waiting.IsCompleted, waiting.Exception?.ToString()); // failed at once with InternalError before
        Assert.True(receiver.TryReceive(out ReceivedTensor? first));
        Assert.Equal("fills the queue", first!.Name);
        await waiting.WaitAsync(TestTimeout);
        Assert.Equal("waits for room", (await receiver.ReceiveAsync(Timeout())).Name);
    }

    /// <summary>
    /// A receiver that stops while a push waits for room answers ShuttingDown; it used to end the stream without an
    /// answer, which the sender took for a broken peer (Protocol). The connection's close may overtake the answer.
    /// </summary>
    [Fact]
    public async Task ReceiverShutdown_WhileAPushWaitsForRoom_FailsItWithShutdown_NotProtocol()
    {
        TensorNode receiver = await StartNodeAsync(o => o with { QueueFullBehavior = QueueFullBehavior.Wait, ReceiveQueueCapacity = 1 });
        await using TensorNode sender = await StartNodeAsync();
        await sender.SendAsync(receiver.Ticket, "fills the queue", Floats(4, 1), Timeout());
        Task waiting = sender.SendAsync(receiver.Ticket, "waits for room", Floats(4, 2), Timeout());
        await receiver.PushWaitingForRoom.WaitAsync(TestTimeout);
        await receiver.ShutdownAsync();
        var e = await Assert.ThrowsAsync<TensorProtocolException>(() => waiting.WaitAsync(TestTimeout));
        Assert.True(e.Kind is TensorErrorKind.Shutdown or TensorErrorKind.Connection, $"{e.Kind}: {e.Message}");
    }
}
