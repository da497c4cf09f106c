using System.Net;
using Microsoft.Extensions.Logging;

namespace TensorProtocol.Quic;

/// <summary>The QUIC layer's log messages, with stable event ids. Off unless a logger factory is given.</summary>
internal static partial class Log
{
    [LoggerMessage(EventId = 1, Level = LogLevel.Information, Message = "Endpoint listening on {LocalEndPoint} as {PublicKey} (GRO {Gro}, GSO {Gso})")]
    internal static partial void EndpointStarted(ILogger logger, IPEndPoint localEndPoint, QuicPublicKey publicKey, bool gro, bool gso);

    [LoggerMessage(EventId = 2, Level = LogLevel.Information, Message = "Endpoint on {LocalEndPoint} stopped")]
    internal static partial void EndpointStopped(ILogger logger, IPEndPoint localEndPoint);

    [LoggerMessage(EventId = 3, Level = LogLevel.Debug, Message = "[{ConnectionId}] handshake with {RemoteEndPoint} done; peer key {PeerKey}")]
    internal static partial void HandshakeCompleted(ILogger logger, string connectionId, IPEndPoint remoteEndPoint, QuicPublicKey peerKey);

    [LoggerMessage(EventId = 4, Level = LogLevel.Debug, Message = "[{ConnectionId}] connection to {RemoteEndPoint} ended ({Kind}): {Reason}")]
    internal static partial void ConnectionTerminated(ILogger logger, string connectionId, IPEndPoint remoteEndPoint, QuicErrorKind kind, string reason);

    [LoggerMessage(EventId = 5, Level = LogLevel.Debug, Message = "Refused a connection attempt from {RemoteEndPoint}: {Reason}")]
    internal static partial void ConnectionRefused(ILogger logger, IPEndPoint remoteEndPoint, string reason);

    [LoggerMessage(EventId = 6, Level = LogLevel.Error, Message = "The endpoint loop on {LocalEndPoint} failed")]
    internal static partial void LoopFailed(ILogger logger, IPEndPoint localEndPoint, Exception exception);

    [LoggerMessage(EventId = 7, Level = LogLevel.Trace, Message = "Dropped a datagram from {RemoteEndPoint}: {Reason}")]
    internal static partial void DatagramDropped(ILogger logger, IPEndPoint remoteEndPoint, string reason);

    [LoggerMessage(EventId = 9, Level = LogLevel.Information, Message = "Deferred {Count} handshakes in the last second: {RemoteEndPoint} (the latest) had as many in progress as one source may (MaxHandshakesPerAddress); their clients will try again")]
    internal static partial void HandshakesDeferred(ILogger logger, long count, IPEndPoint remoteEndPoint);

    [LoggerMessage(EventId = 8, Level = LogLevel.Error, Message = "[{ConnectionId}] the inbound stream handler failed on stream {StreamId}; the stream was aborted")]
    internal static partial void InboundStreamHandlerFailed(ILogger logger, string connectionId, long streamId, Exception exception);
}
