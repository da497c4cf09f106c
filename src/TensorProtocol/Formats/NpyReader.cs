using System.Buffers.Binary;
using System.Text;

namespace TensorProtocol.Formats;

/// <summary>
/// Reads a .npy file (format versions 1.0, 2.0 and 3.0) by memory-mapping it: <see cref="Tensor"/>'s payload is a
/// view of the mapping, not a copy. Supports C-order arrays of little-endian or byte-sized numeric and boolean
/// dtypes; Fortran order, big-endian data, object and structured dtypes are refused with a clear message.
/// </summary>
/// <remarks>
/// The reader owns the mapping; the payload is valid until <see cref="Dispose"/>, with the same rules as
/// <see cref="SafetensorsReader"/>. The header is parsed as a Python literal by a small strict parser, never
/// evaluated. numpy aligns the data to 64 bytes, so the payload can be read in place with
/// <see cref="TensorData.AsSpan{T}"/>. An array above 2 GiB is read too, as 1 GiB segments over the mapping
/// (<see cref="TensorData.PayloadSequence"/>).
/// </remarks>
public sealed class NpyReader : IDisposable
{
    /// <summary>The largest header accepted, in bytes: far more than any real array's dict needs.</summary>
    public const int MaxHeaderLength = 1024 * 1024;

    private readonly MappedFile _file;
    private readonly long _dataOffset;

    private NpyReader(string path, MappedFile file, Version version, TensorData tensor, long dataOffset)
    {
        Path = path;
        _file = file;
        _dataOffset = dataOffset;
        FormatVersion = version;
        Tensor = tensor;
    }

    /// <summary>The path the reader was opened with.</summary>
    public string Path { get; }

    /// <summary>The .npy format version of the file: 1.0, 2.0 or 3.0.</summary>
    public Version FormatVersion { get; }

    /// <summary>The array; its payload is valid until the reader is disposed.</summary>
    public TensorData Tensor { get; }

    /// <summary>Opens, maps and validates a .npy file.</summary>
    /// <exception cref="TensorFileFormatException">The file is not a valid .npy file or holds an unsupported array; the message says why.</exception>
    /// <exception cref="IOException">The file cannot be opened or mapped.</exception>
    public static NpyReader Open(string path)
    {
        ArgumentException.ThrowIfNullOrEmpty(path);
        MappedFile file = MappedFile.Open(path);
        try
        {
            (Version version, TensorData tensor, long dataOffset) = Parse(path, file);
            return new NpyReader(path, file, version, tensor, dataOffset);
        }
        catch
        {
            file.Dispose();
            throw;
        }
    }

    /// <summary>
    /// Reads the array's bytes into memory the returned tensor owns (the caller disposes it), with positioned reads of
    /// the file instead of through the mapping, so that nothing read later depends on the file staying as it is.
    /// </summary>
    /// <exception cref="IOException">The file changed since it was opened (its length or modification time), or cannot be read.</exception>
    /// <exception cref="OutOfMemoryException">The memory for the payload cannot be had.</exception>
    /// <exception cref="OperationCanceledException"><paramref name="cancellationToken"/> was cancelled (checked between 64 MiB reads).</exception>
    public TensorData LoadTensor(CancellationToken cancellationToken = default)
    {
        TensorData loaded = _file.LoadTensor(Tensor.Metadata, _dataOffset, cancellationToken);
        try
        {
            _file.EnsureUnchanged();
            return loaded;
        }
        catch
        {
            loaded.Dispose();
            throw;
        }
    }

    /// <summary>Unmaps the file. The payload must not be used afterwards (a pinned one stays valid until unpinned).</summary>
    public void Dispose() => _file.Dispose();

    private static (Version Version, TensorData Tensor, long DataOffset) Parse(string path, MappedFile file)
    {
        const int MagicAndVersion = 8;
        if (file.Length < MagicAndVersion + sizeof(ushort))
        {
            throw Error(path, $"The file has {file.Length} bytes, too few for a .npy header.");
        }
        ReadOnlySpan<byte> start = file.ReadBytes(0, MagicAndVersion);
        if (!start.StartsWith(NpyHeader.Magic))
        {
            throw Error(path, $"The file does not start with the .npy magic \\x93NUMPY (it starts with {Convert.ToHexStringLower(start[..6])}).");
        }
        byte major = start[6];
        byte minor = start[7];
        if (major is < 1 or > 3 || minor != 0)
        {
            throw Error(path, $"Unsupported .npy format version {major}.{minor}; versions 1.0, 2.0 and 3.0 are supported.");
        }
        int lengthSize = major == 1 ? sizeof(ushort) : sizeof(uint);
        if (file.Length < MagicAndVersion + lengthSize)
        {
            throw Error(path, $"The file has {file.Length} bytes, too few for a version {major}.0 header.");
        }
        ReadOnlySpan<byte> lengthField = file.ReadBytes(MagicAndVersion, lengthSize);
        uint headerLength = major == 1 ? BinaryPrimitives.ReadUInt16LittleEndian(lengthField) : BinaryPrimitives.ReadUInt32LittleEndian(lengthField);
        long headerStart = MagicAndVersion + lengthSize;
        if (headerLength > MaxHeaderLength)
        {
            throw Error(path, $"The header length field says {headerLength} bytes, more than the limit of {MaxHeaderLength}.");
        }
        if (headerLength > file.Length - headerStart)
        {
            throw Error(path, $"The header length field says {headerLength} bytes but only {file.Length - headerStart} bytes follow it; the file is truncated.");
        }
        ReadOnlySpan<byte> headerBytes = file.ReadBytes(headerStart, (int)headerLength);
        string header;
        try
        {
            // Versions 1 and 2 store the header as latin-1, version 3 as UTF-8.
            header = major == 3 ? new UTF8Encoding(false, throwOnInvalidBytes: true).GetString(headerBytes) : Encoding.Latin1.GetString(headerBytes);
        }
        catch (DecoderFallbackException e)
        {
            throw Error(path, "The version 3.0 header is not valid UTF-8.", e);
        }
        Dictionary<string, object?> dict;
        try
        {
            dict = NpyHeader.ParseDict(header);
        }
        catch (FormatException e)
        {
            throw Error(path, e.Message, e);
        }
        (DType dtype, long[] shape) = Interpret(path, dict);
        long dataStart = headerStart + headerLength;
        long dataLength = file.Length - dataStart;
        if (TensorMetadata.TryComputeSize(dtype, shape, out long count, out long byteLength, out _) != TensorMetadata.SizeResult.Valid)
        {
            throw Error(path, $"dtype {dtype} and shape {TensorMetadata.FormatShape(shape)} describe more than {long.MaxValue} bytes.");
        }
        if (dataLength != byteLength)
        {
            throw Error(path,
                $"The data has {dataLength} bytes but dtype {dtype} and shape {TensorMetadata.FormatShape(shape)} need {byteLength} " +
                $"({count} elements × {dtype.ElementSize} bytes){(dataLength < byteLength ? "; the file is truncated" : "")}.");
        }
        TensorData tensor = file.Tensor(new TensorMetadata(dtype, shape), dataStart);
        return (new Version(major, minor), tensor, dataStart);
    }

    private static (DType DType, long[] Shape) Interpret(string path, Dictionary<string, object?> dict)
    {
        string[] expected = ["descr", "fortran_order", "shape"];
        if (dict.Count != expected.Length || !expected.All(dict.ContainsKey))
        {
            throw Error(path, $"The header has the keys {string.Join(", ", dict.Keys.Order(StringComparer.Ordinal).Select(k => $"'{k}'"))}; " +
                "a .npy header has exactly 'descr', 'fortran_order' and 'shape'.");
        }
        if (dict["fortran_order"] is not bool fortranOrder)
        {
            throw Error(path, "'fortran_order' is not True or False.");
        }
        DType dtype = ParseDescr(path, dict["descr"]);
        if (dict["shape"] is not NpyHeader.Tuple { Items: var items })
        {
            throw Error(path, "'shape' is not a tuple.");
        }
        var shape = new long[items.Count];
        for (int i = 0; i < shape.Length; i++)
        {
            if (items[i] is not long dimension || dimension < 0)
            {
                throw Error(path, $"Element {i} of 'shape' is {items[i] ?? "None"}; dimensions must be integers of 0 or more.");
            }
            shape[i] = dimension;
        }
        if (fortranOrder)
        {
            throw Error(path, "The array is stored in Fortran (column-major) order; only C order is supported. Save np.ascontiguousarray(a) instead.");
        }
        return (dtype, shape);
    }

    private static DType ParseDescr(string path, object? descr)
    {
        if (descr is List<object?> or NpyHeader.Tuple)
        {
            throw Error(path, "The array has a structured dtype (descr is a list of fields); only plain numeric and boolean dtypes are supported.");
        }
        if (descr is not string text)
        {
            throw Error(path, "'descr' is not a string.");
        }
        if (text.Length >= 2 && text[1] == 'O')
        {
            throw Error(path, $"The array has dtype object (descr '{text}'): it holds pickled Python objects, not tensor data.");
        }
        if (text.Length >= 2 && text[0] is '>' or '!' && DType.TryParse("<" + text[1..], out DType? swapped) && swapped.ElementSize > 1)
        {
            throw Error(path, $"The data is big-endian (descr '{text}'); only little-endian is supported. Convert it with a.astype('<{text[1..]}').");
        }
        // Only explicit type strings: without a byte-order mark DType.Parse would read "i8" as I8, not int64.
        if (text.Length < 2 || text[0] is not ('<' or '|' or '>' or '=') || !DType.TryParse(text, out DType? dtype))
        {
            throw Error(path, $"Unsupported dtype descr '{text}'; supported are little-endian or byte-sized bool, int, uint, float and complex types such as '<f4', '|u1', '<c16'.");
        }
        return dtype;
    }

    private static TensorFileFormatException Error(string path, string problem, Exception? inner = null) => new(path, null, problem, inner);
}
