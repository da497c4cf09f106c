using System.Runtime.InteropServices;
using TensorProtocol.Quic.Interop;

namespace TensorProtocol.Quic.Native;

/// <summary>
/// Owns an <c>ngtcp2_conn</c>, the <see cref="GCHandle"/> given to it as <c>user_data</c>, and the native
/// <c>ngtcp2_crypto_conn_ref</c> the TLS session points at. Released on the loop thread when the connection ends
/// (or by the finalizer if a connection is leaked, when nothing else can touch it any more).
/// </summary>
internal sealed unsafe class SafeNgtcp2ConnectionHandle : SafeHandle
{
    private GCHandle _self;
    private ConnRef* _connRef;

    /// <summary>ngtcp2_crypto_conn_ref followed by our own copy of the conn pointer, so get_conn needs no managed lookup.</summary>
    internal struct ConnRef
    {
        public ngtcp2_crypto.ngtcp2_crypto_conn_ref Ref;
        public void* Conn;
    }

    public SafeNgtcp2ConnectionHandle() : base(0, ownsHandle: true) { }

    public override bool IsInvalid => handle == 0;

    internal void* Conn => (void*)handle;

    internal ConnRef* ConnRefPointer => _connRef;

    /// <summary>Allocates the GCHandle and conn_ref before the native connection exists (its callbacks need them).</summary>
    internal static SafeNgtcp2ConnectionHandle Prepare(object owner, nint getConn)
    {
        var h = new SafeNgtcp2ConnectionHandle
        {
            _self = GCHandle.Alloc(owner, GCHandleType.Normal),
            _connRef = (ConnRef*)NativeMemory.AllocZeroed((nuint)sizeof(ConnRef)),
        };
        h._connRef->Ref.get_conn = getConn;
        h._connRef->Ref.user_data = (void*)GCHandle.ToIntPtr(h._self);
        return h;
    }

    internal void* UserData => (void*)GCHandle.ToIntPtr(_self);

    internal void Attach(void* conn)
    {
        SetHandle((nint)conn);
        _connRef->Conn = conn;
    }

    protected override bool ReleaseHandle()
    {
        ngtcp2.ngtcp2_conn_del((void*)handle);
        FreeRest();
        return true;
    }

    /// <summary>Frees what <see cref="Prepare"/> allocated when the native connection was never created.</summary>
    internal void FreeUnattached()
    {
        if (IsInvalid)
        {
            FreeRest();
            SetHandleAsInvalid();
            GC.SuppressFinalize(this);
        }
    }

    private void FreeRest()
    {
        if (_connRef != null)
        {
            NativeMemory.Free(_connRef);
            _connRef = null;
        }
        if (_self.IsAllocated)
        {
            _self.Free();
        }
    }
}
