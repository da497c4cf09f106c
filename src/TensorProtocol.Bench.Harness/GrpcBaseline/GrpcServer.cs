using System.Net;
using System.Security.Authentication;
using System.Security.Cryptography.X509Certificates;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Hosting.Server;
using Microsoft.AspNetCore.Hosting.Server.Features;
using Microsoft.AspNetCore.Server.Kestrel.Core;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using TensorProtocol.Bench.Server;
using TensorProtocol.Bench.Transports;

namespace TensorProtocol.Bench.GrpcBaseline;

/// <summary>
/// The server child of a gRPC baseline: Kestrel with ASP.NET Core's gRPC server on 127.0.0.1, HTTP/2 only (h2c by
/// prior knowledge, or TLS 1.3 with ALPN and a fresh self-signed certificate). It announces its
/// <see cref="GrpcEndpoint"/> and otherwise behaves like every server child (<see cref="ServerMode.ServeParentAsync"/>).
/// </summary>
internal static class GrpcServer
{
    public static async Task<int> RunAsync(string name, bool tls, int port)
    {
        using X509Certificate2? certificate = tls ? SelfSignedCertificate.Create() : null;
        WebApplicationBuilder builder = WebApplication.CreateSlimBuilder();
        // stdout is the channel to the parent: only warnings, and on stderr.
        builder.Logging.ClearProviders().SetMinimumLevel(LogLevel.Warning)
            .AddConsole(o => o.LogToStandardErrorThreshold = LogLevel.Trace);
        builder.WebHost.ConfigureKestrel(kestrel =>
        {
            kestrel.Limits.Http2.InitialConnectionWindowSize = GrpcTuning.WindowSize;
            kestrel.Limits.Http2.InitialStreamWindowSize = GrpcTuning.WindowSize;
            kestrel.Listen(IPAddress.Loopback, port, listen =>
            {
                listen.Protocols = HttpProtocols.Http2;
                if (certificate is not null)
                {
                    listen.UseHttps(https =>
                    {
                        https.ServerCertificate = certificate;
                        https.SslProtocols = SslProtocols.Tls13;
                    });
                }
            });
        });
        builder.Services.AddGrpc(grpc =>
        {
            grpc.MaxReceiveMessageSize = GrpcTuning.MaxMessageSize;
            grpc.MaxSendMessageSize = GrpcTuning.MaxMessageSize;
        });

        await using WebApplication app = builder.Build();
        app.MapGrpcService<TensorSinkService>();
        await app.StartAsync();

        string address = app.Services.GetRequiredService<IServer>().Features.Get<IServerAddressesFeature>()?.Addresses.SingleOrDefault()
            ?? throw new InvalidOperationException("Kestrel did not report the address it listens on.");
        var endpoint = new GrpcEndpoint(new Uri(address), certificate is null ? null : SelfSignedCertificate.PinOf(certificate));
        int exitCode = await ServerMode.ServeParentAsync($"[{name} server]", endpoint.ToString(), app.WaitForShutdownAsync(), "kestrel");
        await app.StopAsync();
        return exitCode;
    }
}
