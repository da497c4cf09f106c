"""TensorNode: the asyncio API (the original's names) and BlockingTensorNode for plain scripts."""
from __future__ import annotations

import asyncio
import atexit
import collections
import ctypes
import os
import threading
import time
import weakref
from pathlib import Path
from typing import Any, AsyncIterator, Callable, Iterable

from . import _ffi
from ._buffers import LentBuffer, loans, release_callback
from ._completions import Cancel, completion_callback, waiters
from ._events import EventQueue
from .errors import OperationTimeoutError, ShutdownError, check, error_for
from .tensor import _NUMPY_DTYPES, ReceivedTensor, TensorData, from_native

_live_nodes: "weakref.WeakSet[TensorNode]" = weakref.WeakSet()


@atexit.register
def _shutdown_all() -> None:
    # Stop every node before the interpreter finalizes, so no library thread calls back into a dying interpreter.
    for node in list(_live_nodes):
        node.shutdown()


def _seconds_to_ms(value: float | None, name: str, limit: float = 4294967.0) -> int:
    """Seconds as the C ABI's uint32 milliseconds; 0 (the default) for None."""
    if value is None:
        return 0
    ms = int(round(float(value) * 1000))
    if ms <= 0 or float(value) > limit:
        raise ValueError(f"{name} must be positive and at most {limit:g} s")
    return ms


def _rate_kib(value: int | None) -> int:
    """Bytes per second as the C ABI's uint32 KiB per second; 0 (the default, 1 MiB/s) for None."""
    if value is None:
        return 0
    kib = int(value) // 1024
    if int(value) < 1024 or kib > 0xFFFFFFFF:
        raise ValueError("min_transfer_rate must be from 1024 bytes per second to 4 TiB per second")
    return kib


def _retention(value: int | None) -> int:
    """The C ABI's receive_buffer_retention: None = default (0), 0 bytes = keep none (-1)."""
    if value is None:
        return 0
    if int(value) < 0:
        raise ValueError("receive_buffer_retention must be 0 or more bytes")
    return int(value) or -1


def _c_text(value: Any, what: str) -> bytes:
    """UTF-8 for a C string. A NUL inside would silently cut it there (two names could become one), so refuse it."""
    encoded = str(value).encode()
    if b"\0" in encoded:
        raise ValueError(f"{what} contains a NUL character: {value!r}")
    return encoded


def _c_strings(values: Iterable[str], what: str = "a metadata entry") -> tuple[Any, int]:
    encoded = [_c_text(v, what) for v in values]
    return (ctypes.c_char_p * max(len(encoded), 1))(*encoded), len(encoded)


def as_tensor_data(tensor: Any) -> TensorData:
    """TensorData as is; numpy arrays and torch tensors wrapped without copying where possible."""
    if isinstance(tensor, TensorData):
        return tensor
    module = type(tensor).__module__
    if module.startswith("torch"):
        return TensorData.from_torch(tensor)
    if module.startswith("numpy"):
        return TensorData.from_numpy(tensor)
    raise TypeError(f"expected TensorData, a numpy array or a torch tensor, not {type(tensor).__name__}")


_NO_COMPLETION = _ffi.tp_completion_fn()  # NULL: the outcome goes to the node's queue
_NO_RELEASE = _ffi.tp_release_fn()


class _View:
    """A tp_tensor_view over a TensorData's memory, plus what must stay alive while the library reads it."""

    __slots__ = ("lent", "_shape", "struct", "_keys", "_values")

    @classmethod
    def of(cls, tensor: Any) -> "_View":
        """The view of a TensorData, numpy array or torch tensor. A C-contiguous little-endian numpy array (the common
        case) is viewed directly, without building a TensorData first: that wrapping cost as much as the rest of
        the Python side of a small push."""
        kind = type(tensor)
        if kind.__name__ == "ndarray" and kind.__module__ == "numpy" and tensor.flags.c_contiguous:
            dtype = _NUMPY_DTYPES.get(tensor.dtype.str)
            if dtype is not None:
                view = object.__new__(cls)
                view._fill(dtype.code, tensor.shape, tensor if tensor.nbytes else None, tensor.nbytes, False, None)
                return view
        return cls(as_tensor_data(tensor))

    def __init__(self, tensor: TensorData):
        meta = tensor.metadata
        self._fill(meta._dtype.code, meta.shape, tensor.data if tensor.nbytes else None, tensor.nbytes,
                   meta.requires_grad, meta.metadata)

    def _fill(self, code: int, shape, memory: Any, nbytes: int, requires_grad: bool, metadata) -> None:
        self.lent = LentBuffer(memory) if memory is not None else None
        self._shape = (ctypes.c_int64 * max(len(shape), 1))(*shape)
        view = self.struct = _ffi.tp_tensor_view()
        view.dtype = code
        view.rank = len(shape)
        view.shape = self._shape
        view.data = self.lent.address if self.lent else None
        view.data_len = nbytes
        view.requires_grad = requires_grad
        if metadata:  # most tensors carry none: skip building the string arrays
            self._keys, count = _c_strings(metadata.keys())
            self._values, _ = _c_strings(metadata.values())
            view.metadata_count = count
            view.metadata_keys = self._keys
            view.metadata_values = self._values


class TensorNode:
    """A tensor node. ``await node.start()``, give peers ``await node.get_node_addr()``, then push with
    ``send_tensor_direct``, pull with ``request_tensor``, and take what arrives with ``receive_tensor`` (never waits)
    or ``wait_for_tensor`` / ``async for t in node.tensors()``. ``node.blocking`` is the same node for non-async
    code. Use as ``async with`` / ``with`` to start and shut down automatically."""

    def __init__(self, storage_path: str | os.PathLike | None = None, *, identity_path: str | os.PathLike | None = None,
                 bind_address: str | None = None, port: int = 0, alpn: str | None = None,
                 max_tensor_bytes: int | None = None, receive_memory_budget: int | None = None,
                 receive_queue_capacity: int | None = None, queue_full: str = "refuse",
                 max_pooled_connections: int | None = None, connect_timeout: float | None = None,
                 request_timeout: float | None = None, min_transfer_rate: int | None = None,
                 pool_idle_timeout: float | None = None,
                 receive_buffer_retention: int | None = None, receive_buffer_lifetime: float | None = None,
                 allowed_senders: Iterable[str] | None = None, allowed_pullers: Iterable[str] | None = None):
        if queue_full not in ("refuse", "wait"):
            raise ValueError("queue_full must be 'refuse' or 'wait'")
        keep = []  # encoded strings and arrays referenced by the options struct during tp_node_create

        def text(value, what):
            if value is None:
                return None
            encoded = os.fsencode(value) if isinstance(value, os.PathLike) else str(value).encode()
            if b"\0" in encoded:
                raise ValueError(f"{what} contains a NUL character: {value!r}")
            try:
                encoded.decode("utf-8")  # the library reads UTF-8: other bytes would name another file
            except UnicodeDecodeError:
                raise ValueError(f"{what} is not valid UTF-8: {value!r}") from None
            keep.append(encoded)
            return encoded

        def integer(value, what, low, high):
            number = int(value or 0)
            if not low <= number <= high:
                raise ValueError(f"{what} must be from {low} to {high}, not {number}")
            return number

        if identity_path is None and storage_path is not None:
            text(storage_path, "storage_path")  # checked before the directory is created
            directory = Path(storage_path)
            directory.mkdir(mode=0o700, parents=True, exist_ok=True)
            identity_path = directory / "node.key"
        options = _ffi.tp_node_options(
            struct_size=ctypes.sizeof(_ffi.tp_node_options), port=integer(port, "port", 0, 65535),
            identity_path=text(identity_path, "identity_path"), bind_address=text(bind_address, "bind_address"),
            alpn=text(alpn, "alpn"),
            max_tensor_bytes=integer(max_tensor_bytes, "max_tensor_bytes", 0, 2**63 - 1),
            receive_memory_budget=integer(receive_memory_budget, "receive_memory_budget", 0, 2**63 - 1),
            receive_queue_capacity=integer(receive_queue_capacity, "receive_queue_capacity", 0, 2**31 - 1),
            queue_full_wait=int(queue_full == "wait"),
            max_pooled_connections=integer(max_pooled_connections, "max_pooled_connections", 0, 2**31 - 1),
            connect_timeout_ms=_seconds_to_ms(connect_timeout, "connect_timeout"),
            request_timeout_ms=_seconds_to_ms(request_timeout, "request_timeout"),
            min_transfer_rate_kib=_rate_kib(min_transfer_rate),
            pool_idle_timeout_ms=_seconds_to_ms(pool_idle_timeout, "pool_idle_timeout"),
            receive_buffer_retention=_retention(receive_buffer_retention),
            receive_buffer_lifetime_ms=_seconds_to_ms(receive_buffer_lifetime, "receive_buffer_lifetime", limit=86400))
        for field, ids in (("allowed_senders", allowed_senders), ("allowed_pullers", allowed_pullers)):
            if ids is not None:
                array, count = _c_strings(ids)
                keep.append(array)
                setattr(options, field, ctypes.cast(array, ctypes.POINTER(ctypes.c_char_p)))
                setattr(options, field + "_count", count)
        handle = ctypes.c_void_p()
        check(_ffi.lib.tp_node_create(ctypes.byref(options), ctypes.byref(handle)))
        self._handle = handle.value
        self._events = EventQueue(self._handle)
        self._stash: collections.deque[ReceivedTensor] = collections.deque()  # arrived for a cancelled wait
        self._receivers: list = []  # (future, Cancel) of asyncio waits for a tensor now pending
        self._registered: dict[str, int] = {}
        self._closed = False
        _live_nodes.add(self)

    # ---- lifecycle ----
    async def start(self) -> None:
        self._start()

    def _start(self) -> None:
        check(_ffi.lib.tp_node_start(self._live_handle()))

    def shutdown(self) -> None:
        """Closes every connection and fails pending operations (ShutdownError). Idempotent; blocks briefly."""
        if self._handle and not self._closed:
            self._closed = True
            check(_ffi.lib.tp_node_shutdown(self._handle))
            # Every pending operation has now reported to the queue. Settle them here unless another thread's
            # event loop watches the queue (it will, on its own thread).
            try:
                running = asyncio.get_running_loop()
            except RuntimeError:
                running = None
            watcher = self._events._loop
            if watcher is None or watcher is running or watcher.is_closed():
                self._events.drain()

    def __del__(self):
        handle, self._handle = getattr(self, "_handle", None), None
        if handle and _ffi is not None and _ffi.lib is not None:
            _ffi.lib.tp_node_free(handle)
            events = getattr(self, "_events", None)
            if events is not None:
                events.close()

    async def __aenter__(self) -> "TensorNode":
        self._start()
        return self

    async def __aexit__(self, *exc) -> None:
        self.shutdown()

    def __enter__(self) -> "TensorNode":
        self._start()
        return self

    def __exit__(self, *exc) -> None:
        self.shutdown()

    @property
    def blocking(self) -> "BlockingTensorNode":
        """This node with synchronous methods, for scripts without asyncio."""
        return BlockingTensorNode(self)

    # ---- identity ----
    async def get_node_addr(self) -> str:
        """The ticket peers use to reach this node ("tensorp1...")."""
        return self.ticket

    @property
    def ticket(self) -> str:
        return self._text(_ffi.lib.tp_node_ticket)

    @property
    def node_id(self) -> str:
        """This node's id: its Ed25519 public key in base32."""
        return self._text(_ffi.lib.tp_node_id)

    async def get_pool_size(self) -> int:
        return self._pool_size()

    async def pool_size(self) -> int:  # the PyO3 API's name
        return self._pool_size()

    def _pool_size(self) -> int:
        size = ctypes.c_int32()
        check(_ffi.lib.tp_node_pool_size(self._live_handle(), ctypes.byref(size)))
        return size.value

    # ---- push ----
    async def send_tensor_direct(self, addr: str, name: str, tensor: Any) -> None:
        """Pushes a tensor; returns once the peer holds all of it in its receive queue. ``tensor`` is a TensorData, a
        numpy array or a torch tensor; its memory is read in place (do not modify it until this returns)."""
        await self._await(self._send_starter(addr, name, tensor))

    async def send_tensor(self, addr: str, name: str, tensor: Any) -> None:  # the PyO3 API's name
        await self.send_tensor_direct(addr, name, tensor)

    def _send_starter(self, addr: str, name: str, tensor: Any) -> Callable[[int, int, bool], int]:
        view = _View.of(tensor)
        ticket, tensor_name, handle = _c_text(addr, "the ticket"), _c_text(name, "the tensor name"), self._live_handle()

        def start(cancel: int, key: int, queued: bool) -> int:
            # Queued: outcome and release both come back through the node's queue; otherwise through callbacks.
            ledger, release, done = ((self._events, _NO_RELEASE, _NO_COMPLETION) if queued
                                     else (loans, release_callback, completion_callback))
            lent = ledger.lend(view.lent)
            status = _ffi.lib.tp_node_send(handle, ticket, tensor_name, ctypes.byref(view.struct), release, lent,
                                           cancel, done, key)
            if status < 0:
                ledger.take_back(lent)  # refused: the library will never release it
            return status
        return start

    # ---- pull ----
    def register_tensor(self, name: str, tensor: Any) -> None:
        """Serves ``tensor`` to pullers under ``name`` (replacing an earlier one), read in place from its memory."""
        view = _View.of(tensor)
        lent = loans.lend(view.lent)
        status = _ffi.lib.tp_node_register(self._live_handle(), _c_text(name, "the tensor name"), ctypes.byref(view.struct),
                                           release_callback, lent)
        if status < 0:
            loans.take_back(lent)
        check(status)

    def unregister_tensor(self, name: str) -> bool:
        removed = ctypes.c_int32()
        check(_ffi.lib.tp_node_unregister(self._live_handle(), _c_text(name, "the tensor name"), ctypes.byref(removed)))
        return bool(removed.value)

    async def request_tensor(self, addr: str, name: str) -> ReceivedTensor:
        """Pulls the tensor a peer registered under ``name``; TensorNotFoundError if it has none."""
        return await self._await(self._request_starter(addr, name))

    def _request_starter(self, addr: str, name: str) -> Callable[[int, int, bool], int]:
        ticket, tensor_name, handle = _c_text(addr, "the ticket"), _c_text(name, "the tensor name"), self._live_handle()
        return lambda cancel, key, queued: _ffi.lib.tp_node_request(
            handle, ticket, tensor_name, cancel, _NO_COMPLETION if queued else completion_callback, key)

    # ---- receive ----
    async def receive_tensor(self) -> ReceivedTensor | None:
        """The next received tensor, or None if none is waiting (never waits)."""
        return self._try_receive()

    def _take_stashed(self) -> ReceivedTensor | None:
        """A tensor kept for the next receive, if any; one step, as another thread may take the last one meanwhile."""
        try:
            return self._stash.popleft()
        except IndexError:
            return None

    def _try_receive(self) -> ReceivedTensor | None:
        if (stashed := self._take_stashed()) is not None:
            return stashed
        handle = ctypes.c_void_p()
        if check(_ffi.lib.tp_node_try_receive(self._live_handle(), ctypes.byref(handle))) == _ffi.TP_EMPTY:
            return None
        return from_native(handle.value)

    async def wait_for_tensor(self, timeout: float | None = None) -> ReceivedTensor | None:
        """Waits for the next received tensor (None after ``timeout`` seconds). The result also unpacks as
        ``name, tensor`` like the PyO3 API's. Cancelling the wait loses nothing: a tensor that arrives as the wait
        is cancelled is kept for the next receive."""
        if (stashed := self._take_stashed()) is not None:
            return stashed
        starter = self._receive_starter()
        if timeout is None:
            return await self._await(starter, keep_late=True)
        try:
            return await asyncio.wait_for(self._await(starter, keep_late=True), timeout)
        except asyncio.TimeoutError:
            return self._try_receive() if self._stash else None

    def _receive_starter(self) -> Callable[[int, int, bool], int]:
        handle = self._live_handle()
        return lambda cancel, key, queued: _ffi.lib.tp_node_receive(
            handle, cancel, _NO_COMPLETION if queued else completion_callback, key)

    async def tensors(self) -> AsyncIterator[ReceivedTensor]:
        """Every received tensor as it arrives, until the node shuts down."""
        while True:
            try:
                tensor = await self.wait_for_tensor()
            except ShutdownError:
                return
            if tensor is not None:
                yield tensor

    # ---- plumbing ----
    def _live_handle(self) -> int:
        if not self._handle or self._closed:
            raise ShutdownError("the node is shut down", _ffi.TP_ERR_SHUTDOWN)
        return self._handle

    def _text(self, function) -> str:
        buffer = ctypes.create_string_buffer(1024)
        length = ctypes.c_size_t()
        check(function(self._live_handle(), buffer, len(buffer), ctypes.byref(length)))
        return buffer.value.decode()

    def _keep_or_free(self, tensor: int, keep: bool) -> None:
        if not tensor:
            return
        if keep:
            self._stash_late(from_native(tensor))
        else:
            _ffi.lib.tp_tensor_free(tensor)

    def _stash_late(self, tensor: ReceivedTensor) -> None:
        """Keeps a tensor whose wait was given up. A wait that is pending now may already have started its own native
        receive, which would then wait for the next tensor with this one in the stash: offer it to those waits (on
        their loops; any thread may call this)."""
        self._stash.append(tensor)
        for future, cancel in list(self._receivers):
            try:
                future.get_loop().call_soon_threadsafe(self._offer_stash, future, cancel)
            except RuntimeError:  # that loop is closed
                pass

    def _offer_stash(self, future: asyncio.Future, cancel: Cancel) -> None:
        if future.done() or (stashed := self._take_stashed()) is None:
            return
        future.set_result(stashed)
        cancel.trigger()  # its own receive is not needed any more; a tensor it still catches comes back here

    def _settle(self, future: asyncio.Future, outcome, keep_late: bool) -> None:
        status, message, tensor = outcome
        if future.done() or future.get_loop().is_closed():  # the awaiting task was cancelled, or nobody will look
            self._keep_or_free(tensor, keep_late)
            return
        if status != _ffi.TP_OK:
            try:
                future.set_exception(error_for(status, message or ""))
            except RuntimeError:  # the loop closed meanwhile
                pass
            return
        # From here the handle has exactly one owner, this object: never free it separately.
        result = from_native(tensor) if tensor else None
        try:
            future.set_result(result)
        except RuntimeError:
            # The loop closed meanwhile: set_result stored the result, then failed to schedule the callbacks.
            if keep_late and result is not None:
                self._stash_late(result)

    async def _await(self, start: Callable[[int, int, bool], int], keep_late: bool = False):
        loop = asyncio.get_running_loop()
        future = loop.create_future()
        queued = self._events.usable_from(loop)
        if queued:
            key = self._events.add_waiter(lambda outcome: self._settle(future, outcome, keep_late))
            discard = self._events.discard_waiter
        else:
            def waiter(outcome):
                try:
                    loop.call_soon_threadsafe(self._settle, future, outcome, keep_late)
                except RuntimeError:  # the loop is closed: nobody will ever look
                    self._keep_or_free(outcome[2], keep_late)

            key = waiters.add(waiter)
            discard = waiters.discard
        cancel = Cancel()
        receiver = (future, cancel)
        try:
            status = start(cancel.handle, key, queued)
            if status < 0:
                discard(key)
                check(status)
            if keep_late:
                self._receivers.append(receiver)
            try:
                return await future
            except asyncio.CancelledError:
                cancel.trigger()  # the native operation ends promptly; a late tensor goes to the stash
                if keep_late and future.done() and not future.cancelled() and future.exception() is None:
                    # The outcome came just before the cancellation reached this task: keep it, do not drop it.
                    arrived = future.result()
                    if arrived is not None:
                        self._stash_late(arrived)
                raise
        finally:
            if keep_late and receiver in self._receivers:
                self._receivers.remove(receiver)
            cancel.free()

    def _block(self, start: Callable[[int, int, bool], int], timeout: float | None = None, keep_late: bool = False):
        """Runs a native operation and waits for it on this thread. On timeout the operation is cancelled: a receive
        (keep_late) returns None, anything else raises OperationTimeoutError. While no event loop watches the node's
        completion queue, this thread waits on the queue itself (no callback, no GIL on library threads); otherwise
        it waits for a callback. Either way the wait returns to Python every 100 ms at most, so Ctrl-C is seen."""
        events = self._events
        queued = events.own_for_blocking()
        pending = _Pending(lambda outcome: self._keep_or_free(outcome[2], keep_late), signalled=not queued)
        if queued:
            key, discard = events.add_waiter(pending), events.discard_waiter

            def wait(slice_ms: int) -> None:
                events.wait(slice_ms)
                events.drain()
        else:
            key, discard = waiters.add(pending), waiters.discard

            def wait(slice_ms: int) -> None:
                pending.ready.wait(slice_ms / 1000)
        cancel = Cancel()
        try:
            status = start(cancel.handle, key, queued)
            try:
                # Inside this try from the moment the operation runs: a Ctrl-C even before the first wait cancels it.
                if status < 0:
                    discard(key)
                    check(status)
                deadline = None if timeout is None else time.monotonic() + timeout
                while pending.outcome is None:
                    slice_ms = self._WAIT_SLICE_MS
                    if deadline is not None:
                        left = deadline - time.monotonic()
                        if left <= 0:
                            break
                        slice_ms = min(slice_ms, int(left * 1000) + 1)
                    wait(slice_ms)
                    if keep_late and self._stash and pending.outcome is None:
                        # A tensor for an earlier, given-up wait came in (the drain just kept it): it is the next one.
                        try:
                            early = self._stash.popleft()
                        except IndexError:
                            continue
                        if pending.abandon():
                            cancel.trigger()
                            return early
                        self._stash.appendleft(early)  # our own outcome came too: take that now, this one next
            except BaseException:
                # Interrupted (Ctrl-C), or refused at the start: cancel, and keep (or free) the outcome whenever it
                # comes — never lose it. (A refused start never reports; abandoning is then harmless.)
                if pending.abandon():
                    cancel.trigger()
                else:
                    pending.on_late(pending.outcome)
                raise
            if pending.outcome is None and pending.abandon():
                cancel.trigger()
                if keep_late:
                    return None
                raise OperationTimeoutError(f"the operation did not finish within {timeout} s", _ffi.TP_ERR_TIMEOUT)
            status, message, tensor = pending.outcome
            if status != _ffi.TP_OK:
                raise error_for(status, message or "")
            return from_native(tensor) if tensor else None
        finally:
            cancel.free()
            if queued:
                events.disown_blocking()

    _WAIT_SLICE_MS = 100


class _Pending:
    """The outcome a blocking call waits for. It may arrive on a library thread (callback) or on the waiting thread
    (its own drain); one that arrives after the wait was given up goes to ``on_late`` instead."""

    __slots__ = ("outcome", "abandoned", "on_late", "ready", "_lock")

    def __init__(self, on_late: Callable[[Any], None], signalled: bool):
        self.outcome = None
        self.abandoned = False
        self.on_late = on_late
        # Only a waiter for a callback on another thread needs an Event; one that drains the queue itself does not.
        self.ready = threading.Event() if signalled else None
        self._lock = threading.Lock()

    def __call__(self, outcome) -> None:
        with self._lock:
            late = self.abandoned
            if not late:
                self.outcome = outcome
        if late:
            self.on_late(outcome)
        elif self.ready is not None:
            self.ready.set()

    def abandon(self) -> bool:
        """Gives up waiting; False if the outcome had already arrived (the caller then owns it)."""
        with self._lock:
            if self.outcome is None:
                self.abandoned = True
            return self.abandoned


class BlockingTensorNode:
    """The same node with synchronous methods (they block the calling thread; Ctrl-C cancels the wait)."""

    def __init__(self, node: TensorNode):
        self.node = node

    def start(self) -> None:
        self.node._start()

    def shutdown(self) -> None:
        self.node.shutdown()

    def __enter__(self) -> "BlockingTensorNode":
        self.start()
        return self

    def __exit__(self, *exc) -> None:
        self.shutdown()

    def get_node_addr(self) -> str:
        return self.node.ticket

    @property
    def ticket(self) -> str:
        return self.node.ticket

    @property
    def node_id(self) -> str:
        return self.node.node_id

    def get_pool_size(self) -> int:
        return self.node._pool_size()

    pool_size = get_pool_size

    def send_tensor_direct(self, addr: str, name: str, tensor: Any, timeout: float | None = None) -> None:
        self.node._block(self.node._send_starter(addr, name, tensor), timeout)

    send_tensor = send_tensor_direct

    def register_tensor(self, name: str, tensor: Any) -> None:
        self.node.register_tensor(name, tensor)

    def unregister_tensor(self, name: str) -> bool:
        return self.node.unregister_tensor(name)

    def request_tensor(self, addr: str, name: str) -> ReceivedTensor:
        return self.node._block(self.node._request_starter(addr, name))

    def receive_tensor(self) -> ReceivedTensor | None:
        return self.node._try_receive()

    def wait_for_tensor(self, timeout: float | None = None) -> ReceivedTensor | None:
        if (stashed := self.node._take_stashed()) is not None:
            return stashed
        return self.node._block(self.node._receive_starter(), timeout, keep_late=True)


def create_node(storage_path: str | os.PathLike | None = None, **options: Any) -> TensorNode:
    """A new (not yet started) node. ``storage_path`` is a directory holding the identity key (``node.key``,
    created with mode 0600); None gives an ephemeral identity. Keyword options: see TensorNode."""
    return TensorNode(storage_path, **options)
