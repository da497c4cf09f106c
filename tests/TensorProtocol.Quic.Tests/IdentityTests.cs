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
            Assert.Equal(["node.key"], Directory.GetFiles(dir).Select(Path.GetFileName)); // no temporary file left
        }
        finally
        {
            Directory.Delete(dir, recursive: true);
        }
    }

    [Fact]
    public void Load_RefusesAKeyFileOthersCanReadOrWrite()
    {
        string dir = Directory.CreateTempSubdirectory("tp-identity-").FullName;
        try
        {
            string path = Path.Combine(dir, "node.key");
            using (QuicIdentity.LoadOrCreate(path))
            {
            }
            foreach (UnixFileMode extra in new[] { UnixFileMode.GroupRead, UnixFileMode.OtherRead, UnixFileMode.OtherWrite })
            {
                File.SetUnixFileMode(path, UnixFileMode.UserRead | UnixFileMode.UserWrite | extra);
                var e = Assert.Throws<UnauthorizedAccessException>(() => QuicIdentity.LoadOrCreate(path));
                Assert.Contains("chmod 600", e.Message, StringComparison.Ordinal);
            }
            File.SetUnixFileMode(path, UnixFileMode.UserRead);
            using QuicIdentity readOnly = QuicIdentity.Load(path); // the owner's read-only copy is fine
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

    [Theory]
    [InlineData("0000000000000000000000000000000000000000000000000000000000000000")]
    [InlineData("0100000000000000000000000000000000000000000000000000000000000000")]
    [InlineData("0100000000000000000000000000000000000000000000000000000000000080")] // sign bit set
    [InlineData("26e8958fc2b227b045c3f489f2ef98f0d5dfac05d3c63339b13802886d53fc05")]
    [InlineData("26e8958fc2b227b045c3f489f2ef98f0d5dfac05d3c63339b13802886d53fc85")]
    [InlineData("c7176a703d4dd84fba3c0b760d10670f2a2053fa2c39ccc64ec7fd7792ac037a")]
    [InlineData("c7176a703d4dd84fba3c0b760d10670f2a2053fa2c39ccc64ec7fd7792ac03fa")]
    [InlineData("ecffffffffffffffffffffffffffffffffffffffffffffffffffffffffffff7f")]
    [InlineData("edffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffff")]
    [InlineData("eeffffffffffffffffffffffffffffffffffffffffffffffffffffffffffff7f")]
    public async Task PublicKey_OfSmallOrder_IsWeak_AndCannotBeDialed(string hex)
    {
        QuicPublicKey key = QuicPublicKey.Parse(hex);
        Assert.True(key.IsWeak);
        await using QuicEndpoint endpoint = QuicTestBase.CreateEndpoint();
        await Assert.ThrowsAsync<ArgumentException>(async () => await endpoint.ConnectAsync(new System.Net.IPEndPoint(System.Net.IPAddress.Loopback, 9), key));
    }

    [Fact]
    public void PublicKey_Default_IsWeak_AndGeneratedOnesAreNot()
    {
        Assert.True(default(QuicPublicKey).IsWeak);
        for (int i = 0; i < 100; i++)
        {
            using QuicIdentity identity = QuicIdentity.Generate();
            Assert.False(identity.PublicKey.IsWeak);
        }
    }
}
