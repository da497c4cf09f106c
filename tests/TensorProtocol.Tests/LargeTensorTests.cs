using System.Diagnostics;
using TensorProtocol.Internal;

namespace TensorProtocol.Tests;

/// <summary>
/// A real push and a real pull of a tensor just above 2 GiB between two nodes in this process: the source is caller-
/// owned native memory (<see cref="TensorData.FromNativeMemory"/>), the destination native memory the received tensor
/// owns, and the bytes are compared by SHA-256. Slow on 2 cores (see the trait); sized minimally above the 2 GiB line.
/// </summary>
[Collection(LargeTransferCollection.Name)]
[Trait(LargeTransferCollection.Category, LargeTransferCollection.Large)]
public sealed class LargeTensorTests : NodeTestBase
{
    private const long Size = (2L << 30) + (4 << 20); // 2 GiB + 4 MiB
    private static readonly TimeSpan TransferLimit = TimeSpan.FromMinutes(4);

    [Fact]
    public async Task Push_2GiBPlus4MiB_ArrivesIntactInNativeMemoryTheTensorOwns()
    {
        await using TensorNode receiver = await StartNodeAsync();
        await using TensorNode sender = await StartNodeAsync();
        var source = LargePattern.Create(Size);
        using TensorData tensor = TensorData.FromNativeMemory(new TensorMetadata(DType.U8, [Size]), source.Address, Size, source);
        byte[] expected = LargePattern.Sha256(tensor.PayloadSequence);

        await sender.SendAsync(receiver.Ticket, "big", tensor, Timeout(TransferLimit));
        ReceivedTensor received = await receiver.ReceiveAsync(Timeout());

        long mappedBefore = NativeBuffer.LiveBytes;
        using (TensorData data = received.Data)
        {
            Assert.Equal("big", received.Name);
            Assert.Equal(Size, data.ByteLength);
            Assert.Throws<InvalidOperationException>(() => data.Payload);
            Assert.Equal(3, TensorDataSegmentTests.Segments(data).Count()); // 1 GiB, 1 GiB, 4 MiB
            Assert.Equal(expected, LargePattern.Sha256(data.PayloadSequence));
        }
        Assert.Equal(mappedBefore - Size, NativeBuffer.LiveBytes); // unmapped by Dispose, not left to a GC
    }

    [Fact]
    public async Task Pull_2GiBPlus4MiB_ArrivesIntact_WithBoundedProgress()
    {
        await using TensorNode server = await StartNodeAsync();
        await using TensorNode client = await StartNodeAsync();
        var source = LargePattern.Create(Size);
        using TensorData tensor = TensorData.FromNativeMemory(new TensorMetadata(DType.I64, [Size / 8]), source.Address, Size, source);
        byte[] expected = LargePattern.Sha256(tensor.PayloadSequence);
        server.Register("big", tensor);
        var reports = new List<TransferProgress>();
        var progress = new SynchronousProgress<TransferProgress>(reports.Add);

        var clock = Stopwatch.StartNew();
        using TensorData pulled = await client.RequestAsync(server.Ticket, "big", progress, Timeout(TransferLimit));
        clock.Stop();

        Assert.Equal(tensor.Metadata, pulled.Metadata);
        Assert.Equal(expected, LargePattern.Sha256(pulled.PayloadSequence));
        Assert.Equal((nint)(Size / 8), pulled.AsTensorSpan<long>().FlattenedLength); // one piece of memory
        Assert.Equal(0, reports[0].BytesTransferred);
        Assert.True(reports[^1].IsComplete);
        Assert.All(reports, r => Assert.Equal(Size, r.TotalBytes));
        Assert.True(reports.Zip(reports.Skip(1)).All(p => p.First.BytesTransferred < p.Second.BytesTransferred), "reports must increase");
        // At most one report per 100 ms interval, plus the first and the last.
        Assert.InRange(reports.Count, 3, 2 + (int)(clock.Elapsed / TimeSpan.FromMilliseconds(100)) + 1);
    }
}
