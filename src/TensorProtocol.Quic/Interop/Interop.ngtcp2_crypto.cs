using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;

namespace TensorProtocol.Quic.Interop;

// Mirrors of <ngtcp2/ngtcp2_crypto.h>. The *_cb functions are never called from managed code: their addresses are
// put straight into ngtcp2_callbacks (see QuicNative), so packet protection runs without a managed hop.
internal static unsafe partial class ngtcp2_crypto
{
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
}
