using System.Collections.Concurrent;
using System.Reflection;
using TensorProtocol.Cli;

namespace TensorProtocol.Cli.Tests;

/// <summary>NewFile's choice of a free name, which a remote peer steers by the names it pushes.</summary>
[Collection("NewFile")] // Probes counts every NewFile.Write in the process
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

    private static ConcurrentDictionary<string, int> Cache() =>
        (ConcurrentDictionary<string, int>)typeof(NewFile).GetField("s_nextSuffix", BindingFlags.NonPublic | BindingFlags.Static)!.GetValue(null)!;

    // A listener whose consumer takes files away: once the remembered number of a name passed the last allowed one,
    // every later push of that name failed, even into an empty directory. The search wraps round to the start instead.
    [Fact]
    public void RememberedNumberPastTheLast_StillFindsAFreeName()
    {
        using var dir = new TestDirectory();
        string outDir = Directory.CreateDirectory(dir.File("out")).FullName;
        // What 100 001 pushes of "w" (each file moved away by a consumer) leave behind.
        Cache()[Path.Combine(outDir, "w.npy")] = 100_001;
        string path = NewFile.Write(outDir, "w", ".npy", overwrite: false, s => s.WriteByte(1));
        Assert.Equal(Path.Combine(outDir, "w.npy"), path);
        Assert.Equal(Path.Combine(outDir, "w.1.npy"), NewFile.Write(outDir, "w", ".npy", overwrite: false, s => s.WriteByte(1)));
        Assert.Equal(Path.Combine(outDir, "w.2.npy"), NewFile.Write(outDir, "w", ".npy", overwrite: false, s => s.WriteByte(1)));
    }

    // Peers choose the names: one remembered entry per distinct name ever received would grow without bound. Only
    // names that clashed are remembered.
    [Fact]
    public void DistinctNames_AreNotEachRemembered()
    {
        using var dir = new TestDirectory();
        string outDir = Directory.CreateDirectory(dir.File("out")).FullName;
        int before = Cache().Count;
        for (int i = 0; i < 500; i++)
        {
            string p = NewFile.Write(outDir, $"n{i}", ".npy", overwrite: false, s => s.WriteByte(1));
            File.Delete(p); // consumed
        }
        Assert.Empty(Directory.GetFiles(outDir));
        Assert.True(Cache().Count - before < 500, $"{Cache().Count - before} entries remembered for 500 distinct names, all files gone");
    }
}
