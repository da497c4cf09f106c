using Microsoft.Extensions.Time.Testing;
using TensorProtocol.Internal;

namespace TensorProtocol.Tests;

/// <summary>
/// The node's pool of released receive mappings: what it keeps, for how long, what it hands out again, and that a
/// reused mapping never shows an earlier payload. Reads the process-wide count of mapped bytes, so it runs apart from
/// parallel tests.
/// </summary>
[Collection(SerialCollection.Name)]
public sealed class ReceiveBufferPoolTests : NodeTestBase
{
    private const long Mib = 1 << 20;

    [Fact]
    public void Release_KeepsTheMapping_AndTheNextRentOfThatSizeGetsItBack()
    {
        using var pool = new ReceiveBufferPool(256 * Mib, TimeSpan.FromSeconds(10), new FakeTimeProvider());
        NativeBuffer first = pool.Rent(64 * Mib, out bool reused);
        Assert.False(reused);
        nint address = first.DangerousGetHandle();
        ForgottenTensors.Collect();
        long live = NativeBuffer.LiveBytes;
        first.Dispose();

        Assert.Equal(64 * Mib, pool.RetainedBytes);
        Assert.Equal(live - 64 * Mib, NativeBuffer.LiveBytes); // kept, but owned by no tensor
        using NativeBuffer second = pool.Rent(64 * Mib - 4096, out reused); // a little smaller still fits
        Assert.True(reused);
        Assert.Equal(address, second.DangerousGetHandle());
        Assert.Equal(0, pool.RetainedBytes);
        Assert.Equal(1, pool.Reuses);
    }

    [Fact]
    public void AMappingNotReleasedExplicitly_IsUnmapped_NotKept()
    {
        // A failed receive discards its buffer; a forgotten tensor's finalizer releases it: whoever forgot it may still
        // read it through a span, which must never come to show the next payload.
        using var pool = new ReceiveBufferPool(256 * Mib, TimeSpan.FromSeconds(10), new FakeTimeProvider());
        pool.Rent(16 * Mib, out _).Discard();
        Assert.Equal(0, pool.RetainedBytes);
        ForgetOne(pool);
        ForgottenTensors.Collect();
        Assert.Equal(0, pool.RetainedBytes);
        Assert.Equal(0, pool.RetainedCount);

        [System.Runtime.CompilerServices.MethodImpl(System.Runtime.CompilerServices.MethodImplOptions.NoInlining)]
        static void ForgetOne(ReceiveBufferPool pool) => _ = pool.Rent(16 * Mib, out _).Length;
    }

    [Fact]
    public void Rent_DoesNotHandOutAMappingMuchLargerOrSmaller()
    {
        using var pool = new ReceiveBufferPool(1024 * Mib, TimeSpan.FromSeconds(10), new FakeTimeProvider());
        pool.Rent(64 * Mib, out _).Dispose();

        using NativeBuffer smaller = pool.Rent(8 * Mib, out bool reusedForSmaller); // would waste 56 MiB
        using NativeBuffer larger = pool.Rent(65 * Mib, out bool reusedForLarger); // does not fit
        Assert.False(reusedForSmaller);
        Assert.False(reusedForLarger);
        Assert.Equal(64 * Mib, pool.RetainedBytes);
    }

    [Fact]
    public void Retain_BeyondCapacityOrCount_UnmapsTheOldestFirst()
    {
        using var pool = new ReceiveBufferPool(100 * Mib, TimeSpan.FromSeconds(10), new FakeTimeProvider());
        NativeBuffer a = pool.Rent(40 * Mib, out _), b = pool.Rent(41 * Mib, out _), c = pool.Rent(42 * Mib, out _);
        a.Dispose();
        b.Dispose();
        c.Dispose(); // 123 MiB would not fit: a goes
        Assert.Equal((41 + 42) * Mib, pool.RetainedBytes);
        using (NativeBuffer again = pool.Rent(40 * Mib, out bool reused))
        {
            Assert.True(reused); // b (41 MiB) is the smallest that fits
            Assert.Equal(41 * Mib, again.Length);
        }

        var small = new List<NativeBuffer>();
        for (int i = 0; i < ReceiveBufferPool.MaxRetained + 4; i++)
        {
            small.Add(pool.Rent(1 * Mib + i * 4096, out _));
        }
        small.ForEach(buffer => buffer.Dispose());
        Assert.Equal(ReceiveBufferPool.MaxRetained, pool.RetainedCount);
        Assert.True(pool.RetainedBytes <= 100 * Mib);

        var tooLarge = new ReceiveBufferPool(10 * Mib, TimeSpan.FromSeconds(10), new FakeTimeProvider());
        ForgottenTensors.Collect();
        long live = NativeBuffer.LiveBytes;
        tooLarge.Rent(20 * Mib, out _).Dispose();
        Assert.Equal(0, tooLarge.RetainedBytes); // larger than the whole capacity: unmapped
        Assert.Equal(live, NativeBuffer.LiveBytes);
        tooLarge.Dispose();
    }

    [Fact]
    public void KeptMappings_AreUnmapped_AfterTheLifetime_AndAtDispose()
    {
        var time = new FakeTimeProvider();
        var pool = new ReceiveBufferPool(256 * Mib, TimeSpan.FromSeconds(10), time);
        pool.Rent(16 * Mib, out _).Dispose();
        time.Advance(TimeSpan.FromSeconds(6));
        pool.Rent(32 * Mib, out _).Dispose();

        time.Advance(TimeSpan.FromSeconds(4)); // the first reaches 10 s unused
        Assert.Equal(32 * Mib, pool.RetainedBytes);
        time.Advance(TimeSpan.FromSeconds(6)); // and the second
        Assert.Equal(0, pool.RetainedBytes);

        pool.Rent(16 * Mib, out _).Dispose();
        NativeBuffer held = pool.Rent(8 * Mib, out _);
        pool.Dispose();
        Assert.Equal(0, pool.RetainedBytes);
        held.Dispose(); // released after the pool ended: unmapped, not kept
        Assert.Equal(0, pool.RetainedCount);
    }

    [Fact]
    public async Task RepeatedPushes_ReuseTheReleasedMapping_AndShowOnlyTheNewPayload()
    {
        const int Count = 16 << 20; // 64 MiB of floats
        await using TensorNode receiver = await StartNodeAsync(o => o with { NativeReceiveThreshold = 1 << 20 });
        await using TensorNode sender = await StartNodeAsync();
        ReceiveBufferPool pool = receiver.ReceiveBuffers!;

        await sender.SendAsync(receiver.Ticket, "first", Floats(Count, seed: 1), Timeout());
        ReceivedTensor first = await receiver.ReceiveAsync(Timeout());
        Assert.True(first.Data.HasNativeMemory);
        first.Data.Dispose();
        // Pre-faulting may still hold the mapping for a moment; the pool has it once that ends.
        Assert.True(SpinWait.SpinUntil(() => pool.RetainedBytes == Count * 4L, TimeSpan.FromSeconds(10)));

        using TensorData second = Floats(Count, seed: 2);
        await sender.SendAsync(receiver.Ticket, "second", second, Timeout());
        ReceivedTensor received = await receiver.ReceiveAsync(Timeout());
        using (received.Data)
        {
            Assert.Equal(1, pool.Reuses);
            Assert.Equal(0, pool.RetainedBytes);
            Assert.True(System.Buffers.BuffersExtensions.ToArray(received.Data.PayloadSequence).AsSpan().SequenceEqual(second.Payload.Span));
        }
    }
}
