using System.Text;
using TensorProtocol.Formats;

namespace TensorProtocol.Tests.Formats;

public sealed class SafetensorsWriterTests : FormatTestFiles
{
    // A file name may have up to 255 bytes; the temporary file beside it adds 38, so a long name used to fail with
    // "File name too long" although the target itself was fine.
    [Theory]
    [InlineData(243, "w")]            // 243 + 12 of ".safetensors" = 255 bytes
    [InlineData(121, "\u00e9")]       // 2 bytes each: 254
    [InlineData(60, "\U0001F600")]    // 4 bytes each, a surrogate pair in UTF-16: 252
    [InlineData(81, "\u4e2d")]        // 3 bytes each: 255
    [InlineData(1, "aaa\U0001F600\U0001F600\U0001F600\U0001F600\U0001F600\U0001F600\U0001F600\U0001F600\U0001F600\U0001F600\U0001F600\U0001F600\U0001F600\U0001F600\U0001F600\U0001F600\U0001F600\U0001F600\U0001F600\U0001F600\U0001F600\U0001F600\U0001F600\U0001F600\U0001F600\U0001F600\U0001F600\U0001F600\U0001F600\U0001F600\U0001F600\U0001F600\U0001F600\U0001F600\U0001F600\U0001F600\U0001F600\U0001F600\U0001F600\U0001F600\U0001F600\U0001F600\U0001F600\U0001F600\U0001F600\U0001F600\U0001F600\U0001F600\U0001F600\U0001F600\U0001F600\U0001F600\U0001F600\U0001F600\U0001F600\U0001F600\U0001F600\U0001F600\U0001F600\U0001F600")] // 3 + 240 + 12 = 255; a cut inside a pair would leave a lone surrogate, written as U+FFFD (3 bytes)
    [InlineData(205, "w")]            // 217 bytes: not shortened, temporary name exactly 255
    [InlineData(206, "w")]            // 218 bytes: shortened by one
    public void Write_FileNameNearTheLimit_IsWritten(int count, string unit)
    {
        string name = string.Concat(Enumerable.Repeat(unit, count)) + ".safetensors";
        Assert.True(System.Text.Encoding.UTF8.GetByteCount(name) <= 255);
        string path = PathOf(name);
        SafetensorsWriter.Write(path, [new("w", TensorData.FromArray(new float[] { 1, 2 }))]);
        using SafetensorsReader reader = SafetensorsReader.Open(path);
        Assert.Equal([1f, 2f], reader["w"].AsSpan<float>().ToArray());
        Assert.Single(System.IO.Directory.GetFiles(Directory)); // no temporary file left behind
    }

    /// <summary>
    /// One F32 tensor "w" = [1, 2] with metadata {"k": "v"}, computed by hand from the spec: the length 0x50 (79 bytes
    /// of JSON plus one space to reach a multiple of 8), the JSON, the space, then 1.0f and 2.0f little-endian.
    /// </summary>
    internal const string GoldenFile =
        "5000000000000000 " +
        "7b225f5f6d657461646174615f5f223a7b226b223a2276227d2c2277223a7b226474797065223a22463332222c227368617065223a5b325d2c22646174615f6f666673657473223a5b302c385d7d7d " +
        "20 " +
        "0000803f 00000040";

    private static readonly Dictionary<string, string> s_metadata = new() { ["k"] = "v" };

    [Fact]
    public void Write_TinyTensor_ProducesTheGoldenBytes()
    {
        using var stream = new MemoryStream();
        SafetensorsWriter.Write(stream, [new("w", TensorData.FromArray([1f, 2f]))], s_metadata);
        Assert.Equal(Hex.Format(Hex.Parse(GoldenFile)), Hex.Format(stream.ToArray()));
        Assert.StartsWith("""{"__metadata__":{"k":"v"},"w":""", Encoding.UTF8.GetString(stream.ToArray(), 8, 30), StringComparison.Ordinal);
    }

    [Fact]
    public void Write_EveryDType_RoundTripsThroughTheReader()
    {
        KeyValuePair<string, TensorData>[] tensors =
        [
            .. DType.All.Select(d => new KeyValuePair<string, TensorData>($"t_{d.Name}", Sample(d, 2, 3))),
            new("scalar", Sample(DType.F64)),
            new("empty", Sample(DType.I32, 0, 5)),
            new("ünïcode name", Sample(DType.U8, 3)),
        ];
        string path = PathOf("all.safetensors");
        var metadata = new Dictionary<string, string> { ["format"] = "pt", ["note"] = "<\"quoted\">" };
        SafetensorsWriter.Write(path, tensors, metadata);

        using SafetensorsReader reader = SafetensorsReader.Open(path);
        Assert.Equal(tensors.Length, reader.Count);
        Assert.Equal(metadata, reader.Metadata);
        foreach ((string name, TensorData expected) in tensors)
        {
            AssertSameTensor(expected, reader[name]);
        }
        // Largest elements first from an 8-aligned data area: every payload is aligned to its element size.
        foreach ((_, TensorData tensor) in reader.Tensors)
        {
            unsafe
            {
                using System.Buffers.MemoryHandle pin = tensor.Payload.Pin();
                Assert.Equal(0, (long)pin.Pointer % Math.Min(tensor.DType.ElementSize, 8));
            }
        }
    }

    [Fact]
    public async Task WriteAsync_ToPath_RoundTrips()
    {
        string path = PathOf("async.safetensors");
        await SafetensorsWriter.WriteAsync(path, [new("a", Sample(DType.BF16, 4)), new("b", Sample(DType.C128, 2))]);
        using SafetensorsReader reader = SafetensorsReader.Open(path);
        AssertSameTensor(Sample(DType.BF16, 4), reader["a"]);
        AssertSameTensor(Sample(DType.C128, 2), reader["b"]);
        Assert.Equal(["b", "a"], reader.Tensors.Select(t => t.Key));
    }

    [Fact]
    public void Write_PayloadFailsMidway_LeavesNoFileBehind()
    {
        string path = PathOf("partial.safetensors");
        var failing = new FailingMemory(16);
        Assert.Throws<IOException>(() => SafetensorsWriter.Write(path, [new("ok", Sample(DType.F64, 100)), new("bad", failing.Tensor())]));
        Assert.Empty(System.IO.Directory.EnumerateFileSystemEntries(Directory));
    }

    [Fact]
    public async Task WriteAsync_PayloadFailsMidway_KeepsTheExistingFile()
    {
        string path = WriteFile("existing.safetensors", [1, 2, 3]);
        var failing = new FailingMemory(16);
        await Assert.ThrowsAsync<IOException>(async () =>
            await SafetensorsWriter.WriteAsync(path, [new("ok", Sample(DType.F64, 100)), new("bad", failing.Tensor())]));
        Assert.Equal([1, 2, 3], File.ReadAllBytes(path));
        Assert.Single(System.IO.Directory.EnumerateFileSystemEntries(Directory));
    }

    [Fact]
    public void Write_FromADisposedReader_FailsWithoutAFile()
    {
        string source = WriteFile("source.safetensors", Hex.Parse(GoldenFile));
        SafetensorsReader reader = SafetensorsReader.Open(source);
        TensorData w = reader["w"];
        reader.Dispose();
        string path = PathOf("copy.safetensors");
        Assert.Throws<ObjectDisposedException>(() => SafetensorsWriter.Write(path, [new("w", w)]));
        Assert.False(File.Exists(path));
    }

    [Theory]
    [InlineData("__metadata__", "reserved")]
    [InlineData("", "null or empty")]
    public void Write_BadName_IsRefusedBeforeWriting(string name, string message)
    {
        string path = PathOf("bad.safetensors");
        ArgumentException error = Assert.Throws<ArgumentException>(() => SafetensorsWriter.Write(path, [new(name, Sample(DType.U8, 1))]));
        Assert.Contains(message, error.Message, StringComparison.Ordinal);
        Assert.False(File.Exists(path));
    }

    [Fact]
    public void Write_DuplicateName_IsRefused()
    {
        using var stream = new MemoryStream();
        ArgumentException error = Assert.Throws<ArgumentException>(() =>
            SafetensorsWriter.Write(stream, [new("x", Sample(DType.U8, 1)), new("x", Sample(DType.U8, 2))]));
        Assert.Contains("'x' appears twice", error.Message, StringComparison.Ordinal);
        Assert.Equal(0, stream.Length);
    }
}
