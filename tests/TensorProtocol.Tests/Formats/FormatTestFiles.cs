using System.Buffers;
using System.Buffers.Binary;
using System.Text;
using TensorProtocol.Formats;

namespace TensorProtocol.Tests.Formats;

/// <summary>A temporary directory per test class instance, deleted afterwards, with helpers for tensor files.</summary>
public abstract class FormatTestFiles : IDisposable
{
    protected FormatTestFiles()
    {
        Directory = System.IO.Directory.CreateTempSubdirectory("tp-formats-").FullName;
    }

    protected string Directory { get; }

    public void Dispose()
    {
        System.IO.Directory.Delete(Directory, recursive: true);
        GC.SuppressFinalize(this);
    }

    protected string PathOf(string name) => Path.Combine(Directory, name);

    protected string WriteFile(string name, byte[] bytes)
    {
        string path = PathOf(name);
        File.WriteAllBytes(path, bytes);
        return path;
    }

    /// <summary>A safetensors file from a literal header (padded as the spec pads) and data.</summary>
    internal static byte[] Safetensors(string json, byte[]? data = null, ulong? declaredLength = null)
    {
        byte[] header = Encoding.UTF8.GetBytes(json);
        int padding = (8 - header.Length % 8) % 8;
        var file = new byte[8 + header.Length + padding + (data?.Length ?? 0)];
        BinaryPrimitives.WriteUInt64LittleEndian(file, declaredLength ?? (ulong)(header.Length + padding));
        header.CopyTo(file, 8);
        file.AsSpan(8 + header.Length, padding).Fill((byte)' ');
        data?.CopyTo(file, 8 + header.Length + padding);
        return file;
    }

    /// <summary>A .npy file from a literal dict, padded with spaces and a newline to 64 bytes, and data.</summary>
    internal static byte[] Npy(string dict, byte[] data, byte major = 1)
    {
        int lengthSize = major == 1 ? 2 : 4;
        byte[] text = major == 3 ? Encoding.UTF8.GetBytes(dict) : Encoding.Latin1.GetBytes(dict);
        int total = (8 + lengthSize + text.Length + 1 + 63) / 64 * 64;
        var file = new byte[total + data.Length];
        file[0] = 0x93;
        Encoding.ASCII.GetBytes("NUMPY").CopyTo(file, 1);
        file[6] = major;
        if (major == 1)
        {
            BinaryPrimitives.WriteUInt16LittleEndian(file.AsSpan(8), (ushort)(total - 10));
        }
        else
        {
            BinaryPrimitives.WriteUInt32LittleEndian(file.AsSpan(8), (uint)(total - 12));
        }
        text.CopyTo(file, 8 + lengthSize);
        file.AsSpan(8 + lengthSize + text.Length, total - 8 - lengthSize - text.Length - 1).Fill((byte)' ');
        file[total - 1] = (byte)'\n';
        data.CopyTo(file, total);
        return file;
    }

    /// <summary>A tensor of the given dtype whose bytes are a pattern that differs per dtype (0/1 for BOOL).</summary>
    internal static TensorData Sample(DType dtype, params long[] shape)
    {
        var metadata = new TensorMetadata(dtype, shape);
        var bytes = new byte[metadata.ByteLength];
        for (int i = 0; i < bytes.Length; i++)
        {
            bytes[i] = dtype == DType.BOOL ? (byte)(i % 3 == 0 ? 1 : 0) : (byte)((i * 37) + dtype.Code);
        }
        return new TensorData(metadata, bytes);
    }

    internal static void AssertSameTensor(TensorData expected, TensorData actual)
    {
        Assert.Same(expected.DType, actual.DType);
        Assert.Equal(expected.Shape.ToArray(), actual.Shape.ToArray());
        Assert.True(expected.Payload.Span.SequenceEqual(actual.Payload.Span), $"The payloads of {expected} differ.");
    }

    internal static TensorFileFormatException AssertFormatError(Action read, string path, string? tensorName, string fragment)
    {
        TensorFileFormatException error = Assert.Throws<TensorFileFormatException>(read);
        Assert.Equal(path, error.FilePath);
        Assert.Equal(tensorName, error.TensorName);
        Assert.Contains(fragment, error.Message, StringComparison.Ordinal);
        Assert.StartsWith(path, error.Message, StringComparison.Ordinal);
        return error;
    }

    /// <summary>Memory that throws when read: a payload source failing midway through a write.</summary>
    internal sealed class FailingMemory(int length) : MemoryManager<byte>
    {
        public override Span<byte> GetSpan() => throw new IOException("The payload source failed.");

        public override MemoryHandle Pin(int elementIndex = 0) => throw new IOException("The payload source failed.");

        public override void Unpin()
        {
        }

        public TensorData Tensor() => new(new TensorMetadata(DType.U8, [length]), Memory);

        protected override void Dispose(bool disposing)
        {
        }
    }
}
