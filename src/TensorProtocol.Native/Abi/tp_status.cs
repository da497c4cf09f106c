namespace TensorProtocol.Native.Abi;

/// <summary>The status codes of include/tensor_protocol.h (same names and values).</summary>
internal enum tp_status
{
    TP_OK = 0,
    TP_EMPTY = 1,
    TP_ERR_INVALID_ARGUMENT = -1,
    TP_ERR_TICKET = -2,
    TP_ERR_IO = -3,
    TP_ERR_SERIALIZATION = -4,
    TP_ERR_CONNECTION = -5,
    TP_ERR_PROTOCOL = -6,
    TP_ERR_NOT_FOUND = -7,
    TP_ERR_NOT_ALLOWED = -8,
    TP_ERR_TOO_LARGE = -9,
    TP_ERR_QUEUE_FULL = -10,
    TP_ERR_TIMEOUT = -11,
    TP_ERR_SHUTDOWN = -12,
    TP_ERR_CANCELLED = -13,
    TP_ERR_NOT_SUPPORTED = -14,
    TP_ERR_INVALID_STATE = -15,
    TP_ERR_BUFFER_TOO_SMALL = -16,
    TP_ERR_INTERNAL = -99,
}
