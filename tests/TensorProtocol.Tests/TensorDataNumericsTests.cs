using System.Numerics;
using System.Numerics.Tensors;
using System.Runtime.InteropServices;

namespace TensorProtocol.Tests;

/// <summary>Interop with System.Numerics.Tensors: Tensor&lt;T&gt; and ReadOnlyTensorSpan&lt;T&gt; in and out.</summary>
public sealed class TensorDataNumericsTests : NodeTestBase
{
    public static TheoryData<string> ElementTypes => ["F64", "F32", "F16", "I64", "I32", "I16", "I8", "U64", "U32", "U16", "U8", "BOOL", "C128"];

    [Theory]
    [MemberData(nameof(ElementTypes))]
    public void EveryElementType_RoundTripsThroughTensorAndTensorSpan(string dtype)
    {
        switch (dtype)
        {
            case "F64": RoundTrip(new[] { 1.5, -2.25, 3, 4, 5, 6 }, DType.F64); break;
            case "F32": RoundTrip(new[] { 1.5f, -2.25f, 3, 4, 5, 6 }, DType.F32); break;
            case "F16": RoundTrip(new[] { (Half)1.5, (Half)(-2.25), Half.MaxValue, Half.MinValue, (Half)0, (Half)1 }, DType.F16); break;
            case "I64": RoundTrip(new[] { long.MinValue, long.MaxValue, 0L, 1, 2, 3 }, DType.I64); break;
            case "I32": RoundTrip(new int[] { int.MinValue, int.MaxValue, 0, 1, 2, 3 }, DType.I32); break;
            case "I16": RoundTrip(new short[] { short.MinValue, short.MaxValue, 0, 1, 2, 3 }, DType.I16); break;
            case "I8": RoundTrip(new sbyte[] { sbyte.MinValue, sbyte.MaxValue, 0, 1, 2, 3 }, DType.I8); break;
            case "U64": RoundTrip(new ulong[] { ulong.MaxValue, 0, 1, 2, 3, 4 }, DType.U64); break;
            case "U32": RoundTrip(new uint[] { uint.MaxValue, 0, 1, 2, 3, 4 }, DType.U32); break;
            case "U16": RoundTrip(new ushort[] { ushort.MaxValue, 0, 1, 2, 3, 4 }, DType.U16); break;
            case "U8": RoundTrip(new byte[] { byte.MaxValue, 0, 1, 2, 3, 4 }, DType.U8); break;
            case "BOOL": RoundTrip(new[] { true, false, true, true, false, false }, DType.BOOL); break;
            case "C128": RoundTrip(new[] { new Complex(1, -2), new Complex(0.5, 3), Complex.Zero, Complex.One, Complex.ImaginaryOne, new Complex(-1, -1) }, DType.C128); break;
            default: throw new ArgumentOutOfRangeException(nameof(dtype), dtype, null);
        }

        static void RoundTrip<T>(T[] values, DType expected)
            where T : unmanaged
        {
            Tensor<T> source = Tensor.Create(values, [2, 3]);
            TensorData tensor = TensorData.FromTensor(source);
            Assert.Same(expected, tensor.DType);
            Assert.Equal([2L, 3], tensor.Shape.ToArray());
            // Dense in C order: the tensor's own array is the payload.
            Assert.True(tensor.Payload.Span.Overlaps(MemoryMarshal.AsBytes(values.AsSpan())));

            ReadOnlyTensorSpan<T> view = tensor.AsTensorSpan<T>();
            Assert.Equal([(nint)2, 3], view.Lengths.ToArray());
            Assert.Equal(values[5], view[1, 2]);

            Tensor<T> copy = tensor.ToTensor<T>();
            Assert.Equal([(nint)2, 3], copy.Lengths.ToArray());
            var flat = new T[6];
            copy.FlattenTo(flat);
            Assert.Equal(values, flat);
            Assert.False(MemoryMarshal.AsBytes(flat.AsSpan()).Overlaps(tensor.Payload.Span));
        }
    }

    [Fact]
    public void FromTensor_Dense_SharesTheArray_EvenWhenTheTensorStartsInsideIt()
    {
        float[] array = [0, 1, 2, 3, 4, 5, 6, 7];
        // Starts at element 2: Tensor<T>.GetPinnableReference() would point at element 0 (a quirk of the package).
        Tensor<float> source = Tensor.Create(array, 2, [2, 3], [3, 1]);
        TensorData tensor = TensorData.FromTensor(source);

        Assert.Equal([2f, 3, 4, 5, 6, 7], tensor.ToArray<float>());
        array[7] = 42;
        Assert.Equal(42, tensor.AsSpan<float>()[5]);
        using System.Buffers.MemoryHandle pin = tensor.Payload.Pin(); // what a send does
        unsafe
        {
            Assert.Equal(2f, *(float*)pin.Pointer);
        }
    }

    [Fact]
    public void FromTensor_NotRowMajorDense_CopiesInRowMajorOrder()
    {
        float[] array = [1, 2, 3, 4, 5, 6];
        Tensor<float> transposed = Tensor.Create(array, [3, 2], [1, 3]); // a 2×3 matrix seen as its transpose
        TensorData tensor = TensorData.FromTensor(transposed);
        Assert.Equal([3L, 2], tensor.Shape.ToArray());
        Assert.Equal([1f, 4, 2, 5, 3, 6], tensor.ToArray<float>());
        array[0] = 42; // a copy: unaffected
        Assert.Equal(1f, tensor.ToArray<float>()[0]);

        Tensor<float> slice = Tensor.Create(array, [2, 3]).Slice([0..2, 1..3]);
        Assert.Equal([2f, 3, 5, 6], TensorData.FromTensor(slice).ToArray<float>());

        Tensor<float> broadcast = Tensor.Create(new float[] { 7, 8, 9 }, [2, 3], [0, 1]);
        Assert.Equal([7f, 8, 9, 7, 8, 9], TensorData.FromTensor(broadcast).ToArray<float>());
    }

    [Fact]
    public void FromTensorSpan_Copies()
    {
        int[] array = [1, 2, 3, 4];
        var span = new ReadOnlyTensorSpan<int>(array, [2, 2]);
        TensorData tensor = TensorData.FromTensorSpan(span, requiresGrad: true, new Dictionary<string, string> { ["k"] = "v" });
        array[0] = 42;
        Assert.Equal([1, 2, 3, 4], tensor.ToArray<int>());
        Assert.Equal([2L, 2], tensor.Shape.ToArray());
        Assert.True(tensor.Metadata.RequiresGrad);
        Assert.Equal("v", tensor.Metadata.Metadata["k"]);
    }

    [Fact]
    public void Scalar_IsViewedAsOneElementOfRankOne()
    {
        TensorData scalar = new(new TensorMetadata(DType.F64, []), BitConverter.GetBytes(2.5));
        Assert.Equal([(nint)1], scalar.ToTensor<double>().Lengths.ToArray());
        Assert.Equal(2.5, scalar.AsTensorSpan<double>()[0]);
    }

    [Fact]
    public void Empty_KeepsItsShape()
    {
        TensorData empty = TensorData.FromTensor(Tensor.Create(Array.Empty<float>(), [0, 3]));
        Assert.Equal([0L, 3], empty.Shape.ToArray());
        Assert.Equal([(nint)0, 3], empty.AsTensorSpan<float>().Lengths.ToArray());
        Assert.Equal(0, empty.ToTensor<float>().FlattenedLength);
    }

    [Fact]
    public void Mismatches_AreRefusedWithTheReason()
    {
        TensorData floats = TensorData.FromArray(new float[] { 1, 2 });
        var wrongType = Assert.Throws<InvalidOperationException>(() => floats.AsTensorSpan<int>().Rank);
        Assert.Contains("holds F32 elements, which cannot be read as Int32 (I32)", wrongType.Message, StringComparison.Ordinal);
        Assert.Throws<InvalidOperationException>(() => floats.ToTensor<double>());

        TensorData bf16 = new(new TensorMetadata(DType.BF16, [2]), new byte[4]);
        var noDotNetType = Assert.Throws<InvalidOperationException>(() => bf16.ToTensor<Half>());
        Assert.Contains("holds BF16 elements, which cannot be read as Half (F16)", noDotNetType.Message, StringComparison.Ordinal);

        var notAnElement = Assert.Throws<ArgumentException>(() => TensorData.FromTensor(Tensor.Create(new[] { 'a' })));
        Assert.Contains("Char is not a tensor element type", notAnElement.Message, StringComparison.Ordinal);

        TensorData badBool = new(new TensorMetadata(DType.BOOL, [2]), new byte[] { 1, 2 });
        var bools = Assert.Throws<InvalidOperationException>(() => badBool.AsTensorSpan<bool>().Rank);
        Assert.Contains("Byte 1 of the BOOL payload is 2", bools.Message, StringComparison.Ordinal);

        byte[] bytes = new byte[9];
        TensorData misaligned = new(new TensorMetadata(DType.F32, [2]), bytes.AsMemory(1, 8));
        var alignment = Assert.Throws<InvalidOperationException>(() => misaligned.AsTensorSpan<float>().Rank);
        Assert.Contains("not aligned to 4 bytes", alignment.Message, StringComparison.Ordinal);
        Assert.Equal(2, misaligned.ToTensor<float>().FlattenedLength); // copying works at any alignment
    }

    [Fact]
    public async Task FromTensor_PushedAndPulled_ArrivesAsTheSameTensor()
    {
        await using TensorNode server = await StartNodeAsync();
        await using TensorNode client = await StartNodeAsync();
        Tensor<float> source = Tensor.Create(Enumerable.Range(0, 12).Select(i => i * 0.5f).ToArray(), [3, 4]);
        TensorData tensor = TensorData.FromTensor(source);

        await client.SendAsync(server.Ticket, "pushed", tensor, Timeout());
        TensorData pushed = (await server.ReceiveAsync(Timeout())).Data;
        server.Register("pulled", tensor);
        Tensor<float> pulled = (await client.RequestAsync(server.Ticket, "pulled", Timeout())).ToTensor<float>();

        Assert.True(pushed.AsTensorSpan<float>().SequenceEqual(source.AsReadOnlyTensorSpan()));
        Assert.True(pulled.AsReadOnlyTensorSpan().SequenceEqual(source.AsReadOnlyTensorSpan()));
    }
}
