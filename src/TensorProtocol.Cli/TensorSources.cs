using System.Globalization;
using TensorProtocol.Formats;

namespace TensorProtocol.Cli;

/// <summary>Tensors read from input files; owns the memory mappings, which must outlive every send.</summary>
internal sealed class TensorSources : IDisposable
{
    private readonly List<IDisposable> _readers = [];
    // Per file reader: how to read its chosen tensors into memory, and where they stand in Tensors.
    private readonly List<(Func<CancellationToken, IEnumerable<TensorData>> Load, List<int> Indexes)> _loaders = [];

    public List<(string Name, TensorData Tensor)> Tensors { get; } = [];

    /// <summary>How a raw (headerless) file is interpreted.</summary>
    public sealed record RawLayout(DType DType, long[] Shape);

    /// <summary>
    /// Opens every file: each tensor of a .safetensors file (or the <paramref name="select"/>ed ones), the array of a
    /// .npy file (named after the file), or a raw file with <paramref name="raw"/>'s dtype and shape.
    /// </summary>
    public static TensorSources Open(IReadOnlyList<FileInfo> files, IReadOnlyList<string> select, RawLayout? raw)
    {
        var sources = new TensorSources();
        try
        {
            var remaining = new HashSet<string>(select, StringComparer.Ordinal);
            foreach (FileInfo file in files)
            {
                sources.Add(file, select, remaining, raw);
            }
            if (remaining.Count > 0)
            {
                throw CliException.File(
                    $"no input file has a tensor named {string.Join(", ", remaining.Select(n => $"'{n}'"))}. Available: {string.Join(", ", sources.AllNames)}.");
            }
            return sources;
        }
        catch
        {
            sources.Dispose();
            throw;
        }
    }

    private List<string> AllNames { get; } = [];

    private void Add(FileInfo file, IReadOnlyList<string> select, HashSet<string> remaining, RawLayout? raw)
    {
        if (!file.Exists)
        {
            throw CliException.File($"input file '{file.FullName}' does not exist. Check the path.");
        }
        string extension = file.Extension.ToLowerInvariant();
        if (extension == ".safetensors")
        {
            SafetensorsReader reader = SafetensorsReader.Open(file.FullName);
            _readers.Add(reader);
            var chosen = new List<string>();
            var indexes = new List<int>();
            foreach ((string name, TensorData tensor) in reader.Tensors)
            {
                AllNames.Add(name);
                if (select.Count == 0 || select.Contains(name))
                {
                    remaining.Remove(name);
                    chosen.Add(name);
                    indexes.Add(Tensors.Count);
                    Tensors.Add((name, tensor));
                }
            }
            // LoadTensors keeps the file's order, as the loop above does.
            _loaders.Add((ct => reader.LoadTensors(chosen, ct).Select(t => t.Value), indexes));
        }
        else if (extension == ".npy" && raw is null)
        {
            NpyReader reader = NpyReader.Open(file.FullName);
            _readers.Add(reader);
            _loaders.Add((ct => [reader.LoadTensor(ct)], [Tensors.Count]));
            Tensors.Add((Path.GetFileNameWithoutExtension(file.Name), reader.Tensor));
        }
        else if (raw is not null)
        {
            Tensors.Add((Path.GetFileNameWithoutExtension(file.Name), MapRaw(file, raw)));
        }
        else
        {
            throw CliException.Usage(
                $"'{file.Name}' is neither .safetensors nor .npy; to send raw bytes pass --dtype and --shape (e.g. --dtype F32 --shape 2,3).");
        }
    }

    /// <summary>
    /// A raw file as a tensor over a read-only mapping of it: nothing is read into managed memory and any size works
    /// (the node sends straight from the page cache). The mapping is released when the tensor is disposed and no send
    /// still reads it.
    /// </summary>
    private TensorData MapRaw(FileInfo file, RawLayout raw)
    {
        var metadata = new TensorMetadata(raw.DType, raw.Shape);
        if (file.Length != metadata.ByteLength)
        {
            throw CliException.File(
                $"raw file '{file.FullName}' has {file.Length} bytes, but {raw.DType} with shape [{string.Join(",", raw.Shape)}] needs {metadata.ByteLength}. Check --dtype and --shape.");
        }
        if (file.Length == 0)
        {
            return new TensorData(metadata, ReadOnlyMemory<byte>.Empty); // an empty file cannot be mapped
        }
        var mapping = RawFileMapping.Open(file.FullName, file.Length);
        TensorData tensor = TensorData.FromNativeMemory(metadata, mapping.Address, file.Length, mapping);
        _readers.Add(tensor);
        return tensor;
    }

    /// <summary>Parses <c>2,3</c> (or an empty string for a scalar) into a shape.</summary>
    public static long[] ParseShape(string text)
    {
        if (string.IsNullOrWhiteSpace(text))
        {
            return [];
        }
        string[] parts = text.Split(',', StringSplitOptions.TrimEntries);
        long[] shape = new long[parts.Length];
        for (int i = 0; i < parts.Length; i++)
        {
            if (!long.TryParse(parts[i], NumberStyles.None, CultureInfo.InvariantCulture, out shape[i]))
            {
                throw CliException.Usage($"--shape '{text}' is not a comma-separated list of non-negative integers (e.g. 2,3).");
            }
        }
        return shape;
    }

    /// <summary>The bytes all tensors take.</summary>
    public long TotalBytes => Tensors.Sum(t => t.Tensor.ByteLength);

    /// <summary>
    /// Replaces every tensor with one in memory this process owns, read from the files with positioned reads (not
    /// through the mappings, which are released after): a file rewritten in place after this cannot touch what is
    /// served, and one cut short while it is read is an error here. (A mapped file that shrinks faults on the next
    /// read of a page past its new end: SIGBUS, which ends the process.) Raw files are not supported here.
    /// </summary>
    /// <exception cref="CliException">A file changed while it was read, or could not be read.</exception>
    /// <exception cref="OperationCanceledException"><paramref name="cancellationToken"/> was cancelled.</exception>
    public void LoadIntoMemory(CancellationToken cancellationToken)
    {
        if (_loaders.Sum(l => l.Indexes.Count) != Tensors.Count)
        {
            throw new InvalidOperationException("Raw files cannot be loaded into memory.");
        }
        var loaded = new List<(int Index, TensorData Tensor)>();
        try
        {
            foreach ((Func<CancellationToken, IEnumerable<TensorData>> load, List<int> indexes) in _loaders)
            {
                int i = 0;
                foreach (TensorData tensor in load(cancellationToken))
                {
                    loaded.Add((indexes[i++], tensor));
                }
            }
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException or OutOfMemoryException)
        {
            loaded.ForEach(t => t.Tensor.Dispose());
            throw CliException.File($"could not load the tensors into memory: {e.Message}", e);
        }
        catch
        {
            loaded.ForEach(t => t.Tensor.Dispose());
            throw;
        }
        // Only now that every file is loaded: a failure above leaves Tensors as it was.
        foreach ((int index, TensorData tensor) in loaded)
        {
            Tensors[index] = (Tensors[index].Name, tensor);
        }
        Dispose();
        _loaders.Clear();
        // The tensors, not their memory, are what get disposed: each frees its memory once no send still reads it.
        _readers.AddRange(loaded.Select(t => t.Tensor));
    }

    public void Dispose()
    {
        foreach (IDisposable reader in _readers)
        {
            reader.Dispose();
        }
        _readers.Clear();
    }
}
