using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;

namespace TensorProtocol.Quic.Interop;

// Mirrors of <ngtcp2/ngtcp2.h>. Names are the C names; StructLayoutTests compares every size and offset with the
// installed header. Only what the transport uses is declared.
internal static unsafe partial class ngtcp2
{
    internal const int NGTCP2_PKT_INFO_V1 = 1;
    internal const int NGTCP2_TRANSPORT_PARAMS_V1 = 1;
    internal const int NGTCP2_CONN_INFO_V1 = 1;
    internal const int NGTCP2_SETTINGS_V1 = 1;
    internal const int NGTCP2_SETTINGS_V2 = 2; // adds pmtud_probes (ngtcp2 1.4)
    internal const int NGTCP2_CALLBACKS_V1 = 1;

    internal const uint NGTCP2_PROTO_VER_V1 = 0x00000001u;
    internal const int NGTCP2_MAX_CIDLEN = 20;
    internal const int NGTCP2_STATELESS_RESET_TOKENLEN = 16;
    internal const int NGTCP2_MIN_STATELESS_RESET_RANDLEN = 5;
    internal const int NGTCP2_MAX_UDP_PAYLOAD_SIZE = 1200;
    internal const ulong NGTCP2_MILLISECONDS = 1_000_000UL;

    internal const int NGTCP2_ERR_INVALID_ARGUMENT = -201;
    internal const int NGTCP2_ERR_NOBUF = -202;
    internal const int NGTCP2_ERR_PROTO = -203;
    internal const int NGTCP2_ERR_INVALID_STATE = -204;
    internal const int NGTCP2_ERR_STREAM_ID_BLOCKED = -206;
    internal const int NGTCP2_ERR_STREAM_IN_USE = -207;
    internal const int NGTCP2_ERR_STREAM_DATA_BLOCKED = -208;
    internal const int NGTCP2_ERR_FLOW_CONTROL = -209;
    internal const int NGTCP2_ERR_STREAM_LIMIT = -211;
    internal const int NGTCP2_ERR_FINAL_SIZE = -212;
    internal const int NGTCP2_ERR_CRYPTO = -213;
    internal const int NGTCP2_ERR_STREAM_SHUT_WR = -219;
    internal const int NGTCP2_ERR_STREAM_NOT_FOUND = -220;
    internal const int NGTCP2_ERR_STREAM_STATE = -221;
    internal const int NGTCP2_ERR_RECV_VERSION_NEGOTIATION = -222;
    internal const int NGTCP2_ERR_CLOSING = -223;
    internal const int NGTCP2_ERR_DRAINING = -224;
    internal const int NGTCP2_ERR_DISCARD_PKT = -226;
    internal const int NGTCP2_ERR_WRITE_MORE = -230;
    internal const int NGTCP2_ERR_RETRY = -231;
    internal const int NGTCP2_ERR_DROP_CONN = -232;
    internal const int NGTCP2_ERR_VERSION_NEGOTIATION = -235;
    internal const int NGTCP2_ERR_HANDSHAKE_TIMEOUT = -236;
    internal const int NGTCP2_ERR_VERSION_NEGOTIATION_FAILURE = -237;
    internal const int NGTCP2_ERR_IDLE_CLOSE = -238;
    internal const int NGTCP2_ERR_CALLBACK_FAILURE = -502;

    internal const ulong NGTCP2_NO_ERROR = 0x0;
    internal const ulong NGTCP2_INTERNAL_ERROR = 0x1;
    internal const ulong NGTCP2_CONNECTION_REFUSED = 0x2;
    internal const ulong NGTCP2_PROTOCOL_VIOLATION = 0xa;
    internal const ulong NGTCP2_INVALID_TOKEN = 0xb;
    internal const ulong NGTCP2_CRYPTO_ERROR = 0x100;

    internal const uint NGTCP2_STREAM_DATA_FLAG_FIN = 0x01;
    internal const uint NGTCP2_STREAM_CLOSE_FLAG_APP_ERROR_CODE_SET = 0x01;
    internal const uint NGTCP2_WRITE_STREAM_FLAG_MORE = 0x01;
    internal const uint NGTCP2_WRITE_STREAM_FLAG_FIN = 0x02;

    internal const byte NGTCP2_PKT_INITIAL = 0x10;

    internal enum ngtcp2_token_type
    {
        NGTCP2_TOKEN_TYPE_UNKNOWN = 0,
        NGTCP2_TOKEN_TYPE_RETRY = 1,
        NGTCP2_TOKEN_TYPE_NEW_TOKEN = 2,
    }

    internal enum ngtcp2_cc_algo
    {
        NGTCP2_CC_ALGO_RENO = 0x00,
        NGTCP2_CC_ALGO_CUBIC = 0x01,
        NGTCP2_CC_ALGO_BBR = 0x02,
    }

    internal enum ngtcp2_ccerr_type
    {
        NGTCP2_CCERR_TYPE_TRANSPORT,
        NGTCP2_CCERR_TYPE_APPLICATION,
        NGTCP2_CCERR_TYPE_VERSION_NEGOTIATION,
        NGTCP2_CCERR_TYPE_IDLE_CLOSE,
        NGTCP2_CCERR_TYPE_DROP_CONN,
        NGTCP2_CCERR_TYPE_RETRY,
    }

    [StructLayout(LayoutKind.Sequential)]
    internal struct ngtcp2_cid
    {
        public nuint datalen;
        public fixed byte data[NGTCP2_MAX_CIDLEN];
    }

    [StructLayout(LayoutKind.Sequential)]
    internal struct ngtcp2_vec
    {
        public byte* @base;
        public nuint len;
    }

    // NGTCP2_ALIGN(8) in C: one byte of content padded to 8.
    [StructLayout(LayoutKind.Sequential, Size = 8)]
    internal struct ngtcp2_pkt_info
    {
        public byte ecn;
    }

    [StructLayout(LayoutKind.Sequential)]
    internal struct ngtcp2_pkt_hd
    {
        public ngtcp2_cid dcid;
        public ngtcp2_cid scid;
        public long pkt_num;
        public byte* token;
        public nuint tokenlen;
        public nuint pkt_numlen;
        public nuint len;
        public uint version;
        public byte type;
        public byte flags;
    }

    [StructLayout(LayoutKind.Sequential)]
    internal struct ngtcp2_version_cid
    {
        public uint version;
        public byte* dcid;
        public nuint dcidlen;
        public byte* scid;
        public nuint scidlen;
    }

    [StructLayout(LayoutKind.Sequential)]
    internal struct ngtcp2_preferred_addr
    {
        public ngtcp2_cid cid;
        public libc.sockaddr_in ipv4;
        public libc.sockaddr_in6 ipv6;
        public byte ipv4_present;
        public byte ipv6_present;
        public fixed byte stateless_reset_token[NGTCP2_STATELESS_RESET_TOKENLEN];
    }

    [StructLayout(LayoutKind.Sequential)]
    internal struct ngtcp2_version_info
    {
        public uint chosen_version;
        public byte* available_versions;
        public nuint available_versionslen;
    }

    [StructLayout(LayoutKind.Sequential)]
    internal struct ngtcp2_transport_params
    {
        public ngtcp2_preferred_addr preferred_addr;
        public ngtcp2_cid original_dcid;
        public ngtcp2_cid initial_scid;
        public ngtcp2_cid retry_scid;
        public ulong initial_max_stream_data_bidi_local;
        public ulong initial_max_stream_data_bidi_remote;
        public ulong initial_max_stream_data_uni;
        public ulong initial_max_data;
        public ulong initial_max_streams_bidi;
        public ulong initial_max_streams_uni;
        public ulong max_idle_timeout;
        public ulong max_udp_payload_size;
        public ulong active_connection_id_limit;
        public ulong ack_delay_exponent;
        public ulong max_ack_delay;
        public ulong max_datagram_frame_size;
        public byte stateless_reset_token_present;
        public byte disable_active_migration;
        public byte original_dcid_present;
        public byte initial_scid_present;
        public byte retry_scid_present;
        public byte preferred_addr_present;
        public fixed byte stateless_reset_token[NGTCP2_STATELESS_RESET_TOKENLEN];
        public byte grease_quic_bit;
        public ngtcp2_version_info version_info;
        public byte version_info_present;
    }

    [StructLayout(LayoutKind.Sequential)]
    internal struct ngtcp2_conn_info
    {
        public ulong latest_rtt;
        public ulong min_rtt;
        public ulong smoothed_rtt;
        public ulong rttvar;
        public ulong cwnd;
        public ulong ssthresh;
        public ulong bytes_in_flight;
    }

    [StructLayout(LayoutKind.Sequential)]
    internal struct ngtcp2_rand_ctx
    {
        public void* native_handle;
    }

    // The full NGTCP2_SETTINGS_V2 layout (the version we pass).
    [StructLayout(LayoutKind.Sequential)]
    internal struct ngtcp2_settings
    {
        public nint qlog_write;
        public ngtcp2_cc_algo cc_algo;
        public ulong initial_ts;
        public ulong initial_rtt;
        public nint log_printf;
        public nuint max_tx_udp_payload_size;
        public byte* token;
        public nuint tokenlen;
        public int token_type;
        public ngtcp2_rand_ctx rand_ctx;
        public ulong max_window;
        public ulong max_stream_window;
        public nuint ack_thresh;
        public byte no_tx_udp_payload_size_shaping;
        public ulong handshake_timeout;
        public uint* preferred_versions;
        public nuint preferred_versionslen;
        public uint* available_versions;
        public nuint available_versionslen;
        public uint original_version;
        public byte no_pmtud;
        public uint initial_pkt_num;
        public ushort* pmtud_probes;
        public nuint pmtud_probeslen;
    }

    [StructLayout(LayoutKind.Sequential)]
    internal struct ngtcp2_addr
    {
        public void* addr;
        public uint addrlen;
    }

    [StructLayout(LayoutKind.Sequential)]
    internal struct ngtcp2_path
    {
        public ngtcp2_addr local;
        public ngtcp2_addr remote;
        public void* user_data;
    }

    [StructLayout(LayoutKind.Sequential)]
    internal struct ngtcp2_path_storage
    {
        public ngtcp2_path path;
        public libc.sockaddr_in6 local_addrbuf;   // ngtcp2_sockaddr_union: sockaddr_in6 is its largest member
        public libc.sockaddr_in6 remote_addrbuf;
    }

    [StructLayout(LayoutKind.Sequential)]
    internal struct ngtcp2_ccerr
    {
        public ngtcp2_ccerr_type type;
        public ulong error_code;
        public ulong frame_type;
        public byte* reason;
        public nuint reasonlen;
    }

    [StructLayout(LayoutKind.Sequential)]
    internal struct ngtcp2_info
    {
        public int age;
        public int version_num;
        public byte* version_str;
    }

    [StructLayout(LayoutKind.Sequential)]
    internal struct ngtcp2_callbacks
    {
        public nint client_initial;
        public nint recv_client_initial;
        public nint recv_crypto_data;
        public nint handshake_completed;
        public nint recv_version_negotiation;
        public nint encrypt;
        public nint decrypt;
        public nint hp_mask;
        public nint recv_stream_data;
        public nint acked_stream_data_offset;
        public nint stream_open;
        public nint stream_close;
        public nint recv_stateless_reset;
        public nint recv_retry;
        public nint extend_max_local_streams_bidi;
        public nint extend_max_local_streams_uni;
        public nint rand;
        public nint get_new_connection_id;
        public nint remove_connection_id;
        public nint update_key;
        public nint path_validation;
        public nint select_preferred_addr;
        public nint stream_reset;
        public nint extend_max_remote_streams_bidi;
        public nint extend_max_remote_streams_uni;
        public nint extend_max_stream_data;
        public nint dcid_status;
        public nint handshake_confirmed;
        public nint recv_new_token;
        public nint delete_crypto_aead_ctx;
        public nint delete_crypto_cipher_ctx;
        public nint recv_datagram;
        public nint ack_datagram;
        public nint lost_datagram;
        public nint get_path_challenge_data;
        public nint stream_stop_sending;
        public nint version_negotiation;
        public nint recv_rx_key;
        public nint recv_tx_key;
        public nint tls_early_data_rejected;
    }

    [LibraryImport(Libraries.Ngtcp2)]
    [UnmanagedCallConv(CallConvs = [typeof(CallConvCdecl)])]
    internal static partial ngtcp2_info* ngtcp2_version(int least_version);

    [LibraryImport(Libraries.Ngtcp2)]
    [UnmanagedCallConv(CallConvs = [typeof(CallConvCdecl)])]
    internal static partial byte* ngtcp2_strerror(int liberr);

    [LibraryImport(Libraries.Ngtcp2)]
    [UnmanagedCallConv(CallConvs = [typeof(CallConvCdecl)])]
    internal static partial int ngtcp2_err_is_fatal(int liberr);

    [LibraryImport(Libraries.Ngtcp2)]
    [UnmanagedCallConv(CallConvs = [typeof(CallConvCdecl)])]
    internal static partial void ngtcp2_settings_default_versioned(int settings_version, ngtcp2_settings* settings);

    [LibraryImport(Libraries.Ngtcp2)]
    [UnmanagedCallConv(CallConvs = [typeof(CallConvCdecl)])]
    internal static partial void ngtcp2_transport_params_default_versioned(int transport_params_version, ngtcp2_transport_params* @params);

    [LibraryImport(Libraries.Ngtcp2)]
    [UnmanagedCallConv(CallConvs = [typeof(CallConvCdecl)])]
    internal static partial int ngtcp2_pkt_decode_version_cid(ngtcp2_version_cid* dest, byte* data, nuint datalen, nuint short_dcidlen);

    [LibraryImport(Libraries.Ngtcp2)]
    [UnmanagedCallConv(CallConvs = [typeof(CallConvCdecl)])]
    internal static partial int ngtcp2_accept(ngtcp2_pkt_hd* dest, byte* pkt, nuint pktlen);

    [LibraryImport(Libraries.Ngtcp2)]
    [UnmanagedCallConv(CallConvs = [typeof(CallConvCdecl)])]
    internal static partial nint ngtcp2_pkt_write_stateless_reset(byte* dest, nuint destlen, byte* stateless_reset_token, byte* rand, nuint randlen);

    [LibraryImport(Libraries.Ngtcp2)]
    [UnmanagedCallConv(CallConvs = [typeof(CallConvCdecl)])]
    internal static partial nint ngtcp2_pkt_write_version_negotiation(byte* dest, nuint destlen, byte unused_random, byte* dcid, nuint dcidlen, byte* scid, nuint scidlen, uint* sv, nuint nsv);

    [LibraryImport(Libraries.Ngtcp2)]
    [UnmanagedCallConv(CallConvs = [typeof(CallConvCdecl)])]
    internal static partial int ngtcp2_conn_client_new_versioned(void** pconn, ngtcp2_cid* dcid, ngtcp2_cid* scid, ngtcp2_path* path, uint client_chosen_version, int callbacks_version, ngtcp2_callbacks* callbacks, int settings_version, ngtcp2_settings* settings, int transport_params_version, ngtcp2_transport_params* @params, void* mem, void* user_data);

    [LibraryImport(Libraries.Ngtcp2)]
    [UnmanagedCallConv(CallConvs = [typeof(CallConvCdecl)])]
    internal static partial int ngtcp2_conn_server_new_versioned(void** pconn, ngtcp2_cid* dcid, ngtcp2_cid* scid, ngtcp2_path* path, uint client_chosen_version, int callbacks_version, ngtcp2_callbacks* callbacks, int settings_version, ngtcp2_settings* settings, int transport_params_version, ngtcp2_transport_params* @params, void* mem, void* user_data);

    [LibraryImport(Libraries.Ngtcp2)]
    [UnmanagedCallConv(CallConvs = [typeof(CallConvCdecl)])]
    internal static partial void ngtcp2_conn_del(void* conn);

    [LibraryImport(Libraries.Ngtcp2)]
    [UnmanagedCallConv(CallConvs = [typeof(CallConvCdecl)])]
    internal static partial int ngtcp2_conn_read_pkt_versioned(void* conn, ngtcp2_path* path, int pkt_info_version, ngtcp2_pkt_info* pi, byte* pkt, nuint pktlen, ulong ts);

    [LibraryImport(Libraries.Ngtcp2)]
    [UnmanagedCallConv(CallConvs = [typeof(CallConvCdecl)])]
    internal static partial nint ngtcp2_conn_writev_stream_versioned(void* conn, ngtcp2_path* path, int pkt_info_version, ngtcp2_pkt_info* pi, byte* dest, nuint destlen, nint* pdatalen, uint flags, long stream_id, ngtcp2_vec* datav, nuint datavcnt, ulong ts);

    [LibraryImport(Libraries.Ngtcp2)]
    [UnmanagedCallConv(CallConvs = [typeof(CallConvCdecl)])]
    internal static partial nint ngtcp2_conn_write_connection_close_versioned(void* conn, ngtcp2_path* path, int pkt_info_version, ngtcp2_pkt_info* pi, byte* dest, nuint destlen, ngtcp2_ccerr* ccerr, ulong ts);

    [LibraryImport(Libraries.Ngtcp2)]
    [UnmanagedCallConv(CallConvs = [typeof(CallConvCdecl)])]
    internal static partial void ngtcp2_conn_update_pkt_tx_time(void* conn, ulong ts);

    [LibraryImport(Libraries.Ngtcp2)]
    [UnmanagedCallConv(CallConvs = [typeof(CallConvCdecl)])]
    internal static partial nuint ngtcp2_conn_get_send_quantum(void* conn);

    [LibraryImport(Libraries.Ngtcp2)]
    [UnmanagedCallConv(CallConvs = [typeof(CallConvCdecl)])]
    internal static partial nuint ngtcp2_conn_get_max_tx_udp_payload_size(void* conn);

    [LibraryImport(Libraries.Ngtcp2)]
    [UnmanagedCallConv(CallConvs = [typeof(CallConvCdecl)])]
    internal static partial nuint ngtcp2_conn_get_path_max_tx_udp_payload_size(void* conn);

    [LibraryImport(Libraries.Ngtcp2)]
    [UnmanagedCallConv(CallConvs = [typeof(CallConvCdecl)])]
    internal static partial ulong ngtcp2_conn_get_expiry(void* conn);

    [LibraryImport(Libraries.Ngtcp2)]
    [UnmanagedCallConv(CallConvs = [typeof(CallConvCdecl)])]
    internal static partial int ngtcp2_conn_handle_expiry(void* conn, ulong ts);

    [LibraryImport(Libraries.Ngtcp2)]
    [UnmanagedCallConv(CallConvs = [typeof(CallConvCdecl)])]
    internal static partial ulong ngtcp2_conn_get_pto(void* conn);

    [LibraryImport(Libraries.Ngtcp2)]
    [UnmanagedCallConv(CallConvs = [typeof(CallConvCdecl)])]
    internal static partial void ngtcp2_conn_set_tls_native_handle(void* conn, void* tls_native_handle);

    [LibraryImport(Libraries.Ngtcp2)]
    [UnmanagedCallConv(CallConvs = [typeof(CallConvCdecl)])]
    internal static partial byte ngtcp2_conn_get_tls_alert(void* conn);

    [LibraryImport(Libraries.Ngtcp2)]
    [UnmanagedCallConv(CallConvs = [typeof(CallConvCdecl)])]
    internal static partial void ngtcp2_conn_set_keep_alive_timeout(void* conn, ulong timeout);

    [LibraryImport(Libraries.Ngtcp2)]
    [UnmanagedCallConv(CallConvs = [typeof(CallConvCdecl)])]
    internal static partial int ngtcp2_conn_open_bidi_stream(void* conn, long* pstream_id, void* stream_user_data);

    [LibraryImport(Libraries.Ngtcp2)]
    [UnmanagedCallConv(CallConvs = [typeof(CallConvCdecl)])]
    internal static partial ulong ngtcp2_conn_get_streams_bidi_left(void* conn);

    [LibraryImport(Libraries.Ngtcp2)]
    [UnmanagedCallConv(CallConvs = [typeof(CallConvCdecl)])]
    internal static partial int ngtcp2_conn_open_uni_stream(void* conn, long* pstream_id, void* stream_user_data);

    [LibraryImport(Libraries.Ngtcp2)]
    [UnmanagedCallConv(CallConvs = [typeof(CallConvCdecl)])]
    internal static partial int ngtcp2_conn_shutdown_stream_write(void* conn, uint flags, long stream_id, ulong app_error_code);

    [LibraryImport(Libraries.Ngtcp2)]
    [UnmanagedCallConv(CallConvs = [typeof(CallConvCdecl)])]
    internal static partial int ngtcp2_conn_shutdown_stream_read(void* conn, uint flags, long stream_id, ulong app_error_code);

    [LibraryImport(Libraries.Ngtcp2)]
    [UnmanagedCallConv(CallConvs = [typeof(CallConvCdecl)])]
    internal static partial int ngtcp2_conn_extend_max_stream_offset(void* conn, long stream_id, ulong datalen);

    [LibraryImport(Libraries.Ngtcp2)]
    [UnmanagedCallConv(CallConvs = [typeof(CallConvCdecl)])]
    internal static partial void ngtcp2_conn_extend_max_offset(void* conn, ulong datalen);

    [LibraryImport(Libraries.Ngtcp2)]
    [UnmanagedCallConv(CallConvs = [typeof(CallConvCdecl)])]
    internal static partial void ngtcp2_conn_get_conn_info_versioned(void* conn, int conn_info_version, ngtcp2_conn_info* cinfo);

    [LibraryImport(Libraries.Ngtcp2)]
    [UnmanagedCallConv(CallConvs = [typeof(CallConvCdecl)])]
    internal static partial ngtcp2_ccerr* ngtcp2_conn_get_ccerr(void* conn);

    [LibraryImport(Libraries.Ngtcp2)]
    [UnmanagedCallConv(CallConvs = [typeof(CallConvCdecl)])]
    internal static partial int ngtcp2_conn_in_closing_period(void* conn);

    [LibraryImport(Libraries.Ngtcp2)]
    [UnmanagedCallConv(CallConvs = [typeof(CallConvCdecl)])]
    internal static partial int ngtcp2_conn_in_draining_period(void* conn);

    [LibraryImport(Libraries.Ngtcp2)]
    [UnmanagedCallConv(CallConvs = [typeof(CallConvCdecl)])]
    internal static partial int ngtcp2_conn_is_local_stream(void* conn, long stream_id);

    [LibraryImport(Libraries.Ngtcp2)]
    [UnmanagedCallConv(CallConvs = [typeof(CallConvCdecl)])]
    internal static partial void ngtcp2_ccerr_default(ngtcp2_ccerr* ccerr);

    [LibraryImport(Libraries.Ngtcp2)]
    [UnmanagedCallConv(CallConvs = [typeof(CallConvCdecl)])]
    internal static partial void ngtcp2_ccerr_set_liberr(ngtcp2_ccerr* ccerr, int liberr, byte* reason, nuint reasonlen);

    [LibraryImport(Libraries.Ngtcp2)]
    [UnmanagedCallConv(CallConvs = [typeof(CallConvCdecl)])]
    internal static partial void ngtcp2_ccerr_set_tls_alert(ngtcp2_ccerr* ccerr, byte tls_alert, byte* reason, nuint reasonlen);

    [LibraryImport(Libraries.Ngtcp2)]
    [UnmanagedCallConv(CallConvs = [typeof(CallConvCdecl)])]
    internal static partial void ngtcp2_ccerr_set_application_error(ngtcp2_ccerr* ccerr, ulong error_code, byte* reason, nuint reasonlen);

    [LibraryImport(Libraries.Ngtcp2)]
    [UnmanagedCallConv(CallConvs = [typeof(CallConvCdecl)])]
    internal static partial void ngtcp2_ccerr_set_transport_error(ngtcp2_ccerr* ccerr, ulong error_code, byte* reason, nuint reasonlen);
}

internal static unsafe partial class ngtcp2
{
    [LibraryImport(Libraries.Ngtcp2)]
    [UnmanagedCallConv(CallConvs = [typeof(CallConvCdecl)])]
    internal static partial nuint ngtcp2_conn_get_stream_loss_count(void* conn, long stream_id);
}

internal static unsafe partial class ngtcp2
{
    [LibraryImport(Libraries.Ngtcp2)]
    [UnmanagedCallConv(CallConvs = [typeof(CallConvCdecl)])]
    internal static partial void ngtcp2_conn_extend_max_streams_bidi(void* conn, nuint n);

    [LibraryImport(Libraries.Ngtcp2)]
    [UnmanagedCallConv(CallConvs = [typeof(CallConvCdecl)])]
    internal static partial void ngtcp2_conn_extend_max_streams_uni(void* conn, nuint n);
}
