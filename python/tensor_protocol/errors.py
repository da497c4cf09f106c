"""Typed errors, one per tp_status code, mirroring TensorErrorKind of the C# library.

Each also derives from the closest built-in exception, so ``except ConnectionError`` or ``except ValueError`` work
as a Python user expects; catch :class:`TensorProtocolError` for all of them.
"""
from __future__ import annotations

from . import _ffi


class TensorProtocolError(Exception):
    """Base of every error this package raises. ``status`` is the C ABI code."""

    status: int = _ffi.TP_ERR_INTERNAL

    def __init__(self, message: str, status: int | None = None):
        super().__init__(message)
        if status is not None:
            self.status = status


class InvalidArgumentError(TensorProtocolError, ValueError):
    """A bad argument: dtype, shape, payload length, empty name... Nothing was sent."""
    status = _ffi.TP_ERR_INVALID_ARGUMENT


class TicketFormatError(TensorProtocolError, ValueError):
    """The ticket (node address) is malformed. Nothing was dialed."""
    status = _ffi.TP_ERR_TICKET


class IoError(TensorProtocolError, OSError):
    """Local I/O: identity file, socket, address in use."""
    status = _ffi.TP_ERR_IO


class SerializationError(TensorProtocolError, ValueError):
    status = _ffi.TP_ERR_SERIALIZATION


class ConnectionFailedError(TensorProtocolError, ConnectionError):
    """The peer could not be reached, or the connection failed during the operation."""
    status = _ffi.TP_ERR_CONNECTION


class ProtocolViolationError(TensorProtocolError):
    """The peer broke the wire protocol."""
    status = _ffi.TP_ERR_PROTOCOL


class TensorNotFoundError(TensorProtocolError, LookupError):
    """Pull: the peer has no tensor registered under that name."""
    status = _ffi.TP_ERR_NOT_FOUND


class NotAllowedError(TensorProtocolError, PermissionError):
    """The peer's allowlist refused this node."""
    status = _ffi.TP_ERR_NOT_ALLOWED


class TooLargeError(TensorProtocolError):
    """The peer refused the tensor: larger than it accepts."""
    status = _ffi.TP_ERR_TOO_LARGE


class QueueFullError(TensorProtocolError):
    """The peer refused the tensor: its receive queue is full."""
    status = _ffi.TP_ERR_QUEUE_FULL


class OperationTimeoutError(TensorProtocolError, TimeoutError):
    status = _ffi.TP_ERR_TIMEOUT


class ShutdownError(TensorProtocolError, RuntimeError):
    """The node is shut down (or shut down during the operation)."""
    status = _ffi.TP_ERR_SHUTDOWN


class OperationCancelledError(TensorProtocolError):
    status = _ffi.TP_ERR_CANCELLED


class NotSupportedError(TensorProtocolError, OSError):
    """A native dependency (ngtcp2, GnuTLS) is missing; the message names the package to install."""
    status = _ffi.TP_ERR_NOT_SUPPORTED


class InvalidStateError(TensorProtocolError, RuntimeError):
    """E.g. the node is not started yet."""
    status = _ffi.TP_ERR_INVALID_STATE


class InternalError(TensorProtocolError):
    """A bug in the library; please report the message."""
    status = _ffi.TP_ERR_INTERNAL


_BY_STATUS = {cls.status: cls for cls in (
    InvalidArgumentError, TicketFormatError, IoError, SerializationError, ConnectionFailedError,
    ProtocolViolationError, TensorNotFoundError, NotAllowedError, TooLargeError, QueueFullError,
    OperationTimeoutError, ShutdownError, OperationCancelledError, NotSupportedError, InvalidStateError,
    InternalError)}


def error_for(status: int, message: str) -> TensorProtocolError:
    return _BY_STATUS.get(status, InternalError)(message, status)


def check(status: int) -> int:
    """Raises the typed error of a failed call (reading this thread's tp_last_error); returns OK/EMPTY codes."""
    if status < 0:
        raise error_for(status, _ffi.last_error())
    return status
