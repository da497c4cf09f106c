using System.Net;
using System.Runtime.InteropServices;
using System.Security.Cryptography;
using System.Text;
using Microsoft.Extensions.Logging;
using TensorProtocol.Quic.Interop;
using TensorProtocol.Quic.Internal;
using TensorProtocol.Quic.Native;

namespace TensorProtocol.Quic;

// Creating the ngtcp2 connection and its GnuTLS session. Loop thread only.
public sealed unsafe partial class QuicConnection
{
    internal const int ConnectionIdLength = 16;

    /// <summary>
    /// The UDP payload sizes path MTU discovery tries, in order: Ethernet under IPv6 headers, then (only if that was
    /// lost) PPPoE, common tunnel and IPv6-minimum paths, then jumbo-frame Ethernet and finally what IPv4 and IPv6
    /// loopback both carry. A size the path drops costs three padded probes and is never tried again, nor anything
    /// larger; one that arrives raises the packet size for the rest of the connection. Large packets are what make
    /// bulk transfers cheap: per byte, ngtcp2, GnuTLS and the kernel cost about half at 64 KiB what they cost at 1452.
    /// </summary>
    private static readonly ushort[] PathMtuLadder = [1452, 1444, 1392, 1232, 8952, QuicConnectionOptions.LoopbackDatagramSize];

    private SafeNgtcp2ConnectionHandle _handle = null!;
    private SafeGnutlsSessionHandle _tls = null!;
    private QuicPublicKey? _expectedPeerKey;
    private CompletionSource<QuicConnection>? _connectSource;
    internal string LogId { get; private set; } = "";

    /// <summary>
    /// The native connection, for calls into ngtcp2 (loop thread only). Any such call can move ngtcp2's timers, so
    /// handing the pointer out tells the endpoint to look at this connection's expiry again at the end of the turn.
    /// </summary>
    internal void* Conn
    {
        get
        {
            if (!TimerMayHaveMoved)
            {
                _endpoint.MarkTimerMoved(this);
            }
            return _handle.Conn;
        }
    }

    internal static QuicConnection CreateClient(QuicEndpoint endpoint, IPEndPoint remote, QuicPublicKey expectedPeerKey, CompletionSource<QuicConnection> connectSource, ILogger logger)
    {
        var connection = new QuicConnection(endpoint, isServer: false, remote, endpoint.Options.ConnectionOptions, logger)
        {
            _expectedPeerKey = expectedPeerKey,
            _connectSource = connectSource,
        };
        ngtcp2.ngtcp2_cid dcid, scid;
        RandomCid(&dcid, endpoint.Options.ConnectionOptions.InitialDcidLengthForTests ?? ConnectionIdLength);
        RandomCid(&scid, ConnectionIdLength);
        byte* remoteAddr = stackalloc byte[SocketAddressNative.MaxLength];
        int remoteLength = SocketAddressNative.Write(remote, endpoint.SocketFamily, remoteAddr);
        connection.Create(&dcid, &scid, remoteAddr, remoteLength, null, null, 0);
        return connection;
    }

    // retriedDcid: for an Initial that carried a valid Retry token, the DCID of the client's first Initial (read out of
    // the token); else null.
    internal static QuicConnection CreateServer(QuicEndpoint endpoint, ngtcp2.ngtcp2_pkt_hd* hd, byte* remoteAddr, int remoteLength, ngtcp2.ngtcp2_cid* retriedDcid, ILogger logger)
    {
        var connection = new QuicConnection(endpoint, isServer: true, SocketAddressNative.Read(remoteAddr), endpoint.Options.ConnectionOptions, logger);
        ngtcp2.ngtcp2_cid scid;
        RandomCid(&scid, ConnectionIdLength);
        connection.Create(&hd->scid, &scid, remoteAddr, remoteLength, retriedDcid != null ? retriedDcid : &hd->dcid, retriedDcid != null ? hd : null, hd->version);
        // Initial packets the client resends still carry the DCID it made up (or, after a Retry, the Retry's): route
        // them here too. A late copy of the first Initial from before a Retry comes here as well, rather than starting
        // a second handshake: ngtcp2 drops it (its token differs).
        connection.RegisterClientDcid(&hd->dcid);
        if (retriedDcid != null)
        {
            connection.RegisterClientDcid(retriedDcid);
        }
        return connection;
    }

    private void RegisterClientDcid(ngtcp2.ngtcp2_cid* dcid)
    {
        // Chosen by the client, so never allowed to take over a route another connection holds.
        var key = new ConnectionIdKey(dcid);
        if (_endpoint.TryRegisterConnectionId(key, this))
        {
            _cids.Add(key);
        }
    }

    // retried: on a server, the client's Initial that carried a valid Retry token; else null.
    private void Create(ngtcp2.ngtcp2_cid* dcid, ngtcp2.ngtcp2_cid* scid, byte* remoteAddr, int remoteLength, ngtcp2.ngtcp2_cid* originalDcid, ngtcp2.ngtcp2_pkt_hd* retried, uint clientVersion)
    {
        LogId = Convert.ToHexStringLower(new ReadOnlySpan<byte>(scid->data, 8));
        QuicConnectionOptions o = Options;
        _handle = SafeNgtcp2ConnectionHandle.Prepare(this, (nint)(delegate* unmanaged[Cdecl]<SafeNgtcp2ConnectionHandle.ConnRef*, void*>)&GetConnCallback);
        try
        {
            ngtcp2.ngtcp2_callbacks callbacks = default;
            FillCallbacks(&callbacks, IsServer);

            ngtcp2.ngtcp2_settings settings;
            ngtcp2.ngtcp2_settings_default_versioned(ngtcp2.NGTCP2_SETTINGS_V2, &settings);
            settings.initial_ts = _endpoint.CurrentTime;
            settings.cc_algo = o.CongestionControl switch
            {
                QuicCongestionControl.Cubic => ngtcp2.ngtcp2_cc_algo.NGTCP2_CC_ALGO_CUBIC,
                QuicCongestionControl.Reno => ngtcp2.ngtcp2_cc_algo.NGTCP2_CC_ALGO_RENO,
                _ => ngtcp2.ngtcp2_cc_algo.NGTCP2_CC_ALGO_BBR,
            };
            if (IPAddress.IsLoopback(RemoteEndPoint.Address) && !o.ProbeLoopbackPaths)
            {
                // Loopback carries 64 KiB datagrams: use the largest size from the start. Probing up to it would cost
                // a first exchange milliseconds, since a 64 KiB probe sent right after the handshake, at the pacing
                // rate of a young connection, holds the packets behind it back by about 1.5 ms.
                settings.max_tx_udp_payload_size = (nuint)Math.Min(o.MaxDatagramSize, QuicConnectionOptions.LoopbackDatagramSize);
                settings.no_tx_udp_payload_size_shaping = 1;
                settings.no_pmtud = 1;
            }
            else
            {
                // Start at 1200 bytes; path MTU discovery then probes the ladder, up to MaxDatagramSize.
                settings.max_tx_udp_payload_size = (nuint)o.MaxDatagramSize;
                ushort* probes = stackalloc ushort[PathMtuLadder.Length + 1];
                int probeCount = 0;
                foreach (ushort size in PathMtuLadder)
                {
                    if (size <= o.MaxDatagramSize)
                    {
                        probes[probeCount++] = size;
                    }
                }
                if (o.MaxDatagramSize > ngtcp2.NGTCP2_MAX_UDP_PAYLOAD_SIZE && !PathMtuLadder.Contains((ushort)o.MaxDatagramSize))
                {
                    probes[probeCount++] = (ushort)o.MaxDatagramSize;
                }
                settings.pmtud_probes = probes; // ngtcp2 copies the list
                settings.pmtud_probeslen = (nuint)probeCount;
                settings.no_pmtud = (byte)(probeCount == 0 ? 1 : 0);
            }
            settings.max_window = (ulong)o.MaxConnectionReceiveWindow;
            settings.max_stream_window = (ulong)o.MaxStreamReceiveWindow;
            settings.handshake_timeout = (ulong)o.HandshakeTimeout.Ticks * 100;
            settings.ack_thresh = (nuint)o.AckThreshold;

            ngtcp2.ngtcp2_transport_params tp;
            ngtcp2.ngtcp2_transport_params_default_versioned(ngtcp2.NGTCP2_TRANSPORT_PARAMS_V1, &tp);
            tp.initial_max_stream_data_bidi_local = (ulong)o.InitialStreamReceiveWindow;
            tp.initial_max_stream_data_bidi_remote = (ulong)o.InitialStreamReceiveWindow;
            tp.initial_max_stream_data_uni = (ulong)o.InitialStreamReceiveWindow;
            tp.initial_max_data = (ulong)o.InitialConnectionReceiveWindow;
            tp.initial_max_streams_bidi = (ulong)o.MaxInboundBidirectionalStreams;
            tp.initial_max_streams_uni = (ulong)o.MaxInboundUnidirectionalStreams;
            tp.max_idle_timeout = (ulong)o.IdleTimeout.Ticks * 100;
            tp.max_udp_payload_size = 65527;
            tp.max_ack_delay = (ulong)o.MaxAckDelay.Ticks * 100;
            tp.active_connection_id_limit = 4;
            if (originalDcid != null)
            {
                tp.original_dcid = *originalDcid;
                tp.original_dcid_present = 1;
                tp.stateless_reset_token_present = 1;
                _endpoint.MakeResetToken(scid, tp.stateless_reset_token);
            }
            byte[] testToken = o.InitialTokenForTests ?? [];
            byte* testTokenPointer = stackalloc byte[testToken.Length]; // ngtcp2 copies the token
            if (!IsServer && testToken.Length > 0)
            {
                testToken.CopyTo(new Span<byte>(testTokenPointer, testToken.Length));
                settings.token = testTokenPointer;
                settings.tokenlen = (nuint)testToken.Length;
            }
            if (retried != null)
            {
                // The client checks that these name the Retry it followed (RFC 9000 §7.3); ngtcp2 copies the token and
                // counts the address as validated, so the 3x anti-amplification limit no longer applies.
                tp.retry_scid = retried->dcid;
                tp.retry_scid_present = 1;
                settings.token = retried->token;
                settings.tokenlen = retried->tokenlen;
                settings.token_type = (int)ngtcp2.ngtcp2_token_type.NGTCP2_TOKEN_TYPE_RETRY;
            }

            ngtcp2.ngtcp2_path path = default;
            path.local.addr = _endpoint.LocalAddress;
            path.local.addrlen = (uint)_endpoint.LocalAddressLength;
            path.remote.addr = remoteAddr;
            path.remote.addrlen = (uint)remoteLength;

            void* conn;
            int rv = IsServer
                ? ngtcp2.ngtcp2_conn_server_new_versioned(&conn, dcid, scid, &path, clientVersion, ngtcp2.NGTCP2_CALLBACKS_V1, &callbacks, ngtcp2.NGTCP2_SETTINGS_V2, &settings, ngtcp2.NGTCP2_TRANSPORT_PARAMS_V1, &tp, null, _handle.UserData)
                : ngtcp2.ngtcp2_conn_client_new_versioned(&conn, dcid, scid, &path, ngtcp2.NGTCP2_PROTO_VER_V1, ngtcp2.NGTCP2_CALLBACKS_V1, &callbacks, ngtcp2.NGTCP2_SETTINGS_V2, &settings, ngtcp2.NGTCP2_TRANSPORT_PARAMS_V1, &tp, null, _handle.UserData);
            if (rv != 0)
            {
                throw new QuicException(QuicErrorKind.InternalError, $"ngtcp2 could not create the connection: {QuicNative.Ngtcp2Error(rv)}.");
            }
            _handle.Attach(conn);

            _tls = CreateTlsSession();
            ngtcp2.ngtcp2_conn_set_tls_native_handle(conn, (void*)_tls.DangerousGetHandle());
            if (o.KeepAliveInterval > TimeSpan.Zero)
            {
                ngtcp2.ngtcp2_conn_set_keep_alive_timeout(conn, (ulong)o.KeepAliveInterval.Ticks * 100);
            }
            var key = new ConnectionIdKey(scid);
            _endpoint.RegisterConnectionId(key, this);
            _cids.Add(key);
        }
        catch
        {
            _tls?.Dispose();
            if (_handle.IsInvalid)
            {
                _handle.FreeUnattached();
            }
            else
            {
                _handle.Dispose();
            }
            throw;
        }
    }

    private SafeGnutlsSessionHandle CreateTlsSession()
    {
        // No session tickets or early data: every connection proves both keys afresh.
        uint flags = (IsServer ? gnutls.GNUTLS_SERVER : gnutls.GNUTLS_CLIENT) | gnutls.GNUTLS_NO_END_OF_EARLY_DATA | gnutls.GNUTLS_NO_TICKETS;
        SafeGnutlsSessionHandle tls = SafeGnutlsSessionHandle.Create(flags);
        try
        {
            void* s = (void*)tls.DangerousGetHandle();
            int rv = IsServer
                ? ngtcp2_crypto_gnutls.ngtcp2_crypto_gnutls_configure_server_session(s)
                : ngtcp2_crypto_gnutls.ngtcp2_crypto_gnutls_configure_client_session(s);
            if (rv != 0)
            {
                throw new QuicException(QuicErrorKind.InternalError, "ngtcp2 could not configure the GnuTLS session.");
            }
            GnutlsCheck.ThrowIfError(gnutls.gnutls_priority_set(s, (void*)_endpoint.Tls.Priority.DangerousGetHandle()), "gnutls_priority_set");
            gnutls.gnutls_session_set_ptr(s, _handle.ConnRefPointer);
            GnutlsCheck.ThrowIfError(gnutls.gnutls_credentials_set(s, gnutls.GNUTLS_CRD_CERTIFICATE, (void*)_endpoint.Tls.Credentials.DangerousGetHandle()), "gnutls_credentials_set");
            if (IsServer)
            {
                // Mutual authentication: a client without a certificate (an Ed25519 key) is refused.
                gnutls.gnutls_certificate_server_set_request(s, gnutls.GNUTLS_CERT_REQUIRE);
            }
            if (!_endpoint.Options.OmitAlpnForTests)
            {
                _endpoint.Tls.SetAlpn(s);
            }
            return tls;
        }
        catch
        {
            tls.Dispose();
            throw;
        }
    }

    internal static void RandomCid(ngtcp2.ngtcp2_cid* cid, int length)
    {
        RandomNumberGenerator.Fill(new Span<byte>(cid->data, length));
        cid->datalen = (nuint)length;
    }

    private static void FillCallbacks(ngtcp2.ngtcp2_callbacks* cb, bool server)
    {
        if (server)
        {
            cb->recv_client_initial = QuicNative.recv_client_initial_cb;
        }
        else
        {
            cb->client_initial = QuicNative.client_initial_cb;
            cb->recv_retry = QuicNative.recv_retry_cb;
        }
        cb->recv_crypto_data = QuicNative.recv_crypto_data_cb;
        cb->encrypt = QuicNative.encrypt_cb;
        cb->decrypt = QuicNative.decrypt_cb;
        cb->hp_mask = QuicNative.hp_mask_cb;
        cb->update_key = QuicNative.update_key_cb;
        cb->delete_crypto_aead_ctx = QuicNative.delete_crypto_aead_ctx_cb;
        cb->delete_crypto_cipher_ctx = QuicNative.delete_crypto_cipher_ctx_cb;
        cb->get_path_challenge_data = QuicNative.get_path_challenge_data_cb;
        cb->version_negotiation = QuicNative.version_negotiation_cb;

        cb->handshake_completed = (nint)(delegate* unmanaged[Cdecl]<void*, void*, int>)&HandshakeCompletedCallback;
        cb->handshake_confirmed = (nint)(delegate* unmanaged[Cdecl]<void*, void*, int>)&HandshakeConfirmedCallback;
        cb->recv_stream_data = (nint)(delegate* unmanaged[Cdecl]<void*, uint, long, ulong, byte*, nuint, void*, void*, int>)&RecvStreamDataCallback;
        cb->acked_stream_data_offset = (nint)(delegate* unmanaged[Cdecl]<void*, long, ulong, ulong, void*, void*, int>)&AckedStreamDataOffsetCallback;
        cb->stream_open = (nint)(delegate* unmanaged[Cdecl]<void*, long, void*, int>)&StreamOpenCallback;
        cb->stream_close = (nint)(delegate* unmanaged[Cdecl]<void*, uint, long, ulong, void*, void*, int>)&StreamCloseCallback;
        cb->stream_reset = (nint)(delegate* unmanaged[Cdecl]<void*, long, ulong, ulong, void*, void*, int>)&StreamResetCallback;
        // Not stream_stop_sending: in ngtcp2 1.x it reports our own shutdown_stream_read, not the peer's STOP_SENDING
        // (1.11 has no callback for that; see QuicStream.OnPeerStoppedReading).
        cb->extend_max_local_streams_bidi = (nint)(delegate* unmanaged[Cdecl]<void*, ulong, void*, int>)&ExtendMaxLocalStreamsBidiCallback;
        cb->extend_max_local_streams_uni = (nint)(delegate* unmanaged[Cdecl]<void*, ulong, void*, int>)&ExtendMaxLocalStreamsUniCallback;
        cb->extend_max_stream_data = (nint)(delegate* unmanaged[Cdecl]<void*, long, ulong, void*, void*, int>)&ExtendMaxStreamDataCallback;
        cb->rand = (nint)(delegate* unmanaged[Cdecl]<byte*, nuint, void*, void>)&RandCallback;
        cb->get_new_connection_id = (nint)(delegate* unmanaged[Cdecl]<void*, ngtcp2.ngtcp2_cid*, byte*, nuint, void*, int>)&GetNewConnectionIdCallback;
        cb->remove_connection_id = (nint)(delegate* unmanaged[Cdecl]<void*, ngtcp2.ngtcp2_cid*, void*, int>)&RemoveConnectionIdCallback;
    }

    /// <summary>Releases the native connection and TLS session; loop thread, after the connection left every table.</summary>
    internal void ReleaseNative()
    {
        _handle.Dispose();
        _tls.Dispose();
    }

    internal string? ReadSelectedAlpn()
    {
        gnutls.gnutls_datum_t proto;
        if (gnutls.gnutls_alpn_get_selected_protocol((void*)_tls.DangerousGetHandle(), &proto) != 0)
        {
            return null;
        }
        return Encoding.UTF8.GetString(proto.data, (int)proto.size);
    }

    /// <summary>
    /// Called by GnuTLS when the peer's certificate arrives, inside the handshake. Returning non-zero aborts the
    /// handshake with a bad_certificate alert, so nothing from an unauthenticated peer reaches the application.
    /// </summary>
    internal int VerifyPeer(void* session)
    {
        uint count;
        gnutls.gnutls_datum_t* certs = gnutls.gnutls_certificate_get_peers(session, &count);
        if (certs == null || count == 0)
        {
            _authFailure = "the peer presented no certificate";
            return -1;
        }
        if (!PeerCertificate.TryGetEd25519PublicKey(new ReadOnlySpan<byte>(certs[0].data, (int)Math.Min(certs[0].size, 16384u)).ToArray(), out QuicPublicKey key))
        {
            _authFailure = "the peer's certificate does not carry an Ed25519 key";
            return -1;
        }
        if (key.IsWeak)
        {
            _authFailure = $"the peer's key {key} is a point of small order, which proves nothing (anyone can sign for it)";
            return -1;
        }
        if (_expectedPeerKey is { } expected && expected != key)
        {
            _authFailure = $"the peer's key is {key}, not the expected {expected}";
            return -1;
        }
        RemotePublicKey = key;
        _peerVerified = true;
        return 0;
    }

    internal static QuicConnection? FromUserData(void* userData)
    {
        if (userData == null)
        {
            return null;
        }
        return GCHandle.FromIntPtr((nint)userData).Target as QuicConnection;
    }

    internal static QuicConnection? FromSession(void* session)
    {
        var connRef = (SafeNgtcp2ConnectionHandle.ConnRef*)gnutls.gnutls_session_get_ptr(session);
        return connRef == null ? null : FromUserData(connRef->Ref.user_data);
    }
}
