using System.Diagnostics.CodeAnalysis;

namespace TensorProtocol.Wire;

/// <summary>A header type that <see cref="Frame"/> can read from a byte sequence.</summary>
internal interface IWireHeader<TSelf>
    where TSelf : class, IWireHeader<TSelf>
{
    /// <summary>Decodes a header (without its length prefix); never throws.</summary>
    static abstract bool TryDecode(ReadOnlySpan<byte> header, long maxPayloadLength, [NotNullWhen(true)] out TSelf? value, out ProtocolError error);
}
