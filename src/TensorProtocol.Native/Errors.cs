using TensorProtocol.Native.Abi;

namespace TensorProtocol.Native;

/// <summary>The one place that maps .NET exceptions to <see cref="tp_status"/> codes.</summary>
internal static class Errors
{
    public static tp_status Classify(Exception e) => e switch
    {
        TensorProtocolException tp => tp.Kind switch
        {
            TensorErrorKind.Io => tp_status.TP_ERR_IO,
            TensorErrorKind.Serialization => tp_status.TP_ERR_SERIALIZATION,
            TensorErrorKind.Connection => tp_status.TP_ERR_CONNECTION,
            TensorErrorKind.Protocol => tp_status.TP_ERR_PROTOCOL,
            TensorErrorKind.NotFound => tp_status.TP_ERR_NOT_FOUND,
            TensorErrorKind.NotAllowed => tp_status.TP_ERR_NOT_ALLOWED,
            TensorErrorKind.TooLarge => tp_status.TP_ERR_TOO_LARGE,
            TensorErrorKind.QueueFull => tp_status.TP_ERR_QUEUE_FULL,
            TensorErrorKind.Timeout => tp_status.TP_ERR_TIMEOUT,
            TensorErrorKind.Shutdown => tp_status.TP_ERR_SHUTDOWN,
            _ => tp_status.TP_ERR_INTERNAL,
        },
        TicketFormatException => tp_status.TP_ERR_TICKET,
        OperationCanceledException => tp_status.TP_ERR_CANCELLED,
        ArgumentException => tp_status.TP_ERR_INVALID_ARGUMENT,
        ObjectDisposedException => tp_status.TP_ERR_SHUTDOWN,
        InvalidOperationException => tp_status.TP_ERR_INVALID_STATE,
        PlatformNotSupportedException => tp_status.TP_ERR_NOT_SUPPORTED,
        OutOfMemoryException => tp_status.TP_ERR_TOO_LARGE,
        _ => tp_status.TP_ERR_INTERNAL,
    };

    public static string Message(Exception e, tp_status status) => status switch
    {
        tp_status.TP_ERR_CANCELLED => "The operation was cancelled.",
        // An unexpected exception is a bug: keep its type so the report is actionable.
        tp_status.TP_ERR_INTERNAL => $"{e.GetType().FullName}: {e.Message}",
        _ => e.Message,
    };

    /// <summary>Records <paramref name="e"/> as the thread's last error and returns its code.</summary>
    public static int Fail(Exception e)
    {
        tp_status status = Classify(e);
        LastError.Set(Message(e, status));
        return (int)status;
    }

    /// <summary>Records a caller mistake found before any work started.</summary>
    public static int Fail(tp_status status, string message)
    {
        LastError.Set(message);
        return (int)status;
    }
}
