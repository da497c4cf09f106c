"""Shared fixtures: the package from this source tree, nodes on loopback, bounded waits."""
from __future__ import annotations

import asyncio
import os
import sys
from pathlib import Path

import pytest

PYTHON_DIR = Path(__file__).resolve().parents[1]
REPO_ROOT = PYTHON_DIR.parent
sys.path.insert(0, str(PYTHON_DIR))

import tensor_protocol as tp  # noqa: E402

# Every test bounds its own waits; this is the outer limit for one asyncio scenario.
SCENARIO_TIMEOUT = 120


def run(coro, timeout: float = SCENARIO_TIMEOUT):
    """Runs a coroutine to completion, failing (not hanging) after ``timeout`` seconds."""
    return asyncio.run(asyncio.wait_for(coro, timeout))


def loopback_node(**options) -> tp.TensorNode:
    options.setdefault("bind_address", "127.0.0.1")
    return tp.create_node(**options)


@pytest.fixture
def nodes():
    """A factory of started loopback nodes, all shut down after the test."""
    made: list[tp.TensorNode] = []

    def make(**options) -> tp.TensorNode:
        node = loopback_node(**options)
        node.blocking.start()
        made.append(node)
        return node

    yield make
    for node in made:
        node.shutdown()


def python_env() -> dict[str, str]:
    """Environment for a child interpreter that imports this source tree."""
    env = dict(os.environ)
    env["PYTHONPATH"] = str(PYTHON_DIR) + os.pathsep + env.get("PYTHONPATH", "")
    return env
