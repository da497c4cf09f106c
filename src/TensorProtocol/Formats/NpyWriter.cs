using System.Buffers.Binary;
using System.Text;

namespace TensorProtocol.Formats;

/// <summary>
/// Writes a tensor as a .npy file: format version 1.0 (2.0 when the header would not fit a 16-bit length), C order,
/// little-endian, with the data aligned to 64 bytes as numpy writes it. The payload is written straight from its
/// memory, segment by segment, at any size.
/// </summary>
/// <remarks>
/// numpy has no dtype for <see cref="DType.BF16"/>, <see cref="DType.F8_E4M3"/> or <see cref="DType.F8_E5M2"/>; such
/// tensors are refused (safetensors holds them). Only dtype, shape and payload are stored.
/// </remarks>
public static class NpyWriter
{
    /// <summary>
    /// Whether a .npy file can hold tensors of <paramref name="dtype"/>: numpy has no bfloat16 or 8-bit floats, so a
    /// tensor of those needs safetensors.
    /// </summary>
    public static bool Supports(DType dtype) => NpyHeader.Descr(dtype) is not null;

    /// <summary>Writes the tensor to a stream, from its current position.</summary>
    /// <exception cref="ArgumentException">numpy has no dtype for the tensor's element type.</exception>
    public static void Write(Stream destination, TensorData tensor)
    {
        ArgumentNullException.ThrowIfNull(destination);
        byte[] header = BuildHeader(tensor);
        destination.Write(header);
        PayloadStreamWriter.Write(destination, tensor);
    }

    /// <summary>
    /// Writes the tensor to a file atomically: the file is replaced only once everything is written and flushed; on
    /// failure no partial file is left behind and an existing file is unchanged.
    /// </summary>
    /// <exception cref="ArgumentException">numpy has no dtype for the tensor's element type.</exception>
    public static void Write(string path, TensorData tensor)
    {
        ArgumentException.ThrowIfNullOrEmpty(path);
        byte[] header = BuildHeader(tensor);
        AtomicFile.Write(path, stream =>
        {
            stream.Write(header);
            PayloadStreamWriter.Write(stream, tensor);
        });
    }

    /// <summary>Writes the tensor to a stream asynchronously, from its current position.</summary>
    /// <exception cref="ArgumentException">numpy has no dtype for the tensor's element type.</exception>
    public static async ValueTask WriteAsync(Stream destination, TensorData tensor, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(destination);
        byte[] header = BuildHeader(tensor);
        await destination.WriteAsync(header, cancellationToken).ConfigureAwait(false);
        await PayloadStreamWriter.WriteAsync(destination, tensor, cancellationToken).ConfigureAwait(false);
    }

    /// <summary>Writes the tensor to a file atomically and asynchronously (see the synchronous overload).</summary>
    /// <exception cref="ArgumentException">numpy has no dtype for the tensor's element type.</exception>
    public static async ValueTask WriteAsync(string path, TensorData tensor, CancellationToken cancellationToken = default)
    {
        ArgumentException.ThrowIfNullOrEmpty(path);
        byte[] header = BuildHeader(tensor);
        await AtomicFile.WriteAsync(path, async (stream, token) =>
        {
            await stream.WriteAsync(header, token).ConfigureAwait(false);
            await PayloadStreamWriter.WriteAsync(stream, tensor, token).ConfigureAwait(false);
        }, cancellationToken).ConfigureAwait(false);
    }

    private static byte[] BuildHeader(TensorData tensor)
    {
        ArgumentNullException.ThrowIfNull(tensor);
        string descr = NpyHeader.Descr(tensor.DType)
            ?? throw new ArgumentException($"numpy has no dtype for {tensor.DType}, so a .npy file cannot hold this tensor; use safetensors.", nameof(tensor));
        string dict = NpyHeader.Format(descr, tensor.Shape.AsSpan());
        // Magic, version, length field, dict, spaces, newline: padded so that the data starts at a multiple of 64.
        int lengthSize = sizeof(ushort);
        int total = Align(8 + lengthSize + dict.Length + 1);
        if (total - 8 - lengthSize > ushort.MaxValue)
        {
            lengthSize = sizeof(uint);
            total = Align(8 + lengthSize + dict.Length + 1);
        }
        var header = new byte[total];
        NpyHeader.Magic.CopyTo(header, 0);
        header[6] = lengthSize == sizeof(ushort) ? (byte)1 : (byte)2;
        header[7] = 0;
        int headerLength = total - 8 - lengthSize;
        if (lengthSize == sizeof(ushort))
        {
            BinaryPrimitives.WriteUInt16LittleEndian(header.AsSpan(8), (ushort)headerLength);
        }
        else
        {
            BinaryPrimitives.WriteUInt32LittleEndian(header.AsSpan(8), (uint)headerLength);
        }
        int written = Encoding.ASCII.GetBytes(dict, header.AsSpan(8 + lengthSize));
        header.AsSpan(8 + lengthSize + written).Fill((byte)' ');
        header[^1] = (byte)'\n';
        return header;
    }

    private static int Align(int length) => (length + NpyHeader.Alignment - 1) / NpyHeader.Alignment * NpyHeader.Alignment;
}
