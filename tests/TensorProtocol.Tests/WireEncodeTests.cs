using System.Text;
using TensorProtocol.Wire;

namespace TensorProtocol.Tests;

/// <summary>Round trips of random headers, and the limits the encoders enforce on local input.</summary>
public sealed class WireEncodeTests
{
    [Fact]
    public void RandomHeaders_RoundTrip()
    {
        var random = new Random(2024);
        for (int i = 0; i < 2000; i++)
        {
            TensorMetadata tensor = RandomTensor(random);
            string name = RandomText(random, random.Next(1, 40));

            RequestHeader push = RequestHeader.Push(name, tensor);
            byte[] frame = WireGoldenTests.Encode(push);
            Assert.Equal(push.FrameLength, frame.Length);
            Assert.True(RequestHeader.TryDecode(frame.AsSpan(4), long.MaxValue, out RequestHeader? request, out ProtocolError error), error.Message);
            Assert.Equal(Operation.Push, request.Operation);
            Assert.Equal(name, request.Name);
            Assert.Equal(tensor, request.Tensor);
            Assert.Equal(push.EncodedLength, request.EncodedLength);

            var ok = new ResponseHeader(ResponseStatus.Ok, RandomText(random, random.Next(0, 20)), tensor);
            Assert.True(ResponseHeader.TryDecode(WireGoldenTests.Encode(ok).AsSpan(4), long.MaxValue, out ResponseHeader? response, out error), error.Message);
            Assert.Equal(ok.Message, response.Message);
            Assert.Equal(tensor, response.Tensor);
        }
    }

    [Fact]
    public void EveryStatus_RoundTrips()
    {
        foreach (ResponseStatus status in Enum.GetValues<ResponseStatus>())
        {
            var header = new ResponseHeader(status, $"because {status}");
            Assert.True(ResponseHeader.TryDecode(WireGoldenTests.Encode(header).AsSpan(4), 0, out ResponseHeader? decoded, out _));
            Assert.Equal(status, decoded.Status);
            Assert.Equal($"because {status}", decoded.Message);
        }
    }

    [Fact]
    public void Metadata_IsWrittenSortedSoOneTensorHasOneEncoding()
    {
        var forward = new Dictionary<string, string> { ["a"] = "1", ["b"] = "2", ["c"] = "3" };
        var backward = new Dictionary<string, string> { ["c"] = "3", ["b"] = "2", ["a"] = "1" };
        byte[] one = WireGoldenTests.Encode(RequestHeader.Push("t", new TensorMetadata(DType.I8, [1], metadata: forward)));
        byte[] two = WireGoldenTests.Encode(RequestHeader.Push("t", new TensorMetadata(DType.I8, [1], metadata: backward)));
        Assert.Equal(one, two);
    }

    [Fact]
    public void Name_OutsideTheLimits_IsRefused()
    {
        Assert.Throws<ArgumentException>(() => RequestHeader.Pull(""));
        Assert.Throws<ArgumentNullException>(() => RequestHeader.Pull(null!));
        RequestHeader.Pull(new string('n', WireFormat.MaxNameBytes));
        ArgumentException e = Assert.Throws<ArgumentException>(() => RequestHeader.Pull(new string('n', WireFormat.MaxNameBytes + 1)));
        Assert.Contains("1025 bytes in UTF-8; the protocol allows at most 1024", e.Message, StringComparison.Ordinal);
        Assert.Throws<ArgumentException>(() => RequestHeader.Pull(new string('é', 513))); // 1026 bytes
        e = Assert.Throws<ArgumentException>(() => RequestHeader.Pull("bad\ud800name"));
        Assert.Contains("unpaired surrogate", e.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Tensor_OutsideTheLimits_IsRefused()
    {
        Assert.Throws<ArgumentException>(() => RequestHeader.Push("t", new TensorMetadata(DType.F32, new long[33])));
        RequestHeader.Push("t", new TensorMetadata(DType.F32, new long[32]));

        Assert.Throws<ArgumentException>(() => RequestHeader.Push("t", WithMetadata(65, 1, 1)));
        RequestHeader.Push("t", WithMetadata(64, 1, 1));
        Assert.Throws<ArgumentException>(() => RequestHeader.Push("t", WithMetadata(1, WireFormat.MaxMetadataKeyBytes + 1, 1)));
        Assert.Throws<ArgumentException>(() => RequestHeader.Push("t", WithMetadata(1, 1, WireFormat.MaxMetadataValueBytes + 1)));
        Assert.Throws<ArgumentException>(() => RequestHeader.Push("t", new TensorMetadata(DType.F32, [1], metadata: new Dictionary<string, string> { [""] = "v" })));

        // Each entry is within its limit, the header as a whole is not.
        ArgumentException e = Assert.Throws<ArgumentException>(() => RequestHeader.Push("t", WithMetadata(8, 10, WireFormat.MaxMetadataValueBytes)));
        Assert.Contains("the protocol allows at most 65536", e.Message, StringComparison.Ordinal);
        Assert.Throws<ArgumentException>(() => new ResponseHeader(ResponseStatus.Ok, tensor: WithMetadata(8, 10, WireFormat.MaxMetadataValueBytes)));
    }

    [Fact]
    public void Response_TensorWithoutOk_IsRefused() =>
        Assert.Throws<ArgumentException>(() => new ResponseHeader(ResponseStatus.NotFound, tensor: new TensorMetadata(DType.F32, [1])));

    [Fact]
    public void Response_LongMessage_IsCutAtACharacterBoundary()
    {
        string message = string.Concat(Enumerable.Repeat("ab😀", 2000)); // 6 bytes per repeat in UTF-8
        var response = new ResponseHeader(ResponseStatus.InternalError, message);
        int bytes = Encoding.UTF8.GetByteCount(response.Message);
        Assert.True(bytes <= WireFormat.MaxMessageBytes);
        Assert.True(bytes > WireFormat.MaxMessageBytes - 8);
        Assert.EndsWith("…", response.Message, StringComparison.Ordinal);
        Assert.StartsWith(response.Message[..^1], message, StringComparison.Ordinal);
        Assert.True(ResponseHeader.TryDecode(WireGoldenTests.Encode(response).AsSpan(4), 0, out ResponseHeader? decoded, out _));
        Assert.Equal(response.Message, decoded.Message);
    }

    [Fact]
    public void Response_UnpairedSurrogateInMessage_IsReplacedBeforeSending()
    {
        var response = new ResponseHeader(ResponseStatus.InternalError, "a\ud800b😀");
        Assert.Equal("a\ufffdb😀", response.Message);
        Assert.True(ResponseHeader.TryDecode(WireGoldenTests.Encode(response).AsSpan(4), 0, out ResponseHeader? decoded, out _));
        Assert.Equal(response.Message, decoded.Message);
    }

    internal static TensorMetadata RandomTensor(Random random)
    {
        DType dtype = DType.All[random.Next(DType.All.Count)];
        var shape = new long[random.Next(0, 6) == 0 ? random.Next(6, WireFormat.MaxRank + 1) : random.Next(0, 5)];
        for (int d = 0; d < shape.Length; d++)
        {
            shape[d] = shape.Length > 8 ? random.Next(0, 3) : random.Next(0, 100);
        }
        var metadata = new Dictionary<string, string>();
        for (int m = random.Next(0, 4) == 0 ? random.Next(0, 10) : 0; m > 0; m--)
        {
            metadata[RandomText(random, random.Next(1, 12))] = RandomText(random, random.Next(0, 30));
        }
        return new TensorMetadata(dtype, shape, random.Next(2) == 0, metadata);
    }

    internal static string RandomText(Random random, int length)
    {
        const string characters = "abcxyz_.0123 /:éß中文😀";
        var text = new StringBuilder();
        while (text.Length < length)
        {
            int i = random.Next(characters.Length);
            // Keep surrogate pairs whole.
            text.Append(char.IsSurrogate(characters[i]) ? "😀" : characters[i].ToString());
        }
        return text.ToString();
    }

    private static TensorMetadata WithMetadata(int entries, int keyLength, int valueLength) =>
        new(DType.F32, [1], metadata: Enumerable.Range(0, entries).ToDictionary(
            i => i.ToString("d3", System.Globalization.CultureInfo.InvariantCulture).PadRight(keyLength, 'k')[..Math.Max(keyLength, 3)],
            _ => new string('v', valueLength)));
}
