using System.Runtime.InteropServices;
using System.Text;
using System.Text.Json;
using TensorProtocol.Formats;

namespace TensorProtocol.Tests.Formats;

/// <summary>
/// Interoperability with torch (and numpy) through Debian's /usr/bin/python3: safetensors files built in Python from
/// torch tensors, byte by byte as the spec lays them out (8-byte little-endian header length, JSON header padded with
/// spaces, data), are read here with the same values; files written here are read back by numpy and by
/// <c>torch.frombuffer</c> with the same values. <c>torch.save</c> files are pickles, not safetensors, so they are
/// not a format this library reads.
/// </summary>
public sealed class TorchInteropTests : FormatTestFiles
{
    /// <summary>Every dtype of torch 1.13 (Debian 12) that safetensors names, with its torch name.</summary>
    private static readonly (DType DType, string Torch)[] s_torchTypes =
    [
        (DType.F64, "float64"), (DType.F32, "float32"), (DType.F16, "float16"), (DType.BF16, "bfloat16"), (DType.I64, "int64"),
        (DType.I32, "int32"), (DType.I16, "int16"), (DType.I8, "int8"), (DType.U8, "uint8"), (DType.BOOL, "bool"),
        (DType.C64, "complex64"), (DType.C128, "complex128"),
    ];

    /// <summary>Dtypes newer torch versions add (unsigned 16-64 bit in 2.3, 8-bit floats in 2.1); tested when present.</summary>
    private static readonly (DType DType, string Torch)[] s_newerTorchTypes =
    [
        (DType.U16, "uint16"), (DType.U32, "uint32"), (DType.U64, "uint64"), (DType.F8_E4M3, "float8_e4m3fn"), (DType.F8_E5M2, "float8_e5m2"),
    ];

    /// <summary>The numpy names of the dtypes numpy has (not bfloat16 nor the 8-bit floats).</summary>
    private static readonly (DType DType, string Numpy)[] s_numpyTypes =
    [
        (DType.F64, "float64"), (DType.F32, "float32"), (DType.F16, "float16"), (DType.I64, "int64"), (DType.I32, "int32"),
        (DType.I16, "int16"), (DType.I8, "int8"), (DType.U64, "uint64"), (DType.U32, "uint32"), (DType.U16, "uint16"),
        (DType.U8, "uint8"), (DType.BOOL, "bool_"), (DType.C64, "complex64"), (DType.C128, "complex128"),
    ];

    [Fact]
    public void SafetensorsBuiltFromTorchTensors_IsReadWithTheSameValues()
    {
        string stdout = RunPython("""
            import json, struct
            def sample(name):
                d = getattr(torch, name)
                if d == torch.bool:
                    return torch.tensor([[True, False, True], [True, False, False]])
                if d.is_complex:
                    return torch.tensor([[1.5 - 2j, 0j, -0.25 + 8j], [1e3 + 0.5j, 3 + 0j, -1 - 1j]], dtype=d)
                if d.is_floating_point:
                    f = torch.finfo(d)
                    # Rounding (0.1), the largest value, the smallest normal and a subnormal.
                    return torch.tensor([[-1.5, 0.1, 3.25], [f.max, f.tiny, f.tiny / 4]], dtype=torch.float64).to(d)
                if name == 'uint64':
                    # Below 2**63: conversions of larger uint64 values are not supported by every torch version.
                    return torch.tensor([[0, 1, 2], [100, 2**40, 2**63 - 1]], dtype=torch.int64).to(d)
                i = torch.iinfo(d)
                low = [i.min, -1, 0] if i.min < 0 else [0, 1, 2]
                return torch.tensor([low, [1, 100, i.max]], dtype=torch.int64).to(d)

            def values(t):
                if t.dtype == torch.bool:
                    return t.flatten().tolist()
                if t.dtype.is_complex:
                    return torch.view_as_real(t).to(torch.float64).reshape(-1, 2).tolist()
                if t.dtype.is_floating_point:
                    return t.to(torch.float64).flatten().tolist()
                return t.to(torch.int64).flatten().tolist()

            tensors = [(name, dtype, sample(name)) for dtype, name in TYPES]
            # A transposed view (saved contiguous, as exporters do), a scalar and an empty tensor.
            tensors.append(('transposed', 'F32', torch.arange(6, dtype=torch.float32).reshape(2, 3).t()))
            tensors.append(('scalar', 'BF16', torch.tensor(-2.5, dtype=torch.bfloat16)))
            tensors.append(('empty', 'F16', torch.zeros(0, 4, dtype=torch.float16)))
            header = {'__metadata__': {'format': 'pt', 'torch': torch.__version__}}
            blobs, expected, offset = [], {}, 0
            for name, dtype, t in tensors:
                b = t.contiguous().reshape(-1).view(torch.uint8).numpy().tobytes()
                header[name] = {'dtype': dtype, 'shape': list(t.shape), 'data_offsets': [offset, offset + len(b)]}
                expected[name] = {'dtype': dtype, 'shape': list(t.shape), 'values': values(t)}
                blobs.append(b)
                offset += len(b)
            text = json.dumps(header).encode('utf-8')
            text += b' ' * (-len(text) % 8)
            with open('torch.safetensors', 'wb') as f:
                f.write(struct.pack('<Q', len(text)))
                f.write(text)
                for b in blobs:
                    f.write(b)
            json.dump(expected, open('expected.json', 'w'))
            print(torch.__version__)
            """);

        using JsonDocument expected = JsonDocument.Parse(File.ReadAllBytes(PathOf("expected.json")));
        using SafetensorsReader reader = SafetensorsReader.Open(PathOf("torch.safetensors"));
        Assert.Equal(stdout.Trim(), reader.Metadata["torch"]);
        string[] names = [.. expected.RootElement.EnumerateObject().Select(p => p.Name)];
        Assert.Superset(new HashSet<string>([.. s_torchTypes.Select(t => t.Torch), "transposed", "scalar", "empty"]), new HashSet<string>(names));
        Assert.Equal(names.Order(StringComparer.Ordinal), reader.Tensors.Select(t => t.Key).Order(StringComparer.Ordinal));
        foreach (JsonProperty entry in expected.RootElement.EnumerateObject())
        {
            TensorData tensor = reader[entry.Name];
            Assert.Equal(entry.Value.GetProperty("dtype").GetString(), tensor.DType.Name);
            Assert.Equal(entry.Value.GetProperty("shape").EnumerateArray().Select(d => d.GetInt64()), tensor.Shape);
            TensorValues.AssertEqual(entry.Value.GetProperty("values"), tensor, entry.Name);
        }
        // The transposed view was written in its own (column-major) order: what a reader must see as C order.
        Assert.Equal([0f, 3, 1, 4, 2, 5], reader["transposed"].ToArray<float>());
    }

    [Fact]
    public void SafetensorsWrittenHere_IsReadByNumpyAndTorchWithTheSameValues()
    {
        KeyValuePair<string, TensorData>[] tensors = [.. Samples()];
        SafetensorsWriter.Write(PathOf("cs.safetensors"), tensors, new Dictionary<string, string> { ["format"] = "pt" });
        var expected = new StringBuilder("{");
        foreach ((string name, TensorData tensor) in tensors)
        {
            expected.Append(expected.Length == 1 ? "" : ", ").Append($"\"{name}\": {TensorValues.ToJson(tensor)}");
        }
        File.WriteAllText(PathOf("expected.json"), expected.Append('}').ToString());

        string stdout = RunPython("""
            import json, struct
            import numpy as np
            expected = json.load(open('expected.json'))
            data = open('cs.safetensors', 'rb').read()
            (n,) = struct.unpack('<Q', data[:8])
            header = json.loads(data[8:8 + n].decode('utf-8'))
            assert header.pop('__metadata__') == {'format': 'pt'}
            body = data[8 + n:]
            TORCH = {dtype: getattr(torch, name) for dtype, name in TYPES}
            checked = {'numpy': [], 'torch': []}
            for name, info in header.items():
                begin, end = info['data_offsets']
                chunk, dtype, shape = body[begin:end], info['dtype'], info['shape']
                if dtype in NUMPY:
                    a = np.frombuffer(chunk, dtype=np.dtype(NUMPY[dtype]).newbyteorder('<')).reshape(shape)
                    got = [[z.real, z.imag] for z in a.flatten().tolist()] if a.dtype.kind == 'c' else a.flatten().tolist()
                    assert got == expected[name], ('numpy', name, got, expected[name])
                    checked['numpy'].append(dtype)
                if dtype in TORCH and dtype != 'U64':
                    t = torch.frombuffer(bytearray(chunk), dtype=TORCH[dtype]).reshape(shape)
                    if t.dtype == torch.bool:
                        got = t.flatten().tolist()
                    elif t.dtype.is_complex:
                        got = torch.view_as_real(t).to(torch.float64).reshape(-1, 2).tolist()
                    elif t.dtype.is_floating_point:
                        got = t.to(torch.float64).flatten().tolist()
                    else:
                        got = t.to(torch.int64).flatten().tolist()
                    assert got == expected[name], ('torch', name, got, expected[name])
                    checked['torch'].append(dtype)
            print(json.dumps(checked))
            """);

        using JsonDocument checkedBy = JsonDocument.Parse(stdout);
        string[] byNumpy = [.. checkedBy.RootElement.GetProperty("numpy").EnumerateArray().Select(e => e.GetString()!)];
        string[] byTorch = [.. checkedBy.RootElement.GetProperty("torch").EnumerateArray().Select(e => e.GetString()!)];
        Assert.Equal(s_numpyTypes.Select(t => t.DType.Name).Order(StringComparer.Ordinal), byNumpy.Order(StringComparer.Ordinal));
        Assert.Superset(new HashSet<string>(s_torchTypes.Select(t => t.DType.Name)), new HashSet<string>(byTorch));
        Assert.Contains("BF16", byTorch);
    }

    /// <summary>One 2×3 tensor per dtype numpy or torch can read, with edge values (extremes, subnormals, sign bits).</summary>
    private static IEnumerable<KeyValuePair<string, TensorData>> Samples()
    {
        long[] shape = [2, 3];
        yield return new("f64", TensorData.FromArray<double>([-1.5, 0.1, 3.25, double.MaxValue, double.Epsilon, -1e-300], shape));
        yield return new("f32", TensorData.FromArray<float>([-1.5f, 0.1f, 3.25f, float.MaxValue, float.Epsilon, -1e-38f], shape));
        yield return new("f16", TensorData.FromArray<Half>([(Half)(-1.5), (Half)0.1, (Half)3.25, Half.MaxValue, Half.Epsilon, (Half)(-2048)], shape));
        // bfloat16 bit patterns: -1.5, 0.1 (rounded), 3.25, the largest value, the smallest subnormal, -0.
        yield return new("bf16", Raw(DType.BF16, shape, MemoryMarshal.AsBytes<ushort>([0xBFC0, 0x3DCD, 0x4050, 0x7F7F, 0x0001, 0x8000])));
        yield return new("i64", TensorData.FromArray<long>([long.MinValue, -1, 0, 1, (1L << 62) + 1, long.MaxValue], shape));
        yield return new("i32", TensorData.FromArray<int>([int.MinValue, -1, 0, 1, 100_000, int.MaxValue], shape));
        yield return new("i16", TensorData.FromArray<short>([short.MinValue, -1, 0, 1, 1000, short.MaxValue], shape));
        yield return new("i8", TensorData.FromArray<sbyte>([sbyte.MinValue, -1, 0, 1, 100, sbyte.MaxValue], shape));
        yield return new("u64", TensorData.FromArray<ulong>([0UL, 1, 2, 1UL << 40, (1UL << 63) + 1, ulong.MaxValue], shape));
        yield return new("u32", TensorData.FromArray<uint>([0U, 1, 2, 100_000, 1U << 31, uint.MaxValue], shape));
        yield return new("u16", TensorData.FromArray<ushort>([0, 1, 2, 1000, 1 << 15, ushort.MaxValue], shape));
        yield return new("u8", TensorData.FromArray<byte>([0, 1, 2, 127, 128, byte.MaxValue], shape));
        yield return new("bool", TensorData.FromArray<bool>([true, false, true, true, false, false], shape));
        yield return new("c64", Raw(DType.C64, shape, MemoryMarshal.AsBytes<float>([1.5f, -2, 0, 0, -0.25f, 8, 1e3f, 0.5f, 3, 0, -1, -1])));
        yield return new("c128", TensorData.FromArray<System.Numerics.Complex>([new(1.5, -2), new(0, 0), new(-0.25, 8), new(1e300, 0.5), new(3, 0), new(-1, -1)], shape));
        // 8-bit floats (read back by torch 2.1 and later): 1, -3, the largest value, the smallest subnormal, 20, 0.
        yield return new("f8_e4m3", Raw(DType.F8_E4M3, shape, [0x38, 0xC4, 0x7E, 0x01, 0x5A, 0x00]));
        yield return new("f8_e5m2", Raw(DType.F8_E5M2, shape, [0x3C, 0xC2, 0x7B, 0x01, 0x4D, 0x00]));
    }

    private static TensorData Raw(DType dtype, long[] shape, ReadOnlySpan<byte> bytes) => new(new TensorMetadata(dtype, shape), bytes.ToArray());

    /// <summary>Runs a script with torch and numpy imported, TYPES (safetensors name, torch name) for this torch, and NUMPY.</summary>
    private string RunPython(string script)
    {
        string core = string.Join(", ", s_torchTypes.Select(t => $"('{t.DType.Name}', '{t.Torch}')"));
        string newer = string.Join(", ", s_newerTorchTypes.Select(t => $"('{t.DType.Name}', '{t.Torch}')"));
        string numpy = string.Join(", ", s_numpyTypes.Select(t => $"'{t.DType.Name}': '{t.Numpy}'"));
        string prelude = $$"""
            TYPES = [{{core}}] + [(d, n) for d, n in [{{newer}}] if hasattr(torch, n)]
            NUMPY = {{{numpy}}}
            """;
        return DebianPython.Run(Directory, ["numpy", "torch"], prelude, script);
    }
}
