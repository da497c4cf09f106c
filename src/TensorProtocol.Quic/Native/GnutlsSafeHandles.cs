using System.Runtime.InteropServices;
using TensorProtocol.Quic.Interop;

namespace TensorProtocol.Quic.Native;

/// <summary>Owns a <c>gnutls_x509_privkey_t</c>.</summary>
internal sealed unsafe class SafeGnutlsPrivateKeyHandle : SafeHandle
{
    public SafeGnutlsPrivateKeyHandle() : base(0, ownsHandle: true) { }

    public override bool IsInvalid => handle == 0;

    protected override bool ReleaseHandle()
    {
        gnutls.gnutls_x509_privkey_deinit((void*)handle);
        return true;
    }

    internal static SafeGnutlsPrivateKeyHandle Create()
    {
        void* key;
        GnutlsCheck.ThrowIfError(gnutls.gnutls_x509_privkey_init(&key), "gnutls_x509_privkey_init");
        var h = new SafeGnutlsPrivateKeyHandle();
        h.SetHandle((nint)key);
        return h;
    }
}

/// <summary>Owns a <c>gnutls_x509_crt_t</c>.</summary>
internal sealed unsafe class SafeGnutlsCertificateHandle : SafeHandle
{
    public SafeGnutlsCertificateHandle() : base(0, ownsHandle: true) { }

    public override bool IsInvalid => handle == 0;

    protected override bool ReleaseHandle()
    {
        gnutls.gnutls_x509_crt_deinit((void*)handle);
        return true;
    }

    internal static SafeGnutlsCertificateHandle Create()
    {
        void* crt;
        GnutlsCheck.ThrowIfError(gnutls.gnutls_x509_crt_init(&crt), "gnutls_x509_crt_init");
        var h = new SafeGnutlsCertificateHandle();
        h.SetHandle((nint)crt);
        return h;
    }
}

/// <summary>Owns a <c>gnutls_certificate_credentials_t</c> (our certificate and key, shared by an endpoint's sessions).</summary>
internal sealed unsafe class SafeGnutlsCredentialsHandle : SafeHandle
{
    public SafeGnutlsCredentialsHandle() : base(0, ownsHandle: true) { }

    public override bool IsInvalid => handle == 0;

    protected override bool ReleaseHandle()
    {
        gnutls.gnutls_certificate_free_credentials((void*)handle);
        return true;
    }

    internal static SafeGnutlsCredentialsHandle Create()
    {
        void* cred;
        GnutlsCheck.ThrowIfError(gnutls.gnutls_certificate_allocate_credentials(&cred), "gnutls_certificate_allocate_credentials");
        var h = new SafeGnutlsCredentialsHandle();
        h.SetHandle((nint)cred);
        return h;
    }
}

/// <summary>Owns a <c>gnutls_priority_t</c> (parsed once per endpoint, applied to every session).</summary>
internal sealed unsafe class SafeGnutlsPriorityHandle : SafeHandle
{
    public SafeGnutlsPriorityHandle() : base(0, ownsHandle: true) { }

    public override bool IsInvalid => handle == 0;

    protected override bool ReleaseHandle()
    {
        gnutls.gnutls_priority_deinit((void*)handle);
        return true;
    }

    internal static SafeGnutlsPriorityHandle Create(string priorities)
    {
        void* prio;
        byte* errPos;
        GnutlsCheck.ThrowIfError(gnutls.gnutls_priority_init(&prio, priorities, &errPos), "gnutls_priority_init");
        var h = new SafeGnutlsPriorityHandle();
        h.SetHandle((nint)prio);
        return h;
    }
}

/// <summary>Owns a <c>gnutls_session_t</c>: one per QUIC connection.</summary>
internal sealed unsafe class SafeGnutlsSessionHandle : SafeHandle
{
    public SafeGnutlsSessionHandle() : base(0, ownsHandle: true) { }

    public override bool IsInvalid => handle == 0;

    protected override bool ReleaseHandle()
    {
        gnutls.gnutls_deinit((void*)handle);
        return true;
    }

    internal static SafeGnutlsSessionHandle Create(uint flags)
    {
        void* session;
        GnutlsCheck.ThrowIfError(gnutls.gnutls_init(&session, flags), "gnutls_init");
        var h = new SafeGnutlsSessionHandle();
        h.SetHandle((nint)session);
        return h;
    }
}

internal static class GnutlsCheck
{
    internal static void ThrowIfError(int rv, string function)
    {
        if (rv < 0)
        {
            throw new QuicException(QuicErrorKind.InternalError, $"{function} failed: {QuicNative.GnutlsError(rv)} ({rv}).");
        }
    }
}
