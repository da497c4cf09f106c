"""A node's completion queue, drained by the asyncio event loop that awaits its operations.

Async operations are started without a callback: the library posts their outcome (and the release of lent memory)
to the node's tp_queue, whose eventfd the loop watches with ``add_reader``. So no Python code runs on library
threads, no GIL is taken there, and a completion costs one eventfd write and one loop wake-up — measured at less
than half the latency of a ctypes callback plus ``call_soon_threadsafe``. Blocking calls (other threads, no loop)
keep using callbacks.

Everything here runs on the one loop that currently watches the queue; an operation started from another loop while
this one has work pending falls back to callbacks.
"""
from __future__ import annotations

import asyncio
import ctypes
import itertools
import threading
from typing import Callable

from . import _ffi
from ._buffers import LentBuffer

_BATCH = 64
_RELEASE = _ffi.TP_EVENT_RELEASE
_OK = _ffi.TP_OK

# (status, error message or None, tp_tensor handle or 0)
Outcome = tuple


class _BlockingOwner:
    """Marks the queue as owned by a thread blocked in a call (no event loop watches it meanwhile)."""

    def is_closed(self) -> bool:
        return False


_BLOCKING = _BlockingOwner()


class EventQueue:
    def __init__(self, node_handle: int):
        queue, fd = ctypes.c_void_p(), ctypes.c_int32()
        if _ffi.lib.tp_queue_create(ctypes.byref(queue), ctypes.byref(fd)) != _ffi.TP_OK:
            raise OSError(_ffi.last_error())
        self.handle = queue.value
        self.fd = fd.value
        _ffi.lib.tp_node_set_queue(node_handle, self.handle)
        self._keys = itertools.count(1)
        self._waiters: dict[int, Callable[[Outcome], None]] = {}
        self._loans: dict[int, LentBuffer] = {}
        self._loop: asyncio.AbstractEventLoop | None = None
        self._switch = threading.Lock()
        self._events = (_ffi.tp_event * _BATCH)()
        self._count = ctypes.c_int32()
        self._count_ref = ctypes.byref(self._count)
        self._ready = ctypes.c_int32()
        self._ready_ref = ctypes.byref(self._ready)

    # ---- bookkeeping, on the watching loop's thread ----
    def usable_from(self, loop: asyncio.AbstractEventLoop) -> bool:
        """Whether an operation awaited on ``loop`` can report here. One loop watches at a time, until it is closed;
        then the next loop to ask takes over."""
        if self._loop is loop:
            return True
        with self._switch:
            if self._loop is None or self._loop.is_closed():  # a closed loop took its reader with it
                self._loop = loop
                loop.add_reader(self.fd, self.drain)
                return True
        return False

    def own_for_blocking(self) -> bool:
        """Lets a blocking call drain the queue itself (``wait`` + ``drain``) while no event loop watches it."""
        with self._switch:
            if self._loop is None or (self._loop is not _BLOCKING and self._loop.is_closed()):
                self._loop = _BLOCKING
                return True
        return False

    def disown_blocking(self) -> None:
        with self._switch:
            if self._loop is _BLOCKING:
                self._loop = None

    def wait(self, timeout_ms: int) -> bool:
        """Blocks (without the GIL) until an event waits or ``timeout_ms`` pass. Only the owning thread calls it."""
        _ffi.lib.tp_queue_wait(self.handle, timeout_ms, self._ready_ref)
        return bool(self._ready.value)

    def add_waiter(self, settle: Callable[[Outcome], None]) -> int:
        key = next(self._keys)
        self._waiters[key] = settle
        return key

    def discard_waiter(self, key: int) -> None:
        self._waiters.pop(key, None)

    def lend(self, buffer: LentBuffer | None) -> int:
        if buffer is None:
            return 0
        key = next(self._keys)
        self._loans[key] = buffer
        return key

    def take_back(self, key: int) -> None:
        buffer = self._loans.pop(key, None)
        if buffer is not None:
            buffer.release()

    def _busy(self) -> bool:
        return bool(self._waiters or self._loans)

    # ---- draining ----
    def drain(self) -> None:
        """Takes every waiting event and settles it; runs as the loop's reader callback."""
        events, waiters = self._events, self._waiters  # locals: this runs once per operation
        while True:
            if _ffi.lib.tp_queue_poll(self.handle, events, _BATCH, self._count_ref) != _ffi.TP_OK:
                return
            count = self._count.value
            # The batch left the native queue: every event in it is dispatched even if one raises (a Ctrl-C in the
            # middle, a failing waiter), or its waiter would never settle and its tensor or loan would leak.
            failure = None
            for i in range(count):
                try:
                    event = events[i]
                    key = event.user_data
                    if event.kind == _RELEASE:
                        self.take_back(key)
                        continue
                    status = event.status
                    error = event.error if status != _OK else None
                    outcome = (status, error.decode("utf-8", "replace") if error else None, event.tensor or 0)
                    settle = waiters.pop(key, None)
                    if settle is not None:
                        settle(outcome)
                    elif outcome[2]:
                        _ffi.lib.tp_tensor_free(outcome[2])
                except BaseException as e:  # noqa: BLE001 - re-raised after the batch
                    if failure is None:
                        failure = e
            if failure is not None:
                raise failure
            if count < _BATCH:
                break
        # The reader stays registered while idle: adding and removing it per operation would cost more than the
        # whole rest of the Python side. Another loop takes over once this one is closed (asyncio.run closes it).

    def close(self) -> None:
        """After the node is freed: settle what is left (releases of lent memory), stop watching, free the queue.
        The reader is removed on the watching loop's own thread, before the descriptor is closed."""
        with self._switch:
            loop = self._loop
        if loop is not None and loop is not _BLOCKING and not loop.is_closed():
            try:
                running = asyncio.get_running_loop()
            except RuntimeError:
                running = None
            if running is not loop:
                try:
                    loop.call_soon_threadsafe(self._close_now)
                    return
                except RuntimeError:
                    pass  # closed meanwhile: nothing watches any more
        self._close_now()

    def _close_now(self) -> None:
        handle = self.handle
        if not handle:
            return
        self.drain()
        with self._switch:
            loop, self._loop = self._loop, None
        if loop is not None and loop is not _BLOCKING and not loop.is_closed():
            loop.remove_reader(self.fd)
        for key in list(self._loans):
            self.take_back(key)
        self.handle = None
        _ffi.lib.tp_queue_free(handle)
