namespace TensorProtocol.Bench.Transports;

/// <summary>
/// A stream whose transport has a bulk API of its own, which the throughput measurement uses instead of
/// <see cref="Stream"/>'s. TCP and TLS have none beyond <see cref="Stream"/> (a socket send already copies into the kernel,
/// SslStream already encrypts into its own buffer); QUIC's is the zero-copy write and the filling read that the tensor
/// protocol uses, where <see cref="Stream"/>'s contract forces its adapter to copy every write.
/// </summary>
internal interface IBulkStream
{
    /// <summary>Sends <paramref name="bytes"/> bytes, <paramref name="chunk"/> over and over; <paramref name="chunk"/> is never changed.</summary>
    Task SendRepeatedAsync(ReadOnlyMemory<byte> chunk, long bytes, CancellationToken cancellationToken);

    /// <summary>Fills <paramref name="buffer"/> completely; fails if the stream ends first.</summary>
    ValueTask FillAsync(Memory<byte> buffer, CancellationToken cancellationToken);
}
