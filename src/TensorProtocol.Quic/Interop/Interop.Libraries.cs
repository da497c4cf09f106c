namespace TensorProtocol.Quic.Interop;

/// <summary>The shared objects this library binds to, by their ABI soname.</summary>
internal static partial class Libraries
{
    // ngtcp2 1.x keeps soname 16; 0.x (Debian 12's own libngtcp2-9) has a different ABI and must not load.
    internal const string Ngtcp2 = "libngtcp2.so.16";
    internal const string Ngtcp2CryptoGnutls = "libngtcp2_crypto_gnutls.so.8";
    internal const string Gnutls = "libgnutls.so.30";
    internal const string Libc = "libc";
}
