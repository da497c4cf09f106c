using System.Security.Cryptography;

namespace TensorProtocol.Cli.Demo;

/// <summary>
/// One tensor that arrived in the demo, checked against what was sent: it matches when dtype, shape and SHA-256 of
/// the payload are the same and it came from the node that sent it. Holds no payload, so that a report does not keep
/// large tensors alive.
/// </summary>
internal sealed record Arrival(string Via, string Name, TensorMetadata Received, string From, bool Matched, byte[] ReceivedHash)
{
    /// <summary>Compares <paramref name="received"/> with <paramref name="sent"/>.</summary>
    public static Arrival Check(string via, string name, TensorData sent, TensorData received, string from, bool fromExpectedSender)
    {
        byte[] receivedHash = SHA256.HashData(received.Payload.Span);
        bool matched = fromExpectedSender
            && sent.DType == received.DType
            && sent.Shape.SequenceEqual(received.Shape)
            && SHA256.HashData(sent.Payload.Span).AsSpan().SequenceEqual(receivedHash);
        return new Arrival(via, name, received.Metadata, from, matched, receivedHash);
    }

    /// <summary>The first 12 hex digits of the received payload's SHA-256: enough to compare by eye (the check uses all).</summary>
    public string ShortHash => Convert.ToHexStringLower(ReceivedHash)[..12];
}
