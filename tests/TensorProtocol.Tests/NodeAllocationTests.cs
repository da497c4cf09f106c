namespace TensorProtocol.Tests;

/// <summary>
/// Counts process-wide allocations, so it runs alone: tests in other classes would otherwise allocate at the same
/// time and be billed to it.
/// </summary>
[Collection(SerialCollection.Name)]
public sealed class NodeAllocationTests : NodeTestBase
{
    [Fact]
    public async Task Send64MiB_AllocatesLessThan1MiBInTheWholeProcess()
    {
        // A 64 MiB payload in native memory (as the C ABI's hosts receive it), which a released tensor hands on.
        await using TensorNode receiver = await StartNodeAsync(o => o with { NativeReceiveThreshold = 1 << 20 });
        await using TensorNode sender = await StartNodeAsync();
        TensorData tensor = TensorData.FromArray(new byte[64 << 20], [64L << 20]);
        // Warm-up with the same size: JIT, the connection, the receive-block pool and the receive-buffer pool reach
        // their steady state.
        await sender.SendAsync(receiver.Ticket, "warm-up", tensor, Timeout());
        (await receiver.ReceiveAsync(Timeout())).Data.Dispose();

        // Process-wide (both nodes live here): the sender pins the payload instead of copying it, the receiver writes
        // it into native memory, so nothing of the 64 MiB may show as managed allocation. Best of three, so a stray
        // allocation elsewhere in the process (a finishing earlier test) cannot fail it; a copy of the payload, or a
        // managed destination, would show in every one.
        long best = long.MaxValue;
        for (int round = 0; round < 3; round++)
        {
            long before = GC.GetTotalAllocatedBytes(precise: true);
            await sender.SendAsync(receiver.Ticket, "zero-copy", tensor, Timeout());
            best = Math.Min(best, GC.GetTotalAllocatedBytes(precise: true) - before);
            using TensorData received = (await receiver.ReceiveAsync(Timeout())).Data;
            Assert.Equal(64 << 20, received.Payload.Length);
        }
        Assert.True(best < (1 << 20), $"{best} bytes allocated for a 64 MiB push");
    }

    [Fact]
    public async Task SmallPush_AllocatesLittleBesidesThePayload()
    {
        await using TensorNode receiver = await StartNodeAsync();
        await using TensorNode sender = await StartNodeAsync();
        TensorData tensor = TensorData.FromArray(new byte[4096], [4096L]);
        const int Pushes = 200;
        for (int i = 0; i < Pushes; i++)
        {
            await sender.SendAsync(receiver.Ticket, "warm-up", tensor, Timeout());
            (await receiver.ReceiveAsync(Timeout())).Data.Dispose();
        }

        // Process-wide, both nodes: per push the receiver's 4 KiB destination plus the bookkeeping of both sides
        // (~10 KiB in all). It was ~76 KiB while every request left its 64 KiB receive block to the garbage collector
        // and every answer was read through a 16 KiB buffer. Best of three batches, as above.
        long best = long.MaxValue;
        CancellationToken ct = Timeout(); // one token for all: a fresh one per call would be counted too
        for (int round = 0; round < 3; round++)
        {
            long before = GC.GetTotalAllocatedBytes(precise: true);
            for (int i = 0; i < Pushes; i++)
            {
                await sender.SendAsync(receiver.Ticket, "small", tensor, ct);
                (await receiver.ReceiveAsync(ct)).Data.Dispose();
            }
            best = Math.Min(best, (GC.GetTotalAllocatedBytes(precise: true) - before) / Pushes);
        }
        Assert.True(best < 16 << 10, $"{best} bytes allocated per 4 KiB push (both nodes)");
    }
}
