"""The original's scenarios from Python, made strict: every test asserts a definite outcome."""
from __future__ import annotations

import asyncio
import hashlib
import struct

import numpy as np
import pytest

import tensor_protocol as tp
from conftest import run


def ramp(shape=(3, 4)) -> tp.TensorData:
    count = int(np.prod(shape))
    raw = struct.pack(f"<{count}f", *[float(i) for i in range(count)])
    return tp.TensorData(metadata=tp.TensorMetadata(shape=list(shape), dtype="float32", requires_grad=False), data=raw)


def test_basic_push_original_api(nodes):
    sender, receiver = nodes(), nodes()

    async def scenario():
        addr = await receiver.get_node_addr()
        assert addr.startswith("tensorp1")
        td = ramp()
        assert await receiver.receive_tensor() is None  # nothing yet: None, not an error
        await sender.send_tensor_direct(addr, "t", td)
        received = await receiver.receive_tensor()  # the send completed: the tensor is already queued
        assert received is not None
        assert received == td
        assert received.name == "t" and received.sender == sender.node_id
        assert received.metadata.shape == [3, 4] and received.metadata.dtype == "float32"
        assert received.data == td.data and bytes(received.data) == td.as_bytes()
        assert await receiver.receive_tensor() is None

    run(scenario())


def test_pyo3_spellings(nodes):
    sender, receiver = nodes(), nodes()

    async def scenario():
        td = tp.TensorData(np.arange(6, dtype=np.int64).tobytes(), [2, 3], "int64", False)
        assert td.shape == [2, 3] and td.dtype == "int64" and td.requires_grad is False
        await sender.send_tensor(await receiver.get_node_addr(), "pyo3", td)
        name, got = await receiver.wait_for_tensor()
        assert name == "pyo3" and got == td
        assert got.as_numpy().dtype == np.uint8 and got.as_bytes() == td.as_bytes()
        assert await sender.pool_size() == 1

    run(scenario())


def test_pull_registered_tensor_and_missing_name(nodes):
    server, client = nodes(), nodes()

    async def scenario():
        values = np.random.default_rng(1).standard_normal((64, 32)).astype(np.float32)
        server.register_tensor("weights", tp.TensorData.from_numpy(values))
        addr = await server.get_node_addr()
        pulled = await client.request_tensor(addr, "weights")
        assert pulled.name == "weights" and pulled.sender == server.node_id
        np.testing.assert_array_equal(pulled.to_numpy(), values)
        with pytest.raises(tp.TensorNotFoundError):
            await client.request_tensor(addr, "nope")
        assert server.unregister_tensor("weights") is True
        with pytest.raises(tp.TensorNotFoundError):
            await client.request_tensor(addr, "weights")

    run(scenario())


def test_names_with_a_nul_character_are_refused_not_cut(nodes):
    # A C string ends at NUL: "a\0b" would have reached the peer as "a", silently.
    sender, receiver = nodes(), nodes()
    with pytest.raises(ValueError, match="NUL"):
        sender.blocking.send_tensor_direct(receiver.ticket, "a\0b", np.arange(4))
    with pytest.raises(ValueError, match="NUL"):
        sender.register_tensor("w\0", np.arange(4))
    with pytest.raises(ValueError, match="NUL"):
        run(receiver.request_tensor(sender.ticket, "\0"))
    with pytest.raises(ValueError, match="NUL"):
        meta = tp.TensorMetadata([4], "int64", False, metadata={"k\0ey": "v"})
        sender.blocking.send_tensor_direct(receiver.ticket, "m", tp.TensorData(meta, np.arange(4, dtype=np.int64)))
    assert receiver.blocking.receive_tensor() is None


def test_concurrent_sends_to_two_peers(nodes):
    sender, r1, r2 = nodes(), nodes(), nodes()

    async def scenario():
        a = np.full(1 << 20, 1, np.uint8)
        b = np.full(1 << 20, 2, np.uint8)
        await asyncio.gather(sender.send_tensor_direct(await r1.get_node_addr(), "a", a),
                             sender.send_tensor_direct(await r2.get_node_addr(), "b", b))
        got1, got2 = await r1.receive_tensor(), await r2.receive_tensor()
        assert got1.name == "a" and np.array_equal(got1.to_numpy(), a)
        assert got2.name == "b" and np.array_equal(got2.to_numpy(), b)
        assert await sender.get_pool_size() == 2

    run(scenario())


def test_rapid_fire_1000_x_64k_all_received_in_full(nodes):
    sender, receiver = nodes(), nodes(receive_queue_capacity=2048)

    async def scenario():
        addr = await receiver.get_node_addr()
        payloads = []
        for i in range(1000):
            array = np.full(16384, i, dtype=np.int32)  # 64 KiB, every element the index
            payloads.append(array)
        await asyncio.gather(*(sender.send_tensor_direct(addr, f"t{i}", payloads[i]) for i in range(1000)))
        seen = set()
        while (got := await receiver.receive_tensor()) is not None:
            index = int(got.name[1:])
            assert got.nbytes == 65536
            assert np.array_equal(got.to_numpy(), payloads[index])
            seen.add(index)
        assert seen == set(range(1000))

    run(scenario())


def test_one_gib_numpy_array_bit_exact(nodes):
    sender, receiver = nodes(), nodes()

    async def scenario():
        array = np.random.default_rng(7).integers(0, 255, size=1 << 30, dtype=np.uint8)
        digest = hashlib.sha256(array).hexdigest()
        await sender.send_tensor_direct(await receiver.get_node_addr(), "big", array)
        got = await receiver.receive_tensor()
        assert got.nbytes == 1 << 30
        assert hashlib.sha256(got.data).hexdigest() == digest

    run(scenario(), timeout=300)


def test_broadcast_to_three_receivers(nodes):
    sender = nodes()
    receivers = [nodes() for _ in range(3)]

    async def scenario():
        values = np.arange(100_000, dtype=np.float64)
        addrs = [r.ticket for r in receivers]
        await asyncio.gather(*(sender.send_tensor_direct(addr, "b", values) for addr in addrs))
        for r in receivers:
            got = await r.wait_for_tensor(timeout=30)
            np.testing.assert_array_equal(got.to_numpy(), values)
        assert await sender.get_pool_size() == 3

    run(scenario())


def test_pool_reuse_one_connection_for_two_sends(nodes):
    sender, receiver = nodes(), nodes()

    async def scenario():
        addr = await receiver.get_node_addr()
        await sender.send_tensor_direct(addr, "one", ramp())
        await sender.send_tensor_direct(addr, "two", ramp())
        assert await sender.get_pool_size() == 1
        assert (await receiver.receive_tensor()).name == "one"
        assert (await receiver.receive_tensor()).name == "two"

    run(scenario())


def test_every_operation_after_shutdown_raises_shutdown_error(nodes):
    node, peer = nodes(), nodes()

    async def scenario():
        addr = await peer.get_node_addr()
        node.shutdown()
        node.shutdown()  # idempotent
        for call in (lambda: node.send_tensor_direct(addr, "x", ramp()), node.receive_tensor,
                     node.wait_for_tensor, lambda: node.request_tensor(addr, "x"), node.get_pool_size):
            with pytest.raises(tp.ShutdownError):
                await call()
        with pytest.raises(tp.ShutdownError):
            node.register_tensor("x", ramp())
        with pytest.raises(tp.ShutdownError):
            await node.get_node_addr()

    run(scenario())


@pytest.mark.parametrize("ticket", [
    "", "hello", "tensorp", "nodeabc", "tensorp9" + "a" * 60, "tensorp1" + "!" * 60, "tensorp1abc",
    "tensorp1" + "a" * 2000,
])
def test_bad_tickets_raise_ticket_format_error(nodes, ticket):
    node = nodes()

    async def scenario():
        with pytest.raises(tp.TicketFormatError) as error:
            await node.send_tensor_direct(ticket, "x", ramp())
        assert str(error.value)  # says what is wrong
        with pytest.raises(tp.TicketFormatError):
            await node.request_tensor(ticket, "x")

    run(scenario())


def test_truncated_valid_ticket_is_refused(nodes):
    node, peer = nodes(), nodes()
    ticket = peer.ticket
    with pytest.raises(tp.TicketFormatError):
        node.blocking.send_tensor_direct(ticket[: len(ticket) // 2], "x", ramp())
    assert node.blocking.get_pool_size() == 0  # nothing was dialed


def test_payload_disagreeing_with_shape_is_refused_at_construction():
    with pytest.raises(tp.InvalidArgumentError) as error:
        tp.TensorData(tp.TensorMetadata([3, 4], "float32"), b"\0" * 47)
    assert "48" in str(error.value)
    with pytest.raises(tp.InvalidArgumentError):
        tp.TensorMetadata([-1], "float32")
    with pytest.raises(tp.InvalidArgumentError):
        tp.TensorMetadata([1], "float33")


def test_allowlist_refusal_is_typed(nodes):
    sender = nodes()
    strict = nodes(allowed_senders=[], allowed_pullers=[])

    async def scenario():
        addr = await strict.get_node_addr()
        strict.register_tensor("w", ramp())
        with pytest.raises(tp.NotAllowedError):
            await sender.send_tensor_direct(addr, "x", ramp())
        with pytest.raises(tp.NotAllowedError):
            await sender.request_tensor(addr, "w")
        assert await strict.receive_tensor() is None

    run(scenario())


def test_too_large_is_refused_by_the_receiver(nodes):
    sender, receiver = nodes(), nodes(max_tensor_bytes=1024)

    async def scenario():
        with pytest.raises(tp.TooLargeError):
            await sender.send_tensor_direct(await receiver.get_node_addr(), "x", np.zeros(2048, np.uint8))
        assert await receiver.receive_tensor() is None

    run(scenario())


def test_send_to_a_node_that_is_not_running_fails_with_connection_error(nodes):
    sender = nodes()
    gone = nodes()
    ticket = gone.ticket
    gone.shutdown()
    with pytest.raises(tp.ConnectionFailedError):
        sender.blocking.send_tensor_direct(ticket, "x", ramp())


def test_context_managers_start_and_shut_down():
    async def scenario():
        async with tp.create_node(bind_address="127.0.0.1") as a, tp.create_node(bind_address="127.0.0.1") as b:
            await a.send_tensor_direct(await b.get_node_addr(), "x", ramp())
            assert (await b.receive_tensor()).name == "x"
        with pytest.raises(tp.ShutdownError):
            await a.receive_tensor()

    run(scenario())
    with tp.create_node(bind_address="127.0.0.1").blocking as node:
        assert node.get_node_addr().startswith("tensorp1")


def test_identity_persists_in_storage_path(tmp_path):
    first = tp.create_node(tmp_path / "store", bind_address="127.0.0.1")
    first.blocking.start()
    node_id = first.node_id
    first.shutdown()
    key = tmp_path / "store" / "node.key"
    assert key.is_file() and (key.stat().st_mode & 0o777) == 0o600
    second = tp.create_node(tmp_path / "store", bind_address="127.0.0.1")
    second.blocking.start()
    assert second.node_id == node_id
    second.shutdown()


def test_tensor_above_2_gib_from_numpy_bit_exact(nodes):
    """No 2 GiB limit from Python: the payload is lent by pointer and received into one mapped block."""
    sender, receiver = nodes(), nodes()
    size = (2 << 30) + (4 << 20)

    async def scenario():
        array = np.empty(size, dtype=np.uint8)
        array[::4096] = np.arange(len(array[::4096]), dtype=np.uint64).astype(np.uint8)  # a pattern on every page
        array[-1] = 0xA5
        digest = hashlib.sha256(array).hexdigest()
        await sender.send_tensor_direct(receiver.ticket, "huge", array)
        del array
        got = await receiver.receive_tensor()
        assert got.nbytes == size and got.shape == [size]
        assert hashlib.sha256(got.data).hexdigest() == digest
        assert got.to_numpy()[-1] == 0xA5

    run(scenario(), timeout=300)
