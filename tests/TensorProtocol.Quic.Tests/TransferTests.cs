using System.Security.Cryptography;

namespace TensorProtocol.Quic.Tests;

[Collection(SerialCollection.Name)]
public sealed class TransferTests : QuicTestBase
{
    [Fact]
    public async Task OneGiB_OverOneStream_ArrivesBitExact()
    {
        const long total = 1L << 30;
        await using QuicEndpoint server = CreateEndpoint();
        await using QuicEndpoint client = CreateEndpoint();
        var (c, s) = await ConnectPairAsync(client, server);
        CancellationToken ct = Timeout(TimeSpan.FromMinutes(3));

        Task<(long, byte[])> receive = Task.Run(async () =>
        {
            QuicStream incoming = await s.AcceptInboundStreamAsync(ct);
            return await ReadAllHashedAsync(incoming, ct: ct);
        });

        // 64 MiB of random data sent 16 times with two writes in flight; every write is zero-copy.
        byte[] block = RandomBytes(64 << 20, seed: 7);
        using var expected = IncrementalHash.CreateHash(HashAlgorithmName.SHA256);
        QuicStream stream = await c.OpenOutboundStreamAsync(QuicStreamType.Bidirectional, ct);
        ValueTask previous = ValueTask.CompletedTask;
        for (long sent = 0; sent < total; sent += block.Length)
        {
            expected.AppendData(block);
            ValueTask next = stream.WriteAsync(block, completeWrites: sent + block.Length == total, ct);
            await previous;
            previous = next;
        }
        await previous;

        var (length, hash) = await receive;
        Assert.Equal(total, length);
        Assert.Equal(expected.GetHashAndReset(), hash);
    }

    [Fact]
    public async Task Write_ManagedAllocations_DoNotScaleWithPayload()
    {
        await using QuicEndpoint server = CreateEndpoint();
        await using QuicEndpoint client = CreateEndpoint();
        var (c, s) = await ConnectPairAsync(client, server);
        byte[] payload = RandomBytes(64 << 20, seed: 3);
        byte[] sink = new byte[64 << 20];
        CancellationToken ct = Timeout();
        QuicStream stream = await c.OpenOutboundStreamAsync(QuicStreamType.Bidirectional, ct);
        await stream.WriteAsync(new byte[1], ct); // opens the stream on the wire
        QuicStream incoming = await s.AcceptInboundStreamAsync(ct);
        await incoming.ReadExactlyAsync(sink.AsMemory(0, 1), ct);

        long before = GC.GetTotalAllocatedBytes(precise: true);
        Task read = incoming.ReadExactlyAsync(sink, ct).AsTask();
        await stream.WriteAsync(payload, completeWrites: true, ct);
        await read;
        long allocated = GC.GetTotalAllocatedBytes(precise: true) - before;

        Assert.True(payload.AsSpan().SequenceEqual(sink));
        // Zero-copy send and receive-into-destination: a 64 MiB transfer allocates far less than 1 MiB of managed memory
        // (this counts both endpoints of the process).
        Assert.True(allocated < (1 << 20), $"allocated {allocated} bytes for a 64 MiB transfer");
    }
}
