using System.Runtime.CompilerServices;
using TensorProtocol.Internal;

namespace TensorProtocol.Tests;

/// <summary>
/// Receive destinations: arrays up to <see cref="Array.MaxLength"/>, mapped native memory beyond, released at once
/// on dispose and by the finalizer when forgotten. Reads the process-wide count of mapped bytes, so it runs apart
/// from parallel tests.
/// </summary>
[Collection(SerialCollection.Name)]
public sealed class PayloadBufferTests
{
    private const long Native = (2L << 30) + 4096; // above Array.MaxLength: native, in three segments

    [Fact]
    public void Allocate_UpToArrayMaxLength_IsAnArray()
    {
        using PayloadBuffer buffer = PayloadBuffer.Allocate(100);
        Assert.False(buffer.IsNative);
        Memory<byte> chunk = buffer.Chunk(10, 1000);
        Assert.Equal(90, chunk.Length); // clipped to the payload's end
        chunk.Span.Fill(7);
        TensorData tensor = buffer.ToTensor(new TensorMetadata(DType.U8, [100]));
        Assert.Equal(7, tensor.Payload.Span[99]);
    }

    [Fact]
    public void Allocate_Empty_WithANativeThresholdOf0_IsAnEmptyArray()
    {
        using PayloadBuffer buffer = PayloadBuffer.Allocate(0, nativeThreshold: 0);
        Assert.False(buffer.IsNative);
        Assert.Equal(0, buffer.ToTensor(new TensorMetadata(DType.F32, [0, 3])).ByteLength);
    }

    [Fact]
    public void Allocate_AboveArrayMaxLength_IsNativeAndUnmappedOnDisposeUnlessATensorTookIt()
    {
        ForgottenTensors.Collect();
        long mappedBefore = NativeBuffer.LiveBytes;
        using (PayloadBuffer buffer = PayloadBuffer.Allocate(Native))
        {
            Assert.True(buffer.IsNative);
            Assert.Equal(mappedBefore + Native, NativeBuffer.LiveBytes);
        }
        Assert.Equal(mappedBefore, NativeBuffer.LiveBytes);
    }

    [Fact]
    public async Task Chunk_Native_NeverCrossesASegmentBoundary_AndPrefaultingDefersTheUnmapping()
    {
        ForgottenTensors.Collect();
        long mappedBefore = NativeBuffer.LiveBytes;
        PayloadBuffer buffer = PayloadBuffer.Allocate(Native);
        // One Memory<byte> per read, each inside one 1 GiB segment of the finished tensor.
        Assert.Equal(100, buffer.Chunk((1L << 30) - 100, 64 << 20).Length);
        Assert.Equal(64 << 20, buffer.Chunk(1L << 30, 64 << 20).Length);
        Assert.Equal(4096, buffer.Chunk(2L << 30, 64 << 20).Length);
        buffer.Dispose();
        // Pre-faulting the windows these chunks started holds the mapping until it is done, then lets go.
        await buffer.Prefaulted.WaitAsync(TimeSpan.FromSeconds(30));
        Assert.Equal(mappedBefore, NativeBuffer.LiveBytes);
    }

    [Fact]
    public void ToTensor_Native_IsOwnedByTheTensor_AndUnmappedByItsDispose()
    {
        ForgottenTensors.Collect();
        long mappedBefore = NativeBuffer.LiveBytes;
        PayloadBuffer buffer = PayloadBuffer.Allocate(Native);
        TensorData tensor = buffer.ToTensor(new TensorMetadata(DType.U8, [Native]));
        buffer.Dispose(); // the tensor owns the memory now: nothing happens
        Assert.Equal(mappedBefore + Native, NativeBuffer.LiveBytes);
        System.Runtime.InteropServices.MemoryMarshal.AsMemory(tensor.PayloadSequence.First).Span[0] = 1;
        Assert.Equal(1, tensor.PayloadSequence.FirstSpan[0]);

        System.Buffers.MemoryHandle pin = tensor.PayloadSequence.First.Pin(); // as a send in flight holds it
        tensor.Dispose();
        Assert.Equal(mappedBefore + Native, NativeBuffer.LiveBytes); // still mapped for the pin
        pin.Dispose();
        Assert.Equal(mappedBefore, NativeBuffer.LiveBytes);
        Assert.Throws<ObjectDisposedException>(() => tensor.PayloadSequence.FirstSpan.Length);
        Assert.Throws<ObjectDisposedException>(() => tensor.PayloadSequence.First.Pin());
    }

    [Fact]
    public void ToTensor_Native_ForgottenTensor_IsUnmappedByTheFinalizer()
    {
        ForgottenTensors.Collect();
        long mappedBefore = NativeBuffer.LiveBytes;
        Forget();
        for (int attempt = 0; attempt < 10 && NativeBuffer.LiveBytes != mappedBefore; attempt++)
        {
            GC.Collect();
            GC.WaitForPendingFinalizers();
        }
        Assert.Equal(mappedBefore, NativeBuffer.LiveBytes);

        [MethodImpl(MethodImplOptions.NoInlining)]
        static void Forget()
        {
            PayloadBuffer buffer = PayloadBuffer.Allocate(Native);
            _ = buffer.ToTensor(new TensorMetadata(DType.U8, [Native])).ByteLength;
        }
    }
}
