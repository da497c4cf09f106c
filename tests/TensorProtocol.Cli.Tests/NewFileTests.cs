using TensorProtocol.Cli;

namespace TensorProtocol.Cli.Tests;

/// <summary>NewFile's choice of a free name, which a remote peer steers by the names it pushes.</summary>
public sealed class NewFileTests
{
    // One name pushed over and over: the n-th file used to probe n names, so 2 000 files cost ~2 million lookups and
    // a peer could keep a listener busy at will. Each now starts after the last number this process took.
    [Fact]
    public void SameNameManyTimes_ProbesAboutOneNamePerFile_AndNeverReplacesAFile()
    {
        using var dir = new TestDirectory();
        string outDir = Directory.CreateDirectory(dir.File("out")).FullName;
        File.WriteAllText(Path.Combine(outDir, "w.npy"), "someone else's");
        File.WriteAllText(Path.Combine(outDir, "w.3.npy"), "someone else's too");
        const int files = 2000;
        long before = NewFile.Probes;
        var written = new HashSet<string>();
        for (int i = 0; i < files; i++)
        {
            written.Add(NewFile.Write(outDir, "w", ".npy", overwrite: false, stream => stream.WriteByte((byte)i)));
        }
        long probes = NewFile.Probes - before;
        Assert.Equal(files, written.Count);
        Assert.True(probes <= files + 2, $"{probes} names probed for {files} files");
        Assert.Equal("someone else's", File.ReadAllText(Path.Combine(outDir, "w.npy")));
        Assert.Equal("someone else's too", File.ReadAllText(Path.Combine(outDir, "w.3.npy")));
        Assert.Equal(files + 2, Directory.GetFiles(outDir).Length); // and no temporary file left
    }
}
