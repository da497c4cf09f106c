using System.Net;

namespace TensorProtocol.Bench.GrpcBaseline;

/// <summary>
/// Where a gRPC server child listens, as its endpoint info line carries it: <c>http://127.0.0.1:PORT</c> for h2c,
/// <c>https://127.0.0.1:PORT spki-sha256=HEX</c> over TLS (the client accepts the certificate only by that pin).
/// </summary>
internal sealed record GrpcEndpoint(Uri Address, string? Pin)
{
    private const string PinPrefix = "spki-sha256=";

    public override string ToString() => Pin is null ? Address.ToString() : $"{Address} {PinPrefix}{Pin}";

    public static GrpcEndpoint Parse(string endpointInfo)
    {
        string[] parts = endpointInfo.Split(' ', StringSplitOptions.RemoveEmptyEntries);
        if (parts.Length is < 1 or > 2
            || !Uri.TryCreate(parts[0], UriKind.Absolute, out Uri? address)
            || (parts.Length == 2) != (address.Scheme == Uri.UriSchemeHttps)
            || (parts.Length == 2 && !parts[1].StartsWith(PinPrefix, StringComparison.Ordinal)))
        {
            throw new FormatException($"'{endpointInfo}' is not 'http://ADDRESS:PORT' or 'https://ADDRESS:PORT {PinPrefix}HEX'.");
        }
        // The benchmark must never send traffic off the machine, whatever a server process prints.
        if (!IPAddress.TryParse(address.Host, out IPAddress? ip) || !IPAddress.IsLoopback(ip))
        {
            throw new FormatException($"'{address}' is not a loopback address.");
        }
        return new GrpcEndpoint(address, parts.Length == 2 ? parts[1][PinPrefix.Length..] : null);
    }
}
