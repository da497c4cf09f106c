namespace TensorProtocol.Formats;

/// <summary>Limits the file readers apply before they allocate anything whose size the file chose.</summary>
internal static class FormatLimits
{
    /// <summary>
    /// The most dimensions a tensor in a safetensors file may have: numpy's limit (NPY_MAXDIMS), twice the wire
    /// protocol's. Without it a 100 MiB header of "1,1,1,…" is a 50-million-dimension shape and costs gigabytes to read.
    /// </summary>
    public const int MaxRank = 64;
}
