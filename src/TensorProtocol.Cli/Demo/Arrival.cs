using System.Security.Cryptography;

namespace TensorProtocol.Cli.Demo;

/// <summary>
/// One tensor that arrived in the demo, set against what was sent: it matches when dtype, shape and SHA-256 of the
/// payload are the same and it came from the node that sent it.
/// </summary>
internal sealed record Arrival(string Via, string Name, TensorData Sent, TensorData Received, string From, bool FromExpectedSender)
{
    public byte[] SentHash { get; } = SHA256.HashData(Sent.Payload.Span);

    public byte[] ReceivedHash { get; } = SHA256.HashData(Received.Payload.Span);

    public bool Matched =>
        FromExpectedSender
        && Sent.DType == Received.DType
        && Sent.Shape.SequenceEqual(Received.Shape)
        && SentHash.AsSpan().SequenceEqual(ReceivedHash);

    /// <summary>The first 12 hex digits of the received payload's SHA-256: enough to compare by eye (the check uses all).</summary>
    public string ShortHash => Convert.ToHexStringLower(ReceivedHash)[..12];
}
