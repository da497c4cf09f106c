namespace TensorProtocol.Formats;

/// <summary>Writes a tensor's payload to a stream segment by segment, straight from its memory (no gathering copy).</summary>
internal static class PayloadStreamWriter
{
    public static void Write(Stream destination, TensorData tensor)
    {
        foreach (ReadOnlyMemory<byte> segment in tensor.PayloadSequence)
        {
            destination.Write(segment.Span);
        }
    }

    public static async ValueTask WriteAsync(Stream destination, TensorData tensor, CancellationToken cancellationToken)
    {
        foreach (ReadOnlyMemory<byte> segment in tensor.PayloadSequence)
        {
            await destination.WriteAsync(segment, cancellationToken).ConfigureAwait(false);
        }
    }
}
