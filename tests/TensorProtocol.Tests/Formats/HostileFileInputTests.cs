using System.Buffers.Binary;
using System.Text;
using TensorProtocol.Formats;

namespace TensorProtocol.Tests.Formats;

/// <summary>Hostile safetensors and .npy files: each must give a TensorFileFormatException, never a crash or a huge allocation.</summary>
public sealed class HostileFileInputTests : FormatTestFiles
{
    private static string Nested(int depth, string open, string close) =>
        string.Concat(Enumerable.Repeat(open, depth)) + string.Concat(Enumerable.Repeat(close, depth));

    // The .npy header parser recurses once per nesting level, so nesting is limited: a 64 KiB version 1.0 header of
    // '(' or '[' would overflow the stack and kill the process (the CLI test covers that case); a depth of 200, which
    // would not crash, shows that the limit is there.
    [Theory]
    [InlineData("descr", "[", "]")]
    [InlineData("shape", "(", ")")]
    [InlineData("descr", "{'a': ", "}")]
    public void Npy_DeeplyNestedHeaderValue_IsRefusedAsTooDeep(string key, string open, string close)
    {
        string descr = key == "descr" ? Nested(200, open, close) : "'<f4'";
        string shape = key == "shape" ? Nested(200, open, close) : "(1,)";
        string path = WriteFile("deep.npy", Npy($"{{'descr': {descr}, 'fortran_order': False, 'shape': {shape}, }}", new byte[4]));
        AssertFormatError(() => NpyReader.Open(path).Dispose(), path, null, "nested too deeply");
    }

    // The number of dimensions in a safetensors header is limited (64, as numpy; the wire protocol stops at 32):
    // otherwise a 100 MiB header of "1,1,1,..." is a 52-million-dimension shape that takes ~1.8 GB of memory (measured:
    // List<long>, its array and TensorMetadata's copy, ~18x the header) and cannot be sent anyway. (.npy headers are
    // capped at 1 MiB, so there a large rank costs little.)
    [Fact]
    public void Safetensors_RankAboveLimit_IsRefused()
    {
        string shape = string.Join(',', Enumerable.Repeat("1", 65));
        string path = WriteFile("rank.safetensors", Safetensors($$$"""{"w":{"dtype":"U8","shape":[{{{shape}}}],"data_offsets":[0,1]}}""", [5]));
        AssertFormatError(() => SafetensorsReader.Open(path).Dispose(), path, "w", "dimensions; at most");
    }

    // --- Checked and correct: every one of these gives a typed error.
    public static TheoryData<string, byte[]> HostileSafetensors => new()
    {
        { "zero header length", Safetensors("", new byte[8]) },
        { "header length 2^64-1", Safetensors("{}", declaredLength: ulong.MaxValue) },
        { "deep nesting in unknown member", Safetensors($$$"""{"w":{"dtype":"U8","shape":[1],"data_offsets":[0,1],"x":{{{Nested(10_000, "[", "]")}}}}}""", [1]) },
        { "deep nesting in metadata", Safetensors($$$"""{"__metadata__":{"k":{{{Nested(10_000, "[", "]")}}}}}""") },
        { "lone surrogate in name", Safetensors("""{"\ud800":{"dtype":"U8","shape":[1],"data_offsets":[0,1]}}""", [1]) },
        { "offset above long", Safetensors("""{"w":{"dtype":"U8","shape":[1],"data_offsets":[0,18446744073709551615]}}""", [1]) },
        { "offset end past data", Safetensors("""{"w":{"dtype":"U8","shape":[0],"data_offsets":[2,2]}}""", [1]) },
        { "nested overlap", Safetensors("""{"a":{"dtype":"U8","shape":[8],"data_offsets":[0,8]},"b":{"dtype":"U8","shape":[2],"data_offsets":[2,4]}}""", new byte[8]) },
        { "duplicate metadata", Safetensors("""{"__metadata__":{},"__metadata__":{}}""") },
        { "duplicate via escape", Safetensors("""{"w":{"dtype":"U8","shape":[1],"data_offsets":[0,1]},"\u0077":{"dtype":"U8","shape":[1],"data_offsets":[1,2]}}""", [1, 2]) },
        { "NUL padding", [.. Safetensors("""{"w":{"dtype":"U8","shape":[1],"data_offsets":[0,1]}}""", [1]).Select(b => b == (byte)' ' ? (byte)0 : b)] },
        { "product overflow", Safetensors("""{"w":{"dtype":"F64","shape":[4294967296,4294967296],"data_offsets":[0,8]}}""", new byte[8]) },
        { "elements overflow bytes", Safetensors("""{"w":{"dtype":"F64","shape":[2305843009213693952],"data_offsets":[0,8]}}""", new byte[8]) },
    };

    [Theory]
    [MemberData(nameof(HostileSafetensors))]
    public void Safetensors_HostileFile_ThrowsTypedError(string name, byte[] bytes)
    {
        string path = WriteFile(name.Replace(' ', '-') + ".safetensors", bytes);
        Assert.Throws<TensorFileFormatException>(() => SafetensorsReader.Open(path).Dispose());
    }

    public static TheoryData<string, byte[]> HostileNpy => new()
    {
        { "v2 length 2^32-1", LengthField(2, uint.MaxValue) },
        { "v1 length past file", LengthField(1, 60000) },
        { "huge dimension", Npy("{'descr': '<f4', 'fortran_order': False, 'shape': (99999999999999999999,), }", new byte[4]) },
        { "min long", Npy("{'descr': '<f4', 'fortran_order': False, 'shape': (-9223372036854775808,), }", new byte[4]) },
        { "size overflow", Npy("{'descr': '<f8', 'fortran_order': False, 'shape': (4294967296, 4294967296), }", new byte[8]) },
        { "bool dimension", Npy("{'descr': '<f4', 'fortran_order': False, 'shape': (True,), }", new byte[4]) },
        { "fortran int", Npy("{'descr': '<f4', 'fortran_order': 0, 'shape': (1,), }", new byte[4]) },
        { "lone minus", Npy("{'descr': '<f4', 'fortran_order': False, 'shape': (-,), }", new byte[4]) },
        { "plus sign", Npy("{'descr': '<f4', 'fortran_order': False, 'shape': (+1,), }", new byte[4]) },
        { "datetime", Npy("{'descr': '<M8[ns]', 'fortran_order': False, 'shape': (1,), }", new byte[8]) },
        { "void", Npy("{'descr': '|V4', 'fortran_order': False, 'shape': (1,), }", new byte[4]) },
        { "NUL in header", Npy("{'descr': '<f4',\0 'fortran_order': False, 'shape': (1,), }", new byte[4]) },
        { "v3 bad utf8", BadUtf8V3() },
    };

    [Theory]
    [MemberData(nameof(HostileNpy))]
    public void Npy_HostileFile_ThrowsTypedError(string name, byte[] bytes)
    {
        string path = WriteFile(name.Replace(' ', '-') + ".npy", bytes);
        Assert.Throws<TensorFileFormatException>(() => NpyReader.Open(path).Dispose());
    }

    private static byte[] LengthField(byte major, uint length)
    {
        byte[] file = Npy("{'descr': '<f4', 'fortran_order': False, 'shape': (1,), }", new byte[4], major);
        if (major == 1)
        {
            BinaryPrimitives.WriteUInt16LittleEndian(file.AsSpan(8), (ushort)length);
        }
        else
        {
            BinaryPrimitives.WriteUInt32LittleEndian(file.AsSpan(8), length);
        }
        return file;
    }

    private static byte[] BadUtf8V3()
    {
        byte[] file = Npy("{'descr': '<f4', 'fortran_order': False, 'shape': (1,), }", new byte[4], 3);
        file[14] = 0xff;
        return file;
    }
}
