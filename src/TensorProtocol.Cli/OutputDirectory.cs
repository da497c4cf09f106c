namespace TensorProtocol.Cli;

/// <summary>Checks, before any transfer, that files can be created in an output directory.</summary>
internal static class OutputDirectory
{
    /// <summary>Creates and removes a hidden probe file in <paramref name="directory"/>; a CliException (exit 4) if that fails.</summary>
    public static void EnsureWritable(string directory)
    {
        string probe = Path.Combine(directory, $".tensorp-probe.{Guid.NewGuid():N}.tmp");
        try
        {
            using var stream = new FileStream(probe, FileMode.CreateNew, FileAccess.Write, FileShare.None, 1, FileOptions.DeleteOnClose);
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            throw CliException.File($"cannot create files in the output directory '{directory}': {e.Message}", e);
        }
    }
}
