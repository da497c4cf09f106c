using System.Buffers;
using System.Diagnostics.CodeAnalysis;

namespace TensorProtocol.Wire;

/// <summary>A header type that <see cref="Frame"/> can read from a byte sequence and that can write its own frame.</summary>
internal interface IWireHeader<TSelf>
    where TSelf : class, IWireHeader<TSelf>
{
    /// <summary>The length prefix plus the header.</summary>
    int FrameLength { get; }

    /// <summary>Writes the length prefix and the header; returns <see cref="FrameLength"/>.</summary>
    int WriteFrame(Span<byte> destination);

    /// <summary>Decodes a header (without its length prefix); never throws.</summary>
    static abstract bool TryDecode(ReadOnlySpan<byte> header, long maxPayloadLength, [NotNullWhen(true)] out TSelf? value, out ProtocolError error);
}

/// <summary>Frame writing shared by every header type.</summary>
internal static class WireHeaderExtensions
{
    /// <summary>Writes the length prefix and the header into <paramref name="writer"/>; returns the bytes written.</summary>
    public static int WriteFrame<T>(this T header, IBufferWriter<byte> writer)
        where T : class, IWireHeader<T>
    {
        ArgumentNullException.ThrowIfNull(writer);
        int written = header.WriteFrame(writer.GetSpan(header.FrameLength));
        writer.Advance(written);
        return written;
    }

    /// <summary>The whole frame as a new array.</summary>
    public static byte[] ToFrame<T>(this T header)
        where T : class, IWireHeader<T>
    {
        byte[] frame = new byte[header.FrameLength];
        header.WriteFrame(frame);
        return frame;
    }
}
