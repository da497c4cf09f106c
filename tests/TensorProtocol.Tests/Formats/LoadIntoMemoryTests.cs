using TensorProtocol.Formats;

namespace TensorProtocol.Tests.Formats;

// The readers' LoadTensors/LoadTensor: bytes read with positioned reads into memory the tensors own, so that a file
// rewritten or cut short afterwards cannot reach them (a mapped payload would fault with SIGBUS), and a file that
// changed since it was opened is an IOException rather than a mix of two versions.
public sealed class LoadIntoMemoryTests : FormatTestFiles
{
    private static readonly TensorData Small = TensorData.FromArray(Enumerable.Range(0, 300).Select(i => (float)i).ToArray());

    // Above the 1 MiB array limit: lands in a native mapping of its own, read in 64 MiB chunks.
    private static readonly TensorData Large = TensorData.FromArray(Random(3 << 20, seed: 7));

    [Fact]
    public void LoadTensors_EqualTheMappedTensors_AndOutliveTheReader()
    {
        string path = PathOf("model.safetensors");
        SafetensorsWriter.Write(path, [new("a", Small), new("b", Large), new("empty", new TensorData(new TensorMetadata(DType.F16, [0, 4]), ReadOnlyMemory<byte>.Empty))]);
        IReadOnlyList<KeyValuePair<string, TensorData>> loaded;
        using (SafetensorsReader reader = SafetensorsReader.Open(path))
        {
            loaded = reader.LoadTensors();
            Assert.Equal(reader.Tensors.Select(t => t.Key), loaded.Select(t => t.Key));
        }
        File.Delete(path);

        Assert.True(Small.Payload.Span.SequenceEqual(loaded.Single(t => t.Key == "a").Value.Payload.Span));
        TensorData b = loaded.Single(t => t.Key == "b").Value;
        Assert.Equal(Large.Metadata, b.Metadata);
        Assert.True(Large.Payload.Span.SequenceEqual(b.Payload.Span));
        Assert.Equal([0L, 4], loaded.Single(t => t.Key == "empty").Value.Shape.ToArray());
        foreach ((_, TensorData tensor) in loaded)
        {
            tensor.Dispose();
        }
    }

    // Beyond one 64 MiB read: each chunk must come from its own place in the file (an offset that does not advance
    // would repeat the first chunk), and the last one is shorter.
    [Fact]
    public void LoadTensors_AboveOneReadChunk_ReadsEveryChunkFromItsPlace()
    {
        string path = PathOf("big.safetensors");
        TensorData big = TensorData.FromArray(Random((64 << 20) + 4096 + 3, seed: 9));
        SafetensorsWriter.Write(path, [new("a", Small), new("big", big)]);
        using SafetensorsReader reader = SafetensorsReader.Open(path);
        IReadOnlyList<KeyValuePair<string, TensorData>> loaded = reader.LoadTensors(["big"]);
        using TensorData b = Assert.Single(loaded).Value;
        Assert.Equal(big.ByteLength, b.ByteLength);
        Assert.True(big.Payload.Span.SequenceEqual(b.Payload.Span));
    }

    [Fact]
    public void LoadTensors_WithNames_LoadsOnlyThose_InFileOrder_AndRefusesAnUnknownName()
    {
        string path = PathOf("model.safetensors");
        SafetensorsWriter.Write(path, [new("a", Small), new("b", Large), new("c", Small)]);
        using SafetensorsReader reader = SafetensorsReader.Open(path);

        IReadOnlyList<KeyValuePair<string, TensorData>> loaded = reader.LoadTensors(["c", "a"]);
        Assert.Equal(reader.Tensors.Select(t => t.Key).Where(n => n is "a" or "c"), loaded.Select(t => t.Key));
        Assert.All(loaded, t => Assert.True(Small.Payload.Span.SequenceEqual(t.Value.Payload.Span)));
        var missing = Assert.Throws<KeyNotFoundException>(() => reader.LoadTensors(["a", "nope"]));
        Assert.Contains("'nope'", missing.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void LoadTensors_FileCutShortSinceOpened_IsAnIOException_NotAFault()
    {
        string path = PathOf("model.safetensors");
        SafetensorsWriter.Write(path, [new("a", Small), new("b", Large)]);
        using SafetensorsReader reader = SafetensorsReader.Open(path);
        Truncate(path, 100);

        var e = Assert.Throws<IOException>(() => reader.LoadTensors());
        Assert.Contains("changed since it was opened", e.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void LoadTensors_FileRewrittenWithTheSameLength_IsAnIOException()
    {
        string path = PathOf("model.safetensors");
        SafetensorsWriter.Write(path, [new("a", Small)]);
        using SafetensorsReader reader = SafetensorsReader.Open(path);
        // A rewrite in place with a file of the same length: only the modification time tells (set here explicitly,
        // since the kernel's file clock may not have ticked between the two writes of a fast test).
        byte[] bytes = File.ReadAllBytes(path);
        bytes[^1] ^= 0xff;
        File.WriteAllBytes(path, bytes);
        File.SetLastWriteTimeUtc(path, File.GetLastWriteTimeUtc(path).AddSeconds(5));

        Assert.Throws<IOException>(() => reader.LoadTensors());
    }

    [Fact]
    public void Load_Cancelled_ThrowsOperationCanceled()
    {
        string path = PathOf("model.safetensors");
        SafetensorsWriter.Write(path, [new("a", Small), new("b", Large)]);
        using SafetensorsReader reader = SafetensorsReader.Open(path);
        Assert.Throws<OperationCanceledException>(() => reader.LoadTensors(cancellationToken: new CancellationToken(canceled: true)));
        string npy = PathOf("x.npy");
        NpyWriter.Write(npy, Large);
        using NpyReader npyReader = NpyReader.Open(npy);
        Assert.Throws<OperationCanceledException>(() => npyReader.LoadTensor(new CancellationToken(canceled: true)));
    }

    [Fact]
    public void NpyLoadTensor_EqualsTheMappedArray_AndOutlivesTheReader_ButNotAChangedFile()
    {
        string path = PathOf("x.npy");
        NpyWriter.Write(path, Large);
        TensorData loaded;
        using (NpyReader reader = NpyReader.Open(path))
        {
            loaded = reader.LoadTensor();
        }
        using (loaded)
        {
            Assert.Equal(Large.Metadata, loaded.Metadata);
            Assert.True(Large.Payload.Span.SequenceEqual(loaded.Payload.Span));
        }

        using NpyReader again = NpyReader.Open(path);
        Truncate(path, 0);
        Assert.Throws<IOException>(() => again.LoadTensor());
    }

    // What cp over a file, torch.save and save_file do to the path: open it with O_TRUNC and write anew.
    private static void Truncate(string path, long length)
    {
        using var stream = new FileStream(path, FileMode.Open, FileAccess.Write, FileShare.ReadWrite);
        stream.SetLength(length);
    }

    private static byte[] Random(int length, int seed)
    {
        var bytes = new byte[length];
        new Random(seed).NextBytes(bytes);
        return bytes;
    }
}
