"""TensorProtocol for Python: move numpy arrays and torch tensors directly between machines over QUIC.

The API keeps the names of tensor-iroh's Python bindings (``create_node``, ``TensorMetadata``, ``TensorData``,
``start``, ``get_node_addr``, ``send_tensor_direct``, ``receive_tensor``, ``wait_for_tensor``, ``register_tensor``,
``get_pool_size``, ``shutdown``, and the PyO3 spellings) over the C# library's native build (libtensor_protocol.so).
Neither numpy nor torch is needed to import it.
"""
from .errors import (ConnectionFailedError, InternalError, InvalidArgumentError, InvalidStateError, IoError,
                     NotAllowedError, NotSupportedError, OperationCancelledError, OperationTimeoutError,
                     ProtocolViolationError, QueueFullError, SerializationError, ShutdownError, TensorNotFoundError,
                     TensorProtocolError, TicketFormatError, TooLargeError)
from .node import BlockingTensorNode, TensorNode, create_node
from .tensor import ReceivedTensor, TensorData, TensorMetadata

__version__ = "0.1.0"

__all__ = [
    "create_node", "TensorNode", "BlockingTensorNode", "TensorMetadata", "TensorData", "ReceivedTensor",
    "TensorProtocolError", "InvalidArgumentError", "TicketFormatError", "IoError", "SerializationError",
    "ConnectionFailedError", "ProtocolViolationError", "TensorNotFoundError", "NotAllowedError", "TooLargeError",
    "QueueFullError", "OperationTimeoutError", "ShutdownError", "OperationCancelledError", "NotSupportedError",
    "InvalidStateError", "InternalError",
]
