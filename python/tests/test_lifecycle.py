"""Cancellation, Ctrl-C, garbage collection of received memory, and the lent-memory contract."""
from __future__ import annotations

import asyncio
import gc
import signal
import subprocess
import sys
import textwrap
import threading
import time

import numpy as np
import pytest

import tensor_protocol as tp
from tensor_protocol import _buffers
from conftest import python_env, run


def test_cancelled_wait_returns_promptly_and_loses_nothing(nodes):
    sender, receiver = nodes(), nodes()

    async def scenario():
        waiting = asyncio.create_task(receiver.wait_for_tensor())
        await asyncio.sleep(0)  # one loop turn: the task is now parked on the native receive
        waiting.cancel()
        with pytest.raises(asyncio.CancelledError):
            await asyncio.wait_for(waiting, 10)
        await sender.send_tensor_direct(receiver.ticket, "after", np.arange(4))
        got = await receiver.wait_for_tensor(timeout=30)
        assert got.name == "after"

    run(scenario())


def test_waits_racing_with_arrivals_never_drop_a_tensor(nodes):
    sender, receiver = nodes(), nodes(receive_queue_capacity=1024)
    count = 300

    async def scenario():
        async def produce():
            for i in range(count):
                await sender.send_tensor_direct(receiver.ticket, str(i), np.full(16, i, np.int32))

        async def consume():
            seen = []
            while len(seen) < count:
                # Tiny timeouts cancel many waits exactly as tensors arrive: late ones must land in the stash.
                got = await receiver.wait_for_tensor(timeout=0.0005)
                if got is not None:
                    seen.append(int(got.name))
            return seen

        _, seen = await asyncio.gather(produce(), consume())
        assert sorted(seen) == list(range(count))
        assert await receiver.receive_tensor() is None

    run(scenario())


def test_a_wait_that_gives_up_as_its_tensor_arrives_hands_it_to_the_next_wait(nodes):
    sender, receiver = nodes(), nodes()

    async def scenario():
        first = asyncio.create_task(receiver.wait_for_tensor())
        await asyncio.sleep(0.01)  # its native receive is pending
        # Blocking this loop's thread: the first wait's receive takes the tensor, and its outcome waits in the queue.
        sender.blocking.send_tensor_direct(receiver.ticket, "x", np.arange(4))
        first.cancel()  # given up before the outcome is seen...
        second = asyncio.create_task(receiver.wait_for_tensor())  # ...and a new wait starts a receive of its own
        with pytest.raises(asyncio.CancelledError):
            await first
        got = await asyncio.wait_for(second, 10)  # gets the tensor the first one caught, instead of waiting for another
        assert got.name == "x"
        assert await receiver.receive_tensor() is None

    run(scenario())


def test_a_wait_left_pending_on_a_closed_loop_keeps_its_tensor_exactly_once(nodes):
    sender, receiver = nodes(), nodes()
    loop = asyncio.new_event_loop()
    abandoned = loop.create_task(receiver.wait_for_tensor())
    loop.run_until_complete(asyncio.sleep(0.01))  # the wait now waits on a native receive, watched by this loop
    loop.close()  # closed with the wait still pending (never cancelled)
    sender.blocking.send_tensor_direct(receiver.ticket, "x", np.arange(8))
    # The abandoned wait's receive takes the tensor; it must reach the next wait once, with one owner.
    got = receiver.blocking.wait_for_tensor(timeout=30)
    assert got is not None and got.name == "x"
    assert np.array_equal(got.to_numpy(), np.arange(8))
    assert receiver.blocking.receive_tensor() is None
    del got, abandoned
    gc.collect()  # two owners of one native handle would free it twice here
    sender.blocking.send_tensor_direct(receiver.ticket, "y", np.arange(8))
    assert receiver.blocking.wait_for_tensor(timeout=30).name == "y"


def test_wait_with_timeout_returns_none(nodes):
    receiver = nodes()
    assert run(receiver.wait_for_tensor(timeout=0.05)) is None
    assert receiver.blocking.wait_for_tensor(timeout=0.05) is None


def test_blocking_send_with_timeout_raises_timeout(nodes):
    sender, receiver = nodes(), nodes(queue_full="wait", receive_queue_capacity=1)
    sender.blocking.send_tensor_direct(receiver.ticket, "fills-the-queue", np.zeros(4))
    with pytest.raises(tp.OperationTimeoutError):
        sender.blocking.send_tensor_direct(receiver.ticket, "waits", np.zeros(4), timeout=0.2)


def test_shutdown_fails_a_pending_wait(nodes):
    receiver = nodes()

    async def scenario():
        waiting = asyncio.create_task(receiver.wait_for_tensor())
        await asyncio.sleep(0)
        receiver.shutdown()
        with pytest.raises(tp.ShutdownError):
            await asyncio.wait_for(waiting, 10)

    run(scenario())


@pytest.mark.parametrize("style", ["blocking", "asyncio"])
def test_ctrl_c_interrupts_a_waiting_interpreter(style):
    wait = ("node.blocking.wait_for_tensor()" if style == "blocking"
            else "asyncio.run(node.wait_for_tensor())")
    script = textwrap.dedent(f"""
        import asyncio, sys
        import tensor_protocol as tp
        node = tp.create_node(bind_address="127.0.0.1")
        node.blocking.start()
        print("ready", flush=True)
        {wait}
    """)
    child = subprocess.Popen([sys.executable, "-c", script], env=python_env(), stdout=subprocess.PIPE,
                             stderr=subprocess.PIPE, text=True)
    try:
        assert child.stdout.readline().strip() == "ready"
        child.send_signal(signal.SIGINT)
        _, stderr = child.communicate(timeout=30)
    finally:
        if child.poll() is None:
            child.kill()
    assert "KeyboardInterrupt" in stderr
    assert child.returncode != 0


def _rss_mib() -> int:
    with open("/proc/self/status") as status:
        for line in status:
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) // 1024
    raise AssertionError("no VmRSS")


def test_released_receive_memory_is_kept_for_reuse_then_returned(nodes):
    """A dropped 64 MiB tensor's memory stays mapped for the next one (receive_buffer_retention), goes back to the
    system once unused for receive_buffer_lifetime, and is not kept at all with a retention of 0."""
    sender = nodes()
    keeping = nodes(receive_buffer_lifetime=3.0)
    not_keeping = nodes(receive_buffer_retention=0)
    payload = np.ones(64 << 20, np.uint8)

    def receive_and_drop(receiver) -> int:
        """RSS before the receive; the tensor dropped when it returns."""
        gc.collect()
        before = _rss_mib()
        sender.blocking.send_tensor_direct(receiver.ticket, "x", payload)
        got = receiver.blocking.wait_for_tensor(timeout=60)
        assert got.to_numpy()[-1] == 1
        del got
        gc.collect()
        return before

    def wait_for_rss_below(limit: int, receiver) -> int:
        # Bounded: pre-faulting may hold the memory for a moment after the tensor is dropped; the lifetime takes 3 s.
        deadline = time.monotonic() + 30
        while _rss_mib() > limit and time.monotonic() < deadline:
            receiver.blocking.wait_for_tensor(timeout=0.1)
        return _rss_mib()

    before = receive_and_drop(not_keeping)
    assert wait_for_rss_below(before + 32, not_keeping) <= before + 32, "a retention of 0 kept the memory"
    before = receive_and_drop(keeping)
    assert _rss_mib() - before >= 48  # kept, and faulted in: the next 64 MiB tensor reuses it
    kept = _rss_mib()
    assert wait_for_rss_below(kept - 48, keeping) <= kept - 48, "kept receive memory was not returned after its lifetime"


def test_receive_buffer_options_are_checked():
    with pytest.raises(ValueError):
        tp.create_node(bind_address="127.0.0.1", receive_buffer_retention=-1)
    with pytest.raises(ValueError):
        tp.create_node(bind_address="127.0.0.1", receive_buffer_lifetime=2 * 86400)  # at most a day


def test_min_transfer_rate_is_checked_and_a_paced_push_arrives_whole(nodes):
    with pytest.raises(ValueError):
        tp.create_node(bind_address="127.0.0.1", min_transfer_rate=1000)  # below 1 KiB/s
    with pytest.raises(ValueError):
        tp.create_node(bind_address="127.0.0.1", min_transfer_rate=1 << 62)  # beyond the C ABI's KiB/s field
    sender, receiver = nodes(), nodes(min_transfer_rate=256 << 20)
    payload = np.arange(20 << 20, dtype=np.float32)  # 80 MiB: received in 64 MiB pieces, each with its own deadline
    sender.blocking.send_tensor_direct(receiver.ticket, "paced", payload)
    received = receiver.blocking.wait_for_tensor(timeout=30)
    assert received.name == "paced"
    np.testing.assert_array_equal(received.to_numpy(), payload)


def test_received_buffers_are_freed_when_collected(nodes):
    """RSS returns near its baseline after 100 x 64 MiB receives whose tensors are dropped."""
    sender, receiver = nodes(), nodes()
    payload = np.ones(64 << 20, np.uint8)

    for _ in range(3):  # warm up: first-use allocations of both nodes
        sender.blocking.send_tensor_direct(receiver.ticket, "w", payload)
        receiver.blocking.wait_for_tensor(timeout=60)
    gc.collect()
    baseline = _rss_mib()
    peak = baseline
    for _ in range(100):
        sender.blocking.send_tensor_direct(receiver.ticket, "x", payload)
        got = receiver.blocking.wait_for_tensor(timeout=60)
        assert got.nbytes == 64 << 20 and got.to_numpy()[-1] == 1
        del got
        peak = max(peak, _rss_mib())
    gc.collect()
    # 6.4 GiB went through; if received memory were kept, RSS would have grown by gigabytes.
    assert peak - baseline < 256, (baseline, peak)
    assert _rss_mib() - baseline < 192, (baseline, _rss_mib())


def test_views_keep_received_memory_alive():
    sender = tp.create_node(bind_address="127.0.0.1")
    receiver = tp.create_node(bind_address="127.0.0.1")
    with sender.blocking, receiver.blocking:
        sender.blocking.send_tensor_direct(receiver.ticket, "v", np.arange(1000, dtype=np.int64))
        got = receiver.blocking.wait_for_tensor(timeout=30)
        view = got.to_numpy()
        del got
        gc.collect()
        np.testing.assert_array_equal(view, np.arange(1000))  # still valid: the view owns the native tensor


def test_lent_memory_is_released_after_sends_and_unregister(nodes):
    sender, receiver = nodes(), nodes()
    before = len(_buffers.loans)
    array = bytearray(1 << 20)
    for _ in range(5):
        sender.blocking.send_tensor_direct(receiver.ticket, "b", tp.TensorData(array, [1 << 20], "uint8", False))
    sender.register_tensor("served", tp.TensorData(array, [1 << 20], "uint8", False))
    receiver.blocking.request_tensor(sender.ticket, "served")
    sender.unregister_tensor("served")
    sender.shutdown()  # every send and serve is over: the releases are queued on library threads
    assert _buffers.loans.wait_until(before, timeout=30)
    array.extend(b"x")  # a bytearray with a live buffer export cannot be resized: this proves none is left


def test_shutdown_returns_only_after_every_release_and_report(nodes):
    # At interpreter exit (atexit shuts nodes down) a release callback or an operation's report arriving after
    # shutdown() returned would call into a finalizing interpreter from a library thread.
    sender, receiver = nodes(), nodes()
    before = len(_buffers.loans)
    array = bytearray(1 << 20)
    sender.register_tensor("served", tp.TensorData(array, [1 << 20], "uint8", False))
    receiver.blocking.request_tensor(sender.ticket, "served")
    reports = []
    thread = threading.Thread(target=lambda: reports.append(_wait_or_error(sender)))
    thread.start()  # the wait is pending at the shutdown, or starts after it: a ShutdownError either way
    sender.shutdown()
    assert len(_buffers.loans) == before  # released before shutdown() returned, without waiting
    thread.join(10)
    assert reports and isinstance(reports[0], tp.ShutdownError)
    array.extend(b"x")


def _wait_or_error(node):
    try:
        return node.blocking.wait_for_tensor(timeout=30)
    except tp.TensorProtocolError as e:
        return e


def test_memory_refused_by_the_library_is_not_leaked(nodes):
    node = nodes()
    before = len(_buffers.loans)
    array = bytearray(16)
    with pytest.raises(tp.TicketFormatError):
        node.blocking.send_tensor_direct("tensorp1-bad", "x", tp.TensorData(array, [16], "uint8", False))
    assert len(_buffers.loans) == before
    array.extend(b"x")


def test_async_sends_release_lent_memory_through_the_queue(nodes):
    sender, receiver = nodes(), nodes()
    array = bytearray(1 << 20)

    async def scenario():
        for _ in range(5):
            await sender.send_tensor_direct(receiver.ticket, "b", tp.TensorData(array, [1 << 20], "uint8", False))
        sender.shutdown()  # every pin is gone once it returns; the queued releases are drained here

    run(scenario())
    assert not sender._events._loans and not sender._events._waiters
    array.extend(b"x")  # no buffer export left


def test_node_awaited_from_two_event_loops(nodes):
    """A second loop on another thread while the first has work pending falls back to callbacks; both complete."""
    import threading
    sender, receiver = nodes(), nodes(receive_queue_capacity=4096)
    errors = []

    def other_loop():
        async def sends():
            for i in range(50):
                await sender.send_tensor_direct(receiver.ticket, f"t{i}", np.arange(8))
        try:
            asyncio.run(sends())
        except BaseException as e:  # noqa: BLE001 - reported below
            errors.append(e)

    async def scenario():
        thread = threading.Thread(target=other_loop)
        thread.start()
        for i in range(50):
            await sender.send_tensor_direct(receiver.ticket, f"m{i}", np.arange(8))
        await asyncio.get_running_loop().run_in_executor(None, thread.join, 60)

    run(scenario())
    assert not errors
    names = set()
    while (got := receiver.blocking.receive_tensor()) is not None:
        names.add(got.name)
    assert len(names) == 100
