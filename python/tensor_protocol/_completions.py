"""Completions of asynchronous native operations, delivered from library threads to asyncio or to a blocked thread.

The library calls one C callback (``tp_completion_fn``) on its own threads; ``user_data`` is an integer key into
the table of waiters below. An asyncio waiter hands the outcome to its event loop with ``call_soon_threadsafe``; a
blocking waiter sets a ``threading.Event``. No thread is parked per pending operation.
"""
from __future__ import annotations

import ctypes
import itertools
import threading
from typing import Callable

from . import _ffi

# (status, error message or None, tp_tensor handle or 0)
Outcome = tuple[int, "str | None", int]


class _Waiters:
    def __init__(self):
        self._lock = threading.Lock()
        self._waiters: dict[int, Callable[[Outcome], None]] = {}
        self._keys = itertools.count(1)

    def add(self, waiter: Callable[[Outcome], None]) -> int:
        with self._lock:
            key = next(self._keys)
            self._waiters[key] = waiter
        return key

    def discard(self, key: int) -> None:
        with self._lock:
            self._waiters.pop(key, None)

    def complete(self, key: int, outcome: Outcome) -> None:
        with self._lock:
            waiter = self._waiters.pop(key, None)
        if waiter is not None:
            waiter(outcome)
        elif outcome[2]:
            _ffi.lib.tp_tensor_free(outcome[2])  # nobody waits any more: do not leak the tensor


waiters = _Waiters()


def _on_complete(user_data, status, error, tensor):
    # Runs on a library thread with the GIL (ctypes). Nothing may raise into C.
    try:
        waiters.complete(user_data or 0, (status, error.decode("utf-8", "replace") if error else None, tensor or 0))
    except BaseException:  # noqa: BLE001
        pass


completion_callback = _ffi.tp_completion_fn(_on_complete)  # module-level: outlives every operation


class Cancel:
    """A tp_cancel token for one operation. Tokens never triggered go back to a small pool: most operations are
    never cancelled, and reusing their token saves two native calls per operation."""

    __slots__ = ("handle", "_triggered")
    _pool: list[int] = []
    _POOL_LIMIT = 64

    def __init__(self):
        self._triggered = False
        try:
            self.handle = Cancel._pool.pop()
        except IndexError:
            handle = ctypes.c_void_p()
            if _ffi.lib.tp_cancel_create(ctypes.byref(handle)) != _ffi.TP_OK:
                raise MemoryError(_ffi.last_error()) from None
            self.handle = handle.value

    def trigger(self) -> None:
        if self.handle:
            self._triggered = True
            _ffi.lib.tp_cancel_trigger(self.handle)

    def free(self) -> None:
        handle, self.handle = self.handle, None
        if not handle:
            return
        if not self._triggered and len(Cancel._pool) < Cancel._POOL_LIMIT:
            Cancel._pool.append(handle)  # list.append/pop are atomic under the GIL
        else:
            _ffi.lib.tp_cancel_free(handle)

    def __del__(self):
        self.free()
