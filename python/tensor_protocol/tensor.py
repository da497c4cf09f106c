"""Tensors: TensorMetadata, TensorData (what you send) and ReceivedTensor (what arrives).

Memory is shared, not copied, wherever the layout allows: a TensorData refers to the buffer it was built from, a
ReceivedTensor's ``data`` is the memory the network wrote into, and ``to_numpy`` / ``to_torch`` are views of it.
"""
from __future__ import annotations

import ctypes
import math
from typing import Any, Iterator, Mapping, Sequence

from . import _dtypes, _ffi
from .errors import InvalidArgumentError


class TensorMetadata:
    """Shape (list of ints, each >= 0), dtype and requires_grad, plus optional string metadata.

    ``dtype`` accepts any common spelling ("float32", "F32", "torch.bfloat16", "<f4", a numpy or torch dtype) and is
    stored in its canonical torch/numpy name ("float32", "bfloat16", ...).
    """

    __slots__ = ("shape", "_dtype", "requires_grad", "metadata")

    def __init__(self, shape: Sequence[int], dtype: Any, requires_grad: bool = False,
                 metadata: Mapping[str, str] | None = None):
        dims = [int(d) for d in shape]
        if any(d < 0 or d >= 2**63 for d in dims):
            raise InvalidArgumentError(f"every dimension must be from 0 to 2**63-1, got shape {dims}")
        if isinstance(dtype, _dtypes.DType):
            self._dtype = dtype
        else:
            try:
                self._dtype = _dtypes.parse(dtype)
            except ValueError as e:
                raise InvalidArgumentError(str(e)) from None
        self.shape = dims
        self.requires_grad = bool(requires_grad)
        self.metadata = {str(k): str(v) for k, v in (metadata or {}).items()}

    @property
    def dtype(self) -> str:
        return self._dtype.name

    @property
    def element_size(self) -> int:
        return self._dtype.itemsize

    @property
    def numel(self) -> int:
        return math.prod(self.shape)

    @property
    def nbytes(self) -> int:
        return self.numel * self._dtype.itemsize

    def __eq__(self, other: object) -> bool:
        if not isinstance(other, TensorMetadata):
            return NotImplemented
        return (self.shape == other.shape and self._dtype == other._dtype
                and self.requires_grad == other.requires_grad and self.metadata == other.metadata)

    __hash__ = None  # mutable (shape is a list, as in the original API)

    def __repr__(self) -> str:
        extra = f", metadata={self.metadata!r}" if self.metadata else ""
        return f"TensorMetadata(shape={self.shape}, dtype={self.dtype!r}, requires_grad={self.requires_grad}{extra})"


class TensorData:
    """A tensor: metadata plus its payload (C order, little-endian) in any buffer-protocol object, not copied.

    ``TensorData(metadata, data)`` as in the original UniFFI API, or ``TensorData(data, shape, dtype,
    requires_grad)`` as in its PyO3 API. ``data`` may be bytes, bytearray, memoryview, a numpy array or anything
    with the buffer protocol (C-contiguous); its length must equal product(shape) * element size. Do not modify
    the memory while a send of this tensor is in flight.
    """

    __slots__ = ("metadata", "_source", "_data", "__weakref__")

    def __init__(self, metadata: Any = None, data: Any = None, dtype: Any = None, requires_grad: bool = False, *,
                 shape: Sequence[int] | None = None):
        if not isinstance(metadata, TensorMetadata):
            # PyO3 spelling: TensorData(data, shape, dtype, requires_grad); shape and dtype may come as keywords.
            payload, dims = metadata, data if shape is None else shape
            if payload is None or dims is None or dtype is None:
                raise InvalidArgumentError("TensorData(metadata, data) or TensorData(data, shape, dtype, requires_grad)")
            metadata, data = TensorMetadata(dims, dtype, requires_grad), payload
        if data is None:
            raise InvalidArgumentError("data is required")
        self.metadata = metadata
        self._source = data
        self._data = _byte_view(data)
        if self._data.nbytes != metadata.nbytes:
            raise InvalidArgumentError(
                f"the payload has {self._data.nbytes} bytes but a {metadata.dtype} tensor of shape {metadata.shape} "
                f"needs {metadata.nbytes} ({metadata.numel} elements x {metadata.element_size} bytes)")

    # ---- the original API's accessors ----
    @property
    def data(self) -> memoryview:
        """The payload as a flat byte memoryview (compares equal to bytes with the same content)."""
        return self._data

    @property
    def shape(self) -> list[int]:
        return self.metadata.shape

    @property
    def dtype(self) -> str:
        return self.metadata.dtype

    @property
    def requires_grad(self) -> bool:
        return self.metadata.requires_grad

    @property
    def nbytes(self) -> int:
        return self._data.nbytes

    def as_bytes(self) -> bytes:
        """A copy of the payload as bytes."""
        return self._data.tobytes()

    def as_numpy(self):
        """The payload as a flat uint8 numpy array, without copying (the PyO3 API's ``as_numpy``)."""
        import numpy as np
        return np.frombuffer(self._data, dtype=np.uint8)

    # ---- numpy ----
    @classmethod
    def from_numpy(cls, array, requires_grad: bool = False, metadata: Mapping[str, str] | None = None) -> "TensorData":
        """Wraps a numpy array without copying when it is C-contiguous and little-endian (or byte-order free);
        otherwise sends a C-contiguous little-endian copy."""
        import numpy as np
        array = np.asarray(array)
        if array.dtype.byteorder == ">":
            array = array.astype(array.dtype.newbyteorder("<"))
        if not array.flags.c_contiguous:
            array = np.ascontiguousarray(array)
        dtype = _NUMPY_DTYPES.get(array.dtype.str) or _dtypes.parse(array.dtype)
        return cls(TensorMetadata(array.shape, dtype, requires_grad, metadata), array)

    def to_numpy(self):
        """A numpy array over the payload (no copy), in the tensor's shape. Writable when the memory is (always for
        received tensors). Raises TypeError for dtypes numpy lacks (bfloat16, float8): use ``to_torch`` or ``data``."""
        import numpy as np
        dtype = _dtypes.parse(self.metadata.dtype)
        if dtype.numpy is None:
            raise TypeError(f"numpy has no {dtype.name} type; use to_torch() or the raw bytes in .data")
        return np.frombuffer(self._data, dtype=np.dtype(dtype.numpy), count=self.metadata.numel).reshape(self.shape)

    # ---- torch ----
    @classmethod
    def from_torch(cls, tensor, metadata: Mapping[str, str] | None = None) -> "TensorData":
        """Wraps a CPU torch tensor's memory without copying when it is contiguous (non-contiguous or non-CPU
        tensors are copied to a contiguous CPU tensor first). Keeps ``requires_grad``; bfloat16 included."""
        import torch
        requires_grad = bool(tensor.requires_grad)
        t = tensor.detach()
        if t.device.type != "cpu":
            t = t.cpu()
        if not t.is_contiguous():
            t = t.contiguous()
        dtype = _dtypes.parse(str(t.dtype))
        if dtype.numpy is not None:
            buffer = t.numpy()  # shares the tensor's memory
        else:
            # bfloat16 / float8: numpy has no such type; view the same bytes as an integer type numpy knows.
            buffer = t.view(torch.uint8 if dtype.itemsize == 1 else torch.int16).numpy()
        data = cls(TensorMetadata(list(t.shape), dtype, requires_grad, metadata), buffer)
        data._source = (buffer, t)  # keep the torch storage alive as long as the view
        return data

    def to_torch(self):
        """A torch tensor over the payload: no copy when the memory is writable (received tensors); a copy
        otherwise, because torch tensors are always writable."""
        import torch
        dtype = _dtypes.parse(self.metadata.dtype)
        torch_dtype = getattr(torch, dtype.torch, None) if dtype.torch else None
        if torch_dtype is None:
            raise TypeError(f"this torch has no {dtype.name} type")
        if self.metadata.numel == 0:
            t = torch.empty(self.shape, dtype=torch_dtype)
        else:
            buffer = self._data if not self._data.readonly else bytearray(self._data)
            t = torch.frombuffer(buffer, dtype=torch_dtype, count=self.metadata.numel).reshape(self.shape)
        if self.requires_grad and t.is_floating_point():
            t.requires_grad_(True)
        return t

    def __eq__(self, other: object) -> bool:
        if not isinstance(other, TensorData):
            return NotImplemented
        return self.metadata == other.metadata and self._data == other._data

    __hash__ = None

    def __repr__(self) -> str:
        return f"TensorData({self.metadata!r}, {self.nbytes} bytes)"


class ReceivedTensor(TensorData):
    """A tensor that arrived (pushed to this node, or pulled from a peer): ``name``, ``sender`` (the peer's node id),
    ``metadata`` and ``data`` — the memory the network wrote into, freed when the last view of it is collected.

    Unpacks as ``name, tensor = received`` for code written for the PyO3 API's ``wait_for_tensor``."""

    __slots__ = ("name", "sender")

    def __init__(self, name: str, sender: str, metadata: TensorMetadata, data: Any):
        super().__init__(metadata, data)
        self.name = name
        self.sender = sender

    def __iter__(self) -> Iterator[Any]:
        return iter((self.name, self))

    def __repr__(self) -> str:
        return f"ReceivedTensor({self.name!r} from {self.sender[:12]}…, {self.metadata!r}, {self.nbytes} bytes)"


class _NativeTensor:
    """Owns one tp_tensor; its memory is freed when this object is collected (after the last view goes)."""

    __slots__ = ("_handle",)

    def __init__(self, handle: int):
        self._handle = handle

    def __del__(self):
        handle, self._handle = self._handle, 0
        if handle and _ffi is not None and _ffi.lib is not None:
            _ffi.lib.tp_tensor_free(handle)


def from_native(handle: int) -> ReceivedTensor:
    """Wraps a tp_tensor the library handed over (ownership included) without copying its payload."""
    owner = _NativeTensor(handle)
    info = _ffi.tp_tensor_info()
    if _ffi.lib.tp_tensor_get_info(handle, ctypes.byref(info)) != _ffi.TP_OK:
        raise InvalidArgumentError(_ffi.last_error())
    metadata = {}
    key, value = ctypes.c_char_p(), ctypes.c_char_p()
    for i in range(info.metadata_count):
        _ffi.lib.tp_tensor_get_metadata(handle, i, ctypes.byref(key), ctypes.byref(value))
        metadata[key.value.decode()] = value.value.decode()
    shape = [info.shape[i] for i in range(info.rank)]
    length = info.data_len
    if length:
        raw = (ctypes.c_ubyte * length).from_address(info.data)
        raw._tensor_protocol_owner = owner  # the views below keep raw alive, raw keeps the native tensor alive
        data = memoryview(raw).cast("B")
    else:
        data = memoryview(b"")
    return ReceivedTensor(info.name.decode(), info.sender.decode(),
                          TensorMetadata(shape, _dtypes.BY_CODE[info.dtype], bool(info.requires_grad), metadata), data)


_NUMPY_DTYPES = {d.numpy: d for d in _dtypes.BY_CODE.values() if d.numpy}


def _byte_view(data: Any) -> memoryview:
    """A flat byte view of any C-contiguous buffer, without copying."""
    if type(data).__module__.startswith("torch"):
        raise InvalidArgumentError("pass torch tensors through TensorData.from_torch(t)")
    try:
        view = memoryview(data)
    except TypeError:
        raise InvalidArgumentError(f"data must support the buffer protocol (bytes, bytearray, numpy array...), "
                                   f"not {type(data).__name__}") from None
    if not view.c_contiguous:
        raise InvalidArgumentError("data must be C-contiguous (use numpy.ascontiguousarray or TensorData.from_numpy)")
    if view.nbytes == 0:
        return memoryview(b"")  # memoryview cannot cast views with a zero in the shape
    return view.cast("B") if view.format != "B" or view.ndim != 1 else view
