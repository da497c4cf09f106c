using System.Diagnostics;
using System.Runtime.InteropServices;
using TensorProtocol.Quic.Interop;

namespace TensorProtocol.Quic.Native;

/// <summary>
/// The one place that loads ngtcp2, its GnuTLS crypto backend and GnuTLS, checks their versions and resolves the
/// native callback addresses. It never throws from its type initializer: <see cref="IsSupported"/> and
/// <see cref="NotSupportedReason"/> say what is wrong, and <see cref="ThrowIfNotSupported"/> turns that into an
/// exception at the first public entry.
/// </summary>
internal static unsafe class QuicNative
{
    /// <summary>The oldest ngtcp2 this binding is tested against (the Debian 12 backports / Debian 13 package).</summary>
    internal const int MinimumNgtcp2Version = 0x010b00;
    internal const string MinimumNgtcp2VersionText = "1.11.0";
    internal const string MinimumGnutlsVersionText = "3.7.2"; // GNUTLS_NO_END_OF_EARLY_DATA

    internal static readonly bool IsSupported;
    internal static readonly string? NotSupportedReason;
    internal static readonly string Ngtcp2VersionText = "";
    internal static readonly string GnutlsVersionText = "";

    // Addresses of ngtcp2_crypto_*_cb in libngtcp2_crypto_gnutls: go straight into ngtcp2_callbacks.
    internal static readonly nint client_initial_cb;
    internal static readonly nint recv_client_initial_cb;
    internal static readonly nint recv_crypto_data_cb;
    internal static readonly nint encrypt_cb;
    internal static readonly nint decrypt_cb;
    internal static readonly nint hp_mask_cb;
    internal static readonly nint recv_retry_cb;
    internal static readonly nint update_key_cb;
    internal static readonly nint delete_crypto_aead_ctx_cb;
    internal static readonly nint delete_crypto_cipher_ctx_cb;
    internal static readonly nint get_path_challenge_data_cb;
    internal static readonly nint version_negotiation_cb;
    internal static readonly nint GnutlsFree;

    internal static readonly long TicksToNanoseconds;

    static QuicNative()
    {
        // ngtcp2 timestamps are nanoseconds; Stopwatch on Linux is CLOCK_MONOTONIC at 1 GHz. Keep a ratio anyway.
        TicksToNanoseconds = Stopwatch.Frequency == 1_000_000_000 ? 1 : 0;

        if (!OperatingSystem.IsLinux())
        {
            NotSupportedReason = "TensorProtocol.Quic currently runs on Linux only.";
            return;
        }

        if (!NativeLibrary.TryLoad(Libraries.Ngtcp2, typeof(QuicNative).Assembly, null, out _))
        {
            NotSupportedReason = $"{Libraries.Ngtcp2} (ngtcp2 >= {MinimumNgtcp2VersionText}) is not installed. " +
                "On Debian/Ubuntu install the package libngtcp2-16 (Debian 12: from bookworm-backports); scripts/bootstrap does it.";
            return;
        }
        if (!NativeLibrary.TryLoad(Libraries.Gnutls, typeof(QuicNative).Assembly, null, out nint gnutlsLib))
        {
            NotSupportedReason = $"{Libraries.Gnutls} is not installed. Install the package libgnutls30.";
            return;
        }
        if (!NativeLibrary.TryLoad(Libraries.Ngtcp2CryptoGnutls, typeof(QuicNative).Assembly, null, out nint cryptoLib))
        {
            NotSupportedReason = $"{Libraries.Ngtcp2CryptoGnutls} is not installed. " +
                "On Debian/Ubuntu install the package libngtcp2-crypto-gnutls8 (Debian 12: from bookworm-backports); scripts/bootstrap does it.";
            return;
        }

        ngtcp2.ngtcp2_info* info = ngtcp2.ngtcp2_version(0);
        Ngtcp2VersionText = info == null ? "unknown" : Marshal.PtrToStringUTF8((nint)info->version_str) ?? "unknown";
        if (info == null || info->version_num < MinimumNgtcp2Version)
        {
            NotSupportedReason = $"ngtcp2 {Ngtcp2VersionText} is too old; {MinimumNgtcp2VersionText} or newer is required.";
            return;
        }

        GnutlsVersionText = Marshal.PtrToStringUTF8((nint)gnutls.gnutls_check_version(null)) ?? "unknown";
        if (gnutls.gnutls_check_version(MinimumGnutlsVersionText) == null)
        {
            NotSupportedReason = $"GnuTLS {GnutlsVersionText} is too old; {MinimumGnutlsVersionText} or newer is required.";
            return;
        }

        try
        {
            client_initial_cb = NativeLibrary.GetExport(cryptoLib, "ngtcp2_crypto_client_initial_cb");
            recv_client_initial_cb = NativeLibrary.GetExport(cryptoLib, "ngtcp2_crypto_recv_client_initial_cb");
            recv_crypto_data_cb = NativeLibrary.GetExport(cryptoLib, "ngtcp2_crypto_recv_crypto_data_cb");
            encrypt_cb = NativeLibrary.GetExport(cryptoLib, "ngtcp2_crypto_encrypt_cb");
            decrypt_cb = NativeLibrary.GetExport(cryptoLib, "ngtcp2_crypto_decrypt_cb");
            hp_mask_cb = NativeLibrary.GetExport(cryptoLib, "ngtcp2_crypto_hp_mask_cb");
            recv_retry_cb = NativeLibrary.GetExport(cryptoLib, "ngtcp2_crypto_recv_retry_cb");
            update_key_cb = NativeLibrary.GetExport(cryptoLib, "ngtcp2_crypto_update_key_cb");
            delete_crypto_aead_ctx_cb = NativeLibrary.GetExport(cryptoLib, "ngtcp2_crypto_delete_crypto_aead_ctx_cb");
            delete_crypto_cipher_ctx_cb = NativeLibrary.GetExport(cryptoLib, "ngtcp2_crypto_delete_crypto_cipher_ctx_cb");
            get_path_challenge_data_cb = NativeLibrary.GetExport(cryptoLib, "ngtcp2_crypto_get_path_challenge_data_cb");
            version_negotiation_cb = NativeLibrary.GetExport(cryptoLib, "ngtcp2_crypto_version_negotiation_cb");
            // gnutls_free is a variable holding the deallocator; read it once.
            GnutlsFree = *(nint*)NativeLibrary.GetExport(gnutlsLib, "gnutls_free");
        }
        catch (EntryPointNotFoundException e)
        {
            NotSupportedReason = $"The installed ngtcp2/GnuTLS libraries lack an expected export: {e.Message}";
            return;
        }

        IsSupported = true;
    }

    internal static void ThrowIfNotSupported()
    {
        if (!IsSupported)
        {
            throw new PlatformNotSupportedException(NotSupportedReason);
        }
    }

    /// <summary>Now, in ngtcp2's clock (nanoseconds, monotonic).</summary>
    internal static ulong Now()
    {
        long ticks = Stopwatch.GetTimestamp();
        return TicksToNanoseconds == 1
            ? (ulong)ticks
            : (ulong)(ticks * (1_000_000_000.0 / Stopwatch.Frequency));
    }

    internal static string Ngtcp2Error(int liberr) => Marshal.PtrToStringUTF8((nint)ngtcp2.ngtcp2_strerror(liberr)) ?? liberr.ToString(System.Globalization.CultureInfo.InvariantCulture);

    internal static string GnutlsError(int error) => Marshal.PtrToStringUTF8((nint)gnutls.gnutls_strerror(error)) ?? error.ToString(System.Globalization.CultureInfo.InvariantCulture);
}
