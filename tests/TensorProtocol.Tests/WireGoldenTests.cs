using System.Buffers;
using TensorProtocol.Wire;

namespace TensorProtocol.Tests;

/// <summary>The frames of docs/protocol.md, byte for byte, computed by hand from the layout tables there.</summary>
public sealed class WireGoldenTests
{
    internal const string PushFrame =
        "2c000000 54505251 01 01 0100 77 01 01 02 0200000000000000 0300000000000000 1800000000000000 0100 0100 6b 0100 76";
    internal const string PullFrame = "09000000 54505251 01 02 0100 77";
    internal const string QueueFullFrame = "0d000000 54505253 01 04 00 0400 66756c6c";
    internal const string PullOkFrame = "1e000000 54505253 01 00 01 0000 0b 00 01 0300000000000000 0300000000000000 0000";

    internal static TensorMetadata PushTensor { get; } =
        new(DType.F32, [2, 3], requiresGrad: true, new Dictionary<string, string> { ["k"] = "v" });

    [Fact]
    public void Push_EncodesToTheGoldenFrame()
    {
        RequestHeader request = RequestHeader.Push("w", PushTensor);
        Assert.Equal(48, request.FrameLength);
        Assert.Equal(Hex.Parse(PushFrame), Encode(request));
    }

    [Fact]
    public void Push_GoldenFrameDecodes()
    {
        byte[] frame = Hex.Parse(PushFrame);
        Assert.True(Frame.TryReadHeaderLength(frame, out int length, out _));
        Assert.Equal(44, length);
        Assert.True(RequestHeader.TryDecode(frame.AsSpan(4, length), WireFormat.DefaultMaxPayloadLength, out RequestHeader? request, out ProtocolError error), error.Message);
        Assert.Equal(Operation.Push, request.Operation);
        Assert.Equal("w", request.Name);
        Assert.Equal(PushTensor, request.Tensor);
        Assert.Equal(24, request.Tensor!.ByteLength);
    }

    [Fact]
    public void Pull_EncodesAndDecodes()
    {
        RequestHeader request = RequestHeader.Pull("w");
        Assert.Equal(Hex.Parse(PullFrame), Encode(request));
        Assert.True(RequestHeader.TryDecode(Hex.Parse(PullFrame).AsSpan(4), 0, out RequestHeader? decoded, out _));
        Assert.Equal(Operation.Pull, decoded.Operation);
        Assert.Equal("w", decoded.Name);
        Assert.Null(decoded.Tensor);
    }

    [Fact]
    public void Status_EncodesAndDecodes()
    {
        var response = new ResponseHeader(ResponseStatus.QueueFull, "full");
        Assert.Equal(Hex.Parse(QueueFullFrame), Encode(response));
        Assert.True(ResponseHeader.TryDecode(Hex.Parse(QueueFullFrame).AsSpan(4), 0, out ResponseHeader? decoded, out _));
        Assert.Equal(ResponseStatus.QueueFull, decoded.Status);
        Assert.Equal("full", decoded.Message);
        Assert.Null(decoded.Tensor);
    }

    [Fact]
    public void PullOk_EncodesAndDecodes()
    {
        var tensor = new TensorMetadata(DType.U8, [3]);
        var response = new ResponseHeader(ResponseStatus.Ok, tensor: tensor);
        Assert.Equal(Hex.Parse(PullOkFrame), Encode(response));
        Assert.True(ResponseHeader.TryDecode(Hex.Parse(PullOkFrame).AsSpan(4), 3, out ResponseHeader? decoded, out _));
        Assert.Equal(ResponseStatus.Ok, decoded.Status);
        Assert.Equal("", decoded.Message);
        Assert.Equal(tensor, decoded.Tensor);
    }

    [Fact]
    public void StatusCodes_HaveTheirWireValues()
    {
        Assert.Equal([0, 1, 2, 3, 4, 5, 6, 7],
        [
            (int)ResponseStatus.Ok, (int)ResponseStatus.NotFound, (int)ResponseStatus.NotAllowed, (int)ResponseStatus.TooLarge,
            (int)ResponseStatus.QueueFull, (int)ResponseStatus.BadRequest, (int)ResponseStatus.ShuttingDown, (int)ResponseStatus.InternalError,
        ]);
        Assert.Equal(1, (int)Operation.Push);
        Assert.Equal(2, (int)Operation.Pull);
    }

    // Both encoders (span and IBufferWriter) must produce the same bytes.
    internal static byte[] Encode(RequestHeader header)
    {
        var writer = new ArrayBufferWriter<byte>();
        Assert.Equal(header.FrameLength, header.WriteFrame(writer));
        byte[] span = new byte[header.FrameLength + 3];
        Assert.Equal(header.FrameLength, header.WriteFrame(span));
        Assert.Equal(writer.WrittenSpan.ToArray(), span[..header.FrameLength]);
        return writer.WrittenSpan.ToArray();
    }

    internal static byte[] Encode(ResponseHeader header)
    {
        var writer = new ArrayBufferWriter<byte>();
        Assert.Equal(header.FrameLength, header.WriteFrame(writer));
        byte[] span = new byte[header.FrameLength + 3];
        Assert.Equal(header.FrameLength, header.WriteFrame(span));
        Assert.Equal(writer.WrittenSpan.ToArray(), span[..header.FrameLength]);
        return writer.WrittenSpan.ToArray();
    }
}
