using System.Formats.Asn1;

namespace TensorProtocol.Quic;

/// <summary>Reads the one thing we trust in a peer's certificate: its Ed25519 subject public key.</summary>
internal static class PeerCertificate
{
    private const string Ed25519Oid = "1.3.101.112";

    /// <summary>
    /// Extracts the Ed25519 key from a DER X.509 certificate. The chain and the self-signature do not matter: TLS 1.3's
    /// CertificateVerify already proved the peer holds the private key of exactly this public key.
    /// </summary>
    internal static bool TryGetEd25519PublicKey(ReadOnlyMemory<byte> der, out QuicPublicKey key)
    {
        key = default;
        try
        {
            var certificate = new AsnReader(der, AsnEncodingRules.DER);
            AsnReader cert = certificate.ReadSequence();
            AsnReader tbs = cert.ReadSequence();
            if (tbs.PeekTag().HasSameClassAndValue(new Asn1Tag(TagClass.ContextSpecific, 0)))
            {
                tbs.ReadEncodedValue();           // [0] version
            }
            tbs.ReadEncodedValue();               // serialNumber
            tbs.ReadEncodedValue();               // signature
            tbs.ReadEncodedValue();               // issuer
            tbs.ReadEncodedValue();               // validity
            tbs.ReadEncodedValue();               // subject
            AsnReader spki = tbs.ReadSequence();
            AsnReader algorithm = spki.ReadSequence();
            if (algorithm.ReadObjectIdentifier() != Ed25519Oid || algorithm.HasData)
            {
                return false;
            }
            if (!spki.TryReadPrimitiveBitString(out int unusedBits, out ReadOnlyMemory<byte> bits) || unusedBits != 0 || bits.Length != QuicPublicKey.Length)
            {
                return false;
            }
            key = new QuicPublicKey(bits.Span);
            return true;
        }
        catch (AsnContentException)
        {
            return false;
        }
    }
}
