using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;

namespace TensorProtocol.Quic.Interop;

// Mirrors of <ngtcp2/ngtcp2_crypto.h>. The *_cb functions are never called from managed code: their addresses are
// put straight into ngtcp2_callbacks (see QuicNative), so packet protection runs without a managed hop.
internal static unsafe partial class ngtcp2_crypto
{
    internal const int NGTCP2_CRYPTO_TOKEN_MAGIC_RETRY2 = 0xb7;
    // 1 + sizeof(ngtcp2_sockaddr_union) + 1 + NGTCP2_MAX_CIDLEN + sizeof(ngtcp2_tstamp) + 16 + NGTCP2_CRYPTO_TOKEN_RAND_DATALEN.
    internal const int NGTCP2_CRYPTO_MAX_RETRY_TOKENLEN2 = 90;

    [StructLayout(LayoutKind.Sequential)]
    internal struct ngtcp2_crypto_conn_ref
    {
        public nint get_conn;
        public void* user_data;
    }

    [LibraryImport(Libraries.Ngtcp2CryptoGnutls)]
    [UnmanagedCallConv(CallConvs = [typeof(CallConvCdecl)])]
    internal static partial int ngtcp2_crypto_generate_stateless_reset_token(byte* token, byte* secret, nuint secretlen, ngtcp2.ngtcp2_cid* cid);

    [LibraryImport(Libraries.Ngtcp2CryptoGnutls)]
    [UnmanagedCallConv(CallConvs = [typeof(CallConvCdecl)])]
    internal static partial nint ngtcp2_crypto_write_connection_close(byte* dest, nuint destlen, uint version, ngtcp2.ngtcp2_cid* dcid, ngtcp2.ngtcp2_cid* scid, ulong error_code, byte* reason, nuint reasonlen);

    [LibraryImport(Libraries.Ngtcp2CryptoGnutls)]
    [UnmanagedCallConv(CallConvs = [typeof(CallConvCdecl)])]
    internal static partial nint ngtcp2_crypto_generate_retry_token2(byte* token, byte* secret, nuint secretlen, uint version, void* remote_addr, uint remote_addrlen, ngtcp2.ngtcp2_cid* retry_scid, ngtcp2.ngtcp2_cid* odcid, ulong ts);

    [LibraryImport(Libraries.Ngtcp2CryptoGnutls)]
    [UnmanagedCallConv(CallConvs = [typeof(CallConvCdecl)])]
    internal static partial int ngtcp2_crypto_verify_retry_token2(ngtcp2.ngtcp2_cid* odcid, byte* token, nuint tokenlen, byte* secret, nuint secretlen, uint version, void* remote_addr, uint remote_addrlen, ngtcp2.ngtcp2_cid* dcid, ulong timeout, ulong ts);

    [LibraryImport(Libraries.Ngtcp2CryptoGnutls)]
    [UnmanagedCallConv(CallConvs = [typeof(CallConvCdecl)])]
    internal static partial nint ngtcp2_crypto_write_retry(byte* dest, nuint destlen, uint version, ngtcp2.ngtcp2_cid* dcid, ngtcp2.ngtcp2_cid* scid, ngtcp2.ngtcp2_cid* odcid, byte* token, nuint tokenlen);
}
