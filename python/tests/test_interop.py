"""A C# node (the tensorp CLI, in its own process) and a Python node exchange tensors both ways."""
from __future__ import annotations

import json
import os
import shutil
import signal
import struct
import subprocess
from pathlib import Path

import numpy as np
import pytest

import tensor_protocol as tp
from conftest import REPO_ROOT

TENSORP = REPO_ROOT / "src" / "TensorProtocol.Cli" / "bin" / "Release" / "net10.0" / "tensorp.dll"


def read_safetensors(path: Path) -> dict[str, tuple[str, list[int], bytes]]:
    """A minimal safetensors reader, straight from the spec, independent of both implementations under test."""
    raw = path.read_bytes()
    (header_length,) = struct.unpack_from("<Q", raw, 0)
    header = json.loads(raw[8:8 + header_length])
    data = raw[8 + header_length:]
    return {name: (entry["dtype"], entry["shape"], data[entry["data_offsets"][0]:entry["data_offsets"][1]])
            for name, entry in header.items() if name != "__metadata__"}


def write_safetensors(path: Path, tensors: dict[str, np.ndarray]) -> None:
    header, offset, blobs = {}, 0, []
    names = {np.dtype("float32"): "F32", np.dtype("int64"): "I64"}
    for name, array in tensors.items():
        blob = np.ascontiguousarray(array).tobytes()
        header[name] = {"dtype": names[array.dtype], "shape": list(array.shape),
                        "data_offsets": [offset, offset + len(blob)]}
        offset += len(blob)
        blobs.append(blob)
    text = json.dumps(header).encode()
    path.write_bytes(struct.pack("<Q", len(text)) + text + b"".join(blobs))


class Tensorp:
    """The real CLI in a child process."""

    def __init__(self, *args: str, key: Path):
        dotnet = shutil.which("dotnet")
        assert dotnet and TENSORP.is_file(), f"build the CLI first (scripts/test does): {TENSORP}"
        self.process = subprocess.Popen([dotnet, str(TENSORP), *args, "--key", str(key)], stdout=subprocess.PIPE,
                                        stderr=subprocess.PIPE, text=True, env=dict(os.environ, NO_COLOR="1"))
        self.ticket = None

    def read_ticket(self) -> str:
        for line in self.process.stdout:
            if line.startswith("ticket: "):
                self.ticket = line.split(" ", 1)[1].strip()
                return self.ticket
        raise AssertionError("tensorp exited before printing its ticket: " + self.process.stderr.read())

    def read_until(self, text: str) -> str:
        for line in self.process.stdout:
            if text in line:
                return line
        raise AssertionError(f"tensorp exited before printing {text!r}: " + self.process.stderr.read())

    def stop(self) -> int:
        if self.process.poll() is None:
            self.process.send_signal(signal.SIGTERM)
        try:
            self.process.communicate(timeout=30)
        finally:
            if self.process.poll() is None:
                self.process.kill()
        return self.process.returncode


@pytest.fixture
def python_node():
    node = tp.create_node(bind_address="127.0.0.1")
    node.blocking.start()
    yield node
    node.shutdown()


def test_python_pushes_to_csharp_listener(tmp_path, python_node):
    listener = Tensorp("listen", "--port", "0", "--out", str(tmp_path / "in"), key=tmp_path / "cs.key")
    try:
        ticket = listener.read_ticket()
        weights = np.random.default_rng(3).standard_normal((128, 64)).astype(np.float32)
        python_node.blocking.send_tensor_direct(ticket, "weights", weights)
        line = listener.read_until("received weights")
        assert python_node.node_id in line  # the C# side saw the Python node's identity
    finally:
        assert listener.stop() == 0
    dtype, shape, data = read_safetensors(tmp_path / "in" / "weights.safetensors")["weights"]
    assert dtype == "F32" and shape == [128, 64] and data == weights.tobytes()


def test_python_pulls_from_csharp_server(tmp_path, python_node):
    source = tmp_path / "model.safetensors"
    embedding = np.arange(4096, dtype=np.int64).reshape(64, 64)
    write_safetensors(source, {"embedding": embedding})
    server = Tensorp("serve", str(source), "--port", "0", key=tmp_path / "cs.key")
    try:
        ticket = server.read_ticket()
        pulled = python_node.blocking.request_tensor(ticket, "embedding")
        np.testing.assert_array_equal(pulled.to_numpy(), embedding)
        with pytest.raises(tp.TensorNotFoundError):
            python_node.blocking.request_tensor(ticket, "missing")
    finally:
        server.stop()


def test_csharp_sends_to_python_node(tmp_path, python_node):
    source = tmp_path / "acts.safetensors"
    acts = {"a": np.linspace(0, 1, 1000, dtype=np.float32), "b": np.arange(10, dtype=np.int64)}
    write_safetensors(source, acts)
    sender = subprocess.run([shutil.which("dotnet"), str(TENSORP), "send", python_node.ticket, str(source),
                             "--key", str(tmp_path / "cs.key")], capture_output=True, text=True, timeout=120)
    assert sender.returncode == 0, sender.stderr
    received = {}
    for _ in acts:
        got = python_node.blocking.wait_for_tensor(timeout=30)
        received[got.name] = got.to_numpy()
    assert received.keys() == acts.keys()
    for name, array in acts.items():
        np.testing.assert_array_equal(received[name], array)
