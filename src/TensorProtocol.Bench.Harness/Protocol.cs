using System.Buffers.Binary;

namespace TensorProtocol.Bench;

/// <summary>
/// What travels on a benchmark stream. The client starts every stream with a header (an op byte, then a
/// little-endian int64 argument), so one server serves every measurement and no transport needs to know about them.
/// </summary>
internal static class Protocol
{
    public const int HeaderSize = 9;

    /// <summary>
    /// Sink: the client sends <c>argument</c> bytes; once the server has read them all it replies with the count it
    /// read as a little-endian int64 (<see cref="AckSize"/> bytes). The ack, not end-of-stream, marks completion, so a
    /// transport need not support half-close.
    /// </summary>
    public const byte Bulk = (byte)'B';

    /// <summary>Echo: the client sends messages of <c>argument</c> bytes; the server sends each back, until the client closes the stream.</summary>
    public const byte Echo = (byte)'E';

    public const int AckSize = sizeof(long);

    /// <summary>Bulk data moves in chunks of this size, from one reused buffer at each end.</summary>
    public const int BulkChunkSize = 1 << 20;

    /// <summary>Size of the request and of the response in the round-trip measurements.</summary>
    public const int EchoMessageSize = 4096;

    /// <summary>Upper bound on an echo message, so a garbled header cannot make the server allocate without limit.</summary>
    public const int MaxEchoMessageSize = 1 << 20;

    public static byte[] Header(byte op, long argument)
    {
        var header = new byte[HeaderSize];
        header[0] = op;
        BinaryPrimitives.WriteInt64LittleEndian(header.AsSpan(1), argument);
        return header;
    }
}
