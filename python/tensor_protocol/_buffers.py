"""Lending a Python object's memory to the native library without copying it.

``PyObject_GetBuffer`` gives the address of any buffer-protocol object (bytes, bytearray, memoryview, numpy arrays,
array.array) whether or not it is writable, and keeps the exporter alive and locked (a bytearray cannot be resized
while lent) until ``PyBuffer_Release``. A lent buffer is released when the library says it no longer reads it.
"""
from __future__ import annotations

import ctypes
import itertools
import threading
from ctypes import POINTER, Structure, c_char_p, c_int, c_ssize_t, c_void_p

from . import _ffi


class _Py_buffer(Structure):
    _fields_ = [
        ("buf", c_void_p),
        ("obj", c_void_p),
        ("len", c_ssize_t),
        ("itemsize", c_ssize_t),
        ("readonly", c_int),
        ("ndim", c_int),
        ("format", c_char_p),
        ("shape", POINTER(c_ssize_t)),
        ("strides", POINTER(c_ssize_t)),
        ("suboffsets", POINTER(c_ssize_t)),
        ("internal", c_void_p),
    ]


_PyBUF_ND = 0x0008
_PyBUF_STRIDES = 0x0010 | _PyBUF_ND
_PyBUF_C_CONTIGUOUS = 0x0020 | _PyBUF_STRIDES

_get_buffer = ctypes.pythonapi.PyObject_GetBuffer
_get_buffer.argtypes = [ctypes.py_object, POINTER(_Py_buffer), c_int]
_get_buffer.restype = c_int
_release_buffer = ctypes.pythonapi.PyBuffer_Release
_release_buffer.argtypes = [POINTER(_Py_buffer)]
_release_buffer.restype = None


class LentBuffer:
    """The address and length of an object's C-contiguous memory, held until :meth:`release`."""

    __slots__ = ("_view", "address", "length", "_released")

    def __init__(self, obj: object):
        self._view = _Py_buffer()
        # Raises BufferError for objects without the buffer protocol or whose memory is not C-contiguous.
        _get_buffer(obj, ctypes.byref(self._view), _PyBUF_C_CONTIGUOUS)
        self.address = self._view.buf or 0
        self.length = self._view.len
        self._released = False

    def release(self) -> None:
        if not self._released:
            self._released = True
            _release_buffer(ctypes.byref(self._view))

    def __del__(self):
        self.release()


class _Loans:
    """Buffers lent to the library through the release callback, keyed by the integer passed as its user_data.
    Same ``lend`` / ``take_back`` interface as a node's EventQueue, which tracks the buffers its queue releases."""

    def __init__(self):
        self._lock = threading.Condition()
        self._loans: dict[int, LentBuffer] = {}
        self._keys = itertools.count(1)

    def lend(self, buffer: LentBuffer | None) -> int:
        """The key to pass as release_data (0, nothing lent, for an empty tensor)."""
        if buffer is None:
            return 0
        with self._lock:
            key = next(self._keys)
            self._loans[key] = buffer
        return key

    def take_back(self, key: int) -> None:
        with self._lock:
            buffer = self._loans.pop(key, None)
            self._lock.notify_all()
        if buffer is not None:
            buffer.release()

    def wait_until(self, count: int, timeout: float) -> bool:
        """Waits until at most ``count`` buffers are lent (releases arrive on library threads); False on timeout."""
        with self._lock:
            return self._lock.wait_for(lambda: len(self._loans) <= count, timeout)

    def __len__(self) -> int:
        return len(self._loans)


loans = _Loans()


def _on_release(user_data):
    # Runs on a library thread (ctypes takes the GIL). Never raise into C.
    try:
        loans.take_back(user_data or 0)
    except BaseException:  # noqa: BLE001 - nothing may escape a C callback
        pass


release_callback = _ffi.tp_release_fn(_on_release)  # module-level: must outlive every call that uses it
