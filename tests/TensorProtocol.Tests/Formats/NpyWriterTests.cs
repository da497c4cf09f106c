using System.Text;
using TensorProtocol.Formats;

namespace TensorProtocol.Tests.Formats;

public sealed class NpyWriterTests : FormatTestFiles
{
    private const string GoldenDict = "{'descr': '<f4', 'fortran_order': False, 'shape': (2,), }";

    /// <summary>
    /// F32 [1, 2] as a version 1.0 file, by hand from the format description: magic and version (8 bytes), header
    /// length 0x76 = 118, the 57-character dict, 60 spaces and a newline (10 + 118 = 128, a multiple of 64), data.
    /// </summary>
    internal static byte[] GoldenFile() =>
        [.. Hex.Parse("934e554d5059 01 00 7600"), .. Encoding.ASCII.GetBytes(GoldenDict), .. Enumerable.Repeat((byte)' ', 60),
         (byte)'\n', .. Hex.Parse("0000803f 00000040")];

    public static TheoryData<string> NumpyDTypes => [.. DType.All.Where(d => NpyHeader.Descr(d) is not null).Select(d => d.Name)];

    [Fact]
    public void Write_TinyArray_ProducesTheGoldenBytes()
    {
        using var stream = new MemoryStream();
        NpyWriter.Write(stream, TensorData.FromArray([1f, 2f]));
        Assert.Equal(Hex.Format(GoldenFile()), Hex.Format(stream.ToArray()));
    }

    [Theory]
    [MemberData(nameof(NumpyDTypes))]
    public void Write_EveryNumpyDType_RoundTrips(string name)
    {
        DType dtype = DType.Parse(name);
        foreach (long[] shape in new[] { new long[] { 2, 3 }, [], [0, 4], [5] })
        {
            TensorData tensor = Sample(dtype, shape);
            string path = PathOf($"{name}-{shape.Length}.npy");
            NpyWriter.Write(path, tensor);
            Assert.Equal(0, (new FileInfo(path).Length - tensor.Payload.Length) % 64);
            using NpyReader reader = NpyReader.Open(path);
            Assert.Equal(new Version(1, 0), reader.FormatVersion);
            AssertSameTensor(tensor, reader.Tensor);
        }
    }

    [Fact]
    public void Write_HugeHeader_UsesVersion2()
    {
        long[] shape = [.. Enumerable.Repeat(1L, 25_000)];
        TensorData tensor = Sample(DType.I16, shape);
        string path = PathOf("v2.npy");
        NpyWriter.Write(path, tensor);
        using NpyReader reader = NpyReader.Open(path);
        Assert.Equal(new Version(2, 0), reader.FormatVersion);
        AssertSameTensor(tensor, reader.Tensor);
    }

    [Fact]
    public async Task WriteAsync_ToPath_RoundTrips()
    {
        TensorData tensor = Sample(DType.C64, 3, 2);
        string path = PathOf("async.npy");
        await NpyWriter.WriteAsync(path, tensor);
        using NpyReader reader = NpyReader.Open(path);
        AssertSameTensor(tensor, reader.Tensor);
    }

    [Theory]
    [InlineData("BF16")]
    [InlineData("F8_E4M3")]
    [InlineData("F8_E5M2")]
    public void Write_DTypeNumpyLacks_IsRefused(string name)
    {
        string path = PathOf("none.npy");
        ArgumentException error = Assert.Throws<ArgumentException>(() => NpyWriter.Write(path, Sample(DType.Parse(name), 2)));
        Assert.Contains($"numpy has no dtype for {name}", error.Message, StringComparison.Ordinal);
        Assert.False(File.Exists(path));
    }

    [Fact]
    public void Write_PayloadFails_LeavesNoFileBehind()
    {
        string path = PathOf("partial.npy");
        Assert.Throws<IOException>(() => NpyWriter.Write(path, new FailingMemory(8).Tensor()));
        Assert.Empty(System.IO.Directory.EnumerateFileSystemEntries(Directory));
    }
}
