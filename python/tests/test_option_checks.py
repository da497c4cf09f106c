"""Node options and shapes are checked in Python before they reach ctypes, which would wrap integers, cut strings at
a NUL, and hand the library bytes it decodes differently (not UTF-8): each of those made a node other than the one
asked for."""
from __future__ import annotations

import os

import pytest

import tensor_protocol as tp


def test_a_port_outside_the_udp_range_is_refused():
    with pytest.raises(ValueError, match="port"):
        tp.create_node(bind_address="127.0.0.1", port=65536 + 4567)  # bound port 4567 before


@pytest.mark.parametrize("option,value", [
    ("receive_queue_capacity", 2**32 + 1),  # became 1
    ("max_pooled_connections", 2**31),
    ("max_tensor_bytes", -1),  # an InternalError ("a bug, please report") from the library before
    ("receive_memory_budget", 2**63),
])
def test_integer_options_outside_their_c_type_are_refused(option, value):
    with pytest.raises(ValueError, match=option) as caught:
        tp.create_node(bind_address="127.0.0.1", **{option: value})
    assert not isinstance(caught.value, tp.errors.InternalError)


@pytest.mark.parametrize("option,value", [("alpn", "tensorp/1\0other"), ("bind_address", "127.0.0.1\0junk")])
def test_option_strings_with_a_nul_are_refused(option, value):
    with pytest.raises(ValueError, match="NUL"):
        tp.create_node(**{"bind_address": "127.0.0.1", option: value})


def test_an_identity_path_with_a_nul_is_refused_and_nothing_is_written(tmp_path):
    with pytest.raises(ValueError, match="NUL"):
        tp.create_node(identity_path=str(tmp_path / "a.key\0.bak"), bind_address="127.0.0.1")  # wrote a.key before
    assert os.listdir(tmp_path) == []


@pytest.mark.parametrize("name", [b"key\xfe", b"key\xff"])
def test_an_identity_path_that_is_not_utf8_is_refused(tmp_path, name):
    # The library decoded such names with U+FFFD: key\xfe and key\xff were one key file, so two nodes one identity.
    with pytest.raises(ValueError, match="UTF-8"):
        tp.create_node(identity_path=tmp_path / os.fsdecode(name), bind_address="127.0.0.1")
    assert os.listdir(tmp_path) == []


def test_a_storage_path_that_is_not_utf8_is_refused_before_its_directory_is_made(tmp_path):
    storage = tmp_path / os.fsdecode(b"caf\xe9")
    with pytest.raises(ValueError, match="UTF-8"):
        tp.create_node(storage, bind_address="127.0.0.1")
    assert os.listdir(tmp_path) == []


@pytest.mark.parametrize("dim", [2**63, 2**64 + 3])
def test_a_dimension_beyond_int64_is_refused(dim):
    # ctypes kept the low 64 bits: shape [2**64+3, 0] (no bytes, so the length check passed) arrived as [3, 0].
    with pytest.raises(tp.InvalidArgumentError, match="dimension"):
        tp.TensorMetadata([dim, 0], "float32")
