using System.Runtime.InteropServices;

namespace TensorProtocol.Native;

/// <summary>Opaque C handles are normal GC handles to the managed object behind them.</summary>
internal static class Handles
{
    public static nint Create(object target) => GCHandle.ToIntPtr(GCHandle.Alloc(target));

    /// <summary>The object behind a handle; <see cref="ArgumentNullException"/> naming the parameter for NULL.</summary>
    public static T Get<T>(nint handle, string parameter)
        where T : class
    {
        if (handle == 0)
        {
            throw new ArgumentNullException(parameter, $"{parameter} is NULL.");
        }
        return GCHandle.FromIntPtr(handle).Target as T
            ?? throw new ArgumentException($"{parameter} is not a live {typeof(T).Name} handle.", parameter);
    }

    public static T? GetOptional<T>(nint handle, string parameter)
        where T : class => handle == 0 ? null : Get<T>(handle, parameter);

    /// <summary>Frees a handle and returns its object (null for NULL).</summary>
    public static T? Free<T>(nint handle)
        where T : class
    {
        if (handle == 0)
        {
            return null;
        }
        GCHandle gcHandle = GCHandle.FromIntPtr(handle);
        var target = gcHandle.Target as T;
        gcHandle.Free();
        return target;
    }
}
