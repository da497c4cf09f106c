namespace TensorProtocol;

/// <summary>What the connection pool knows about one peer: its pushes from this node and its pulls by this node.</summary>
/// <param name="Peer">The peer.</param>
/// <param name="SmoothedRtt">The pooled connection's smoothed round-trip time.</param>
/// <param name="BytesSent">Payload bytes of the tensors pushed to the peer.</param>
/// <param name="TensorsSent">Tensors pushed to the peer.</param>
/// <param name="BytesPulled">Payload bytes of the tensors pulled from the peer.</param>
/// <param name="TensorsPulled">Tensors pulled from the peer.</param>
/// <param name="LastUsed">When the pooled connection last finished a push or a pull.</param>
public sealed record PeerStatistics(NodeId Peer, TimeSpan SmoothedRtt, long BytesSent, long TensorsSent, long BytesPulled, long TensorsPulled, DateTimeOffset LastUsed);
