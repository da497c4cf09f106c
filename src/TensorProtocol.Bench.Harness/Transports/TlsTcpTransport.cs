using System.Net;
using System.Net.Security;
using System.Net.Sockets;
using System.Security.Authentication;
using System.Security.Cryptography.X509Certificates;

namespace TensorProtocol.Bench.Transports;

/// <summary>
/// TLS 1.3 over TCP with <see cref="SslStream"/>: what QUIC is meant to beat, since both encrypt with TLS 1.3.
/// The server uses a fresh self-signed ECDSA P-256 certificate; the client accepts it only by its key pin.
/// </summary>
/// <remarks>Endpoint info: <c>127.0.0.1:PORT spki-sha256=HEX</c>.</remarks>
internal sealed class TlsTcpTransport : IBenchTransport
{
    private const string PinPrefix = "spki-sha256=";
    private const string ServerName = "localhost";

    public string Name => "tls-tcp";

    public Task<IBenchServer> StartServerAsync(IPEndPoint listenOn, CancellationToken cancellationToken)
    {
        X509Certificate2 certificate = SelfSignedCertificate.Create();
        try
        {
            return Task.FromResult<IBenchServer>(new Server(LoopbackTcp.Listen(listenOn), certificate));
        }
        catch
        {
            certificate.Dispose();
            throw;
        }
    }

    public async Task<IBenchClientConnection> ConnectAsync(string endpointInfo, CancellationToken cancellationToken)
    {
        (IPEndPoint server, string pin) = ParseEndpointInfo(endpointInfo);
        var options = new SslClientAuthenticationOptions
        {
            TargetHost = ServerName,
            EnabledSslProtocols = SslProtocols.Tls13,
            CertificateRevocationCheckMode = X509RevocationMode.NoCheck,
            RemoteCertificateValidationCallback = SelfSignedCertificate.AcceptOnly(pin),
            // Every connection pays a full handshake, so "cold connect" means the same thing for every transport.
            AllowTlsResume = false,
        };
        Socket socket = await LoopbackTcp.ConnectAsync(server, cancellationToken);
        var tls = new SslStream(new NetworkStream(socket, ownsSocket: true), leaveInnerStreamOpen: false);
        try
        {
            await tls.AuthenticateAsClientAsync(options, cancellationToken);
            return new SingleStreamConnection(tls);
        }
        catch
        {
            await tls.DisposeAsync();
            throw;
        }
    }

    private static (IPEndPoint Server, string Pin) ParseEndpointInfo(string endpointInfo)
    {
        string[] parts = endpointInfo.Split(' ', StringSplitOptions.RemoveEmptyEntries);
        if (parts.Length != 2 || !parts[1].StartsWith(PinPrefix, StringComparison.Ordinal))
        {
            throw new FormatException($"'{endpointInfo}' is not 'ADDRESS:PORT {PinPrefix}HEX'.");
        }
        return (LoopbackTcp.Parse(parts[0]), parts[1][PinPrefix.Length..]);
    }

    private sealed class Server : IBenchServer
    {
        private readonly Socket _listener;
        private readonly X509Certificate2 _certificate;
        private readonly SslServerAuthenticationOptions _options;

        public Server(Socket listener, X509Certificate2 certificate)
        {
            _listener = listener;
            _certificate = certificate;
            _options = new SslServerAuthenticationOptions
            {
                // Built once so handshakes do not rebuild the (one-certificate) chain each time.
                ServerCertificateContext = SslStreamCertificateContext.Create(certificate, additionalCertificates: null, offline: true),
                EnabledSslProtocols = SslProtocols.Tls13,
                ClientCertificateRequired = false,
                CertificateRevocationCheckMode = X509RevocationMode.NoCheck,
                AllowTlsResume = false,
            };
            EndpointInfo = $"{LoopbackTcp.Format((IPEndPoint)listener.LocalEndPoint!)} {PinPrefix}{SelfSignedCertificate.PinOf(certificate)}";
        }

        public string EndpointInfo { get; }

        public async Task<IBenchServerConnection> AcceptConnectionAsync(CancellationToken cancellationToken)
        {
            Socket socket = await LoopbackTcp.AcceptAsync(_listener, cancellationToken);
            var tls = new SslStream(new NetworkStream(socket, ownsSocket: true), leaveInnerStreamOpen: false);
            return new SingleStreamConnection(tls, ct => tls.AuthenticateAsServerAsync(_options, ct));
        }

        public ValueTask DisposeAsync()
        {
            _listener.Dispose();
            _certificate.Dispose();
            return ValueTask.CompletedTask;
        }
    }
}
