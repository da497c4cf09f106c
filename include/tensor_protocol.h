/*
 * tensor_protocol.h — the C ABI of TensorProtocol (libtensor_protocol.so, a NativeAOT build of
 * src/TensorProtocol.Native). It is what the Python package drives through ctypes; any C program can use it too.
 *
 * Conventions
 * - Every function returns a tp_status (0 = TP_OK; negative = error) unless it says otherwise. On an error the
 *   calling thread's tp_last_error() describes it; nothing is ever thrown or aborted across the boundary.
 * - Strings are UTF-8 and NUL-terminated. Strings the library returns stay valid as the function says.
 * - Handles (tp_node, tp_tensor, tp_cancel) are opaque and freed with their *_free function, exactly once.
 * - Asynchronous operations (send, request, receive) return at once. When they return TP_OK their outcome is
 *   delivered exactly once, later, never inside the initiating call: by calling their completion callback on a
 *   library thread or, when the callback is NULL, as an event on the node's completion queue (tp_queue, below:
 *   made for event loops, it runs no caller code on library threads). When they return an error, nothing is
 *   delivered.
 * - Memory handed to the library by pointer (tp_tensor_view.data) is read in place, never copied: the caller keeps
 *   it alive and unchanged until the library calls the matching tp_release_fn, which it does exactly once, on a
 *   library thread, when it will never touch that memory again (for a send: after the completion callback or
 *   around it; for a registered tensor: once it is replaced or unregistered and no peer is still reading it). With a
 *   NULL tp_release_fn and a non-NULL release_data, a TP_EVENT_RELEASE event carrying release_data goes to the node's
 *   completion queue instead; with both NULL, the caller is not told (its memory must outlive the node).
 * - Thread safety: every function may be called from any thread. A completion callback should return quickly:
 *   it runs on a library thread that other operations also need (hand work to your own thread instead of
 *   blocking there, and never call tp_node_shutdown / tp_node_free from it).
 */
#ifndef TENSOR_PROTOCOL_H
#define TENSOR_PROTOCOL_H

#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

/* Bumped when a function's signature or a struct's meaning changes (appending struct fields does not bump it). */
#define TP_ABI_VERSION 1

typedef enum tp_status {
    TP_OK = 0,
    TP_EMPTY = 1,                  /* tp_node_try_receive: nothing is queued (not an error) */
    TP_ERR_INVALID_ARGUMENT = -1,  /* a NULL where a value is needed, a bad dtype/shape/length, an empty name */
    TP_ERR_TICKET = -2,            /* the ticket string is malformed (nothing was dialed) */
    TP_ERR_IO = -3,                /* identity file, socket, address in use */
    TP_ERR_SERIALIZATION = -4,
    TP_ERR_CONNECTION = -5,        /* the peer could not be reached or the connection failed */
    TP_ERR_PROTOCOL = -6,          /* the peer broke the wire protocol */
    TP_ERR_NOT_FOUND = -7,         /* pull: the peer has no tensor of that name */
    TP_ERR_NOT_ALLOWED = -8,       /* refused by the peer's allowlist */
    TP_ERR_TOO_LARGE = -9,         /* refused: larger than the peer accepts */
    TP_ERR_QUEUE_FULL = -10,       /* refused: the peer's receive queue is full */
    TP_ERR_TIMEOUT = -11,
    TP_ERR_SHUTDOWN = -12,         /* the node is shut down */
    TP_ERR_CANCELLED = -13,        /* the operation's tp_cancel was triggered */
    TP_ERR_NOT_SUPPORTED = -14,    /* a native dependency (ngtcp2, GnuTLS) is missing; the message names the package */
    TP_ERR_INVALID_STATE = -15,    /* e.g. the node is not started yet */
    TP_ERR_BUFFER_TOO_SMALL = -16, /* the output buffer is too small; *length holds the size needed */
    TP_ERR_INTERNAL = -99          /* a bug: please report the message */
} tp_status;

/* Element types; the values are the wire codes of docs/protocol.md. Little-endian, C order. */
typedef enum tp_dtype {
    TP_F32 = 1, TP_F64 = 2, TP_F16 = 3, TP_BF16 = 4, TP_F8_E4M3 = 5, TP_F8_E5M2 = 6,
    TP_I8 = 7, TP_I16 = 8, TP_I32 = 9, TP_I64 = 10,
    TP_U8 = 11, TP_U16 = 12, TP_U32 = 13, TP_U64 = 14,
    TP_BOOL = 15, TP_C64 = 16, TP_C128 = 17
} tp_dtype;

typedef struct tp_node tp_node;
typedef struct tp_tensor tp_tensor;
typedef struct tp_cancel tp_cancel;
typedef struct tp_queue tp_queue;

/* Called once when the library no longer needs memory the caller lent it. */
typedef void (*tp_release_fn)(void *user_data);

/*
 * Called once when an asynchronous operation ends. status is TP_OK or an error; error is the message (NULL on
 * success), valid only during the call. tensor is the result of tp_node_request / tp_node_receive on success (the
 * callee owns it and frees it with tp_tensor_free), NULL otherwise.
 */
typedef void (*tp_completion_fn)(void *user_data, int32_t status, const char *error, tp_tensor *tensor);

/* Node options. Zero / NULL in any field means its default. Set struct_size = sizeof(tp_node_options). */
typedef struct tp_node_options {
    uint32_t struct_size;
    uint16_t port;                    /* UDP port; 0 = ephemeral */
    uint16_t reserved;                /* must be 0 */
    const char *identity_path;        /* Ed25519 key file (created 0600 if missing); NULL = ephemeral identity */
    const char *bind_address;         /* e.g. "127.0.0.1" or "::"; NULL = "::" (IPv4 and IPv6) */
    const char *alpn;                 /* NULL = "tensorp/1"; 1 to 31 bytes */
    uint64_t max_tensor_bytes;        /* largest tensor accepted */
    uint64_t receive_memory_budget;   /* bytes of received tensors held at once */
    int32_t receive_queue_capacity;   /* tensors held at once */
    int32_t queue_full_wait;          /* 0: refuse pushes when the queue is full; 1: make the sender wait */
    int32_t max_pooled_connections;
    uint32_t connect_timeout_ms;
    uint32_t request_timeout_ms;      /* a request header must arrive within it, a payload (pushed or pulled) within it + its
                                         size at min_transfer_rate_kib; at most a day */
    uint32_t pool_idle_timeout_ms;
    const char *const *allowed_senders; /* NodeIds that may push; NULL = anyone (non-NULL with count 0 = nobody) */
    const char *const *allowed_pullers; /* NodeIds that may pull; NULL = anyone (non-NULL with count 0 = nobody) */
    int32_t allowed_senders_count;
    int32_t allowed_pullers_count;
    /* Appended later: a caller built against the shorter struct (its struct_size) gets their defaults. */
    int64_t receive_buffer_retention; /* bytes of released received tensors' memory kept for reuse by later
                                         payloads of a similar size; 0 = 2 GiB, -1 = keep none */
    uint32_t receive_buffer_lifetime_ms; /* kept memory unused this long is returned to the system; 0 = 10 s */
    uint32_t min_transfer_rate_kib;   /* slowest a payload may arrive or be taken, KiB/s; a pushed payload must keep up
                                         64 MiB at a time; 0 = 1024 (1 MiB/s) (was reserved, 0) */
} tp_node_options;

/* A tensor described by the caller, over the caller's memory (see "Memory handed to the library"). */
typedef struct tp_tensor_view {
    int32_t dtype;                    /* a tp_dtype */
    int32_t rank;
    const int64_t *shape;             /* rank entries, each >= 0; copied during the call */
    const void *data;                 /* C order, little-endian; may be NULL when data_len is 0 */
    uint64_t data_len;                /* must equal product(shape) * element size */
    int32_t requires_grad;
    int32_t metadata_count;           /* optional string -> string metadata, copied during the call */
    const char *const *metadata_keys;
    const char *const *metadata_values;
} tp_tensor_view;

/* What a received tensor holds. Every pointer stays valid until tp_tensor_free. */
typedef struct tp_tensor_info {
    const char *name;
    const char *sender;               /* NodeId of the peer that pushed it (or served it, for a pull) */
    int32_t dtype;
    int32_t rank;
    const int64_t *shape;
    void *data;                       /* the payload, written once by the receiver; the holder may modify it */
    uint64_t data_len;
    int32_t requires_grad;
    int32_t metadata_count;
} tp_tensor_info;

/* An outcome taken from a completion queue. */
typedef enum tp_event_kind {
    TP_EVENT_COMPLETION = 0,          /* an operation ended: status, error, tensor as for tp_completion_fn */
    TP_EVENT_RELEASE = 1              /* the library let go of lent memory: user_data is the release_data */
} tp_event_kind;

typedef struct tp_event {
    uint64_t user_data;               /* the operation's done_data, or the memory's release_data */
    int32_t kind;                     /* a tp_event_kind */
    int32_t status;
    tp_tensor *tensor;                /* owned by the taker (tp_tensor_free); NULL if none */
    const char *error;                /* NULL on success; valid until the next tp_queue_poll on this queue */
} tp_event;

int32_t tp_abi_version(void);

/* The message of the last error on this thread; valid until the next library call on this thread. Never NULL. */
const char *tp_last_error(void);

/* ---- nodes ---- */
int32_t tp_node_create(const tp_node_options *options /* NULL = defaults */, tp_node **node);
int32_t tp_node_start(tp_node *node);   /* binds and starts accepting; idempotent */
/* Copy the ticket / NodeId (NUL-terminated) into buffer; *length = its length without the NUL, even when
   TP_ERR_BUFFER_TOO_SMALL. */
int32_t tp_node_ticket(tp_node *node, char *buffer, size_t capacity, size_t *length);
int32_t tp_node_id(tp_node *node, char *buffer, size_t capacity, size_t *length);
int32_t tp_node_pool_size(tp_node *node, int32_t *size);
int32_t tp_node_queued_count(tp_node *node, int32_t *count);

/* Push: completes (TP_OK) when the peer holds the whole tensor in its receive queue. */
int32_t tp_node_send(tp_node *node, const char *ticket, const char *name, const tp_tensor_view *tensor,
                     tp_release_fn release, void *release_data, tp_cancel *cancel /* may be NULL */,
                     tp_completion_fn done, void *done_data);
/* Pull a tensor the peer registered; the completion gets it as a tp_tensor. */
int32_t tp_node_request(tp_node *node, const char *ticket, const char *name, tp_cancel *cancel,
                        tp_completion_fn done, void *done_data);
/* Serve a tensor to pullers under name (replacing an earlier one), read in place from the caller's memory. */
int32_t tp_node_register(tp_node *node, const char *name, const tp_tensor_view *tensor, tp_release_fn release,
                         void *release_data);
int32_t tp_node_unregister(tp_node *node, const char *name, int32_t *removed /* may be NULL */);
/* Take the next received tensor: TP_OK with *tensor set, or TP_EMPTY. */
int32_t tp_node_try_receive(tp_node *node, tp_tensor **tensor);
/* Wait for the next received tensor; the completion gets it. */
int32_t tp_node_receive(tp_node *node, tp_cancel *cancel, tp_completion_fn done, void *done_data);
/* Close every connection and fail pending operations with TP_ERR_SHUTDOWN; idempotent. Blocks until done: every
 * pending operation of the node has reported (callback run, or event queued) and every release callback of memory
 * lent to it has run (waiting at most 5 s for them), so none comes after it returns. */
int32_t tp_node_shutdown(tp_node *node);
/* Shut down if needed and free the handle. NULL is ignored. */
void tp_node_free(tp_node *node);

/* ---- received tensors ---- */
int32_t tp_tensor_get_info(const tp_tensor *tensor, tp_tensor_info *info);
/* Metadata entry index (0 <= index < metadata_count); the strings live as long as the tensor. */
int32_t tp_tensor_get_metadata(const tp_tensor *tensor, int32_t index, const char **key, const char **value);
void tp_tensor_free(tp_tensor *tensor);

/* ---- completion queues ---- */
/* A queue whose file descriptor (an eventfd; do not read or close it) is readable while events wait: add it to an
   event loop (epoll, asyncio's add_reader) and call tp_queue_poll when it fires. */
int32_t tp_queue_create(tp_queue **queue, int32_t *fd);
/* Move up to capacity waiting events into events; *count = how many (0 when none). Never blocks. */
int32_t tp_queue_poll(tp_queue *queue, tp_event *events, int32_t capacity, int32_t *count);
/* Block until an event waits or timeout_ms pass (-1 = no limit); *ready = 1 if one waits. */
int32_t tp_queue_wait(tp_queue *queue, int32_t timeout_ms, int32_t *ready);
/* Free the queue; events still in it are dropped (their tensors freed). Detach it from nodes first. */
void tp_queue_free(tp_queue *queue);
/* Operations of this node started with a NULL callback report to queue (NULL detaches). */
int32_t tp_node_set_queue(tp_node *node, tp_queue *queue);

/* ---- cancellation ---- */
int32_t tp_cancel_create(tp_cancel **cancel);
/* Cancel every operation started with this token; pending ones complete with TP_ERR_CANCELLED. */
int32_t tp_cancel_trigger(tp_cancel *cancel);
/* Free the token; operations still using it keep it alive internally. NULL is ignored. */
void tp_cancel_free(tp_cancel *cancel);

#ifdef __cplusplus
}
#endif

#endif /* TENSOR_PROTOCOL_H */
