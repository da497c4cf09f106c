"""The C header is the contract: a C program compiled against include/tensor_protocol.h alone drives the library,
and the ctypes mirrors in the package have the header's exact layout."""
from __future__ import annotations

import ctypes
import shutil
import subprocess

from tensor_protocol import _ffi
from conftest import REPO_ROOT

HEADER_DIR = REPO_ROOT / "include"


def _compile(tmp_path, source, name, *extra):
    gcc = shutil.which("gcc")
    assert gcc, "gcc is installed by scripts/bootstrap"
    exe = tmp_path / name
    subprocess.run([gcc, "-std=c11", "-D_GNU_SOURCE", "-Wall", "-Wextra", "-Werror", f"-I{HEADER_DIR}", str(source),
                    "-o", str(exe), *extra], check=True, capture_output=True, text=True)
    return exe


def test_c_program_drives_the_library(tmp_path):
    library = _ffi.library_path()
    exe = _compile(tmp_path, REPO_ROOT / "tests" / "native" / "abi_smoke.c", "abi_smoke",
                   f"-L{library.parent}", "-l:" + library.name, f"-Wl,-rpath,{library.parent}", "-lpthread")
    result = subprocess.run([str(exe)], capture_output=True, text=True, timeout=120)
    assert result.returncode == 0, result.stderr
    assert "all checks passed" in result.stdout


def test_ctypes_mirrors_match_the_header(tmp_path):
    structs = {
        "tp_node_options": _ffi.tp_node_options,
        "tp_tensor_view": _ffi.tp_tensor_view,
        "tp_tensor_info": _ffi.tp_tensor_info,
        "tp_event": _ffi.tp_event,
    }
    lines = ['#include <stddef.h>', '#include <stdio.h>', '#include "tensor_protocol.h"', 'int main(void) {']
    for name, mirror in structs.items():
        lines.append(f'printf("{name} size %zu\\n", sizeof({name}));')
        for field, _ in mirror._fields_:
            lines.append(f'printf("{name} {field} %zu\\n", offsetof({name}, {field}));')
    lines += ["return 0;", "}"]
    source = tmp_path / "layout.c"
    source.write_text("\n".join(lines))
    output = subprocess.run([str(_compile(tmp_path, source, "layout"))], capture_output=True, text=True,
                            check=True).stdout
    expected = {}
    for name, mirror in structs.items():
        expected[f"{name} size"] = ctypes.sizeof(mirror)
        for field, _ in mirror._fields_:
            expected[f"{name} {field}"] = getattr(mirror, field).offset
    actual = {line.rsplit(" ", 1)[0]: int(line.rsplit(" ", 1)[1]) for line in output.splitlines()}
    assert actual == expected


def test_status_codes_match_the_header():
    header = (HEADER_DIR / "tensor_protocol.h").read_text()
    for name in dir(_ffi):
        if name.startswith("TP_OK") or name.startswith("TP_EMPTY") or name.startswith("TP_ERR_"):
            value = getattr(_ffi, name)
            assert f"{name} = {value}," in header or f"{name} = {value} " in header, name
