using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;

namespace TensorProtocol.Quic.Interop;

// Mirrors of <gnutls/gnutls.h> and <gnutls/x509.h>: only what identity, certificates and the QUIC TLS session use.
internal static unsafe partial class gnutls
{
    internal const uint GNUTLS_SERVER = 1;
    internal const uint GNUTLS_CLIENT = 1 << 1;
    internal const uint GNUTLS_NO_TICKETS = 1 << 10;
    internal const uint GNUTLS_NO_END_OF_EARLY_DATA = 1 << 22;

    internal const int GNUTLS_CRD_CERTIFICATE = 1;
    internal const int GNUTLS_CERT_REQUIRE = 2;
    internal const int GNUTLS_X509_FMT_DER = 0;
    internal const int GNUTLS_X509_FMT_PEM = 1;
    internal const int GNUTLS_PK_EDDSA_ED25519 = 7;
    internal const int GNUTLS_ECC_CURVE_ED25519 = 7;
    internal const int GNUTLS_DIG_UNKNOWN = 0;
    internal const int GNUTLS_DIG_SHA512 = 8;
    internal const uint GNUTLS_PKCS_PLAIN = 1;
    internal const uint GNUTLS_ALPN_MANDATORY = 1;
    internal const int GNUTLS_E_SUCCESS = 0;
    internal const int GNUTLS_E_CERTIFICATE_ERROR = -43;
    internal const int GNUTLS_E_NO_APPLICATION_PROTOCOL = -344;

    [StructLayout(LayoutKind.Sequential)]
    internal struct gnutls_datum_t
    {
        public byte* data;
        public uint size;
    }

    [LibraryImport(Libraries.Gnutls, StringMarshalling = StringMarshalling.Utf8)]
    [UnmanagedCallConv(CallConvs = [typeof(CallConvCdecl)])]
    internal static partial byte* gnutls_check_version(string? req_version);

    [LibraryImport(Libraries.Gnutls)]
    [UnmanagedCallConv(CallConvs = [typeof(CallConvCdecl)])]
    internal static partial byte* gnutls_strerror(int error);

    [LibraryImport(Libraries.Gnutls)]
    [UnmanagedCallConv(CallConvs = [typeof(CallConvCdecl)])]
    internal static partial int gnutls_init(void** session, uint flags);

    [LibraryImport(Libraries.Gnutls)]
    [UnmanagedCallConv(CallConvs = [typeof(CallConvCdecl)])]
    internal static partial void gnutls_deinit(void* session);

    [LibraryImport(Libraries.Gnutls, StringMarshalling = StringMarshalling.Utf8)]
    [UnmanagedCallConv(CallConvs = [typeof(CallConvCdecl)])]
    internal static partial int gnutls_priority_init(void** priority_cache, string priorities, byte** err_pos);

    [LibraryImport(Libraries.Gnutls)]
    [UnmanagedCallConv(CallConvs = [typeof(CallConvCdecl)])]
    internal static partial void gnutls_priority_deinit(void* priority_cache);

    [LibraryImport(Libraries.Gnutls)]
    [UnmanagedCallConv(CallConvs = [typeof(CallConvCdecl)])]
    internal static partial int gnutls_priority_set(void* session, void* priority);

    [LibraryImport(Libraries.Gnutls)]
    [UnmanagedCallConv(CallConvs = [typeof(CallConvCdecl)])]
    internal static partial void gnutls_session_set_ptr(void* session, void* ptr);

    [LibraryImport(Libraries.Gnutls)]
    [UnmanagedCallConv(CallConvs = [typeof(CallConvCdecl)])]
    internal static partial void* gnutls_session_get_ptr(void* session);

    [LibraryImport(Libraries.Gnutls)]
    [UnmanagedCallConv(CallConvs = [typeof(CallConvCdecl)])]
    internal static partial int gnutls_credentials_set(void* session, int type, void* cred);

    [LibraryImport(Libraries.Gnutls)]
    [UnmanagedCallConv(CallConvs = [typeof(CallConvCdecl)])]
    internal static partial void gnutls_certificate_server_set_request(void* session, int req);

    [LibraryImport(Libraries.Gnutls)]
    [UnmanagedCallConv(CallConvs = [typeof(CallConvCdecl)])]
    internal static partial gnutls_datum_t* gnutls_certificate_get_peers(void* session, uint* list_size);

    [LibraryImport(Libraries.Gnutls)]
    [UnmanagedCallConv(CallConvs = [typeof(CallConvCdecl)])]
    internal static partial int gnutls_alpn_set_protocols(void* session, gnutls_datum_t* protocols, uint protocols_size, uint flags);

    [LibraryImport(Libraries.Gnutls)]
    [UnmanagedCallConv(CallConvs = [typeof(CallConvCdecl)])]
    internal static partial int gnutls_alpn_get_selected_protocol(void* session, gnutls_datum_t* protocol);

    [LibraryImport(Libraries.Gnutls)]
    [UnmanagedCallConv(CallConvs = [typeof(CallConvCdecl)])]
    internal static partial int gnutls_certificate_allocate_credentials(void** res);

    [LibraryImport(Libraries.Gnutls)]
    [UnmanagedCallConv(CallConvs = [typeof(CallConvCdecl)])]
    internal static partial void gnutls_certificate_free_credentials(void* sc);

    [LibraryImport(Libraries.Gnutls)]
    [UnmanagedCallConv(CallConvs = [typeof(CallConvCdecl)])]
    internal static partial int gnutls_certificate_set_x509_key(void* res, void** cert_list, int cert_list_size, void* key);

    [LibraryImport(Libraries.Gnutls)]
    [UnmanagedCallConv(CallConvs = [typeof(CallConvCdecl)])]
    internal static partial void gnutls_certificate_set_verify_function(void* cred, nint func);

    [LibraryImport(Libraries.Gnutls)]
    [UnmanagedCallConv(CallConvs = [typeof(CallConvCdecl)])]
    internal static partial int gnutls_x509_privkey_init(void** key);

    [LibraryImport(Libraries.Gnutls)]
    [UnmanagedCallConv(CallConvs = [typeof(CallConvCdecl)])]
    internal static partial void gnutls_x509_privkey_deinit(void* key);

    [LibraryImport(Libraries.Gnutls)]
    [UnmanagedCallConv(CallConvs = [typeof(CallConvCdecl)])]
    internal static partial int gnutls_x509_privkey_generate(void* key, int algo, uint bits, uint flags);

    [LibraryImport(Libraries.Gnutls)]
    [UnmanagedCallConv(CallConvs = [typeof(CallConvCdecl)])]
    internal static partial int gnutls_x509_privkey_import2(void* key, gnutls_datum_t* data, int format, byte* password, uint flags);

    [LibraryImport(Libraries.Gnutls)]
    [UnmanagedCallConv(CallConvs = [typeof(CallConvCdecl)])]
    internal static partial int gnutls_x509_privkey_get_pk_algorithm(void* key);

    [LibraryImport(Libraries.Gnutls)]
    [UnmanagedCallConv(CallConvs = [typeof(CallConvCdecl)])]
    internal static partial int gnutls_x509_privkey_export2_pkcs8(void* key, int format, byte* password, uint flags, gnutls_datum_t* @out);

    [LibraryImport(Libraries.Gnutls)]
    [UnmanagedCallConv(CallConvs = [typeof(CallConvCdecl)])]
    internal static partial int gnutls_x509_privkey_export_ecc_raw(void* key, int* curve, gnutls_datum_t* x, gnutls_datum_t* y, gnutls_datum_t* k);

    [LibraryImport(Libraries.Gnutls)]
    [UnmanagedCallConv(CallConvs = [typeof(CallConvCdecl)])]
    internal static partial int gnutls_x509_crt_init(void** cert);

    [LibraryImport(Libraries.Gnutls)]
    [UnmanagedCallConv(CallConvs = [typeof(CallConvCdecl)])]
    internal static partial void gnutls_x509_crt_deinit(void* cert);

    [LibraryImport(Libraries.Gnutls)]
    [UnmanagedCallConv(CallConvs = [typeof(CallConvCdecl)])]
    internal static partial int gnutls_x509_crt_set_version(void* crt, uint version);

    [LibraryImport(Libraries.Gnutls)]
    [UnmanagedCallConv(CallConvs = [typeof(CallConvCdecl)])]
    internal static partial int gnutls_x509_crt_set_serial(void* cert, void* serial, nuint serial_size);

    [LibraryImport(Libraries.Gnutls)]
    [UnmanagedCallConv(CallConvs = [typeof(CallConvCdecl)])]
    internal static partial int gnutls_x509_crt_set_activation_time(void* cert, long act_time);

    [LibraryImport(Libraries.Gnutls)]
    [UnmanagedCallConv(CallConvs = [typeof(CallConvCdecl)])]
    internal static partial int gnutls_x509_crt_set_expiration_time(void* cert, long exp_time);

    [LibraryImport(Libraries.Gnutls)]
    [UnmanagedCallConv(CallConvs = [typeof(CallConvCdecl)])]
    internal static partial int gnutls_x509_crt_set_key(void* crt, void* key);

    [LibraryImport(Libraries.Gnutls, StringMarshalling = StringMarshalling.Utf8)]
    [UnmanagedCallConv(CallConvs = [typeof(CallConvCdecl)])]
    internal static partial int gnutls_x509_crt_set_dn_by_oid(void* crt, string oid, uint raw_flag, void* name, uint sizeof_name);

    [LibraryImport(Libraries.Gnutls)]
    [UnmanagedCallConv(CallConvs = [typeof(CallConvCdecl)])]
    internal static partial int gnutls_x509_crt_sign2(void* crt, void* issuer, void* issuer_key, int dig, uint flags);

    [LibraryImport(Libraries.Gnutls)]
    [UnmanagedCallConv(CallConvs = [typeof(CallConvCdecl)])]
    internal static partial int gnutls_x509_crt_export2(void* cert, int format, gnutls_datum_t* @out);

    /// <summary>Frees memory GnuTLS allocated for us. <c>gnutls_free</c> is an exported variable, not a function.</summary>
    internal static void gnutls_free(void* ptr)
    {
        if (ptr != null)
        {
            ((delegate* unmanaged[Cdecl]<void*, void>)Native.QuicNative.GnutlsFree)(ptr);
        }
    }
}
