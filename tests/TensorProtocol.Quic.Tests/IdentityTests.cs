using System.Runtime.Versioning;

namespace TensorProtocol.Quic.Tests;

[SupportedOSPlatform("linux")]
public sealed class QuicIdentityTests
{
    [Fact]
    public void SaveAndLoad_RoundTripsTheKey_WithOwnerOnlyPermissions()
    {
        string dir = Directory.CreateTempSubdirectory("tp-identity-").FullName;
        try
        {
            string path = Path.Combine(dir, "node.key");
            using QuicIdentity created = QuicIdentity.LoadOrCreate(path);
            Assert.Equal(UnixFileMode.UserRead | UnixFileMode.UserWrite, File.GetUnixFileMode(path));
            using QuicIdentity loaded = QuicIdentity.LoadOrCreate(path);
            Assert.Equal(created.PublicKey, loaded.PublicKey);
            Assert.Throws<IOException>(() => created.Save(path)); // never overwrites an identity
        }
        finally
        {
            Directory.Delete(dir, recursive: true);
        }
    }

    [Fact]
    public void Generate_GivesDistinctKeys()
    {
        using QuicIdentity a = QuicIdentity.Generate();
        using QuicIdentity b = QuicIdentity.Generate();
        Assert.NotEqual(a.PublicKey, b.PublicKey);
        Assert.Equal(QuicPublicKey.Length, a.PublicKey.AsSpan().Length);
    }

    [Theory]
    [InlineData("")]
    [InlineData("not a key")]
    [InlineData("-----BEGIN PRIVATE KEY-----\nAAAA\n-----END PRIVATE KEY-----\n")]
    public void FromPem_Garbage_ThrowsInvalidData(string pem) =>
        Assert.Throws<InvalidDataException>(() => QuicIdentity.FromPem(pem));

    [Fact]
    public void PublicKey_ParsesItsOwnText()
    {
        using QuicIdentity a = QuicIdentity.Generate();
        Assert.Equal(a.PublicKey, QuicPublicKey.Parse(a.PublicKey.ToString()));
        Assert.False(QuicPublicKey.TryParse("zz", out _));
        Assert.False(QuicPublicKey.TryParse(new string('g', 64), out _));
    }
}
