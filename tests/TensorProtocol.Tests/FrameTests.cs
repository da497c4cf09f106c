using System.Buffers;
using TensorProtocol.Wire;

namespace TensorProtocol.Tests;

public sealed class FrameTests
{
    [Theory]
    [InlineData("01000000", true, 1)]
    [InlineData("00000100", true, 65536)]
    [InlineData("00000000", false, 0)]
    [InlineData("01000100", false, 0)] // 65 537
    [InlineData("ffffffff", false, 0)]
    public void TryReadHeaderLength_ChecksTheLimit(string hex, bool valid, int expected)
    {
        Assert.Equal(valid, Frame.TryReadHeaderLength(Hex.Parse(hex), out int length, out ProtocolError error));
        Assert.Equal(expected, length);
        Assert.Equal(valid ? ProtocolErrorCode.None : ProtocolErrorCode.InvalidHeaderLength, error.Code);
    }

    [Fact]
    public void TryReadHeaderLength_ShortPrefix_IsTruncated()
    {
        Assert.False(Frame.TryReadHeaderLength(Hex.Parse("2c0000"), out _, out ProtocolError error));
        Assert.Equal(ProtocolErrorCode.Truncated, error.Code);
    }

    [Fact]
    public void TryRead_SplitAnywhere_DecodesAndLeavesThePayload()
    {
        byte[] payload = [.. Enumerable.Range(0, 24).Select(i => (byte)i)];
        byte[] stream = [.. Hex.Parse(WireGoldenTests.PushFrame), .. payload];
        for (int first = 0; first <= stream.Length; first++)
        {
            for (int second = first; second <= stream.Length; second += 7)
            {
                ReadOnlySequence<byte> buffer = Segments(stream, first, second);
                Assert.Equal(FrameStatus.Complete, Frame.TryReadRequest(ref buffer, long.MaxValue, out RequestHeader? request, out _));
                Assert.Equal(WireGoldenTests.PushTensor, request!.Tensor);
                Assert.Equal(payload, buffer.ToArray());
            }
        }
    }

    [Fact]
    public void TryRead_Incomplete_NeedsMoreDataAndLeavesTheBuffer()
    {
        byte[] frame = Hex.Parse(WireGoldenTests.QueueFullFrame);
        for (int length = 0; length < frame.Length; length++)
        {
            var buffer = new ReadOnlySequence<byte>(frame, 0, length);
            Assert.Equal(FrameStatus.NeedMoreData, Frame.TryReadResponse(ref buffer, 0, out ResponseHeader? response, out _));
            Assert.Null(response);
            Assert.Equal(length, buffer.Length);
        }
    }

    [Fact]
    public void TryRead_HugeDeclaredLength_IsInvalidAtOnce()
    {
        var buffer = new ReadOnlySequence<byte>(Hex.Parse("ffffffff 54505251"));
        Assert.Equal(FrameStatus.Invalid, Frame.TryReadRequest(ref buffer, 0, out _, out ProtocolError error));
        Assert.Equal(ProtocolErrorCode.InvalidHeaderLength, error.Code);
    }

    [Fact]
    public void TryRead_WrongKind_IsInvalid()
    {
        var buffer = new ReadOnlySequence<byte>(Hex.Parse(WireGoldenTests.PushFrame));
        Assert.Equal(FrameStatus.Invalid, Frame.TryReadResponse(ref buffer, long.MaxValue, out _, out ProtocolError error));
        Assert.Equal(ProtocolErrorCode.BadMagic, error.Code);
        Assert.Equal(Hex.Parse(WireGoldenTests.PushFrame).Length, buffer.Length);
    }

    /// <summary>A sequence of up to three segments, cut at <paramref name="first"/> and <paramref name="second"/>.</summary>
    internal static ReadOnlySequence<byte> Segments(byte[] bytes, int first, int second)
    {
        var head = new Segment(bytes.AsMemory(0, first), 0);
        Segment middle = head.Append(bytes.AsMemory(first, second - first));
        Segment tail = middle.Append(bytes.AsMemory(second));
        return new ReadOnlySequence<byte>(head, 0, tail, tail.Memory.Length);
    }

    private sealed class Segment : ReadOnlySequenceSegment<byte>
    {
        public Segment(ReadOnlyMemory<byte> memory, long runningIndex)
        {
            Memory = memory;
            RunningIndex = runningIndex;
        }

        public Segment Append(ReadOnlyMemory<byte> memory)
        {
            var next = new Segment(memory, RunningIndex + Memory.Length);
            Next = next;
            return next;
        }
    }
}
