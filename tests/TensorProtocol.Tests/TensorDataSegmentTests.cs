using System.Buffers;
using System.Runtime.CompilerServices;

namespace TensorProtocol.Tests;

/// <summary>Tensors in several segments and over caller-owned native memory, up to and above 2 GiB.</summary>
public sealed class TensorDataSegmentTests
{
    private const long Over2GiB = (2L << 30) + 8; // just above what one ReadOnlyMemory<byte> can hold

    [Fact]
    public void FromSegments_KeepsTheSegmentsInOrderWithoutCopying()
    {
        byte[] a = [1, 2, 3];
        byte[] b = [4, 5, 6, 7, 8];
        var metadata = new TensorMetadata(DType.U16, [4]);
        TensorData tensor = TensorData.FromSegments(metadata, [a, ReadOnlyMemory<byte>.Empty, b]);

        Assert.Equal(8, tensor.ByteLength);
        Assert.Equal(8, tensor.PayloadSequence.Length);
        Assert.False(tensor.PayloadSequence.IsSingleSegment);
        ReadOnlyMemory<byte>[] segments = [.. Segments(tensor)];
        Assert.Equal(2, segments.Length); // the empty one is skipped
        Assert.True(segments[0].Span.Overlaps(a));
        Assert.True(segments[1].Span.Overlaps(b));
        // A segment boundary inside an element is allowed; copying reassembles the elements.
        Assert.Equal(new ushort[] { 0x0201, 0x0403, 0x0605, 0x0807 }, tensor.ToArray<ushort>());
    }

    [Fact]
    public void Payload_OfSeveralSegments_SaysToUseThePayloadSequence()
    {
        TensorData tensor = TensorData.FromSegments(new TensorMetadata(DType.U8, [4]), [new byte[2], new byte[2]]);
        var e = Assert.Throws<InvalidOperationException>(() => tensor.Payload);
        Assert.Contains("4 bytes in 2 segments", e.Message, StringComparison.Ordinal);
        Assert.Contains(nameof(TensorData.PayloadSequence), e.Message, StringComparison.Ordinal);
        Assert.Throws<InvalidOperationException>(() => tensor.AsSpan<byte>().Length);
    }

    [Fact]
    public void FromSegments_OneSegment_IsStillAvailableAsPayload()
    {
        byte[] bytes = [1, 2, 3, 4];
        TensorData tensor = TensorData.FromSegments(new TensorMetadata(DType.F32, [1]), [bytes]);
        Assert.True(tensor.PayloadSequence.IsSingleSegment);
        Assert.True(tensor.Payload.Span.Overlaps(bytes));
    }

    [Fact]
    public void FromSegments_LengthMismatch_SaysWhatIsInconsistent()
    {
        var metadata = new TensorMetadata(DType.F32, [2, 3]);
        var e = Assert.Throws<ArgumentException>(() => TensorData.FromSegments(metadata, [new byte[12], new byte[8]]));
        Assert.Contains("The payload has 20 bytes but a tensor of dtype F32 and shape [2, 3] needs 24", e.Message, StringComparison.Ordinal);
        Assert.Throws<ArgumentNullException>(() => TensorData.FromSegments(metadata, null!));
        Assert.Throws<ArgumentNullException>(() => TensorData.FromSegments(null!, []));
    }

    [Fact]
    public void SequenceConstructor_Over2GiB_FromOneRepeatedArray()
    {
        // 32 × 64 MiB of the same array plus 8 bytes: a 2 GiB + 8 tensor for the price of 64 MiB.
        byte[] block = new byte[64 << 20];
        block[0] = 11;
        block[^1] = 22;
        ReadOnlyMemory<byte>[] pieces = [.. Enumerable.Repeat<ReadOnlyMemory<byte>>(block, 32), new byte[] { 1, 2, 3, 4, 5, 6, 7, 8 }];
        var metadata = new TensorMetadata(DType.U8, [Over2GiB]);
        TensorData tensor = TensorData.FromSegments(metadata, pieces);

        Assert.Equal(Over2GiB, tensor.ByteLength);
        Assert.Equal(Over2GiB, tensor.PayloadSequence.Length);
        var e = Assert.Throws<InvalidOperationException>(() => tensor.Payload);
        Assert.Contains($"{Over2GiB} bytes, more than one ReadOnlyMemory<byte> holds (2 GiB), in 33 segments", e.Message, StringComparison.Ordinal);
        Assert.Equal(22, tensor.PayloadSequence.Slice((2L << 30) - 1, 1).FirstSpan[0]);
        Assert.Equal(8, tensor.PayloadSequence.Slice(Over2GiB - 1).FirstSpan[0]);
        // Not one piece of memory: no tensor-span view, and too many elements for one array.
        Assert.Throws<InvalidOperationException>(() => tensor.AsTensorSpan<byte>().Rank);
        var tooMany = Assert.Throws<InvalidOperationException>(() => tensor.ToArray<byte>());
        Assert.Contains("more than an array holds", tooMany.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void FromNativeMemory_WrapsTheCallersMemoryWithoutCopying()
    {
        var memory = new NativeAllocation(24);
        memory.Span(0, 24).Clear();
        memory.Span(20, 4)[0] = 0x80; // float bits 0x00000080 at element 5
        TensorData tensor = TensorData.FromNativeMemory(new TensorMetadata(DType.F32, [2, 3]), memory.Address, 24, memory);

        Assert.Equal(24, tensor.Payload.Length);
        Assert.True(tensor.Payload.Span.Overlaps(memory.Span(0, 24)));
        Assert.Equal(BitConverter.Int32BitsToSingle(0x80), tensor.AsSpan<float>()[5]);
        Assert.Equal(0, memory.Disposals);

        tensor.Dispose();
        Assert.Equal(1, memory.Disposals);
        Assert.Throws<ObjectDisposedException>(() => tensor.Payload.Span.Length);
        tensor.Dispose();
        Assert.Equal(1, memory.Disposals); // exactly once
    }

    [Fact]
    public void FromNativeMemory_DisposeWhilePinned_ReleasesTheOwnerAtTheLastUnpin()
    {
        var memory = new NativeAllocation(16);
        TensorData tensor = TensorData.FromNativeMemory(new TensorMetadata(DType.U8, [16]), memory.Address, 16, memory);
        MemoryHandle pin = tensor.Payload.Pin(); // what a write in flight holds
        tensor.Dispose();
        Assert.Equal(0, memory.Disposals);
        pin.Dispose();
        Assert.Equal(1, memory.Disposals);
    }

    [Fact]
    public void FromNativeMemory_ForgottenTensor_ReleasesTheOwnerFromTheFinalizer()
    {
        var memory = new NativeAllocation(16);
        Forget(memory);
        for (int attempt = 0; attempt < 10 && memory.Disposals == 0; attempt++)
        {
            GC.Collect();
            GC.WaitForPendingFinalizers();
        }
        Assert.Equal(1, memory.Disposals);

        [MethodImpl(MethodImplOptions.NoInlining)]
        static void Forget(NativeAllocation memory) =>
            _ = TensorData.FromNativeMemory(new TensorMetadata(DType.U8, [16]), memory.Address, 16, memory).Payload.Length;
    }

    [Fact]
    public void FromNativeMemory_InvalidArguments_AreRefusedAndTheOwnerIsNotTaken()
    {
        var memory = new NativeAllocation(8);
        var metadata = new TensorMetadata(DType.U8, [8]);
        Assert.Throws<ArgumentNullException>(() => TensorData.FromNativeMemory(null!, memory.Address, 8, memory));
        Assert.Throws<ArgumentOutOfRangeException>(() => TensorData.FromNativeMemory(metadata, memory.Address, -8, memory));
        var mismatch = Assert.Throws<ArgumentException>(() => TensorData.FromNativeMemory(metadata, memory.Address, 7, memory));
        Assert.Contains("The payload has 7 bytes but a tensor of dtype U8 and shape [8] needs 8", mismatch.Message, StringComparison.Ordinal);
        var zero = Assert.Throws<ArgumentNullException>(() => TensorData.FromNativeMemory(metadata, 0, 8, memory));
        Assert.Equal("address", zero.ParamName);
        // An address so high that address + length wraps around: refused with checked arithmetic, never dereferenced.
        var wraps = Assert.Throws<ArgumentOutOfRangeException>(() => TensorData.FromNativeMemory(metadata, -4, 8, memory));
        Assert.Contains("wrap around the address space", wraps.Message, StringComparison.Ordinal);
        Assert.Equal(0, memory.Disposals);
        memory.Dispose();
    }

    [Fact]
    public void FromNativeMemory_Empty_AtAddressZero_StillReleasesItsOwner()
    {
        var owner = new NativeAllocation(0);
        TensorData tensor = TensorData.FromNativeMemory(new TensorMetadata(DType.F32, [0, 3]), 0, 0, owner);
        Assert.Equal(0, tensor.Payload.Length);
        Assert.Equal(0, tensor.AsTensorSpan<float>().FlattenedLength);
        tensor.Dispose();
        Assert.Equal(1, owner.Disposals);
    }

    [Fact]
    public void FromNativeMemory_Over2GiB_IsSegmentedButViewableAsOneTensorSpan()
    {
        // malloc maps a block this large lazily: only the pages touched below are committed.
        var memory = new NativeAllocation(Over2GiB);
        memory.Span(0, 1)[0] = 1;
        memory.Span(1L << 30, 1)[0] = 2; // first byte of the second segment
        memory.Span(Over2GiB - 1, 1)[0] = 3;
        using TensorData tensor = TensorData.FromNativeMemory(new TensorMetadata(DType.U8, [Over2GiB]), memory.Address, Over2GiB, memory);

        long[] lengths = [.. Segments(tensor).Select(s => (long)s.Length)];
        Assert.Equal([1L << 30, 1L << 30, 8], lengths);
        Assert.Throws<InvalidOperationException>(() => tensor.Payload);
        Assert.Equal(2, tensor.PayloadSequence.Slice(1L << 30, 1).FirstSpan[0]);

        var view = tensor.AsTensorSpan<byte>();
        nint length = checked((nint)tensor.ByteLength); // 64-bit only, as the library
        Assert.Equal(length, view.FlattenedLength);
        Assert.Equal(1, view[[(nint)0]]);
        Assert.Equal(3, view[[length - 1]]);
    }

    internal static IEnumerable<ReadOnlyMemory<byte>> Segments(TensorData tensor)
    {
        foreach (ReadOnlyMemory<byte> segment in tensor.PayloadSequence)
        {
            yield return segment;
        }
    }
}
