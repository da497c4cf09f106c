namespace TensorProtocol.Tests;

public sealed class TensorMetadataTests
{
    [Fact]
    public void Constructor_ComputesCountsAndCopiesInputs()
    {
        long[] shape = [2, 3, 4];
        var metadata = new Dictionary<string, string> { ["b"] = "2", ["a"] = "1" };
        var tensor = new TensorMetadata(DType.BF16, shape, requiresGrad: true, metadata);
        shape[0] = 99;
        metadata["c"] = "3";

        Assert.Equal([2L, 3, 4], tensor.Shape.ToArray());
        Assert.Equal(3, tensor.Rank);
        Assert.Equal(24, tensor.ElementCount);
        Assert.Equal(48, tensor.ByteLength);
        Assert.True(tensor.RequiresGrad);
        Assert.Equal(["a", "b"], tensor.Metadata.Keys);
        Assert.Equal("BF16[2, 3, 4] requires_grad", tensor.ToString());
    }

    [Fact]
    public void Scalar_HasOneElement()
    {
        var scalar = new TensorMetadata(DType.F64, []);
        Assert.Equal(0, scalar.Rank);
        Assert.Equal(1, scalar.ElementCount);
        Assert.Equal(8, scalar.ByteLength);
        Assert.Empty(scalar.Metadata);
        Assert.Equal("F64[]", scalar.ToString());
    }

    [Fact]
    public void ZeroDimension_MakesAnEmptyTensorEvenIfTheOthersWouldOverflow()
    {
        var empty = new TensorMetadata(DType.F32, [1L << 40, 1L << 40, 0]);
        Assert.Equal(0, empty.ElementCount);
        Assert.Equal(0, empty.ByteLength);
    }

    [Fact]
    public void NegativeDimension_IsRefusedNamingIt()
    {
        ArgumentOutOfRangeException e = Assert.Throws<ArgumentOutOfRangeException>(() => new TensorMetadata(DType.F32, [2, -3]));
        Assert.Equal("shape", e.ParamName);
        Assert.Contains("Dimension 1 of shape [2, -3] is negative", e.Message, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData(new long[] { long.MaxValue, 2 })]
    [InlineData(new long[] { 1L << 32, 1L << 32 })]
    [InlineData(new long[] { 1L << 62, 1 })] // 2^62 elements fit, 2^64 bytes do not
    public void Overflow_IsAnErrorNotAWrap(long[] shape)
    {
        ArgumentOutOfRangeException e = Assert.Throws<ArgumentOutOfRangeException>(() => new TensorMetadata(DType.F32, shape));
        Assert.Contains("more than 9223372036854775807 bytes", e.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void LargestRepresentableTensor_IsAccepted()
    {
        var tensor = new TensorMetadata(DType.U8, [long.MaxValue]);
        Assert.Equal(long.MaxValue, tensor.ByteLength);
        var halves = new TensorMetadata(DType.F16, [long.MaxValue / 2]);
        Assert.Equal(long.MaxValue - 1, halves.ByteLength);
        Assert.Throws<ArgumentOutOfRangeException>(() => new TensorMetadata(DType.F16, [1L << 62]));
    }

    [Fact]
    public void NullValueInMetadata_IsRefused()
    {
        var metadata = new Dictionary<string, string> { ["k"] = null! };
        Assert.Throws<ArgumentNullException>(() => new TensorMetadata(DType.F32, [1], metadata: metadata));
    }

    [Fact]
    public void KeysThatCollideOnlyUnderTheSourceComparer_AreKeptApart()
    {
        var metadata = new Dictionary<string, string>(StringComparer.OrdinalIgnoreCase) { ["K"] = "1" };
        var tensor = new TensorMetadata(DType.F32, [1], metadata: metadata);
        Assert.False(tensor.Metadata.ContainsKey("k")); // ordinal, whatever the caller's comparer was
    }

    [Fact]
    public void Equality_IsStructural()
    {
        var a = new TensorMetadata(DType.F32, [2, 3], true, new Dictionary<string, string> { ["k"] = "v" });
        var b = new TensorMetadata(DType.F32, [2, 3], true, new Dictionary<string, string> { ["k"] = "v" });
        Assert.Equal(a, b);
        Assert.Equal(a.GetHashCode(), b.GetHashCode());
        Assert.NotEqual(a, new TensorMetadata(DType.F32, [3, 2], true, new Dictionary<string, string> { ["k"] = "v" }));
        Assert.NotEqual(a, new TensorMetadata(DType.I32, [2, 3], true, new Dictionary<string, string> { ["k"] = "v" }));
        Assert.NotEqual(a, new TensorMetadata(DType.F32, [2, 3], false, new Dictionary<string, string> { ["k"] = "v" }));
        Assert.NotEqual(a, new TensorMetadata(DType.F32, [2, 3], true, new Dictionary<string, string> { ["k"] = "w" }));
        Assert.NotEqual(a, new TensorMetadata(DType.F32, [2, 3], true));
    }
}
