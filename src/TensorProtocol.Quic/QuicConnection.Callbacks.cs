using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;
using System.Security.Cryptography;
using TensorProtocol.Quic.Interop;
using TensorProtocol.Quic.Internal;
using TensorProtocol.Quic.Native;

namespace TensorProtocol.Quic;

// The static trampolines ngtcp2 calls. Each resolves the connection from user_data, dispatches, and catches
// everything: an exception is stored on the connection and turned into NGTCP2_ERR_CALLBACK_FAILURE, never thrown
// into C.
public sealed unsafe partial class QuicConnection
{
    private Exception? _callbackFailure;

    private int Fail(Exception e)
    {
        _callbackFailure ??= e;
        return ngtcp2.NGTCP2_ERR_CALLBACK_FAILURE;
    }

    [UnmanagedCallersOnly(CallConvs = [typeof(CallConvCdecl)])]
    private static void* GetConnCallback(SafeNgtcp2ConnectionHandle.ConnRef* connRef) => connRef->Conn;

    [UnmanagedCallersOnly(CallConvs = [typeof(CallConvCdecl)])]
    private static int HandshakeCompletedCallback(void* conn, void* userData)
    {
        QuicConnection? c = FromUserData(userData);
        if (c is null)
        {
            return ngtcp2.NGTCP2_ERR_CALLBACK_FAILURE;
        }
        try
        {
            c.OnHandshakeCompleted();
            return 0;
        }
        catch (Exception e)
        {
            return c.Fail(e);
        }
    }

    [UnmanagedCallersOnly(CallConvs = [typeof(CallConvCdecl)])]
    private static int HandshakeConfirmedCallback(void* conn, void* userData)
    {
        QuicConnection? c = FromUserData(userData);
        if (c is null)
        {
            return ngtcp2.NGTCP2_ERR_CALLBACK_FAILURE;
        }
        try
        {
            c.OnHandshakeConfirmed();
            return 0;
        }
        catch (Exception e)
        {
            return c.Fail(e);
        }
    }

    [UnmanagedCallersOnly(CallConvs = [typeof(CallConvCdecl)])]
    private static int RecvStreamDataCallback(void* conn, uint flags, long streamId, ulong offset, byte* data, nuint length, void* userData, void* streamUserData)
    {
        QuicConnection? c = FromUserData(userData);
        if (c is null)
        {
            return ngtcp2.NGTCP2_ERR_CALLBACK_FAILURE;
        }
        try
        {
            c.OnStreamData(streamId, data, (int)length, (flags & ngtcp2.NGTCP2_STREAM_DATA_FLAG_FIN) != 0);
            return 0;
        }
        catch (Exception e)
        {
            return c.Fail(e);
        }
    }

    [UnmanagedCallersOnly(CallConvs = [typeof(CallConvCdecl)])]
    private static int AckedStreamDataOffsetCallback(void* conn, long streamId, ulong offset, ulong length, void* userData, void* streamUserData)
    {
        QuicConnection? c = FromUserData(userData);
        if (c is null)
        {
            return ngtcp2.NGTCP2_ERR_CALLBACK_FAILURE;
        }
        try
        {
            if (c._streams.TryGetValue(streamId, out QuicStream? s))
            {
                s.OnAcked(offset, length);
            }
            return 0;
        }
        catch (Exception e)
        {
            return c.Fail(e);
        }
    }

    [UnmanagedCallersOnly(CallConvs = [typeof(CallConvCdecl)])]
    private static int StreamOpenCallback(void* conn, long streamId, void* userData)
    {
        QuicConnection? c = FromUserData(userData);
        if (c is null)
        {
            return ngtcp2.NGTCP2_ERR_CALLBACK_FAILURE;
        }
        try
        {
            c.OnRemoteStreamOpened(streamId);
            return 0;
        }
        catch (Exception e)
        {
            return c.Fail(e);
        }
    }

    [UnmanagedCallersOnly(CallConvs = [typeof(CallConvCdecl)])]
    private static int StreamCloseCallback(void* conn, uint flags, long streamId, ulong appErrorCode, void* userData, void* streamUserData)
    {
        QuicConnection? c = FromUserData(userData);
        if (c is null)
        {
            return ngtcp2.NGTCP2_ERR_CALLBACK_FAILURE;
        }
        try
        {
            long? code = (flags & ngtcp2.NGTCP2_STREAM_CLOSE_FLAG_APP_ERROR_CODE_SET) != 0 ? (long)appErrorCode : null;
            c.OnStreamClosed(streamId, code);
            return 0;
        }
        catch (Exception e)
        {
            return c.Fail(e);
        }
    }

    [UnmanagedCallersOnly(CallConvs = [typeof(CallConvCdecl)])]
    private static int StreamResetCallback(void* conn, long streamId, ulong finalSize, ulong appErrorCode, void* userData, void* streamUserData)
    {
        QuicConnection? c = FromUserData(userData);
        if (c is null)
        {
            return ngtcp2.NGTCP2_ERR_CALLBACK_FAILURE;
        }
        try
        {
            if (c._streams.TryGetValue(streamId, out QuicStream? s))
            {
                s.OnReset((long)appErrorCode);
            }
            return 0;
        }
        catch (Exception e)
        {
            return c.Fail(e);
        }
    }

    [UnmanagedCallersOnly(CallConvs = [typeof(CallConvCdecl)])]
    private static int ExtendMaxLocalStreamsBidiCallback(void* conn, ulong maxStreams, void* userData)
    {
        QuicConnection? c = FromUserData(userData);
        if (c is null)
        {
            return ngtcp2.NGTCP2_ERR_CALLBACK_FAILURE;
        }
        try
        {
            c._streamCreditChanged = true;
            return 0;
        }
        catch (Exception e)
        {
            return c.Fail(e);
        }
    }

    [UnmanagedCallersOnly(CallConvs = [typeof(CallConvCdecl)])]
    private static int ExtendMaxLocalStreamsUniCallback(void* conn, ulong maxStreams, void* userData)
    {
        QuicConnection? c = FromUserData(userData);
        if (c is null)
        {
            return ngtcp2.NGTCP2_ERR_CALLBACK_FAILURE;
        }
        try
        {
            c._streamCreditChanged = true;
            return 0;
        }
        catch (Exception e)
        {
            return c.Fail(e);
        }
    }

    [UnmanagedCallersOnly(CallConvs = [typeof(CallConvCdecl)])]
    private static int ExtendMaxStreamDataCallback(void* conn, long streamId, ulong maxData, void* userData, void* streamUserData)
    {
        QuicConnection? c = FromUserData(userData);
        if (c is null)
        {
            return ngtcp2.NGTCP2_ERR_CALLBACK_FAILURE;
        }
        try
        {
            if (c._streams.TryGetValue(streamId, out QuicStream? s))
            {
                s.OnSendUnblocked();
            }
            return 0;
        }
        catch (Exception e)
        {
            return c.Fail(e);
        }
    }

    [UnmanagedCallersOnly(CallConvs = [typeof(CallConvCdecl)])]
    private static void RandCallback(byte* dest, nuint length, void* randCtx)
    {
        RandomNumberGenerator.Fill(new Span<byte>(dest, (int)length));
    }

    [UnmanagedCallersOnly(CallConvs = [typeof(CallConvCdecl)])]
    private static int GetNewConnectionIdCallback(void* conn, ngtcp2.ngtcp2_cid* cid, byte* token, nuint cidLength, void* userData)
    {
        QuicConnection? c = FromUserData(userData);
        if (c is null)
        {
            return ngtcp2.NGTCP2_ERR_CALLBACK_FAILURE;
        }
        try
        {
            RandomCid(cid, (int)cidLength);
            c._endpoint.MakeResetToken(cid, token);
            var key = new ConnectionIdKey(cid);
            c._endpoint.RegisterConnectionId(key, c);
            c._cids.Add(key);
            return 0;
        }
        catch (Exception e)
        {
            return c.Fail(e);
        }
    }

    [UnmanagedCallersOnly(CallConvs = [typeof(CallConvCdecl)])]
    private static int RemoveConnectionIdCallback(void* conn, ngtcp2.ngtcp2_cid* cid, void* userData)
    {
        QuicConnection? c = FromUserData(userData);
        if (c is null)
        {
            return ngtcp2.NGTCP2_ERR_CALLBACK_FAILURE;
        }
        try
        {
            var key = new ConnectionIdKey(cid);
            c._endpoint.UnregisterConnectionId(key, c);
            c._cids.Remove(key);
            return 0;
        }
        catch (Exception e)
        {
            return c.Fail(e);
        }
    }

    /// <summary>GnuTLS's certificate check, set on the endpoint's credentials.</summary>
    [UnmanagedCallersOnly(CallConvs = [typeof(CallConvCdecl)])]
    internal static int VerifyCallback(void* session)
    {
        try
        {
            QuicConnection? c = FromSession(session);
            return c is null ? -1 : c.VerifyPeer(session);
        }
        catch
        {
            return -1;
        }
    }
}
