using System.Buffers;
using System.IO.MemoryMappedFiles;
using Microsoft.Win32.SafeHandles;
using TensorProtocol.Internal;

namespace TensorProtocol.Formats;

/// <summary>
/// A whole file mapped read-only into memory, with its base pointer acquired once. Payloads handed out by the
/// readers are <see cref="NativeMemorySegment"/> views of it, valid until <see cref="Dispose"/>.
/// </summary>
internal sealed unsafe class MappedFile : IDisposable
{
    private readonly MemoryMappedFile _file;
    private readonly MemoryMappedViewAccessor _view;
    private readonly SafeMemoryMappedViewHandle _handle;
    private byte* _pointer;
    private int _disposed;

    private MappedFile(MemoryMappedFile file, MemoryMappedViewAccessor view, long length)
    {
        _file = file;
        _view = view;
        _handle = view.SafeMemoryMappedViewHandle;
        Length = length;
        byte* basePointer = null;
        _handle.AcquirePointer(ref basePointer);
        _pointer = basePointer + view.PointerOffset;
    }

    /// <summary>The length of the file in bytes.</summary>
    public long Length { get; }

    public bool IsDisposed => Volatile.Read(ref _disposed) != 0;

    /// <summary>Maps the whole file read-only.</summary>
    /// <exception cref="TensorFileFormatException">The file is empty (an empty file cannot be mapped).</exception>
    public static MappedFile Open(string path)
    {
        var stream = new FileStream(path, FileMode.Open, FileAccess.Read, FileShare.Read, bufferSize: 1, FileOptions.None);
        MemoryMappedFile? file = null;
        try
        {
            long length = stream.Length;
            if (length == 0)
            {
                throw new TensorFileFormatException(path, null, "The file is empty.");
            }
            // A file that shrinks while mapped faults on access (SIGBUS), which .NET turns into a fatal
            // AccessViolationException: the process dies. FileShare.Read does NOT prevent it on Unix: it is an
            // advisory flock that other processes' open(O_TRUNC), truncate(2), cp or torch.save ignore, and even a
            // FileStream in this process opened with FileShare.ReadWrite may truncate. A caller that keeps a mapping
            // for long and cannot trust the file to stay put copies the tensors out (tensorp serve --copy).
            file = MemoryMappedFile.CreateFromFile(stream, mapName: null, capacity: 0, MemoryMappedFileAccess.Read,
                HandleInheritability.None, leaveOpen: false);
            MemoryMappedViewAccessor view = file.CreateViewAccessor(0, 0, MemoryMappedFileAccess.Read);
            try
            {
                return new MappedFile(file, view, length);
            }
            catch
            {
                view.Dispose();
                throw;
            }
        }
        catch
        {
            if (file is null)
            {
                stream.Dispose();
            }
            else
            {
                file.Dispose();
            }
            throw;
        }
    }

    /// <summary>The bytes from <paramref name="offset"/>; the caller has checked the range.</summary>
    public ReadOnlySpan<byte> Span(long offset, int length)
    {
        ObjectDisposedException.ThrowIf(IsDisposed, this);
        return new ReadOnlySpan<byte>(_pointer + offset, length);
    }

    /// <summary>
    /// A zero-copy tensor over a range: one segment up to 2 GiB, 1 GiB segments beyond, and (for a view as one tensor
    /// span) where the range lies. The caller has checked the range.
    /// </summary>
    public TensorData Tensor(TensorMetadata metadata, long offset)
    {
        ObjectDisposedException.ThrowIf(IsDisposed, this);
        long length = metadata.ByteLength;
        // Pins taken through the segments hold references on the view handle, so the pages stay mapped until the last
        // of them is released, even if the reader is disposed meanwhile.
        ReadOnlySequence<byte> payload = PayloadSegments.OverNative(_handle, _pointer + offset, length);
        return new TensorData(metadata, payload, new NativeRegion(_handle, (nint)(_pointer + offset)), ownsRegion: false);
    }

    public void Dispose()
    {
        if (Interlocked.Exchange(ref _disposed, 1) != 0)
        {
            return;
        }
        _pointer = null;
        // Pins taken through the segments hold references on the view handle, so the pages stay mapped until the
        // last of them is released; unpinned spans must not be used after this point.
        _handle.ReleasePointer();
        _view.Dispose();
        _file.Dispose();
    }
}
