using System.Runtime.InteropServices;
using System.Text;
using TensorProtocol.Native.Abi;

namespace TensorProtocol.Native;

/// <summary>UTF-8 strings across the boundary.</summary>
internal static unsafe class NativeText
{
    /// <summary>Reads a NUL-terminated UTF-8 argument; throws <see cref="ArgumentNullException"/> naming it when NULL.</summary>
    public static string Read(byte* text, string parameter) =>
        text is null ? throw new ArgumentNullException(parameter) : Marshal.PtrToStringUTF8((nint)text)!;

    public static string? ReadOptional(byte* text) => text is null ? null : Marshal.PtrToStringUTF8((nint)text);

    /// <summary>A NUL-terminated copy in native memory, freed with <see cref="NativeMemory.Free"/>.</summary>
    public static byte* Allocate(string text)
    {
        int length = Encoding.UTF8.GetByteCount(text);
        byte* copy = (byte*)NativeMemory.Alloc((nuint)length + 1);
        Encoding.UTF8.GetBytes(text, new Span<byte>(copy, length));
        copy[length] = 0;
        return copy;
    }

    /// <summary>snprintf-like: copies <paramref name="text"/> with its NUL when it fits; always reports the length.</summary>
    public static int CopyOut(string text, byte* buffer, nuint capacity, nuint* length)
    {
        int needed = Encoding.UTF8.GetByteCount(text);
        if (length is not null)
        {
            *length = (nuint)needed;
        }
        if (buffer is null || capacity < (nuint)needed + 1)
        {
            return Errors.Fail(tp_status.TP_ERR_BUFFER_TOO_SMALL, $"The buffer holds {capacity} bytes; {needed + 1} are needed.");
        }
        Encoding.UTF8.GetBytes(text, new Span<byte>(buffer, needed));
        buffer[needed] = 0;
        return (int)tp_status.TP_OK;
    }
}
