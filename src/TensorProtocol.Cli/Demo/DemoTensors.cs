using System.Numerics;
using System.Runtime.InteropServices;

namespace TensorProtocol.Cli.Demo;

/// <summary>
/// The tensors the demo moves: a small model-and-batch set covering the common dtypes and shapes (a scalar included),
/// and one large weight shard. Values are deterministic (seeded), shaped like real data rather than random bytes.
/// </summary>
internal static class DemoTensors
{
    public const string ShardName = "checkpoint.shard";

    public static List<(string Name, TensorData Tensor)> ModelSet()
    {
        var random = new Random(42);
        return
        [
            ("tok_embeddings.weight", TensorData.FromArray(Gaussian(random, 2048 * 64, 0.02f), [2048, 64])),
            ("layers.0.attn.wqkv", BFloat16(Gaussian(random, 768 * 256, 0.05f), [768, 256])),
            ("layers.0.mlp.w1", TensorData.FromArray(Array.ConvertAll(Gaussian(random, 512 * 256, 0.05f), v => (Half)v), [512, 256])),
            ("layers.0.norm.weight", TensorData.FromArray(Enumerable.Repeat(1f, 256).ToArray(), [256])),
            ("optimizer.loss_scale", TensorData.FromArray([65536.0], [])),
            ("batch.input_ids", TensorData.FromArray(Enumerable.Range(0, 8 * 128).Select(_ => (long)random.Next(32_000)).ToArray(), [8, 128])),
            ("batch.attention_mask", TensorData.FromArray(Enumerable.Range(0, 8 * 128).Select(i => i % 128 < 96 + (i / 128) * 4).ToArray(), [8, 128])),
            ("batch.pixels", TensorData.FromArray(Enumerable.Range(0, 4 * 3 * 32 * 32).Select(_ => (byte)random.Next(256)).ToArray(), [4, 3, 32, 32])),
            ("features.stft", Complex64(random, [2, 257, 16])),
        ];
    }

    /// <summary>A float32 weight shard of <paramref name="mib"/> MiB: rows of 1024 values.</summary>
    public static TensorData Shard(int mib)
    {
        float[] values = GC.AllocateUninitializedArray<float>(mib * (1 << 20) / sizeof(float));
        // A xorshift generator: Random would take seconds for a 256 MiB shard, and the values only need to look real.
        uint state = 0x9E3779B9;
        for (int i = 0; i < values.Length; i++)
        {
            state ^= state << 13;
            state ^= state >> 17;
            state ^= state << 5;
            values[i] = ((state >> 8) * (1f / (1 << 24)) - 0.5f) * 0.04f;
        }
        return TensorData.FromArray(values, [values.Length / 1024, 1024]);
    }

    /// <summary>The tensor the latency probes move: 4 KiB of float32.</summary>
    public static TensorData Probe() => TensorData.FromArray(Enumerable.Range(0, 1024).Select(i => i * 0.5f).ToArray(), [1024]);

    private static float[] Gaussian(Random random, int count, float scale)
    {
        var values = new float[count];
        for (int i = 0; i < count; i++)
        {
            // Box-Muller: the usual initialisation of weights is normal, not uniform.
            double u = 1.0 - random.NextDouble();
            values[i] = (float)(Math.Sqrt(-2.0 * Math.Log(u)) * Math.Cos(2 * Math.PI * random.NextDouble())) * scale;
        }
        return values;
    }

    private static TensorData BFloat16(float[] values, long[] shape)
    {
        var bits = new ushort[values.Length];
        for (int i = 0; i < values.Length; i++)
        {
            // Round to nearest even, as torch converts float32 to bfloat16 (the values are finite).
            uint f = BitConverter.SingleToUInt32Bits(values[i]);
            bits[i] = (ushort)((f + 0x7FFF + ((f >> 16) & 1)) >> 16);
        }
        return new TensorData(new TensorMetadata(DType.BF16, shape), MemoryMarshal.AsBytes(bits.AsSpan()).ToArray());
    }

    private static TensorData Complex64(Random random, long[] shape)
    {
        var values = new float[2 * shape.Aggregate(1L, (a, b) => a * b)];
        for (int i = 0; i < values.Length; i += 2)
        {
            var c = Complex.FromPolarCoordinates(random.NextDouble(), random.NextDouble() * 2 * Math.PI);
            values[i] = (float)c.Real;
            values[i + 1] = (float)c.Imaginary;
        }
        return new TensorData(new TensorMetadata(DType.C64, shape), MemoryMarshal.AsBytes(values.AsSpan()).ToArray());
    }
}
