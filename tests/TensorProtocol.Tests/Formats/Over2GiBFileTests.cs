using System.Buffers;
using System.Buffers.Binary;
using System.Text;
using System.Text.Json;
using TensorProtocol.Formats;

namespace TensorProtocol.Tests.Formats;

/// <summary>
/// Files with tensors above 2 GiB: the readers on sparse files (only the header and a few marker bytes are written,
/// so the test costs address space, not disk or memory), the writers on a segmented tensor streamed into a stream that
/// checks every payload byte.
/// </summary>
public sealed class Over2GiBFileTests : FormatTestFiles
{
    private const long Big = (2L << 30) + 16;

    [Fact]
    public void SafetensorsReader_TensorOver2GiB_IsSegmentsOverTheMapping()
    {
        byte[] header = Safetensors($$$"""{"big":{"dtype":"U8","shape":[{{{Big}}}],"data_offsets":[0,{{{Big}}}]},"after":{"dtype":"F32","shape":[2],"data_offsets":[{{{Big}}},{{{Big + 8}}}]}}""");
        string path = WriteFile("big.safetensors", header);
        using (var stream = new FileStream(path, FileMode.Open))
        {
            stream.SetLength(header.Length + Big + 8); // sparse
            WriteAt(stream, header.Length, [1]);
            WriteAt(stream, header.Length + (1L << 30), [2]);
            WriteAt(stream, header.Length + Big - 1, [3]);
            WriteAt(stream, header.Length + Big, BitConverter.GetBytes(1.5f).Concat(BitConverter.GetBytes(-2f)).ToArray());
        }

        using SafetensorsReader reader = SafetensorsReader.Open(path);
        TensorData big = reader["big"];
        Assert.Equal(Big, big.ByteLength);
        Assert.Throws<InvalidOperationException>(() => big.Payload);
        Assert.Equal([1L << 30, 1L << 30, 16], SegmentLengths(big));
        Assert.Equal(1, big.PayloadSequence.FirstSpan[0]);
        Assert.Equal(2, big.PayloadSequence.Slice(1L << 30, 1).FirstSpan[0]);
        Assert.Equal(3, big.PayloadSequence.Slice(Big - 1).FirstSpan[0]);
        var view = big.AsTensorSpan<byte>(); // one piece of memory: the mapping
        nint last = (nint)big.ByteLength - 1;
        Assert.Equal(3, view[[last]]);
        Assert.Equal([1.5f, -2f], reader["after"].AsSpan<float>().ToArray());

        reader.Dispose();
        Assert.Throws<ObjectDisposedException>(() => big.AsTensorSpan<byte>().Rank);
        Assert.Throws<ObjectDisposedException>(() => big.PayloadSequence.FirstSpan.Length);
    }

    [Fact]
    public void NpyReader_ArrayOver2GiB_IsSegmentsOverTheMapping()
    {
        const long Elements = Big / 4;
        byte[] header = Npy($"{{'descr': '<f4', 'fortran_order': False, 'shape': ({Elements},), }}", []);
        string path = WriteFile("big.npy", header);
        using (var stream = new FileStream(path, FileMode.Open))
        {
            stream.SetLength(header.Length + Big);
            WriteAt(stream, header.Length + Big - 4, BitConverter.GetBytes(7.25f));
        }

        using NpyReader reader = NpyReader.Open(path);
        Assert.Equal([Elements], reader.Tensor.Shape.ToArray());
        Assert.Equal(3, SegmentLengths(reader.Tensor).Length);
        nint last = (nint)reader.Tensor.Metadata.ElementCount - 1;
        Assert.Equal(7.25f, reader.Tensor.AsTensorSpan<float>()[[last]]);
    }

    [Fact]
    public void SafetensorsWriter_SegmentedTensorOver2GiB_WritesEveryByteInOrder()
    {
        TensorData big = RepeatedBlock(new TensorMetadata(DType.U8, [Big]));
        TensorData small = TensorData.FromArray(new[] { 1.5f, -2f });
        var stream = new ExpectingStream(
            headerLength: prefix => sizeof(ulong) + (int)BinaryPrimitives.ReadUInt64LittleEndian(prefix),
            payload: [.. Sequence(small), .. Sequence(big)]); // largest element size first, as the writer orders them

        SafetensorsWriter.Write(stream, [new("big", big), new("small", small)]);

        stream.AssertComplete();
        using JsonDocument json = JsonDocument.Parse(stream.Header.AsMemory(8).ToArray().AsMemory().TrimEnd((byte)' '));
        Assert.Equal($"[8,{8 + Big}]", json.RootElement.GetProperty("big").GetProperty("data_offsets").GetRawText());
        Assert.Equal($"[{Big}]", json.RootElement.GetProperty("big").GetProperty("shape").GetRawText());
    }

    [Fact]
    public async Task NpyWriter_SegmentedTensorOver2GiB_WritesEveryByteInOrder()
    {
        TensorData big = RepeatedBlock(new TensorMetadata(DType.F32, [Big / 4]));
        var stream = new ExpectingStream(
            headerLength: prefix => 10 + BinaryPrimitives.ReadUInt16LittleEndian(prefix[8..]),
            payload: Sequence(big));

        await NpyWriter.WriteAsync(stream, big);

        stream.AssertComplete();
        Assert.Contains($"'shape': ({Big / 4},)", Encoding.ASCII.GetString(stream.Header), StringComparison.Ordinal);
    }

    /// <summary>32 × the same random 64 MiB plus 16 bytes: a 2 GiB + 16 tensor for the memory of 64 MiB.</summary>
    private static TensorData RepeatedBlock(TensorMetadata metadata)
    {
        byte[] block = new byte[64 << 20];
        new Random(3).NextBytes(block);
        byte[] tail = [.. Enumerable.Range(1, 16).Select(i => (byte)i)];
        return TensorData.FromSegments(metadata, [.. Enumerable.Repeat<ReadOnlyMemory<byte>>(block, 32), tail]);
    }

    private static ReadOnlyMemory<byte>[] Sequence(TensorData tensor) => [.. TensorDataSegmentTests.Segments(tensor)];

    private static long[] SegmentLengths(TensorData tensor) => [.. TensorDataSegmentTests.Segments(tensor).Select(s => (long)s.Length)];

    private static void WriteAt(FileStream stream, long offset, byte[] bytes)
    {
        stream.Position = offset;
        stream.Write(bytes);
    }

    /// <summary>
    /// A write-only stream that keeps the header (its length read from the first 16 bytes) and compares every later
    /// byte with the expected payload as it arrives, so gigabytes are checked without being stored.
    /// </summary>
    private sealed class ExpectingStream(Func<ReadOnlySpan<byte>, int> headerLength, ReadOnlyMemory<byte>[] payload) : Stream
    {
        private readonly List<byte> _header = [];
        private readonly ReadOnlySequence<byte> _expected = Chain(payload);
        private int? _headerLength;
        private long _payloadWritten;
        private long? _firstMismatch;

        public byte[] Header => [.. _header];

        public override bool CanRead => false;

        public override bool CanSeek => false;

        public override bool CanWrite => true;

        public override long Length => throw new NotSupportedException();

        public override long Position { get => throw new NotSupportedException(); set => throw new NotSupportedException(); }

        public void AssertComplete()
        {
            Assert.Null(_firstMismatch);
            Assert.Equal(_expected.Length, _payloadWritten);
            Assert.Equal(_headerLength, _header.Count);
        }

        public override void Write(ReadOnlySpan<byte> buffer)
        {
            while (!buffer.IsEmpty)
            {
                if (_headerLength is not { } length || _header.Count < length)
                {
                    int take = _headerLength is { } known ? Math.Min(buffer.Length, known - _header.Count) : Math.Min(buffer.Length, 16 - _header.Count);
                    _header.AddRange(buffer[..take]);
                    buffer = buffer[take..];
                    if (_headerLength is null && _header.Count == 16)
                    {
                        _headerLength = headerLength(_header.ToArray());
                    }
                    continue;
                }
                Assert.True(_payloadWritten + buffer.Length <= _expected.Length, "more payload bytes than expected");
                long at = _payloadWritten;
                foreach (ReadOnlyMemory<byte> expected in _expected.Slice(at, buffer.Length))
                {
                    if (_firstMismatch is null && !expected.Span.SequenceEqual(buffer[..expected.Length]))
                    {
                        _firstMismatch = at;
                    }
                    at += expected.Length;
                    buffer = buffer[expected.Length..];
                }
                _payloadWritten = at;
            }
        }

        public override void Write(byte[] buffer, int offset, int count) => Write(buffer.AsSpan(offset, count));

        public override ValueTask WriteAsync(ReadOnlyMemory<byte> buffer, CancellationToken cancellationToken = default)
        {
            Write(buffer.Span);
            return ValueTask.CompletedTask;
        }

        public override Task WriteAsync(byte[] buffer, int offset, int count, CancellationToken cancellationToken) =>
            WriteAsync(buffer.AsMemory(offset, count), cancellationToken).AsTask();

        public override void Flush()
        {
        }

        public override int Read(byte[] buffer, int offset, int count) => throw new NotSupportedException();

        public override long Seek(long offset, SeekOrigin origin) => throw new NotSupportedException();

        public override void SetLength(long value) => throw new NotSupportedException();
    }

    /// <summary>Chains memories into one sequence, the way a segmented tensor holds them.</summary>
    private static ReadOnlySequence<byte> Chain(ReadOnlyMemory<byte>[] pieces) =>
        TensorData.FromSegments(new TensorMetadata(DType.U8, [pieces.Sum(p => (long)p.Length)]), pieces).PayloadSequence;
}
