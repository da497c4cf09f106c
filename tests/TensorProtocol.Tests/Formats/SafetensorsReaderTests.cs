using System.Runtime.InteropServices;
using TensorProtocol.Formats;

namespace TensorProtocol.Tests.Formats;

public sealed class SafetensorsReaderTests : FormatTestFiles
{
    private const string F32Entry = """{"w":{"dtype":"F32","shape":[2],"data_offsets":[0,8]}}""";

    [Fact]
    public void Open_GoldenFile_ReadsTensorAndMetadata()
    {
        string path = WriteFile("golden.safetensors", Hex.Parse(SafetensorsWriterTests.GoldenFile));
        using SafetensorsReader reader = SafetensorsReader.Open(path);
        Assert.Equal("v", reader.Metadata["k"]);
        Assert.Equal(1, reader.Count);
        TensorData w = reader["w"];
        Assert.Same(DType.F32, w.DType);
        Assert.Equal([2L], w.Shape.ToArray());
        Assert.Equal([1f, 2f], w.AsSpan<float>().ToArray());
    }

    [Fact]
    public void Open_Payload_IsAViewOfTheMappingNotAnArray()
    {
        string path = WriteFile("view.safetensors", Hex.Parse(SafetensorsWriterTests.GoldenFile));
        SafetensorsReader reader = SafetensorsReader.Open(path);
        ReadOnlyMemory<byte> payload = reader["w"].Payload;
        Assert.False(MemoryMarshal.TryGetArray(payload, out _));
        Assert.True(MemoryMarshal.TryGetMemoryManager(payload, out System.Buffers.MemoryManager<byte>? manager));
        Assert.IsType<TensorProtocol.Internal.NativeMemorySegment>(manager); // a view of the mapping

        reader.Dispose();
        Assert.Throws<ObjectDisposedException>(() => payload.Span.Length);
    }

    [Fact]
    public void Open_PinnedPayload_StaysReadableAfterDispose()
    {
        string path = WriteFile("pinned.safetensors", Hex.Parse(SafetensorsWriterTests.GoldenFile));
        SafetensorsReader reader = SafetensorsReader.Open(path);
        using System.Buffers.MemoryHandle pin = reader["w"].Payload.Pin();
        reader.Dispose();
        unsafe
        {
            Assert.Equal(2f, ((float*)pin.Pointer)[1]);
        }
    }

    [Fact]
    public void Open_EmptyTensorAndScalar_AreRead()
    {
        string path = WriteFile("small.safetensors", Safetensors(
            """{"e":{"dtype":"F64","shape":[0,3],"data_offsets":[0,0]},"s":{"dtype":"I16","shape":[],"data_offsets":[0,2]}}""",
            [7, 0]));
        using SafetensorsReader reader = SafetensorsReader.Open(path);
        Assert.Equal(0, reader["e"].Payload.Length);
        Assert.Equal([(short)7], reader["s"].ToArray<short>());
        Assert.Empty(reader.Metadata);
        Assert.False(reader.TryGetTensor("missing", out _));
        Assert.Throws<KeyNotFoundException>(() => reader["missing"]);
    }

    [Fact]
    public void Open_UnknownMemberInEntry_IsIgnoredAsTheReferenceDoes()
    {
        string path = WriteFile("extra.safetensors", Safetensors(
            """{"w":{"dtype":"U8","shape":[1],"data_offsets":[0,1],"extra":{"a":[1,2]}}}""", [5]));
        using SafetensorsReader reader = SafetensorsReader.Open(path);
        Assert.Equal([(byte)5], reader["w"].ToArray<byte>());
    }

    public static TheoryData<string, byte[], string?, string> Malformed => new()
    {
        { "empty", [], null, "The file is empty" },
        { "truncated header length", [1, 0, 0], null, "starts with an 8-byte header length" },
        { "header length beyond file", Safetensors(F32Entry, new byte[8], declaredLength: 4096), null, "only 64 bytes follow it; the file is truncated" },
        { "bad JSON", Safetensors("""{"w":{"dtype":"F32",""", new byte[8]), null, "The header is not valid JSON" },
        { "trailing garbage", Safetensors(F32Entry + "x", new byte[8]), null, "The header is not valid JSON" },
        { "not an object", Safetensors("[1,2]"), null, "The header is a JSON array" },
        { "entry not an object", Safetensors("""{"w":[0,8]}"""), "w", "The entry is a JSON array" },
        { "unknown dtype", Safetensors("""{"w":{"dtype":"F4","shape":[2],"data_offsets":[0,8]}}""", new byte[8]), "w", "Unknown dtype 'F4'" },
        { "torch spelling", Safetensors("""{"w":{"dtype":"float32","shape":[2],"data_offsets":[0,8]}}""", new byte[8]), "w", "Unknown dtype 'float32'" },
        { "negative dimension", Safetensors("""{"w":{"dtype":"F32","shape":[-2],"data_offsets":[0,8]}}""", new byte[8]), "w", "Element 0 of shape is -2" },
        { "fractional dimension", Safetensors("""{"w":{"dtype":"F32","shape":[2.5],"data_offsets":[0,8]}}""", new byte[8]), "w", "Element 0 of shape is 2.5" },
        { "missing shape", Safetensors("""{"w":{"dtype":"F32","data_offsets":[0,8]}}""", new byte[8]), "w", "The entry has no 'shape'" },
        { "repeated key", Safetensors("""{"w":{"dtype":"F32","dtype":"F32","shape":[2],"data_offsets":[0,8]}}""", new byte[8]), "w", "The key 'dtype' appears twice" },
        { "three offsets", Safetensors("""{"w":{"dtype":"F32","shape":[2],"data_offsets":[0,4,8]}}""", new byte[8]), "w", "data_offsets has 3 elements" },
        { "offsets out of range", Safetensors("""{"w":{"dtype":"F32","shape":[2],"data_offsets":[8,16]}}""", new byte[8]), "w", "data_offsets [8, 16] reach past the end of the data, which has 8 bytes" },
        { "end before begin", Safetensors("""{"w":{"dtype":"F32","shape":[0],"data_offsets":[8,0]}}""", new byte[8]), "w", "data_offsets [8, 0] end before they begin" },
        { "wrong length for shape", Safetensors("""{"w":{"dtype":"F32","shape":[3],"data_offsets":[0,8]}}""", new byte[8]), "w", "hold 8 bytes but dtype F32 and shape [3] need 12 (3 elements × 4 bytes)" },
        { "size overflow", Safetensors("""{"w":{"dtype":"F32","shape":[4611686018427387904,4],"data_offsets":[0,8]}}""", new byte[8]), "w", "describe more than 9223372036854775807 bytes" },
        { "overlap", Safetensors("""{"a":{"dtype":"U8","shape":[6],"data_offsets":[0,6]},"b":{"dtype":"U8","shape":[4],"data_offsets":[4,8]}}""", new byte[8]), "b", "overlap those of tensor 'a' [0, 6]" },
        { "duplicate name", Safetensors("""{"w":{"dtype":"U8","shape":[1],"data_offsets":[0,1]},"w":{"dtype":"U8","shape":[1],"data_offsets":[1,2]}}""", new byte[8]), "w", "The name appears twice" },
        { "metadata not strings", Safetensors("""{"__metadata__":{"k":1}}"""), null, "metadata values must be strings" },
        { "invalid UTF-8", InvalidUtf8(), null, "not valid" },
    };

    private static byte[] InvalidUtf8()
    {
        byte[] file = Safetensors("""{"w?":1}""");
        file[11] = 0xff;
        return file;
    }

    [Theory]
    [MemberData(nameof(Malformed))]
    public void Open_MalformedFile_ThrowsFormatErrorNamingTheProblem(string name, byte[] bytes, string? tensor, string message)
    {
        string path = WriteFile(name.Replace(' ', '-') + ".safetensors", bytes);
        AssertFormatError(() => SafetensorsReader.Open(path).Dispose(), path, tensor, message);
    }

    [Fact]
    public void Open_HeaderLongerThanTheLimit_IsRefused()
    {
        string path = WriteFile("long.safetensors", Safetensors(F32Entry, new byte[8]));
        AssertFormatError(() => SafetensorsReader.Open(path, maxHeaderLength: 16).Dispose(), path, null, "more than the limit of 16");
    }
}
