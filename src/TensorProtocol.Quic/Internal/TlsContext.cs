using System.Runtime.InteropServices;
using System.Text;
using TensorProtocol.Quic.Interop;
using TensorProtocol.Quic.Native;

namespace TensorProtocol.Quic.Internal;

/// <summary>An endpoint's TLS material shared by its sessions: credentials (certificate + key), priorities, ALPN list.</summary>
internal sealed unsafe class TlsContext : IDisposable
{
    // TLS 1.3 only (QUIC requires it), the AEADs QUIC defines, Ed25519 signatures, no middlebox compatibility mode.
    private const string Priorities =
        "NORMAL:-VERS-ALL:+VERS-TLS1.3:-CIPHER-ALL:+AES-128-GCM:+AES-256-GCM:+CHACHA20-POLY1305:" +
        "-GROUP-ALL:+GROUP-X25519:+GROUP-SECP256R1:-SIGN-ALL:+SIGN-EDDSA-ED25519:%DISABLE_TLS13_COMPAT_MODE";

    private readonly gnutls.gnutls_datum_t* _alpn;
    private readonly int _alpnCount;

    internal TlsContext(QuicIdentity identity, IReadOnlyList<string> applicationProtocols)
    {
        Priority = SafeGnutlsPriorityHandle.Create(Priorities);
        try
        {
            Credentials = identity.CreateCredentials((nint)(delegate* unmanaged[Cdecl]<void*, int>)&QuicConnection.VerifyCallback);
        }
        catch
        {
            Priority.Dispose();
            throw;
        }
        _alpnCount = applicationProtocols.Count;
        _alpn = (gnutls.gnutls_datum_t*)NativeMemory.AllocZeroed((nuint)(_alpnCount * sizeof(gnutls.gnutls_datum_t)));
        for (int i = 0; i < _alpnCount; i++)
        {
            byte[] name = Encoding.UTF8.GetBytes(applicationProtocols[i]);
            byte* p = (byte*)NativeMemory.Alloc((nuint)name.Length);
            name.CopyTo(new Span<byte>(p, name.Length));
            _alpn[i].data = p;
            _alpn[i].size = (uint)name.Length;
        }
    }

    internal SafeGnutlsPriorityHandle Priority { get; }

    internal SafeGnutlsCredentialsHandle Credentials { get; }

    internal void SetAlpn(void* session)
    {
        // Mandatory: no common protocol fails the handshake with no_application_protocol (0x178).
        GnutlsCheck.ThrowIfError(gnutls.gnutls_alpn_set_protocols(session, _alpn, (uint)_alpnCount, gnutls.GNUTLS_ALPN_MANDATORY), "gnutls_alpn_set_protocols");
    }

    public void Dispose()
    {
        Credentials.Dispose();
        Priority.Dispose();
        for (int i = 0; i < _alpnCount; i++)
        {
            NativeMemory.Free(_alpn[i].data);
        }
        NativeMemory.Free(_alpn);
    }
}
