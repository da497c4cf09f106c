using System.Runtime.InteropServices;
using System.Text;

namespace TensorProtocol.Native;

/// <summary>
/// The calling thread's last error message (<c>tp_last_error</c>), kept as NUL-terminated UTF-8 in native memory so
/// the pointer handed to C stays valid until the thread's next call into the library.
/// </summary>
internal static unsafe class LastError
{
    private const int MaxBytes = 4096; // a message longer than this is cut, never a reason to fail

    [ThreadStatic]
    private static byte* t_buffer;

    [ThreadStatic]
    private static int t_capacity;

    /// <summary>The message as C sees it.</summary>
    public static byte* Pointer
    {
        get
        {
            if (t_buffer is null)
            {
                Set("no error");
            }
            return t_buffer;
        }
    }

    public static void Set(string message)
    {
        int length = Math.Min(Encoding.UTF8.GetMaxByteCount(message.Length), MaxBytes);
        if (t_capacity < length + 1)
        {
            NativeMemory.Free(t_buffer);
            t_buffer = (byte*)NativeMemory.Alloc((nuint)(length + 1));
            t_capacity = length + 1;
        }
        // FromUtf16 stops before a character that does not fit, so a cut message is still valid UTF-8.
        System.Text.Unicode.Utf8.FromUtf16(message, new Span<byte>(t_buffer, t_capacity - 1), out _, out int written);
        t_buffer[written] = 0;
    }
}
