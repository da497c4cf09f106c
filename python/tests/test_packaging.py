"""The package installs as a wheel that carries the native library, and imports without numpy or torch."""
from __future__ import annotations

import subprocess
import sys
import textwrap

from conftest import PYTHON_DIR


def test_wheel_installs_and_works_outside_the_source_tree(tmp_path):
    wheels, target = tmp_path / "wheels", tmp_path / "site"
    subprocess.run([sys.executable, "-m", "pip", "wheel", "--no-build-isolation", "--no-deps", "-q", "-w",
                    str(wheels), str(PYTHON_DIR)], check=True, capture_output=True, text=True, timeout=300)
    [wheel] = list(wheels.glob("*.whl"))
    assert wheel.name.startswith("tensor_protocol-0.1.0-py3-none-linux_"), wheel.name
    subprocess.run([sys.executable, "-m", "pip", "install", "-q", "--no-deps", "--no-index", "--target", str(target),
                    str(wheel)], check=True, capture_output=True, text=True, timeout=300)
    script = textwrap.dedent("""
        import sys
        sys.modules["numpy"] = None  # importing numpy now fails: the package must not need it
        sys.modules["torch"] = None
        import tensor_protocol as tp
        assert tp.__file__.startswith(sys.argv[1]), tp.__file__
        with tp.create_node(bind_address="127.0.0.1").blocking as a, tp.create_node(bind_address="127.0.0.1").blocking as b:
            a.send_tensor_direct(b.ticket, "x", tp.TensorData(bytes(range(16)), [4], "float32", False))
            got = b.wait_for_tensor(timeout=30)
            assert got.name == "x" and bytes(got.data) == bytes(range(16))
        print("ok")
    """)
    result = subprocess.run([sys.executable, "-c", script, str(target)], cwd=tmp_path, capture_output=True, text=True,
                            timeout=120, env={"PYTHONPATH": str(target), "PATH": "/usr/bin:/bin"})
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == "ok"
