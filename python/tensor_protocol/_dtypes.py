"""Element types: the wire codes of the C ABI (tp_dtype), canonical names, and every accepted spelling."""
from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class DType:
    name: str          # canonical, torch/numpy style: "float32", "bfloat16", ...
    code: int          # tp_dtype / wire code
    itemsize: int
    safetensors: str   # "F32", "BF16", ...
    numpy: str | None  # numpy dtype string, little-endian; None where numpy has no such type
    torch: str | None  # attribute of the torch module; None where torch has none


_ALL = [
    DType("float32", 1, 4, "F32", "<f4", "float32"),
    DType("float64", 2, 8, "F64", "<f8", "float64"),
    DType("float16", 3, 2, "F16", "<f2", "float16"),
    DType("bfloat16", 4, 2, "BF16", None, "bfloat16"),
    DType("float8_e4m3fn", 5, 1, "F8_E4M3", None, "float8_e4m3fn"),
    DType("float8_e5m2", 6, 1, "F8_E5M2", None, "float8_e5m2"),
    DType("int8", 7, 1, "I8", "|i1", "int8"),
    DType("int16", 8, 2, "I16", "<i2", "int16"),
    DType("int32", 9, 4, "I32", "<i4", "int32"),
    DType("int64", 10, 8, "I64", "<i8", "int64"),
    DType("uint8", 11, 1, "U8", "|u1", "uint8"),
    DType("uint16", 12, 2, "U16", "<u2", "uint16"),
    DType("uint32", 13, 4, "U32", "<u4", "uint32"),
    DType("uint64", 14, 8, "U64", "<u8", "uint64"),
    DType("bool", 15, 1, "BOOL", "|b1", "bool"),
    DType("complex64", 16, 8, "C64", "<c8", "complex64"),
    DType("complex128", 17, 16, "C128", "<c16", "complex128"),
]

BY_CODE = {d.code: d for d in _ALL}

_ALIASES: dict[str, DType] = {}
for _d in _ALL:
    for _alias in (_d.name, _d.safetensors, _d.safetensors.lower(), "torch." + _d.name, "np." + _d.name,
                   "numpy." + _d.name):
        _ALIASES[_alias] = _d
    if _d.numpy:
        for _alias in (_d.numpy, _d.numpy[1:], "=" + _d.numpy[1:]):
            _ALIASES.setdefault(_alias, _d)
for _alias, _name in {
    "float": "float32", "double": "float64", "half": "float16", "f32": "float32", "f64": "float64",
    "f16": "float16", "bf16": "bfloat16", "long": "int64", "int": "int32", "short": "int16", "byte": "uint8",
    "char": "int8", "cfloat": "complex64", "cdouble": "complex128", "bool_": "bool", "b1": "bool",
    "float8_e4m3": "float8_e4m3fn", "e4m3": "float8_e4m3fn", "e5m2": "float8_e5m2",
}.items():
    _ALIASES.setdefault(_alias, _ALIASES[_name])


def parse(spelling: object) -> DType:
    """A DType from a name ("float32", "F32", "torch.bfloat16", "<f4"), a numpy dtype or a torch dtype."""
    if isinstance(spelling, DType):
        return spelling
    text = str(spelling)
    found = _ALIASES.get(text) or _ALIASES.get(text.lower())
    if found is None and hasattr(spelling, "str") and hasattr(spelling, "kind"):  # a numpy dtype
        found = _ALIASES.get(spelling.str)  # type: ignore[attr-defined]
        if found is None and getattr(spelling, "byteorder", "") == ">":
            raise ValueError(f"big-endian dtype {text} is not supported: tensors are little-endian "
                             f"(convert with arr.astype(arr.dtype.newbyteorder('<')))")
    if found is None:
        raise ValueError(f"unknown dtype {text!r}; use one of: {', '.join(d.name for d in _ALL)}")
    return found
