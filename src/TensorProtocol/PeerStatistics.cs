namespace TensorProtocol;

/// <summary>What the connection pool knows about one peer.</summary>
public sealed record PeerStatistics(NodeId Peer, TimeSpan SmoothedRtt, long BytesSent, long TensorsSent, DateTimeOffset LastUsed);
