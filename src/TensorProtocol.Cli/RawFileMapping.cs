using System.IO.MemoryMappedFiles;

namespace TensorProtocol.Cli;

/// <summary>A read-only mapping of a whole file and the address of its first byte, released by <see cref="Dispose"/>.</summary>
internal sealed unsafe class RawFileMapping : IDisposable
{
    private readonly MemoryMappedFile _file;
    private readonly MemoryMappedViewAccessor _view;
    private int _disposed;

    private RawFileMapping(MemoryMappedFile file, MemoryMappedViewAccessor view, nint address)
    {
        _file = file;
        _view = view;
        Address = address;
    }

    public nint Address { get; }

    public static RawFileMapping Open(string path, long length)
    {
        MemoryMappedFile file = MemoryMappedFile.CreateFromFile(path, FileMode.Open, mapName: null, 0, MemoryMappedFileAccess.Read);
        MemoryMappedViewAccessor? view = null;
        try
        {
            view = file.CreateViewAccessor(0, length, MemoryMappedFileAccess.Read);
            byte* pointer = null;
            view.SafeMemoryMappedViewHandle.AcquirePointer(ref pointer);
            return new RawFileMapping(file, view, (nint)(pointer + view.PointerOffset));
        }
        catch
        {
            view?.Dispose();
            file.Dispose();
            throw;
        }
    }

    public void Dispose()
    {
        if (Interlocked.Exchange(ref _disposed, 1) != 0)
        {
            return;
        }
        _view.SafeMemoryMappedViewHandle.ReleasePointer();
        _view.Dispose();
        _file.Dispose();
    }
}
