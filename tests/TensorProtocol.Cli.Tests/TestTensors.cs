using TensorProtocol.Formats;

namespace TensorProtocol.Cli.Tests;

/// <summary>Sample tensors and files for the end-to-end tests, and how to compare what arrived.</summary>
internal static class TestTensors
{
    /// <summary>Writes a four-tensor safetensors file (F32, F16, I64, U8; one name with a '/') and returns its tensors.</summary>
    public static Dictionary<string, TensorData> WriteSample(string path)
    {
        var tensors = new Dictionary<string, TensorData>(StringComparer.Ordinal)
        {
            ["weight"] = Sample(DType.F32, [4, 8], seed: 1),
            ["bias"] = Sample(DType.F16, [8], seed: 2),
            ["embed/tokens"] = Sample(DType.I64, [3, 5], seed: 3),
            ["mask"] = Sample(DType.U8, [16], seed: 4),
        };
        SafetensorsWriter.Write(path, tensors);
        return tensors;
    }

    public static TensorData Sample(DType dtype, long[] shape, int seed)
    {
        var metadata = new TensorMetadata(dtype, shape);
        byte[] payload = new byte[metadata.ByteLength];
        new Random(seed).NextBytes(payload);
        return new TensorData(metadata, payload);
    }

    public static void AssertSameTensor(TensorData expected, TensorData actual)
    {
        Assert.Equal(expected.DType, actual.DType);
        Assert.Equal(expected.Shape.ToArray(), actual.Shape.ToArray());
        Assert.Equal(expected.Payload.ToArray(), actual.Payload.ToArray());
    }

    /// <summary>Asserts that <paramref name="file"/> holds exactly one tensor, named <paramref name="name"/>, equal to <paramref name="expected"/>.</summary>
    public static void AssertFileHolds(string file, string name, TensorData expected)
    {
        using SafetensorsReader reader = SafetensorsReader.Open(file);
        (string storedName, TensorData stored) = Assert.Single(reader.Tensors);
        Assert.Equal(name, storedName);
        AssertSameTensor(expected, stored);
    }
}
