using System.Buffers;
using System.Buffers.Binary;
using System.Text.Encodings.Web;
using System.Text.Json;

namespace TensorProtocol.Formats;

/// <summary>
/// Writes tensors in the safetensors format: an 8-byte little-endian header length, a JSON header padded with spaces
/// so that the data starts at a multiple of 8 bytes, then the payloads, as the reference implementation lays them
/// out. Payloads (of any size, in any number of segments) are written one after the other straight from their
/// memory, never gathered into one buffer.
/// </summary>
/// <remarks>
/// Tensors are stored largest element size first, then by name (ordinal), so that every payload is aligned to its
/// element size within the file. Only dtype, shape and payload are stored: safetensors has no place for a tensor's
/// <see cref="TensorMetadata.RequiresGrad"/> or <see cref="TensorMetadata.Metadata"/>, which are dropped; the file
/// has one <c>__metadata__</c> map, given separately.
/// </remarks>
public static class SafetensorsWriter
{
    private const string MetadataKey = "__metadata__";

    private static readonly JsonWriterOptions s_jsonOptions = new() { Encoder = JavaScriptEncoder.UnsafeRelaxedJsonEscaping };

    /// <summary>Writes the tensors and metadata to a stream, from its current position.</summary>
    /// <exception cref="ArgumentException">A name is empty, reserved (<c>__metadata__</c>) or repeated, or a tensor or metadata value is null.</exception>
    public static void Write(Stream destination, IEnumerable<KeyValuePair<string, TensorData>> tensors, IReadOnlyDictionary<string, string>? metadata = null)
    {
        ArgumentNullException.ThrowIfNull(destination);
        Prepared prepared = Prepare(tensors, metadata);
        WriteCore(destination, prepared);
    }

    /// <summary>
    /// Writes the tensors and metadata to a file atomically: the file is replaced only once everything is written
    /// and flushed; on failure no partial file is left behind and an existing file is unchanged.
    /// </summary>
    /// <exception cref="ArgumentException">As for <see cref="Write(Stream, IEnumerable{KeyValuePair{string, TensorData}}, IReadOnlyDictionary{string, string}?)"/>.</exception>
    public static void Write(string path, IEnumerable<KeyValuePair<string, TensorData>> tensors, IReadOnlyDictionary<string, string>? metadata = null)
    {
        ArgumentException.ThrowIfNullOrEmpty(path);
        Prepared prepared = Prepare(tensors, metadata);
        AtomicFile.Write(path, stream => WriteCore(stream, prepared));
    }

    /// <summary>Writes the tensors and metadata to a stream asynchronously, from its current position.</summary>
    /// <exception cref="ArgumentException">As for the synchronous overload.</exception>
    public static async ValueTask WriteAsync(Stream destination, IEnumerable<KeyValuePair<string, TensorData>> tensors, IReadOnlyDictionary<string, string>? metadata = null, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(destination);
        Prepared prepared = Prepare(tensors, metadata);
        await WriteCoreAsync(destination, prepared, cancellationToken).ConfigureAwait(false);
    }

    /// <summary>Writes the tensors and metadata to a file atomically and asynchronously (see the synchronous overload).</summary>
    /// <exception cref="ArgumentException">As for the synchronous overload.</exception>
    public static async ValueTask WriteAsync(string path, IEnumerable<KeyValuePair<string, TensorData>> tensors, IReadOnlyDictionary<string, string>? metadata = null, CancellationToken cancellationToken = default)
    {
        ArgumentException.ThrowIfNullOrEmpty(path);
        Prepared prepared = Prepare(tensors, metadata);
        await AtomicFile.WriteAsync(path, (stream, token) => WriteCoreAsync(stream, prepared, token), cancellationToken).ConfigureAwait(false);
    }

    private sealed record Prepared(byte[] Header, KeyValuePair<string, TensorData>[] Tensors);

    private static void WriteCore(Stream destination, Prepared prepared)
    {
        destination.Write(prepared.Header);
        foreach ((_, TensorData tensor) in prepared.Tensors)
        {
            PayloadStreamWriter.Write(destination, tensor);
        }
    }

    private static async ValueTask WriteCoreAsync(Stream destination, Prepared prepared, CancellationToken cancellationToken)
    {
        await destination.WriteAsync(prepared.Header, cancellationToken).ConfigureAwait(false);
        foreach ((_, TensorData tensor) in prepared.Tensors)
        {
            await PayloadStreamWriter.WriteAsync(destination, tensor, cancellationToken).ConfigureAwait(false);
        }
    }

    private static Prepared Prepare(IEnumerable<KeyValuePair<string, TensorData>> tensors, IReadOnlyDictionary<string, string>? metadata)
    {
        ArgumentNullException.ThrowIfNull(tensors);
        var names = new HashSet<string>(StringComparer.Ordinal);
        var list = new List<KeyValuePair<string, TensorData>>();
        foreach ((string name, TensorData tensor) in tensors)
        {
            if (string.IsNullOrEmpty(name))
            {
                throw new ArgumentException("A tensor name is null or empty.", nameof(tensors));
            }
            if (name == MetadataKey)
            {
                throw new ArgumentException($"'{MetadataKey}' is reserved for the file metadata and cannot name a tensor.", nameof(tensors));
            }
            if (tensor is null)
            {
                throw new ArgumentException($"The tensor '{name}' is null.", nameof(tensors));
            }
            if (!names.Add(name))
            {
                throw new ArgumentException($"The tensor name '{name}' appears twice.", nameof(tensors));
            }
            list.Add(new(name, tensor));
        }
        KeyValuePair<string, TensorData>[] ordered =
            [.. list.OrderByDescending(t => t.Value.DType.ElementSize).ThenBy(t => t.Key, StringComparer.Ordinal)];
        return new Prepared(BuildHeader(ordered, metadata), ordered);
    }

    private static byte[] BuildHeader(KeyValuePair<string, TensorData>[] tensors, IReadOnlyDictionary<string, string>? metadata)
    {
        var json = new ArrayBufferWriter<byte>();
        using (var writer = new Utf8JsonWriter(json, s_jsonOptions))
        {
            writer.WriteStartObject();
            if (metadata is { Count: > 0 })
            {
                writer.WriteStartObject(MetadataKey);
                foreach ((string key, string value) in metadata.OrderBy(p => p.Key, StringComparer.Ordinal))
                {
                    if (value is null)
                    {
                        throw new ArgumentException($"The value of metadata key '{key}' is null.", nameof(metadata));
                    }
                    writer.WriteString(key, value);
                }
                writer.WriteEndObject();
            }
            long offset = 0;
            foreach ((string name, TensorData tensor) in tensors)
            {
                writer.WriteStartObject(name);
                writer.WriteString("dtype", tensor.DType.Name);
                writer.WriteStartArray("shape");
                foreach (long dimension in tensor.Shape)
                {
                    writer.WriteNumberValue(dimension);
                }
                writer.WriteEndArray();
                writer.WriteStartArray("data_offsets");
                writer.WriteNumberValue(offset);
                offset += tensor.ByteLength;
                writer.WriteNumberValue(offset);
                writer.WriteEndArray();
                writer.WriteEndObject();
            }
            writer.WriteEndObject();
        }
        // Spaces after the JSON make the data start at a multiple of 8, as the reference implementation pads.
        int padding = (8 - json.WrittenCount % 8) % 8;
        var header = new byte[sizeof(ulong) + json.WrittenCount + padding];
        BinaryPrimitives.WriteUInt64LittleEndian(header, (ulong)(json.WrittenCount + padding));
        json.WrittenSpan.CopyTo(header.AsSpan(sizeof(ulong)));
        header.AsSpan(sizeof(ulong) + json.WrittenCount).Fill((byte)' ');
        return header;
    }
}
