using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;

namespace TensorProtocol.Quic.Interop;

// Mirrors of <ngtcp2/ngtcp2_crypto_gnutls.h>.
internal static unsafe partial class ngtcp2_crypto_gnutls
{
    [LibraryImport(Libraries.Ngtcp2CryptoGnutls)]
    [UnmanagedCallConv(CallConvs = [typeof(CallConvCdecl)])]
    internal static partial int ngtcp2_crypto_gnutls_configure_server_session(void* session);

    [LibraryImport(Libraries.Ngtcp2CryptoGnutls)]
    [UnmanagedCallConv(CallConvs = [typeof(CallConvCdecl)])]
    internal static partial int ngtcp2_crypto_gnutls_configure_client_session(void* session);
}
