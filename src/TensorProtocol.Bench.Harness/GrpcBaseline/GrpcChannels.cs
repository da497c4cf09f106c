using System.Net.Security;
using System.Security.Authentication;
using System.Security.Cryptography.X509Certificates;
using Grpc.Net.Client;
using TensorProtocol.Bench.Transports;

namespace TensorProtocol.Bench.GrpcBaseline;

/// <summary>The client's side of the configuration: a channel with its own HTTP handler, so its own connection.</summary>
internal static class GrpcChannels
{
    public static GrpcChannel Create(GrpcEndpoint endpoint)
    {
        var handler = new SocketsHttpHandler
        {
            // The client's receive window: the acks are small, but the configuration is symmetric, as a gRPC user
            // tuning for bulk transfers would set it.
            InitialHttp2StreamWindowSize = GrpcTuning.WindowSize,
            // Only matters past 100 concurrent calls on one connection; set as recommended for high-throughput
            // clients, and harmless for one call at a time.
            EnableMultipleHttp2Connections = true,
            // Keep the one connection for the whole run (the default idles it out after a minute).
            PooledConnectionIdleTimeout = Timeout.InfiniteTimeSpan,
        };
        if (endpoint.Pin is { } pin)
        {
            handler.SslOptions = new SslClientAuthenticationOptions
            {
                EnabledSslProtocols = SslProtocols.Tls13,
                CertificateRevocationCheckMode = X509RevocationMode.NoCheck,
                RemoteCertificateValidationCallback = SelfSignedCertificate.AcceptOnly(pin),
                // Every connection pays a full handshake, so "cold" means the same thing as for tls-tcp.
                AllowTlsResume = false,
            };
        }
        return GrpcChannel.ForAddress(endpoint.Address, new GrpcChannelOptions
        {
            HttpHandler = handler,
            DisposeHttpClient = true,
            MaxSendMessageSize = GrpcTuning.MaxMessageSize,
            MaxReceiveMessageSize = GrpcTuning.MaxMessageSize,
        });
    }
}
