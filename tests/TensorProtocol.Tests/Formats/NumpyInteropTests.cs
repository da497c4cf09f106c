using System.Text.Json;
using TensorProtocol.Formats;

namespace TensorProtocol.Tests.Formats;

/// <summary>
/// Interoperability with numpy through Debian's /usr/bin/python3 (see <see cref="DebianPython"/>): .npy files saved by
/// numpy for each of its dtypes, and safetensors files built by the spec in Python, read here with the same bytes and
/// values; files written here loaded by numpy.
/// </summary>
public sealed class NumpyInteropTests : FormatTestFiles
{
    private static readonly (DType DType, string Numpy)[] s_numpyTypes =
    [
        (DType.F64, "float64"), (DType.F32, "float32"), (DType.F16, "float16"), (DType.I64, "int64"), (DType.I32, "int32"),
        (DType.I16, "int16"), (DType.I8, "int8"), (DType.U64, "uint64"), (DType.U32, "uint32"), (DType.U16, "uint16"),
        (DType.U8, "uint8"), (DType.BOOL, "bool_"), (DType.C64, "complex64"), (DType.C128, "complex128"),
    ];

    [Fact]
    public void NpySavedByNumpy_IsReadWithTheSameBytesAndValues()
    {
        RunPython("""
            import json
            import numpy as np
            values = {}
            for name in NAMES:
                # For the unsigned types -3 wraps to the top of the range, so the high bit is covered too.
                a = (np.arange(6) % 2 == 0) if name == 'bool_' else (np.arange(6) * 7 - 3).astype(name)
                if a.dtype.kind == 'f':
                    a = a / 4
                if a.dtype.kind == 'c':
                    a = a + 0.5j * a
                a = a.reshape(2, 3)
                np.save(name + '.npy', a)
                open(name + '.bin', 'wb').write(a.tobytes())
                values[name] = [[z.real, z.imag] for z in a.flatten().tolist()] if a.dtype.kind == 'c' else a.flatten().tolist()
            json.dump(values, open('values.json', 'w'))
            np.save('scalar.npy', np.float32(2.5))
            np.save('empty.npy', np.zeros((0, 3), dtype='<i4'))
            np.save('fortran_1d.npy', np.asfortranarray(np.arange(4.0)))
            """);
        using JsonDocument values = JsonDocument.Parse(File.ReadAllBytes(PathOf("values.json")));
        foreach ((DType dtype, string name) in s_numpyTypes)
        {
            using NpyReader reader = NpyReader.Open(PathOf(name + ".npy"));
            Assert.Same(dtype, reader.Tensor.DType);
            Assert.Equal([2L, 3L], reader.Tensor.Shape.ToArray());
            Assert.Equal(File.ReadAllBytes(PathOf(name + ".bin")), reader.Tensor.Payload.ToArray());
            TensorValues.AssertEqual(values.RootElement.GetProperty(name), reader.Tensor, name);
        }
        using (NpyReader scalar = NpyReader.Open(PathOf("scalar.npy")))
        {
            Assert.Empty(scalar.Tensor.Shape);
            Assert.Equal([2.5f], scalar.Tensor.ToArray<float>());
        }
        using (NpyReader empty = NpyReader.Open(PathOf("empty.npy")))
        {
            Assert.Equal([0L, 3L], empty.Tensor.Shape.ToArray());
        }
        using NpyReader vector = NpyReader.Open(PathOf("fortran_1d.npy"));
        Assert.Equal([0.0, 1, 2, 3], vector.Tensor.ToArray<double>());
    }

    [Fact]
    public void NpyWrittenHere_IsLoadedByNumpy()
    {
        foreach ((DType dtype, string name) in s_numpyTypes)
        {
            TensorData tensor = Sample(dtype, 2, 3);
            NpyWriter.Write(PathOf(name + ".npy"), tensor);
            File.WriteAllBytes(PathOf(name + ".bin"), tensor.Payload.ToArray());
        }
        NpyWriter.Write(PathOf("scalar.npy"), TensorData.FromSpan<double>([4.5], []));
        RunPython("""
            import numpy as np
            for name in NAMES:
                a = np.load(name + '.npy')
                assert a.dtype == np.dtype(name), (name, a.dtype)
                assert a.shape == (2, 3), (name, a.shape)
                assert a.flags.c_contiguous
                assert a.tobytes() == open(name + '.bin', 'rb').read(), name
            s = np.load('scalar.npy')
            assert s.shape == () and s == 4.5, s
            """);
    }

    [Fact]
    public void SafetensorsBuiltBySpecInPython_IsRead()
    {
        RunPython("""
            import json, struct
            import numpy as np
            header, blobs, offset = {'__metadata__': {'source': 'python'}}, [], 0
            for name in NAMES:
                a = (np.arange(6) % 2 == 0) if name == 'bool_' else (np.arange(6) * 5 + 1).astype(name)
                b = a.tobytes()
                header[name] = {'dtype': DTYPES[name], 'shape': [2, 3], 'data_offsets': [offset, offset + len(b)]}
                blobs.append(b)
                offset += len(b)
                open(name + '.bin', 'wb').write(b)
            text = json.dumps(header).encode('utf-8')
            text += b' ' * ((8 - len(text) % 8) % 8)
            with open('py.safetensors', 'wb') as f:
                f.write(struct.pack('<Q', len(text)))
                f.write(text)
                for b in blobs:
                    f.write(b)
            """);
        using SafetensorsReader reader = SafetensorsReader.Open(PathOf("py.safetensors"));
        Assert.Equal("python", reader.Metadata["source"]);
        foreach ((DType dtype, string name) in s_numpyTypes)
        {
            TensorData tensor = reader[name];
            Assert.Same(dtype, tensor.DType);
            Assert.Equal([2L, 3L], tensor.Shape.ToArray());
            Assert.Equal(File.ReadAllBytes(PathOf(name + ".bin")), tensor.Payload.ToArray());
        }
    }

    [Fact]
    public void SafetensorsWrittenHere_IsParsedBySpecInPython()
    {
        KeyValuePair<string, TensorData>[] tensors = [.. s_numpyTypes.Select(t => new KeyValuePair<string, TensorData>(t.Numpy, Sample(t.DType, 2, 3)))];
        SafetensorsWriter.Write(PathOf("cs.safetensors"), tensors, new Dictionary<string, string> { ["source"] = "c#" });
        foreach ((string name, TensorData tensor) in tensors)
        {
            File.WriteAllBytes(PathOf(name + ".bin"), tensor.Payload.ToArray());
        }
        RunPython("""
            import json, struct
            import numpy as np
            data = open('cs.safetensors', 'rb').read()
            (n,) = struct.unpack('<Q', data[:8])
            assert (8 + n) % 8 == 0, n
            header = json.loads(data[8:8 + n].decode('utf-8'))
            assert header.pop('__metadata__') == {'source': 'c#'}
            body = data[8 + n:]
            assert sorted(header) == sorted(NAMES), sorted(header)
            for name, info in header.items():
                assert info['dtype'] == DTYPES[name] and info['shape'] == [2, 3], info
                begin, end = info['data_offsets']
                a = np.frombuffer(body[begin:end], dtype=np.dtype(name).newbyteorder('<')).reshape(info['shape'])
                assert a.tobytes() == open(name + '.bin', 'rb').read(), name
            """);
    }

    /// <summary>Runs a script in the test directory with NAMES (numpy dtype names) and DTYPES (to safetensors names).</summary>
    private void RunPython(string script)
    {
        string names = string.Join(", ", s_numpyTypes.Select(t => $"'{t.Numpy}'"));
        string dtypes = string.Join(", ", s_numpyTypes.Select(t => $"'{t.Numpy}': '{t.DType.Name}'"));
        string prelude = $$"""
            NAMES = [{{names}}]
            DTYPES = {{{dtypes}}}
            """;
        DebianPython.Run(Directory, ["numpy"], prelude, script);
    }
}
