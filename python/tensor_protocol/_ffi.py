"""ctypes declarations of include/tensor_protocol.h and the loading of libtensor_protocol.so.

Everything here mirrors the header one to one (same names); the rest of the package never calls ctypes directly.
"""
from __future__ import annotations

import ctypes
import os
from ctypes import (CFUNCTYPE, POINTER, Structure, c_char_p, c_int32, c_int64, c_size_t, c_uint16, c_uint32,
                    c_uint64, c_void_p)
from pathlib import Path

ABI_VERSION = 1
LIBRARY_ENV = "TENSOR_PROTOCOL_LIBRARY"
LIBRARY_NAME = "libtensor_protocol.so"

# tp_status
TP_OK = 0
TP_EMPTY = 1
TP_ERR_INVALID_ARGUMENT = -1
TP_ERR_TICKET = -2
TP_ERR_IO = -3
TP_ERR_SERIALIZATION = -4
TP_ERR_CONNECTION = -5
TP_ERR_PROTOCOL = -6
TP_ERR_NOT_FOUND = -7
TP_ERR_NOT_ALLOWED = -8
TP_ERR_TOO_LARGE = -9
TP_ERR_QUEUE_FULL = -10
TP_ERR_TIMEOUT = -11
TP_ERR_SHUTDOWN = -12
TP_ERR_CANCELLED = -13
TP_ERR_NOT_SUPPORTED = -14
TP_ERR_INVALID_STATE = -15
TP_ERR_BUFFER_TOO_SMALL = -16
TP_ERR_INTERNAL = -99


class tp_node_options(Structure):
    _fields_ = [
        ("struct_size", c_uint32),
        ("port", c_uint16),
        ("reserved", c_uint16),
        ("identity_path", c_char_p),
        ("bind_address", c_char_p),
        ("alpn", c_char_p),
        ("max_tensor_bytes", c_uint64),
        ("receive_memory_budget", c_uint64),
        ("receive_queue_capacity", c_int32),
        ("queue_full_wait", c_int32),
        ("max_pooled_connections", c_int32),
        ("connect_timeout_ms", c_uint32),
        ("request_timeout_ms", c_uint32),
        ("pool_idle_timeout_ms", c_uint32),
        ("allowed_senders", POINTER(c_char_p)),
        ("allowed_pullers", POINTER(c_char_p)),
        ("allowed_senders_count", c_int32),
        ("allowed_pullers_count", c_int32),
        ("receive_buffer_retention", c_int64),
        ("receive_buffer_lifetime_ms", c_uint32),
        ("min_transfer_rate_kib", c_uint32),
    ]


class tp_tensor_view(Structure):
    _fields_ = [
        ("dtype", c_int32),
        ("rank", c_int32),
        ("shape", POINTER(c_int64)),
        ("data", c_void_p),
        ("data_len", c_uint64),
        ("requires_grad", c_int32),
        ("metadata_count", c_int32),
        ("metadata_keys", POINTER(c_char_p)),
        ("metadata_values", POINTER(c_char_p)),
    ]


class tp_tensor_info(Structure):
    _fields_ = [
        ("name", c_char_p),
        ("sender", c_char_p),
        ("dtype", c_int32),
        ("rank", c_int32),
        ("shape", POINTER(c_int64)),
        ("data", c_void_p),
        ("data_len", c_uint64),
        ("requires_grad", c_int32),
        ("metadata_count", c_int32),
    ]


class tp_event(Structure):
    _fields_ = [
        ("user_data", c_uint64),
        ("kind", c_int32),
        ("status", c_int32),
        ("tensor", c_void_p),
        ("error", c_char_p),
    ]


TP_EVENT_COMPLETION = 0
TP_EVENT_RELEASE = 1

tp_release_fn = CFUNCTYPE(None, c_void_p)
tp_completion_fn = CFUNCTYPE(None, c_void_p, c_int32, c_char_p, c_void_p)

_SIGNATURES = {
    "tp_abi_version": (c_int32, []),
    "tp_last_error": (c_char_p, []),
    "tp_node_create": (c_int32, [POINTER(tp_node_options), POINTER(c_void_p)]),
    "tp_node_start": (c_int32, [c_void_p]),
    "tp_node_ticket": (c_int32, [c_void_p, c_char_p, c_size_t, POINTER(c_size_t)]),
    "tp_node_id": (c_int32, [c_void_p, c_char_p, c_size_t, POINTER(c_size_t)]),
    "tp_node_pool_size": (c_int32, [c_void_p, POINTER(c_int32)]),
    "tp_node_queued_count": (c_int32, [c_void_p, POINTER(c_int32)]),
    "tp_node_send": (c_int32, [c_void_p, c_char_p, c_char_p, POINTER(tp_tensor_view), tp_release_fn, c_void_p,
                               c_void_p, tp_completion_fn, c_void_p]),
    "tp_node_request": (c_int32, [c_void_p, c_char_p, c_char_p, c_void_p, tp_completion_fn, c_void_p]),
    "tp_node_register": (c_int32, [c_void_p, c_char_p, POINTER(tp_tensor_view), tp_release_fn, c_void_p]),
    "tp_node_unregister": (c_int32, [c_void_p, c_char_p, POINTER(c_int32)]),
    "tp_node_try_receive": (c_int32, [c_void_p, POINTER(c_void_p)]),
    "tp_node_receive": (c_int32, [c_void_p, c_void_p, tp_completion_fn, c_void_p]),
    "tp_node_shutdown": (c_int32, [c_void_p]),
    "tp_node_free": (None, [c_void_p]),
    "tp_tensor_get_info": (c_int32, [c_void_p, POINTER(tp_tensor_info)]),
    "tp_tensor_get_metadata": (c_int32, [c_void_p, c_int32, POINTER(c_char_p), POINTER(c_char_p)]),
    "tp_tensor_free": (None, [c_void_p]),
    "tp_queue_create": (c_int32, [POINTER(c_void_p), POINTER(c_int32)]),
    "tp_queue_poll": (c_int32, [c_void_p, POINTER(tp_event), c_int32, POINTER(c_int32)]),
    "tp_queue_wait": (c_int32, [c_void_p, c_int32, POINTER(c_int32)]),
    "tp_queue_free": (None, [c_void_p]),
    "tp_node_set_queue": (c_int32, [c_void_p, c_void_p]),
    "tp_cancel_create": (c_int32, [POINTER(c_void_p)]),
    "tp_cancel_trigger": (c_int32, [c_void_p]),
    "tp_cancel_free": (None, [c_void_p]),
}


def library_path() -> Path:
    """Where the native library is: $TENSOR_PROTOCOL_LIBRARY, else the copy inside this package."""
    override = os.environ.get(LIBRARY_ENV)
    if override:
        return Path(override)
    return Path(__file__).resolve().parent / "_native" / LIBRARY_NAME


def _load() -> ctypes.CDLL:
    path = library_path()
    if not path.is_file():
        raise ImportError(
            f"tensor_protocol: the native library {path} is missing. Build it with scripts/build-native "
            f"(or point ${LIBRARY_ENV} at a libtensor_protocol.so).")
    # CDLL (not PyDLL): every call releases the GIL, so a blocking call (shutdown) never stalls other threads and
    # completions arriving on library threads can take the GIL.
    lib = ctypes.CDLL(str(path))
    for name, (restype, argtypes) in _SIGNATURES.items():
        function = getattr(lib, name)
        function.restype = restype
        function.argtypes = argtypes
    version = lib.tp_abi_version()
    if version != ABI_VERSION:
        raise ImportError(f"tensor_protocol: {path} has ABI version {version}; this package needs {ABI_VERSION}.")
    return lib


lib = _load()


def last_error() -> str:
    message = lib.tp_last_error()
    return message.decode("utf-8", "replace") if message else "unknown error"
