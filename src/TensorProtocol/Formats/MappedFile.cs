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
    private readonly FileStream _stream;
    private readonly MemoryMappedFile _file;
    private readonly MemoryMappedViewAccessor _view;
    private readonly SafeMemoryMappedViewHandle _handle;
    private readonly DateTime _lastWriteUtc;
    private byte* _pointer;
    private int _disposed;

    private MappedFile(string path, FileStream stream, MemoryMappedFile file, MemoryMappedViewAccessor view, long length, DateTime lastWriteUtc)
    {
        Path = path;
        _stream = stream;
        _file = file;
        _view = view;
        _handle = view.SafeMemoryMappedViewHandle;
        _lastWriteUtc = lastWriteUtc;
        Length = length;
        byte* basePointer = null;
        _handle.AcquirePointer(ref basePointer);
        _pointer = basePointer + view.PointerOffset;
    }

    /// <summary>The path the file was opened with.</summary>
    public string Path { get; }

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
            DateTime lastWriteUtc = File.GetLastWriteTimeUtc(stream.SafeFileHandle);
            // A file that shrinks while mapped faults on access (SIGBUS), which .NET turns into a fatal
            // AccessViolationException: the process dies. FileShare.Read does NOT prevent it on Unix: it is an
            // advisory flock that other processes' open(O_TRUNC), truncate(2), cp or torch.save ignore, and even a
            // FileStream in this process opened with FileShare.ReadWrite may truncate. A caller that keeps a mapping
            // for long and cannot trust the file to stay put loads the tensors instead (LoadTensor; tensorp serve does).
            // The stream stays open beside the mapping: LoadTensor reads the file through it, never through the pages.
            file = MemoryMappedFile.CreateFromFile(stream, mapName: null, capacity: 0, MemoryMappedFileAccess.Read,
                HandleInheritability.None, leaveOpen: true);
            MemoryMappedViewAccessor view = file.CreateViewAccessor(0, 0, MemoryMappedFileAccess.Read);
            try
            {
                return new MappedFile(path, stream, file, view, length, lastWriteUtc);
            }
            catch
            {
                view.Dispose();
                throw;
            }
        }
        catch
        {
            file?.Dispose();
            stream.Dispose();
            throw;
        }
    }

    /// <summary>
    /// The bytes from <paramref name="offset"/>, read from the file rather than through the mapping (headers: a file cut
    /// short while it is opened is then an <see cref="IOException"/>, not a SIGBUS). The caller has checked the range.
    /// </summary>
    public byte[] ReadBytes(long offset, int length)
    {
        ObjectDisposedException.ThrowIf(IsDisposed, this);
        byte[] bytes = GC.AllocateUninitializedArray<byte>(length);
        ReadExactly(bytes, offset);
        return bytes;
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

    /// <summary>
    /// The bytes of a range read into memory the returned tensor owns, with positioned reads of the file rather than
    /// through the mapping: a file cut short meanwhile is an <see cref="IOException"/> here, not a SIGBUS at some later
    /// read of the pages. The caller has checked the range, and calls <see cref="EnsureUnchanged"/> after its last read.
    /// </summary>
    public TensorData LoadTensor(TensorMetadata metadata, long offset, CancellationToken cancellationToken)
    {
        ObjectDisposedException.ThrowIf(IsDisposed, this);
        long length = metadata.ByteLength;
        if (length == 0)
        {
            return new TensorData(metadata, ReadOnlyMemory<byte>.Empty);
        }
        if (length <= ArrayLoadLimit)
        {
            byte[] array = GC.AllocateUninitializedArray<byte>((int)length);
            ReadExactly(array, offset);
            return new TensorData(metadata, array);
        }
        NativeBuffer buffer = NativeBuffer.Allocate(length);
        try
        {
            for (long done = 0; done < length;)
            {
                cancellationToken.ThrowIfCancellationRequested(); // a load of many gigabytes must not outlast a Ctrl-C
                int chunk = (int)Math.Min(length - done, LoadChunk);
                ReadExactly(new Span<byte>(buffer.Pointer + done, chunk), offset + done);
                done += chunk;
            }
            ReadOnlySequence<byte> payload = PayloadSegments.OverNative(buffer, buffer.Pointer, length);
            return new TensorData(metadata, payload, new NativeRegion(buffer, (nint)buffer.Pointer), ownsRegion: true);
        }
        catch
        {
            buffer.Dispose();
            throw;
        }
    }

    // Smaller payloads go to the managed heap; larger ones to their own mapping, returned to the kernel on dispose.
    private const int ArrayLoadLimit = 1 << 20;
    private const int LoadChunk = 64 << 20;

    private void ReadExactly(Span<byte> destination, long offset)
    {
        while (!destination.IsEmpty)
        {
            int n = RandomAccess.Read(_stream.SafeFileHandle, destination, offset);
            if (n == 0)
            {
                throw Changed();
            }
            destination = destination[n..];
            offset += n;
        }
    }

    /// <summary>
    /// Throws <see cref="IOException"/> if the file's length or modification time differs from when it was opened. A file
    /// replaced by rename is not a change (the open handle still reads the old one); a rewrite in place that keeps the
    /// length and puts the old modification time back (cp -p, rsync -t --inplace, touch -r) goes unnoticed.
    /// </summary>
    public void EnsureUnchanged()
    {
        ObjectDisposedException.ThrowIf(IsDisposed, this);
        if (RandomAccess.GetLength(_stream.SafeFileHandle) != Length || File.GetLastWriteTimeUtc(_stream.SafeFileHandle) != _lastWriteUtc)
        {
            throw Changed();
        }
    }

    private IOException Changed() =>
        new($"'{Path}' changed since it was opened (it was rewritten or cut short); open it again once it is written completely.");

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
        _stream.Dispose();
    }
}
