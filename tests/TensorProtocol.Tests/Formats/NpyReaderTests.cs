using System.Runtime.InteropServices;
using TensorProtocol.Formats;

namespace TensorProtocol.Tests.Formats;

public sealed class NpyReaderTests : FormatTestFiles
{
    private static readonly byte[] s_data = [0, 0, 0x80, 0x3f, 0, 0, 0, 0x40];

    [Fact]
    public void Open_GoldenFile_ReadsTheArray()
    {
        string path = WriteFile("golden.npy", NpyWriterTests.GoldenFile());
        using NpyReader reader = NpyReader.Open(path);
        Assert.Equal(new Version(1, 0), reader.FormatVersion);
        Assert.Same(DType.F32, reader.Tensor.DType);
        Assert.Equal([2L], reader.Tensor.Shape.ToArray());
        Assert.Equal([1f, 2f], reader.Tensor.AsSpan<float>().ToArray());
    }

    [Fact]
    public void Open_Payload_IsAViewOfTheMappingNotAnArray()
    {
        string path = WriteFile("view.npy", NpyWriterTests.GoldenFile());
        NpyReader reader = NpyReader.Open(path);
        ReadOnlyMemory<byte> payload = reader.Tensor.Payload;
        Assert.False(MemoryMarshal.TryGetArray(payload, out _));
        reader.Dispose();
        Assert.Throws<ObjectDisposedException>(() => payload.Span.Length);
    }

    [Theory]
    [InlineData(2)]
    [InlineData(3)]
    public void Open_LaterVersions_AreRead(byte major)
    {
        string path = WriteFile($"v{major}.npy", Npy("{'descr': '<f4', 'fortran_order': False, 'shape': (2,), }", s_data, major));
        using NpyReader reader = NpyReader.Open(path);
        Assert.Equal(new Version(major, 0), reader.FormatVersion);
        Assert.Equal([1f, 2f], reader.Tensor.ToArray<float>());
    }

    [Theory]
    [InlineData("{'shape': (2,), 'fortran_order': False, 'descr': '<f4'}")]
    [InlineData("{\"descr\": \"<f4\", \"fortran_order\": False, \"shape\": (2L,)}")]
    [InlineData("{'descr':'<f4','fortran_order':False,'shape':(2,),}")]
    public void Open_HeaderVariants_AreAccepted(string dict)
    {
        string path = WriteFile("variant.npy", Npy(dict, s_data));
        using NpyReader reader = NpyReader.Open(path);
        Assert.Equal([1f, 2f], reader.Tensor.ToArray<float>());
    }

    [Fact]
    public void Open_ByteSizedBigEndianDescr_IsTheSameAsPipe()
    {
        string path = WriteFile("u1.npy", Npy("{'descr': '>u1', 'fortran_order': False, 'shape': (2, 1), }", [3, 4]));
        using NpyReader reader = NpyReader.Open(path);
        Assert.Same(DType.U8, reader.Tensor.DType);
        Assert.Equal([2L, 1L], reader.Tensor.Shape.ToArray());
    }

    public static TheoryData<string, byte[], string> Malformed => new()
    {
        { "empty", [], "The file is empty" },
        { "bad magic", [.. "\x89PNG\r\n\x1a\n\0\0\0\0"u8], "does not start with the .npy magic" },
        { "unknown version", Version(4), "Unsupported .npy format version 4.0" },
        { "truncated header", NpyWriterTests.GoldenFile()[..40], "the file is truncated" },
        { "fortran order", Npy("{'descr': '<f4', 'fortran_order': True, 'shape': (1, 2), }", s_data), "Fortran (column-major) order" },
        { "big endian", Npy("{'descr': '>f4', 'fortran_order': False, 'shape': (2,), }", s_data), "big-endian (descr '>f4')" },
        { "object", Npy("{'descr': '|O', 'fortran_order': False, 'shape': (1,), }", s_data), "dtype object" },
        { "structured", Npy("{'descr': [('a', '<f4'), ('b', '<f4')], 'fortran_order': False, 'shape': (1,), }", s_data), "structured dtype" },
        { "no byte order", Npy("{'descr': 'i8', 'fortran_order': False, 'shape': (1,), }", s_data), "Unsupported dtype descr 'i8'" },
        { "unknown dtype", Npy("{'descr': '<U3', 'fortran_order': False, 'shape': (1,), }", s_data), "Unsupported dtype descr '<U3'" },
        { "missing key", Npy("{'descr': '<f4', 'shape': (2,), }", s_data), "exactly 'descr', 'fortran_order' and 'shape'" },
        { "extra key", Npy("{'descr': '<f4', 'fortran_order': False, 'shape': (2,), 'x': 1}", s_data), "exactly 'descr'" },
        { "negative dimension", Npy("{'descr': '<f4', 'fortran_order': False, 'shape': (-2,), }", s_data), "Element 0 of 'shape' is -2" },
        { "shape is a list", Npy("{'descr': '<f4', 'fortran_order': False, 'shape': [2], }", s_data), "'shape' is not a tuple" },
        { "code, not a literal", Npy("{'descr': __import__('os').system('x'), 'fortran_order': False, 'shape': (2,), }", s_data), "'__import__' is not a literal" },
        { "unclosed dict", Npy("{'descr': '<f4', 'fortran_order': False, 'shape': (2,)", s_data), "expected ',' or '}'" },
        { "wrong data length", Npy("{'descr': '<f4', 'fortran_order': False, 'shape': (3,), }", s_data), "The data has 8 bytes but dtype F32 and shape [3] need 12 (3 elements × 4 bytes); the file is truncated" },
        { "extra data", Npy("{'descr': '<f4', 'fortran_order': False, 'shape': (1,), }", s_data), "The data has 8 bytes but dtype F32 and shape [1] need 4" },
    };

    [Theory]
    [MemberData(nameof(Malformed))]
    public void Open_MalformedFile_ThrowsFormatErrorNamingTheProblem(string name, byte[] bytes, string message)
    {
        string path = WriteFile(name.Replace(' ', '-') + ".npy", bytes);
        AssertFormatError(() => NpyReader.Open(path).Dispose(), path, null, message);
    }

    private static byte[] Version(byte major)
    {
        byte[] file = NpyWriterTests.GoldenFile();
        file[6] = major;
        return file;
    }
}
