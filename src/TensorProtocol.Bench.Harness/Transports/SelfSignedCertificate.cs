using System.Net;
using System.Net.Security;
using System.Security.Cryptography;
using System.Security.Cryptography.X509Certificates;

namespace TensorProtocol.Bench.Transports;

/// <summary>
/// The server certificate for TLS-based transports and the pin a client checks it against. The server makes a fresh
/// key pair per run, so the pin travels to the client in the endpoint info instead of through a trust store.
/// </summary>
internal static class SelfSignedCertificate
{
    /// <summary>An ECDSA P-256 certificate for <c>localhost</c>/<c>127.0.0.1</c>, valid for a day either side of now.</summary>
    public static X509Certificate2 Create()
    {
        using var key = ECDsa.Create(ECCurve.NamedCurves.nistP256);
        var request = new CertificateRequest("CN=localhost", key, HashAlgorithmName.SHA256);
        var names = new SubjectAlternativeNameBuilder();
        names.AddDnsName("localhost");
        names.AddIpAddress(IPAddress.Loopback);
        request.CertificateExtensions.Add(names.Build());
        request.CertificateExtensions.Add(new X509BasicConstraintsExtension(false, false, 0, critical: true));
        request.CertificateExtensions.Add(new X509KeyUsageExtension(X509KeyUsageFlags.DigitalSignature, critical: true));
        request.CertificateExtensions.Add(new X509EnhancedKeyUsageExtension([new Oid("1.3.6.1.5.5.7.3.1")], critical: false));

        DateTimeOffset now = DateTimeOffset.UtcNow;
        using X509Certificate2 ephemeral = request.CreateSelfSigned(now.AddDays(-1), now.AddDays(1));
        // Round-trip through PKCS#12 (in memory) because Windows' TLS stack cannot use a key that only lives in
        // this process's CNG object; elsewhere it is a cheap no-op in effect.
        return X509CertificateLoader.LoadPkcs12(ephemeral.Export(X509ContentType.Pkcs12), password: null);
    }

    /// <summary>Hex SHA-256 of the certificate's SubjectPublicKeyInfo: it names the key, whatever certificate wraps it.</summary>
    public static string PinOf(X509Certificate2 certificate) =>
        Convert.ToHexStringLower(SHA256.HashData(certificate.PublicKey.ExportSubjectPublicKeyInfo()));

    /// <summary>
    /// A validation callback that accepts exactly the certificate whose key has <paramref name="expectedPin"/>. The
    /// only error it forgives is the untrusted chain (the certificate is self-signed); a wrong name still fails.
    /// </summary>
    public static RemoteCertificateValidationCallback AcceptOnly(string expectedPin) =>
        (_, certificate, _, errors) =>
            // SslStream hands over an X509Certificate2; anything else fails closed.
            certificate is X509Certificate2 presented
            && (errors & ~SslPolicyErrors.RemoteCertificateChainErrors) == SslPolicyErrors.None
            && string.Equals(PinOf(presented), expectedPin, StringComparison.OrdinalIgnoreCase);
}
