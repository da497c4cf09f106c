using System.Buffers;
using System.Buffers.Binary;
using System.Diagnostics;
using TensorProtocol.Wire;
using Xunit.Abstractions;

namespace TensorProtocol.Tests;

/// <summary>
/// Hostile input: random bytes and mutated valid headers must come back as protocol errors (or valid headers), never
/// as exceptions, quickly, and without allocating in proportion to lengths the input claims.
/// </summary>
public sealed class WireFuzzTests(ITestOutputHelper output)
{
    private const int Cases = 120_000;
    private const int BatchSize = 1000;

    // Per batch of 1000 cases (each decoded as a request and as a response): error messages and the odd successful
    // decode of a small header. A decoder that trusted a length field would blow through this at once.
    private const long BatchAllocationBudget = 1 << 20;

    [Fact]
    public void Decode_RandomAndMutatedInput_OnlyProtocolErrors_BoundedAllocation()
    {
        var random = new Random(20251126);
        byte[][] seeds = Seeds(random);
        byte[] input = new byte[1024];
        long batchAllocated = 0;
        long worstBatch = 0;
        long worstCase = 0;
        int accepted = 0;
        var rejected = new HashSet<ProtocolErrorCode>();
        var stopwatch = Stopwatch.StartNew();

        for (int i = 0; i < Cases; i++)
        {
            int length = MakeInput(random, seeds, input);
            long before = GC.GetAllocatedBytesForCurrentThread();
            bool isRequest;
            bool isResponse;
            RequestHeader? request;
            ResponseHeader? response;
            ProtocolError requestError;
            ProtocolError responseError;
            try
            {
                isRequest = RequestHeader.TryDecode(input.AsSpan(0, length), WireFormat.DefaultMaxPayloadLength, out request, out requestError);
                isResponse = ResponseHeader.TryDecode(input.AsSpan(0, length), WireFormat.DefaultMaxPayloadLength, out response, out responseError);
            }
            catch (Exception e)
            {
                Assert.Fail($"Decoding {Hex.Format(input.AsSpan(0, length))} threw {e}");
                throw;
            }
            long allocated = GC.GetAllocatedBytesForCurrentThread() - before;
            batchAllocated += allocated;
            worstCase = Math.Max(worstCase, allocated);
            if ((i + 1) % BatchSize == 0)
            {
                worstBatch = Math.Max(worstBatch, batchAllocated);
                batchAllocated = 0;
            }

            Assert.False(isRequest && isResponse); // the magics differ
            CheckOutcome(isRequest, request, requestError, rejected);
            CheckOutcome(isResponse, response, responseError, rejected);
            if (isRequest || isResponse)
            {
                accepted++;
                CheckReencodes(request, response);
            }
            if (i % 8 == 0)
            {
                CheckFrameDecoding(random, input.AsSpan(0, length), isRequest);
            }
        }

        output.WriteLine($"{Cases} cases in {stopwatch.Elapsed.TotalMilliseconds:f0} ms; {accepted} decoded; worst batch {worstBatch} bytes, " +
            $"worst case {worstCase} bytes; errors seen: {string.Join(", ", rejected.Order())}");
        Assert.True(worstBatch < BatchAllocationBudget, $"{worstBatch} bytes allocated in one batch of {BatchSize} cases");
        Assert.True(worstCase < 64 * 1024, $"{worstCase} bytes allocated by one decode");
        Assert.True(stopwatch.Elapsed < TimeSpan.FromSeconds(15), $"took {stopwatch.Elapsed}");
        // The mutations reach deep into the format: most error kinds turn up, and some mutants are still valid.
        Assert.True(accepted > 100, $"only {accepted} inputs decoded");
        Assert.True(rejected.Count >= 18, $"only {rejected.Count} kinds of error: {string.Join(", ", rejected)}");
    }

    [Theory]
    [InlineData("54505251 01 01 ffff")] // name length 65535, nothing behind it
    [InlineData("54505251 01 01 0004 ")] // name length 1024, nothing behind it
    [InlineData("54505251 01 01 0100 77 01 00 ff")] // rank 255
    [InlineData("54505251 01 01 0100 77 01 00 20")] // rank 32, no dimensions
    [InlineData("54505251 01 01 0100 77 0b 00 01 ffffffffffffffff ffffffffffffffff")] // dimension and payload 2^64 - 1
    [InlineData("54505251 01 01 0100 77 0b 00 00 0100000000000000 ffff")] // 65535 metadata entries
    [InlineData("54505251 01 01 0100 77 0b 00 00 0100000000000000 4000 ffff")] // key of 65535 bytes
    [InlineData("54505251 01 01 0100 77 0b 00 00 0100000000000000 4000 0001 6b ffff")] // value of 65535 bytes
    [InlineData("54505251 01 01 0100 77 0b 00 00 0100000000000000 4000 0001 6b 0040")] // value of 16384 bytes, absent
    [InlineData("54505253 01 00 00 ffff")] // message of 65535 bytes
    [InlineData("54505253 01 00 00 0010")] // message of 4096 bytes, absent
    public void Decode_HugeLengthFields_AllocateAlmostNothing(string hex)
    {
        byte[] header = Hex.Parse(hex);
        RequestHeader.TryDecode(header, long.MaxValue, out _, out _); // warm up (JIT, statics)
        ResponseHeader.TryDecode(header, long.MaxValue, out _, out _);
        long before = GC.GetAllocatedBytesForCurrentThread();
        bool request = RequestHeader.TryDecode(header, long.MaxValue, out _, out ProtocolError requestError);
        bool response = ResponseHeader.TryDecode(header, long.MaxValue, out _, out ProtocolError responseError);
        long allocated = GC.GetAllocatedBytesForCurrentThread() - before;
        Assert.False(request);
        Assert.False(response);
        Assert.NotEqual(ProtocolErrorCode.None, requestError.Code);
        Assert.NotEqual(ProtocolErrorCode.None, responseError.Code);
        Assert.True(allocated < 2048, $"{allocated} bytes allocated");
    }

    private static void CheckOutcome<T>(bool decoded, T? header, ProtocolError error, HashSet<ProtocolErrorCode> rejected)
        where T : class
    {
        if (decoded)
        {
            Assert.NotNull(header);
            Assert.Equal(ProtocolErrorCode.None, error.Code);
        }
        else
        {
            Assert.Null(header);
            Assert.NotEqual(ProtocolErrorCode.None, error.Code);
            Assert.False(string.IsNullOrEmpty(error.Message));
            rejected.Add(error.Code);
        }
    }

    // Whatever decodes must encode again (metadata order aside, to the same length) and decode to the same header.
    private static void CheckReencodes(RequestHeader? request, ResponseHeader? response)
    {
        if (request is not null)
        {
            RequestHeader copy = request.Tensor is null ? RequestHeader.Pull(request.Name) : RequestHeader.Push(request.Name, request.Tensor);
            Assert.Equal(request.EncodedLength, copy.EncodedLength);
            Assert.True(RequestHeader.TryDecode(WireGoldenTests.Encode(copy).AsSpan(4), long.MaxValue, out RequestHeader? again, out _));
            Assert.Equal(request.Name, again.Name);
            Assert.Equal(request.Tensor, again.Tensor);
        }
        if (response is not null)
        {
            var copy = new ResponseHeader(response.Status, response.Message, response.Tensor);
            Assert.Equal(response.EncodedLength, copy.EncodedLength);
            Assert.True(ResponseHeader.TryDecode(WireGoldenTests.Encode(copy).AsSpan(4), long.MaxValue, out ResponseHeader? again, out _));
            Assert.Equal(response.Message, again.Message);
            Assert.Equal(response.Tensor, again.Tensor);
        }
    }

    // The same bytes behind a length prefix (sometimes a wrong one), split into segments, through the frame reader.
    private static void CheckFrameDecoding(Random random, ReadOnlySpan<byte> header, bool isRequest)
    {
        byte[] frame = new byte[4 + header.Length];
        uint declared = random.Next(4) == 0 ? (uint)random.Next() : (uint)header.Length;
        BinaryPrimitives.WriteUInt32LittleEndian(frame, declared);
        header.CopyTo(frame.AsSpan(4));
        int first = random.Next(frame.Length + 1);
        ReadOnlySequence<byte> buffer = FrameTests.Segments(frame, first, random.Next(first, frame.Length + 1));
        FrameStatus status = Frame.TryReadRequest(ref buffer, WireFormat.DefaultMaxPayloadLength, out RequestHeader? request, out ProtocolError error);
        if (declared is 0 or > WireFormat.MaxHeaderLength)
        {
            Assert.Equal(FrameStatus.Invalid, status);
        }
        else if (declared > header.Length)
        {
            Assert.Equal(FrameStatus.NeedMoreData, status);
        }
        else if (declared == header.Length)
        {
            Assert.Equal(isRequest ? FrameStatus.Complete : FrameStatus.Invalid, status);
            Assert.Equal(isRequest, request is not null);
        }
        // else only a prefix of the bytes is the header: any outcome will do, as long as nothing throws.
        Assert.Equal(status == FrameStatus.Invalid, error.Code != ProtocolErrorCode.None);
    }

    private static byte[][] Seeds(Random random)
    {
        var seeds = new List<byte[]>
        {
            Hex.Parse(WireGoldenTests.PushFrame)[4..],
            Hex.Parse(WireGoldenTests.PullFrame)[4..],
            Hex.Parse(WireGoldenTests.QueueFullFrame)[4..],
            Hex.Parse(WireGoldenTests.PullOkFrame)[4..],
        };
        while (seeds.Count < 40)
        {
            TensorMetadata tensor = WireEncodeTests.RandomTensor(random);
            string name = WireEncodeTests.RandomText(random, random.Next(1, 8));
            byte[] frame = seeds.Count % 2 == 0
                ? WireGoldenTests.Encode(RequestHeader.Push(name, tensor))
                : WireGoldenTests.Encode(new ResponseHeader(ResponseStatus.Ok, name, tensor));
            if (frame.Length <= 512)
            {
                seeds.Add(frame[4..]);
            }
        }
        return [.. seeds];
    }

    private static int MakeInput(Random random, byte[][] seeds, byte[] input)
    {
        int length;
        switch (random.Next(10))
        {
            case 0:
                length = random.Next(0, 200);
                random.NextBytes(input.AsSpan(0, length));
                return length;
            case 1:
                // Random bytes behind a valid magic and version, to get past the first checks.
                length = random.Next(5, 200);
                random.NextBytes(input.AsSpan(0, length));
                (random.Next(2) == 0 ? WireFormat.RequestMagic : WireFormat.ResponseMagic).CopyTo(input);
                input[4] = WireFormat.Version;
                return length;
            default:
                byte[] seed = seeds[random.Next(seeds.Length)];
                seed.CopyTo(input, 0);
                length = seed.Length;
                for (int mutations = random.Next(1, 4); mutations > 0; mutations--)
                {
                    length = Mutate(random, input, length);
                }
                return length;
        }
    }

    private static int Mutate(Random random, byte[] input, int length)
    {
        int at = length == 0 ? 0 : random.Next(length);
        switch (random.Next(8))
        {
            case 0: // flip a bit
                if (length > 0)
                {
                    input[at] ^= (byte)(1 << random.Next(8));
                }
                return length;
            case 1: // a random byte
                if (length > 0)
                {
                    input[at] = (byte)random.Next(256);
                }
                return length;
            case 2: // a huge (or zero) length field of 2, 4 or 8 bytes
                int size = 2 << random.Next(3);
                if (at + size <= length)
                {
                    input.AsSpan(at, size).Fill(random.Next(3) switch { 0 => 0x00, 1 => 0xff, _ => 0x7f });
                }
                return length;
            case 3: // a small length field: 1 to 64 in the first byte, 0 in the second
                if (at + 2 <= length)
                {
                    input[at] = (byte)random.Next(1, 65);
                    input[at + 1] = 0;
                }
                return length;
            case 4: // truncate
                return random.Next(length + 1);
            case 5: // append
                int extra = Math.Min(random.Next(1, 17), input.Length - length);
                random.NextBytes(input.AsSpan(length, extra));
                return length + extra;
            case 6: // insert a byte
                if (length < input.Length)
                {
                    input.AsSpan(at, length - at).CopyTo(input.AsSpan(at + 1));
                    input[at] = (byte)random.Next(256);
                    return length + 1;
                }
                return length;
            default: // delete a byte
                if (length > 0)
                {
                    input.AsSpan(at + 1, length - at - 1).CopyTo(input.AsSpan(at));
                    return length - 1;
                }
                return length;
        }
    }
}
