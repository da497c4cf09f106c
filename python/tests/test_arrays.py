"""numpy and torch round trips for every dtype each supports, with zero-copy checks."""
from __future__ import annotations

import numpy as np
import pytest

import tensor_protocol as tp
from conftest import run

NUMPY_DTYPES = ["float32", "float64", "float16", "int8", "int16", "int32", "int64", "uint8", "uint16", "uint32",
                "uint64", "bool", "complex64", "complex128"]


def sample(dtype: str, shape=(5, 7)) -> np.ndarray:
    rng = np.random.default_rng(abs(hash(dtype)) % 2**32)
    if dtype == "bool":
        return rng.integers(0, 2, size=shape).astype(bool)
    if dtype.startswith("complex"):
        return (rng.standard_normal(shape) + 1j * rng.standard_normal(shape)).astype(dtype)
    if dtype.startswith("float"):
        return rng.standard_normal(shape).astype(dtype)
    info = np.iinfo(dtype)
    return rng.integers(info.min, info.max, size=shape, dtype=dtype, endpoint=True)


@pytest.fixture(scope="module")
def pair():
    sender = tp.create_node(bind_address="127.0.0.1")
    receiver = tp.create_node(bind_address="127.0.0.1")
    sender.blocking.start()
    receiver.blocking.start()
    yield sender, receiver
    sender.shutdown()
    receiver.shutdown()


@pytest.mark.parametrize("dtype", NUMPY_DTYPES)
def test_numpy_round_trip_every_dtype(pair, dtype):
    sender, receiver = pair
    array = sample(dtype)
    td = tp.TensorData.from_numpy(array)
    assert td.dtype == dtype and td.shape == [5, 7]
    assert np.shares_memory(td.as_numpy(), array)  # wrapped, not copied

    async def scenario():
        await sender.send_tensor_direct(receiver.ticket, dtype, td)
        return await receiver.wait_for_tensor(timeout=30)

    got = run(scenario())
    out = got.to_numpy()
    assert out.dtype == array.dtype and out.shape == array.shape
    np.testing.assert_array_equal(out, array)
    assert out.flags.writeable  # received memory belongs to the holder
    assert np.shares_memory(out, got.as_numpy())  # a view of the received buffer, not a copy


def test_numpy_non_contiguous_and_big_endian_are_converted(pair):
    sender, receiver = pair
    base = np.arange(48, dtype=np.float32).reshape(6, 8)
    for array in (base[:, ::2], base.T, base.astype(">f4")):
        blocking = sender.blocking
        blocking.send_tensor_direct(receiver.ticket, "converted", array)
        got = receiver.blocking.wait_for_tensor(timeout=30)
        np.testing.assert_array_equal(got.to_numpy(), array)
        assert got.dtype == "float32"


def test_scalar_and_empty_tensors(pair):
    sender, receiver = pair
    for array in (np.array(3.5, dtype=np.float64), np.zeros((0, 4), dtype=np.int32)):
        sender.blocking.send_tensor_direct(receiver.ticket, "edge", array)
        got = receiver.blocking.wait_for_tensor(timeout=30)
        assert got.shape == list(array.shape)
        np.testing.assert_array_equal(got.to_numpy(), array)


def test_metadata_and_requires_grad_travel(pair):
    sender, receiver = pair
    td = tp.TensorData(tp.TensorMetadata([2], "float32", True, {"step": "7", "layer": "q_proj"}),
                       np.ones(2, np.float32))
    sender.blocking.send_tensor_direct(receiver.ticket, "meta", td)
    got = receiver.blocking.wait_for_tensor(timeout=30)
    assert got.requires_grad is True
    assert got.metadata.metadata == {"step": "7", "layer": "q_proj"}
    assert got == td


def test_dtype_spellings_are_canonical():
    for spelling in ("float32", "F32", "torch.float32", "<f4", "f4", np.dtype(np.float32)):
        assert tp.TensorMetadata([1], spelling).dtype == "float32"
    assert tp.TensorMetadata([1], "BF16").dtype == "bfloat16"
    assert tp.TensorMetadata([1], "torch.bfloat16").dtype == "bfloat16"
    with pytest.raises(tp.InvalidArgumentError):
        tp.TensorMetadata([1], np.dtype(">f4"))




def _torch():
    import torch as t  # python3-torch is installed by scripts/bootstrap; a missing torch is a failure
    return t


TORCH_DTYPES = ["float32", "float64", "float16", "bfloat16", "int8", "int16", "int32", "int64", "uint8", "bool",
                "complex64", "complex128"]


@pytest.mark.parametrize("dtype", TORCH_DTYPES)
def test_torch_round_trip_every_dtype(pair, dtype):
    torch_module = _torch()
    sender, receiver = pair
    torch_dtype = getattr(torch_module, dtype)
    generator = torch_module.Generator().manual_seed(5)
    if dtype == "bool":
        t = torch_module.randint(0, 2, (4, 6), generator=generator).bool()
    elif torch_dtype.is_floating_point or torch_dtype.is_complex:
        t = torch_module.randn(4, 6, generator=generator, dtype=torch_dtype)
    else:
        t = torch_module.randint(-100 if dtype != "uint8" else 0, 100, (4, 6), generator=generator).to(torch_dtype)
    td = tp.TensorData.from_torch(t)
    assert td.dtype == dtype
    sender.blocking.send_tensor_direct(receiver.ticket, dtype, td)
    got = receiver.blocking.wait_for_tensor(timeout=30)
    out = got.to_torch()
    assert out.dtype == torch_dtype and list(out.shape) == [4, 6]
    assert torch_module.equal(out, t)
    # The tensor is a view of the received memory, not a copy.
    assert out.data_ptr() == got.as_numpy().__array_interface__["data"][0]


def test_torch_zero_copy_send_and_requires_grad(pair):
    torch_module = _torch()
    sender, receiver = pair
    t = torch_module.arange(12, dtype=torch_module.float32).reshape(3, 4).requires_grad_(True)
    td = tp.TensorData.from_torch(t)
    assert td.requires_grad is True
    assert td.as_numpy().__array_interface__["data"][0] == t.data_ptr()  # same memory, no copy
    sender.blocking.send_tensor_direct(receiver.ticket, "grad", t)  # a torch tensor is accepted directly
    got = receiver.blocking.wait_for_tensor(timeout=30)
    out = got.to_torch()
    assert out.requires_grad and torch_module.equal(out.detach(), t.detach())


def test_torch_non_contiguous_is_sent_as_contiguous_copy(pair):
    torch_module = _torch()
    sender, receiver = pair
    t = torch_module.arange(24, dtype=torch_module.int32).reshape(4, 6).t()
    sender.blocking.send_tensor_direct(receiver.ticket, "t", t)
    got = receiver.blocking.wait_for_tensor(timeout=30)
    assert torch_module.equal(got.to_torch(), t)


def test_bfloat16_without_numpy_equivalent(pair):
    torch_module = _torch()
    sender, receiver = pair
    t = torch_module.tensor([1.5, -2.25, 3.0e38], dtype=torch_module.bfloat16)
    sender.blocking.send_tensor_direct(receiver.ticket, "bf16", t)
    got = receiver.blocking.wait_for_tensor(timeout=30)
    assert got.dtype == "bfloat16"
    with pytest.raises(TypeError):
        got.to_numpy()
    assert torch_module.equal(got.to_torch(), t)
    assert bytes(got.data) == t.view(torch_module.int16).numpy().tobytes()
