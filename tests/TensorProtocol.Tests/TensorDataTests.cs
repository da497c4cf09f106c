using System.Buffers;
using System.Numerics;
using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;

namespace TensorProtocol.Tests;

public sealed class TensorDataTests
{
    [Fact]
    public void FromArray_Float_WrapsTheArrayWithoutCopying()
    {
        float[] values = [1, 2, 3, 4, 5, 6];
        TensorData tensor = TensorData.FromArray(values, [2, 3]);

        Assert.Same(DType.F32, tensor.DType);
        Assert.Equal([2L, 3], tensor.Shape.ToArray());
        Assert.Equal(24, tensor.Payload.Length);
        Assert.True(SameMemory(values, tensor.Payload.Span));
        ReadOnlySpan<float> view = tensor.AsSpan<float>();
        Assert.True(Unsafe.AreSame(ref values[0], ref MemoryMarshal.GetReference(view)));
        values[5] = 42; // the tensor sees the caller's memory, as documented
        Assert.Equal(42, tensor.AsSpan<float>()[5]);
    }

    [Fact]
    public void FromArray_Bytes_KeepsTheSameArray()
    {
        byte[] values = [1, 2, 3];
        TensorData tensor = TensorData.FromArray(values);
        Assert.True(MemoryMarshal.TryGetArray(tensor.Payload, out ArraySegment<byte> segment));
        Assert.Same(values, segment.Array);
        Assert.Same(DType.U8, tensor.DType);
    }

    [Fact]
    public void FromArray_EveryElementType_RoundTrips()
    {
        RoundTrip(new[] { 1.5, -2.25 }, DType.F64);
        RoundTrip(new[] { 1.5f, -2.25f }, DType.F32);
        RoundTrip(new[] { (Half)1.5, (Half)(-2.25), Half.NaN }, DType.F16);
        RoundTrip(new[] { long.MinValue, long.MaxValue }, DType.I64);
        RoundTrip(new[] { int.MinValue, 7 }, DType.I32);
        RoundTrip(new short[] { short.MinValue, 7 }, DType.I16);
        RoundTrip(new sbyte[] { sbyte.MinValue, 7 }, DType.I8);
        RoundTrip(new[] { ulong.MaxValue, 7UL }, DType.U64);
        RoundTrip(new[] { uint.MaxValue, 7U }, DType.U32);
        RoundTrip(new ushort[] { ushort.MaxValue, 7 }, DType.U16);
        RoundTrip(new byte[] { byte.MaxValue, 7 }, DType.U8);
        RoundTrip(new[] { true, false, true }, DType.BOOL);
        RoundTrip(new[] { new Complex(1, -2), new Complex(0.5, 3) }, DType.C128);

        static void RoundTrip<T>(T[] values, DType dtype)
            where T : unmanaged
        {
            TensorData tensor = TensorData.FromArray(values);
            Assert.Same(dtype, tensor.DType);
            Assert.Equal([values.LongLength], tensor.Shape.ToArray());
            Assert.Equal(values.Length * dtype.ElementSize, tensor.Payload.Length);
            Assert.True(SameMemory(values, tensor.Payload.Span));
            Assert.Equal(values, tensor.AsSpan<T>().ToArray());
            Assert.Equal(values, tensor.ToArray<T>());

            // The payload alone (as it arrives from the network) gives the same elements back.
            var received = new TensorData(tensor.Metadata, tensor.Payload.ToArray());
            Assert.Equal(values, received.AsSpan<T>().ToArray());
        }
    }

    [Fact]
    public void FromMemory_ArraySlice_WrapsTheSliceWithoutCopying()
    {
        var values = new Half[10];
        TensorData tensor = TensorData.FromMemory<Half>(values.AsMemory(2, 6), [3, 2]);
        Assert.True(Unsafe.AreSame(ref values[2], ref MemoryMarshal.GetReference(tensor.AsSpan<Half>())));
        Assert.Equal(12, tensor.Payload.Length);
    }

    [Fact]
    public void Payload_PinsTheSourceArray()
    {
        int[] values = [1, 2, 3, 4];
        TensorData tensor = TensorData.FromArray(values, [4]);
        unsafe
        {
            using MemoryHandle pin = tensor.Payload.Slice(4).Pin();
            fixed (int* expected = &values[1])
            {
                Assert.Equal((nint)expected, (nint)pin.Pointer);
            }
            Assert.Equal(2, *(int*)pin.Pointer);
        }
    }

    [Fact]
    public void FromSpan_Copies()
    {
        double[] values = [1, 2];
        TensorData tensor = TensorData.FromSpan<double>(values, [2, 1], requiresGrad: true, new Dictionary<string, string> { ["k"] = "v" });
        values[0] = 9;
        Assert.Equal([1.0, 2.0], tensor.ToArray<double>());
        Assert.False(SameMemory(values, tensor.Payload.Span));
        Assert.True(tensor.Metadata.RequiresGrad);
        Assert.Equal("v", tensor.Metadata.Metadata["k"]);
    }

    [Fact]
    public void Constructor_PayloadMismatch_SaysWhatIsInconsistent()
    {
        var metadata = new TensorMetadata(DType.F32, [2, 3]);
        ArgumentException e = Assert.Throws<ArgumentException>(() => new TensorData(metadata, new byte[20]));
        Assert.Equal("payload", e.ParamName);
        Assert.Contains("The payload has 20 bytes but a tensor of dtype F32 and shape [2, 3] needs 24 (6 elements × 4 bytes).", e.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Constructor_4GiBDescribedBut16BytesGiven_SaysWhatIsInconsistent()
    {
        var metadata = new TensorMetadata(DType.F32, [1L << 30]);
        ArgumentException e = Assert.Throws<ArgumentException>(() => new TensorData(metadata, new byte[16]));
        Assert.Contains("The payload has 16 bytes but a tensor of dtype F32 and shape [1073741824] needs 4294967296", e.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void FromArray_ShapeMismatch_SaysWhatIsInconsistent()
    {
        ArgumentException e = Assert.Throws<ArgumentException>(() => TensorData.FromArray(new float[5], [2, 3]));
        Assert.Equal("values", e.ParamName);
        Assert.Contains("The shape [2, 3] has 6 elements but 5 were given.", e.Message, StringComparison.Ordinal);
        Assert.Throws<ArgumentOutOfRangeException>(() => TensorData.FromArray(new float[5], [-5]));
    }

    [Fact]
    public void FromArray_UnsupportedElementType_IsRefused()
    {
        ArgumentException e = Assert.Throws<ArgumentException>(() => TensorData.FromArray(new char[2]));
        Assert.Contains("Char is not a tensor element type", e.Message, StringComparison.Ordinal);
        Assert.Throws<ArgumentException>(() => TensorData.FromArray(new decimal[2]));
    }

    [Fact]
    public void AsSpan_WrongType_SaysBothTypes()
    {
        TensorData tensor = TensorData.FromArray(new float[4]);
        InvalidOperationException e = Assert.Throws<InvalidOperationException>(() => tensor.AsSpan<int>().Length);
        Assert.Equal("The tensor holds F32 elements, which cannot be read as Int32 (I32).", e.Message);
        Assert.Throws<InvalidOperationException>(() => tensor.ToArray<double>());
        // A type without a .NET element type is read as bytes only.
        var bf16 = new TensorData(new TensorMetadata(DType.BF16, [2]), new byte[4]);
        Assert.Throws<InvalidOperationException>(() => bf16.AsSpan<ushort>().Length);
        Assert.Equal(4, bf16.Payload.Length);
    }

    [Fact]
    public void AsSpan_Misaligned_IsRefusedAndToArrayCopies()
    {
        byte[] buffer = new byte[9];
        BitConverter.TryWriteBytes(buffer.AsSpan(1), 3.5);
        var metadata = new TensorMetadata(DType.F64, [1]);
        var tensor = new TensorData(metadata, buffer.AsMemory(1, 8));
        InvalidOperationException e = Assert.Throws<InvalidOperationException>(() => tensor.AsSpan<double>().Length);
        Assert.Contains("not aligned to 8 bytes", e.Message, StringComparison.Ordinal);
        Assert.Equal([3.5], tensor.ToArray<double>());
    }

    [Fact]
    public void AsSpan_BoolPayloadWithOtherBytes_IsRefused()
    {
        var tensor = new TensorData(new TensorMetadata(DType.BOOL, [3]), new byte[] { 1, 0, 2 });
        InvalidOperationException e = Assert.Throws<InvalidOperationException>(() => tensor.AsSpan<bool>().Length);
        Assert.Equal("Byte 2 of the BOOL payload is 2; BOOL elements must be 0 or 1.", e.Message);
        Assert.Throws<InvalidOperationException>(() => tensor.ToArray<bool>());
    }

    [Fact]
    public void EmptyTensor_Works()
    {
        TensorData tensor = TensorData.FromArray(Array.Empty<float>(), [0, 3]);
        Assert.Equal(0, tensor.Payload.Length);
        Assert.Equal(0, tensor.AsSpan<float>().Length);
        Assert.Empty(tensor.ToArray<float>());
    }

    private static bool SameMemory<T>(T[] array, ReadOnlySpan<byte> bytes)
        where T : unmanaged =>
        array.Length == 0 || Unsafe.AreSame(ref Unsafe.As<T, byte>(ref array[0]), ref MemoryMarshal.GetReference(bytes));
}
