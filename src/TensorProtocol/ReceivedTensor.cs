namespace TensorProtocol;

/// <summary>A tensor a peer pushed to this node: its name, the data, and the authenticated sender.</summary>
public sealed record ReceivedTensor(string Name, TensorData Data, NodeId Sender);
