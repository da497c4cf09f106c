namespace TensorProtocol.Cli;

/// <summary>Where the node's identity key lives by default.</summary>
internal static class Identity
{
    /// <summary>The default key file: <c>$XDG_CONFIG_HOME/tensorp/node.key</c>, else <c>~/.config/tensorp/node.key</c>.</summary>
    public static string DefaultKeyPath
    {
        get
        {
            string? config = Environment.GetEnvironmentVariable("XDG_CONFIG_HOME");
            if (string.IsNullOrEmpty(config))
            {
                config = Path.Combine(Environment.GetFolderPath(Environment.SpecialFolder.UserProfile), ".config");
            }
            return Path.Combine(config, "tensorp", "node.key");
        }
    }

    /// <summary>The key path to use, with its directory created (mode 0700) if missing.</summary>
    public static string Resolve(FileInfo? key)
    {
        string path = key?.FullName ?? DefaultKeyPath;
        string? directory = Path.GetDirectoryName(path);
        if (!string.IsNullOrEmpty(directory) && !Directory.Exists(directory))
        {
            if (OperatingSystem.IsWindows())
            {
                Directory.CreateDirectory(directory);
            }
            else
            {
                Directory.CreateDirectory(directory, UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.UserExecute);
            }
        }
        return path;
    }
}
