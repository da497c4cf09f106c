namespace TensorProtocol.Cli;

/// <summary>
/// Tensor names as safetensors files can hold them. "__metadata__" is a valid name on the wire but reserved in the
/// format: such a tensor is stored under a free name, its own name and the stored one kept in the file's metadata.
/// </summary>
internal static class SafetensorsNames
{
    private const string Reserved = "__metadata__";

    /// <summary>
    /// Renames a tensor called "__metadata__" in <paramref name="tensors"/> (in place); the file metadata that records
    /// it, or null when nothing was renamed.
    /// </summary>
    public static Dictionary<string, string>? StoreReserved(List<KeyValuePair<string, TensorData>> tensors)
    {
        int index = tensors.FindIndex(t => t.Key == Reserved);
        if (index < 0)
        {
            return null;
        }
        string stored = "tensor";
        for (int n = 1; tensors.Exists(t => t.Key == stored); n++)
        {
            stored = $"tensor.{n}";
        }
        tensors[index] = new(stored, tensors[index].Value);
        return new Dictionary<string, string> { ["tensorp.name"] = Reserved, ["tensorp.stored_as"] = stored };
    }
}
