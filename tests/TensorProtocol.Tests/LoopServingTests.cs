namespace TensorProtocol.Tests;

/// <summary>
/// Requests that arrive whole are answered on the QUIC loop thread (TensorNode.OnLoop.cs); everything else goes the
/// async way. Both must behave the same from the outside, on either side of the size limit and of every refusal.
/// </summary>
public sealed class LoopServingTests : NodeTestBase
{
    public static TheoryData<int> SizesAroundTheInlineLimit =>
        [0, 1, 4096, TensorNode.InlinePayloadLimit - 1, TensorNode.InlinePayloadLimit, TensorNode.InlinePayloadLimit + 1, 3 * TensorNode.InlinePayloadLimit];

    [Theory]
    [MemberData(nameof(SizesAroundTheInlineLimit))]
    public async Task PushAndPull_OnEitherSideOfTheInlineLimit_ArriveBitExactWithTheSender(int size)
    {
        await using TensorNode receiver = await StartNodeAsync();
        await using TensorNode sender = await StartNodeAsync();
        byte[] bytes = new byte[size];
        new Random(size).NextBytes(bytes);
        var tensor = TensorData.FromArray(bytes, [size]);

        // Twice: the first send dials, the second reuses the connection (whose handler is set by then).
        for (int i = 0; i < 2; i++)
        {
            await sender.SendAsync(receiver.Ticket, $"t{i}", tensor, Timeout());
            ReceivedTensor received = await receiver.ReceiveAsync(Timeout());
            Assert.Equal($"t{i}", received.Name);
            Assert.Equal(sender.NodeId, received.Sender);
            Assert.Equal(bytes, received.Data.AsSpan<byte>().ToArray());
        }

        receiver.Register("served", tensor);
        for (int i = 0; i < 2; i++)
        {
            using TensorData pulled = await sender.RequestAsync(receiver.Ticket, "served", Timeout());
            Assert.Equal(bytes, pulled.AsSpan<byte>().ToArray());
        }
    }

    [Fact]
    public async Task SmallPush_ToAFullQueue_WithWait_WaitsForSpace_ThenArrives()
    {
        await using TensorNode receiver = await StartNodeAsync(o => o with { ReceiveQueueCapacity = 1, QueueFullBehavior = QueueFullBehavior.Wait });
        await using TensorNode sender = await StartNodeAsync();
        await sender.SendAsync(receiver.Ticket, "first", Floats(4, 1), Timeout());

        // The loop cannot wait for space, so this one goes the async way and waits there.
        Task second = sender.SendAsync(receiver.Ticket, "second", Floats(4, 2), Timeout());
        ReceivedTensor first = await receiver.ReceiveAsync(Timeout());
        Assert.Equal("first", first.Name);
        await second;
        ReceivedTensor next = await receiver.ReceiveAsync(Timeout());
        Assert.Equal("second", next.Name);
        Assert.Equal(Floats(4, 2).AsSpan<float>().ToArray(), next.Data.AsSpan<float>().ToArray());
    }

    [Fact]
    public async Task ManySmallPushes_Concurrently_EachArrivesOnce()
    {
        await using TensorNode receiver = await StartNodeAsync();
        await using TensorNode sender = await StartNodeAsync();
        const int count = 500;
        await Parallel.ForEachAsync(Enumerable.Range(0, count), new ParallelOptions { MaxDegreeOfParallelism = 16, CancellationToken = Timeout() }, async (i, ct) =>
            await sender.SendAsync(receiver.Ticket, i.ToString(System.Globalization.CultureInfo.InvariantCulture), Floats(16, i), ct));

        var seen = new HashSet<int>();
        while (receiver.TryReceive(out ReceivedTensor? tensor))
        {
            int i = int.Parse(tensor.Name, System.Globalization.CultureInfo.InvariantCulture);
            Assert.True(seen.Add(i), $"tensor {i} arrived twice");
            Assert.Equal(Floats(16, i).AsSpan<float>().ToArray(), tensor.Data.AsSpan<float>().ToArray());
        }
        Assert.Equal(count, seen.Count);
    }

    [Theory]
    [InlineData(4096)]
    [InlineData(3 << 20)]
    public async Task NativeReceiveThreshold_PutsPayloadsFromThatSizeInNativeMemory_PushedOrPulled(int size)
    {
        const int threshold = 1 << 20;
        await using TensorNode receiver = await StartNodeAsync(o => o with { NativeReceiveThreshold = threshold });
        await using TensorNode sender = await StartNodeAsync(o => o with { NativeReceiveThreshold = threshold });
        byte[] bytes = new byte[size];
        new Random(size).NextBytes(bytes);
        var tensor = TensorData.FromArray(bytes, [size]);

        await sender.SendAsync(receiver.Ticket, "pushed", tensor, Timeout());
        ReceivedTensor received = await receiver.ReceiveAsync(Timeout());
        sender.Register("served", tensor);
        using TensorData pulled = await receiver.RequestAsync(sender.Ticket, "served", Timeout());
        using TensorData pushed = received.Data;
        foreach (TensorData data in new[] { pushed, pulled })
        {
            Assert.Equal(bytes, data.AsSpan<byte>().ToArray());
            Assert.Equal(size < threshold, System.Runtime.InteropServices.MemoryMarshal.TryGetArray(data.Payload, out _));
        }
    }
}
