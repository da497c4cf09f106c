using System.Buffers.Binary;
using TensorProtocol.Bench.Transports;

namespace TensorProtocol.Bench.Server;

/// <summary>The server's half of <see cref="Protocol"/>: serves one stream until the client is done with it.</summary>
internal static class StreamHandler
{
    public static async Task ServeAsync(Stream stream, CancellationToken cancellationToken)
    {
        var header = new byte[Protocol.HeaderSize];
        int read = await stream.ReadAtLeastAsync(header, header.Length, throwOnEndOfStream: false, cancellationToken);
        if (read == 0)
        {
            return; // opened and closed without a request
        }
        if (read < header.Length)
        {
            throw new EndOfStreamException("The stream ended inside its header.");
        }

        long argument = BinaryPrimitives.ReadInt64LittleEndian(header.AsSpan(1));
        switch (header[0])
        {
            case Protocol.Bulk:
                await SinkAsync(stream, argument, cancellationToken);
                break;
            case Protocol.Echo when argument is > 0 and <= Protocol.MaxEchoMessageSize:
                await EchoAsync(stream, (int)argument, cancellationToken);
                break;
            default:
                throw new InvalidDataException($"Bad request header: op 0x{header[0]:x2}, argument {argument}.");
        }
    }

    private static async Task SinkAsync(Stream stream, long count, CancellationToken cancellationToken)
    {
        // Pinned and reused, like the sender's, so the receiver's CPU is spent on the transport rather than the GC.
        byte[] buffer = GC.AllocateUninitializedArray<byte>(Protocol.BulkChunkSize, pinned: true);
        long received = 0;
        while (received < count)
        {
            // Never read past the announced count: anything after it is not ours to consume.
            int want = (int)Math.Min(buffer.Length, count - received);
            if (stream is IBulkStream bulk)
            {
                await bulk.FillAsync(buffer.AsMemory(0, want), cancellationToken);
                received += want;
                continue;
            }
            int n = await stream.ReadAsync(buffer.AsMemory(0, want), cancellationToken);
            if (n == 0)
            {
                throw new EndOfStreamException($"The stream ended after {received} of {count} bytes.");
            }
            received += n;
        }

        var ack = new byte[Protocol.AckSize];
        BinaryPrimitives.WriteInt64LittleEndian(ack, received);
        await stream.WriteAsync(ack, cancellationToken);
        await stream.FlushAsync(cancellationToken);
    }

    private static async Task EchoAsync(Stream stream, int messageSize, CancellationToken cancellationToken)
    {
        byte[] message = GC.AllocateUninitializedArray<byte>(messageSize, pinned: true);
        while (true)
        {
            int n = await stream.ReadAtLeastAsync(message, messageSize, throwOnEndOfStream: false, cancellationToken);
            if (n == 0)
            {
                return; // the client is done
            }
            if (n < messageSize)
            {
                throw new EndOfStreamException($"The stream ended inside a message ({n} of {messageSize} bytes).");
            }
            await stream.WriteAsync(message, cancellationToken);
            await stream.FlushAsync(cancellationToken);
        }
    }
}
