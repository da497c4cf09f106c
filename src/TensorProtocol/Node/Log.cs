using Microsoft.Extensions.Logging;

namespace TensorProtocol.Node;

/// <summary>The node's log messages, with stable event ids (100+; the QUIC layer uses 1–99).</summary>
internal static partial class Log
{
    [LoggerMessage(EventId = 100, Level = LogLevel.Information, Message = "Node {NodeId} started; ticket {Ticket}")]
    internal static partial void NodeStarted(ILogger logger, NodeId nodeId, NodeTicket ticket);

    [LoggerMessage(EventId = 101, Level = LogLevel.Information, Message = "Node {NodeId} stopped")]
    internal static partial void NodeStopped(ILogger logger, NodeId? nodeId);

    [LoggerMessage(EventId = 102, Level = LogLevel.Debug, Message = "Received {Name} ({Bytes} bytes) from {Sender}")]
    internal static partial void Received(ILogger logger, string name, long bytes, NodeId sender);

    [LoggerMessage(EventId = 103, Level = LogLevel.Debug, Message = "Refused {Operation} of {Name} from {Peer}: {Status} {Reason}")]
    internal static partial void Refused(ILogger logger, string operation, string name, NodeId peer, string status, string reason);

    [LoggerMessage(EventId = 104, Level = LogLevel.Debug, Message = "Stream from {Peer} failed: {Reason}")]
    internal static partial void StreamFailed(ILogger logger, NodeId peer, string reason);

    [LoggerMessage(EventId = 105, Level = LogLevel.Warning, Message = "Serving a stream from {Peer} failed unexpectedly")]
    internal static partial void StreamFailedUnexpectedly(ILogger logger, NodeId peer, Exception exception);
}
