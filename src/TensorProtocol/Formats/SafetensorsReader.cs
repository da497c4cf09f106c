using System.Buffers.Binary;
using System.Collections.Frozen;
using System.Diagnostics.CodeAnalysis;
using System.Text.Json;

namespace TensorProtocol.Formats;

/// <summary>
/// Reads a safetensors file by memory-mapping it: every tensor is a <see cref="TensorData"/> whose payload is a view
/// of the mapping, not a copy. The whole header is validated when the file is opened.
/// </summary>
/// <remarks>
/// <para>
/// The reader owns the mapping. Payloads are valid until <see cref="Dispose"/>: afterwards <c>Payload.Span</c>
/// throws <see cref="ObjectDisposedException"/>, and a span obtained before must no longer be used (the pages are
/// unmapped). A payload pinned with <c>Payload.Pin()</c> keeps the mapping alive until it is unpinned. The file is
/// opened with <see cref="FileShare.Read"/>, which on Unix is advisory only: nothing stops another process from
/// truncating or rewriting the file in place (cp over it, torch.save or save_file to the same path), and reading a
/// payload whose pages were cut off then kills the process (SIGBUS). Write new versions to a new file and rename it,
/// or take the tensors out of the file's reach with <see cref="LoadTensors"/>.
/// </para>
/// <para>
/// The safetensors format carries only dtype, shape and bytes per tensor, so the tensors have no per-tensor
/// metadata and do not require gradients; the file-level <c>__metadata__</c> is <see cref="Metadata"/>. Payloads are
/// aligned as the file places them (writers following the reference implementation align the data area to 8 bytes).
/// A tensor up to 2 GiB has its payload in one segment (<see cref="TensorData.Payload"/>); a larger one in 1 GiB
/// segments (<see cref="TensorData.PayloadSequence"/>), still over the mapping.
/// </para>
/// </remarks>
public sealed class SafetensorsReader : IDisposable
{
    /// <summary>The default limit on the JSON header length: 100 MiB, as the reference implementation uses.</summary>
    public const int DefaultMaxHeaderLength = 100 * 1024 * 1024;

    private const string MetadataKey = "__metadata__";

    private readonly MappedFile _file;
    private readonly KeyValuePair<string, TensorData>[] _tensors;
    private readonly long[] _offsets; // where each tensor's bytes start in the file
    private readonly FrozenDictionary<string, TensorData> _byName;

    private SafetensorsReader(string path, MappedFile file, KeyValuePair<string, TensorData>[] tensors, long[] offsets, IReadOnlyDictionary<string, string> metadata)
    {
        Path = path;
        _file = file;
        _tensors = tensors;
        _offsets = offsets;
        _byName = tensors.ToFrozenDictionary(StringComparer.Ordinal);
        Metadata = metadata;
    }

    /// <summary>The path the reader was opened with.</summary>
    public string Path { get; }

    /// <summary>The file's <c>__metadata__</c> string pairs; empty when the file has none.</summary>
    public IReadOnlyDictionary<string, string> Metadata { get; }

    /// <summary>The tensors with their names, in the order of their data in the file.</summary>
    public IReadOnlyList<KeyValuePair<string, TensorData>> Tensors => _tensors;

    /// <summary>The number of tensors.</summary>
    public int Count => _tensors.Length;

    /// <summary>The tensor with the given name; its payload is valid until the reader is disposed.</summary>
    /// <exception cref="KeyNotFoundException">The file has no tensor of that name.</exception>
    public TensorData this[string name] =>
        TryGetTensor(name, out TensorData? tensor)
            ? tensor
            : throw new KeyNotFoundException($"{Path} has no tensor named '{name}'.");

    /// <summary>Opens, maps and validates a safetensors file.</summary>
    /// <param name="path">The file to read.</param>
    /// <param name="maxHeaderLength">The largest JSON header accepted, in bytes; guards against reading a huge
    /// header from a file that is not safetensors at all.</param>
    /// <exception cref="TensorFileFormatException">The file is not a valid safetensors file; the message says why.</exception>
    /// <exception cref="IOException">The file cannot be opened or mapped.</exception>
    public static SafetensorsReader Open(string path, int maxHeaderLength = DefaultMaxHeaderLength)
    {
        ArgumentException.ThrowIfNullOrEmpty(path);
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(maxHeaderLength);
        MappedFile file = MappedFile.Open(path);
        try
        {
            var parser = new HeaderParser(path, file, maxHeaderLength);
            KeyValuePair<string, TensorData>[] tensors = parser.Parse(out long[] offsets, out IReadOnlyDictionary<string, string> metadata);
            return new SafetensorsReader(path, file, tensors, offsets, metadata);
        }
        catch
        {
            file.Dispose();
            throw;
        }
    }

    /// <summary>Looks up a tensor by name.</summary>
    public bool TryGetTensor(string name, [NotNullWhen(true)] out TensorData? tensor)
    {
        ArgumentNullException.ThrowIfNull(name);
        return _byName.TryGetValue(name, out tensor);
    }

    /// <summary>
    /// Reads the tensors' bytes into memory the returned tensors own (each is disposed by the caller), with positioned
    /// reads of the file instead of through the mapping, so that nothing read later depends on the file staying as it
    /// is. In the order of <see cref="Tensors"/>; with <paramref name="names"/>, only those.
    /// </summary>
    /// <exception cref="KeyNotFoundException">A name in <paramref name="names"/> is not in the file.</exception>
    /// <exception cref="IOException">The file changed since it was opened (its length or modification time), or cannot be read.</exception>
    /// <exception cref="OutOfMemoryException">The memory for a payload cannot be had.</exception>
    /// <exception cref="OperationCanceledException"><paramref name="cancellationToken"/> was cancelled (checked between 64 MiB reads).</exception>
    public IReadOnlyList<KeyValuePair<string, TensorData>> LoadTensors(IEnumerable<string>? names = null, CancellationToken cancellationToken = default)
    {
        HashSet<string>? wanted = names is null ? null : new HashSet<string>(names, StringComparer.Ordinal);
        if (wanted?.FirstOrDefault(n => !_byName.ContainsKey(n)) is { } missing)
        {
            throw new KeyNotFoundException($"{Path} has no tensor named '{missing}'.");
        }
        var loaded = new List<KeyValuePair<string, TensorData>>(wanted?.Count ?? _tensors.Length);
        try
        {
            for (int i = 0; i < _tensors.Length; i++)
            {
                (string name, TensorData mapped) = _tensors[i];
                if (wanted is null || wanted.Contains(name))
                {
                    cancellationToken.ThrowIfCancellationRequested();
                    loaded.Add(new(name, _file.LoadTensor(mapped.Metadata, _offsets[i], cancellationToken)));
                }
            }
            // Bytes read before a change that kept the length would otherwise go unnoticed.
            _file.EnsureUnchanged();
            return loaded;
        }
        catch
        {
            loaded.ForEach(t => t.Value.Dispose());
            throw;
        }
    }

    /// <summary>Unmaps the file. Payloads of this reader must not be used afterwards (pinned ones stay valid until unpinned).</summary>
    public void Dispose() => _file.Dispose();

    private readonly record struct Entry(string Name, DType DType, long[] Shape, long Begin, long End);

    private readonly struct HeaderParser(string path, MappedFile file, int maxHeaderLength)
    {
        public KeyValuePair<string, TensorData>[] Parse(out long[] offsets, out IReadOnlyDictionary<string, string> metadata)
        {
            if (file.Length < sizeof(ulong))
            {
                throw Error(null, $"The file has {file.Length} bytes; a safetensors file starts with an 8-byte header length.");
            }
            ulong headerLength = BinaryPrimitives.ReadUInt64LittleEndian(file.ReadBytes(0, sizeof(ulong)));
            if (headerLength > (ulong)maxHeaderLength)
            {
                throw Error(null, $"The header length field says {headerLength} bytes, more than the limit of {maxHeaderLength}; this is not a safetensors file or its header is too large.");
            }
            if (headerLength > (ulong)(file.Length - sizeof(ulong)))
            {
                throw Error(null, $"The header length field says {headerLength} bytes but only {file.Length - sizeof(ulong)} bytes follow it; the file is truncated.");
            }
            long dataStart = sizeof(ulong) + (long)headerLength;
            long dataLength = file.Length - dataStart;
            List<Entry> entries = ReadHeader(file.ReadBytes(sizeof(ulong), (int)headerLength), out metadata);
            return Validate(entries, dataStart, dataLength, out offsets);
        }

        private List<Entry> ReadHeader(ReadOnlySpan<byte> json, out IReadOnlyDictionary<string, string> metadata)
        {
            var entries = new List<Entry>();
            var names = new HashSet<string>(StringComparer.Ordinal);
            Dictionary<string, string>? pairs = null;
            var reader = new Utf8JsonReader(json, new JsonReaderOptions { CommentHandling = JsonCommentHandling.Disallow });
            try
            {
                if (!reader.Read() || reader.TokenType != JsonTokenType.StartObject)
                {
                    throw Error(null, $"The header is a JSON {Describe(reader.TokenType)}, not an object mapping tensor names to their descriptions.");
                }
                while (reader.Read() && reader.TokenType != JsonTokenType.EndObject)
                {
                    string name = reader.GetString()!;
                    if (!names.Add(name))
                    {
                        throw Error(name, "The name appears twice in the header.");
                    }
                    reader.Read();
                    if (name == MetadataKey)
                    {
                        pairs = ReadMetadata(ref reader);
                    }
                    else
                    {
                        entries.Add(ReadEntry(ref reader, name));
                    }
                }
                // Only whitespace may follow the object (writers pad with spaces); anything else throws here.
                while (reader.Read())
                {
                }
            }
            catch (JsonException e)
            {
                throw Error(null, $"The header is not valid JSON: {e.Message}", e);
            }
            catch (InvalidOperationException e)
            {
                throw Error(null, $"The header is not valid UTF-8 JSON: {e.Message}", e);
            }
            metadata = pairs is null ? FrozenDictionary<string, string>.Empty : pairs.ToFrozenDictionary(StringComparer.Ordinal);
            return entries;
        }

        private Dictionary<string, string> ReadMetadata(ref Utf8JsonReader reader)
        {
            if (reader.TokenType != JsonTokenType.StartObject)
            {
                throw Error(null, $"{MetadataKey} is a JSON {Describe(reader.TokenType)}, not an object of strings.");
            }
            var pairs = new Dictionary<string, string>(StringComparer.Ordinal);
            while (reader.Read() && reader.TokenType != JsonTokenType.EndObject)
            {
                string key = reader.GetString()!;
                reader.Read();
                if (reader.TokenType != JsonTokenType.String)
                {
                    throw Error(null, $"The value of {MetadataKey} key '{key}' is a JSON {Describe(reader.TokenType)}; metadata values must be strings.");
                }
                if (!pairs.TryAdd(key, reader.GetString()!))
                {
                    throw Error(null, $"{MetadataKey} key '{key}' appears twice.");
                }
            }
            return pairs;
        }

        private Entry ReadEntry(ref Utf8JsonReader reader, string name)
        {
            if (reader.TokenType != JsonTokenType.StartObject)
            {
                throw Error(name, $"The entry is a JSON {Describe(reader.TokenType)}, not an object with dtype, shape and data_offsets.");
            }
            DType? dtype = null;
            long[]? shape = null;
            long[]? offsets = null;
            while (reader.Read() && reader.TokenType != JsonTokenType.EndObject)
            {
                string key = reader.GetString()!;
                reader.Read();
                switch (key)
                {
                    case "dtype":
                        CheckFirst(dtype is null, name, key);
                        dtype = ReadDType(ref reader, name);
                        break;
                    case "shape":
                        CheckFirst(shape is null, name, key);
                        shape = ReadIntegers(ref reader, name, key, FormatLimits.MaxRank);
                        break;
                    case "data_offsets":
                        CheckFirst(offsets is null, name, key);
                        offsets = ReadIntegers(ref reader, name, key, 2);
                        if (offsets.Length != 2)
                        {
                            throw Error(name, $"data_offsets has {offsets.Length} elements; it must be [begin, end].");
                        }
                        break;
                    default:
                        // The reference implementation ignores members it does not know; so do we.
                        reader.Skip();
                        break;
                }
            }
            if (dtype is null || shape is null || offsets is null)
            {
                string missing = dtype is null ? "dtype" : shape is null ? "shape" : "data_offsets";
                throw Error(name, $"The entry has no '{missing}'; each tensor needs dtype, shape and data_offsets.");
            }
            return new Entry(name, dtype, shape, offsets[0], offsets[1]);
        }

        private void CheckFirst(bool first, string name, string key)
        {
            if (!first)
            {
                throw Error(name, $"The key '{key}' appears twice.");
            }
        }

        private DType ReadDType(ref Utf8JsonReader reader, string name)
        {
            if (reader.TokenType != JsonTokenType.String)
            {
                throw Error(name, $"dtype is a JSON {Describe(reader.TokenType)}, not a string.");
            }
            string text = reader.GetString()!;
            // The format names dtypes exactly as DType does; torch or numpy spellings are not safetensors.
            foreach (DType dtype in DType.All)
            {
                if (dtype.Name == text)
                {
                    return dtype;
                }
            }
            throw Error(name, $"Unknown dtype '{text}'; supported: {string.Join(", ", DType.All.Select(d => d.Name))}.");
        }

        private long[] ReadIntegers(ref Utf8JsonReader reader, string name, string key, int maxCount)
        {
            if (reader.TokenType != JsonTokenType.StartArray)
            {
                throw Error(name, $"{key} is a JSON {Describe(reader.TokenType)}, not an array of integers.");
            }
            var values = new List<long>();
            while (reader.Read() && reader.TokenType != JsonTokenType.EndArray)
            {
                if (reader.TokenType != JsonTokenType.Number || !reader.TryGetInt64(out long value) || value < 0)
                {
                    string text = reader.TokenType == JsonTokenType.Number
                        ? System.Text.Encoding.UTF8.GetString(reader.ValueSpan)
                        : $"a JSON {Describe(reader.TokenType)}";
                    throw Error(name, $"Element {values.Count} of {key} is {text}; it must be an integer from 0 to {long.MaxValue}.");
                }
                if (values.Count == maxCount)
                {
                    throw Error(name, key == "shape"
                        ? $"shape has more than {maxCount} dimensions; at most {maxCount} are supported."
                        : $"{key} has {values.Count + 1} elements or more; it must be [begin, end].");
                }
                values.Add(value);
            }
            return [.. values];
        }

        private KeyValuePair<string, TensorData>[] Validate(List<Entry> entries, long dataStart, long dataLength, out long[] offsets)
        {
            foreach (Entry entry in entries)
            {
                string range = $"data_offsets [{entry.Begin}, {entry.End}]";
                if (entry.End < entry.Begin)
                {
                    throw Error(entry.Name, $"{range} end before they begin.");
                }
                if (entry.End > dataLength)
                {
                    throw Error(entry.Name, $"{range} reach past the end of the data, which has {dataLength} bytes after the header.");
                }
                if (TensorMetadata.TryComputeSize(entry.DType, entry.Shape, out long count, out long byteLength, out _) != TensorMetadata.SizeResult.Valid)
                {
                    throw Error(entry.Name, $"dtype {entry.DType} and shape {TensorMetadata.FormatShape(entry.Shape)} describe more than {long.MaxValue} bytes.");
                }
                if (byteLength != entry.End - entry.Begin)
                {
                    throw Error(entry.Name,
                        $"{range} hold {entry.End - entry.Begin} bytes but dtype {entry.DType} and shape " +
                        $"{TensorMetadata.FormatShape(entry.Shape)} need {byteLength} ({count} elements × {entry.DType.ElementSize} bytes).");
                }
            }
            // Sorted by position, each non-empty tensor must start at or after the furthest end seen so far.
            Entry[] ordered = [.. entries.OrderBy(e => e.Begin).ThenBy(e => e.End)];
            Entry? furthest = null;
            foreach (Entry entry in ordered)
            {
                if (entry.End == entry.Begin)
                {
                    continue;
                }
                if (furthest is { } previous && entry.Begin < previous.End)
                {
                    throw Error(entry.Name,
                        $"data_offsets [{entry.Begin}, {entry.End}] overlap those of tensor '{previous.Name}' [{previous.Begin}, {previous.End}].");
                }
                if (furthest is null || entry.End > furthest.Value.End)
                {
                    furthest = entry;
                }
            }
            var tensors = new KeyValuePair<string, TensorData>[ordered.Length];
            offsets = new long[ordered.Length];
            for (int i = 0; i < ordered.Length; i++)
            {
                Entry entry = ordered[i];
                offsets[i] = dataStart + entry.Begin;
                tensors[i] = new(entry.Name, file.Tensor(new TensorMetadata(entry.DType, entry.Shape), offsets[i]));
            }
            return tensors;
        }

        private TensorFileFormatException Error(string? tensorName, string problem, Exception? inner = null) =>
            new(path, tensorName, problem, inner);

        private static string Describe(JsonTokenType token) => token switch
        {
            JsonTokenType.StartObject => "object",
            JsonTokenType.StartArray => "array",
            JsonTokenType.String => "string",
            JsonTokenType.Number => "number",
            JsonTokenType.True or JsonTokenType.False => "boolean",
            JsonTokenType.Null => "null",
            JsonTokenType.None => "empty document",
            _ => token.ToString(),
        };
    }
}
