using System.Security.Cryptography;
using System.Text;
using TensorProtocol.Quic.Interop;
using TensorProtocol.Quic.Native;

namespace TensorProtocol.Quic;

/// <summary>
/// An endpoint's Ed25519 key pair. The public key is the endpoint's identity: peers name it when they dial, and the
/// TLS handshake proves possession of the private key. Stored as an unencrypted PKCS#8 PEM file readable only by
/// its owner (0600).
/// </summary>
public sealed unsafe class QuicIdentity : IDisposable
{
    private readonly SafeGnutlsPrivateKeyHandle _key;

    private QuicIdentity(SafeGnutlsPrivateKeyHandle key)
    {
        _key = key;
        PublicKey = ReadPublicKey(key);
    }

    /// <summary>The public half, which identifies this endpoint to its peers.</summary>
    public QuicPublicKey PublicKey { get; }

    internal SafeGnutlsPrivateKeyHandle KeyHandle => _key;

    /// <summary>Creates a fresh random key pair (kept in memory only).</summary>
    public static QuicIdentity Generate()
    {
        QuicNative.ThrowIfNotSupported();
        SafeGnutlsPrivateKeyHandle key = SafeGnutlsPrivateKeyHandle.Create();
        try
        {
            GnutlsCheck.ThrowIfError(gnutls.gnutls_x509_privkey_generate((void*)key.DangerousGetHandle(), gnutls.GNUTLS_PK_EDDSA_ED25519, 256, 0), "gnutls_x509_privkey_generate");
            return new QuicIdentity(key);
        }
        catch
        {
            key.Dispose();
            throw;
        }
    }

    /// <summary>Reads a key pair from a PEM file written by <see cref="Save"/> (PKCS#8, Ed25519).</summary>
    /// <exception cref="InvalidDataException">The file is not an unencrypted Ed25519 private key.</exception>
    /// <exception cref="UnauthorizedAccessException">Other users may read or write the file (as ssh, this refuses a key that may have leaked or been replaced).</exception>
    public static QuicIdentity Load(string path)
    {
        if (!OperatingSystem.IsWindows())
        {
            UnixFileMode mode = File.GetUnixFileMode(path);
            const UnixFileMode others = UnixFileMode.GroupRead | UnixFileMode.GroupWrite | UnixFileMode.OtherRead | UnixFileMode.OtherWrite;
            if ((mode & others) != 0)
            {
                throw new UnauthorizedAccessException(
                    $"The identity file {path} is open to other users (mode {Convert.ToString((int)mode & 0x1ff, 8).PadLeft(4, '0')}): its key may have leaked or been replaced. Make it 0600 (chmod 600), or use a new identity.");
            }
        }
        return FromPem(File.ReadAllText(path));
    }

    /// <summary>Loads the key pair at <paramref name="path"/>, or creates it there (mode 0600) when the file does not exist.</summary>
    public static QuicIdentity LoadOrCreate(string path)
    {
        if (File.Exists(path))
        {
            return Load(path);
        }
        QuicIdentity identity = Generate();
        try
        {
            identity.Save(path);
            return identity;
        }
        catch (IOException) when (File.Exists(path))
        {
            // Another process created it first: use theirs, so both agree on one identity.
            identity.Dispose();
            return Load(path);
        }
    }

    /// <summary>Parses a PEM-encoded PKCS#8 Ed25519 private key.</summary>
    public static QuicIdentity FromPem(string pem)
    {
        QuicNative.ThrowIfNotSupported();
        ArgumentNullException.ThrowIfNull(pem);
        if (pem.Length > 16 * 1024)
        {
            throw new InvalidDataException("The identity file is too large to be an Ed25519 key.");
        }
        byte[] bytes = Encoding.ASCII.GetBytes(pem);
        SafeGnutlsPrivateKeyHandle key = SafeGnutlsPrivateKeyHandle.Create();
        try
        {
            fixed (byte* p = bytes)
            {
                var datum = new gnutls.gnutls_datum_t { data = p, size = (uint)bytes.Length };
                int rv = gnutls.gnutls_x509_privkey_import2((void*)key.DangerousGetHandle(), &datum, gnutls.GNUTLS_X509_FMT_PEM, null, 0);
                if (rv < 0)
                {
                    throw new InvalidDataException($"The identity is not a readable PEM private key: {QuicNative.GnutlsError(rv)}.");
                }
            }
            if (gnutls.gnutls_x509_privkey_get_pk_algorithm((void*)key.DangerousGetHandle()) != gnutls.GNUTLS_PK_EDDSA_ED25519)
            {
                throw new InvalidDataException("The identity key is not an Ed25519 key.");
            }
            return new QuicIdentity(key);
        }
        catch
        {
            key.Dispose();
            throw;
        }
        finally
        {
            CryptographicOperations.ZeroMemory(bytes);
        }
    }

    /// <summary>The private key as PEM (PKCS#8, unencrypted). Treat it as a secret.</summary>
    public string ExportPem()
    {
        gnutls.gnutls_datum_t output = default;
        GnutlsCheck.ThrowIfError(gnutls.gnutls_x509_privkey_export2_pkcs8((void*)_key.DangerousGetHandle(), gnutls.GNUTLS_X509_FMT_PEM, null, gnutls.GNUTLS_PKCS_PLAIN, &output), "gnutls_x509_privkey_export2_pkcs8");
        try
        {
            return Encoding.ASCII.GetString(output.data, (int)output.size);
        }
        finally
        {
            new Span<byte>(output.data, (int)output.size).Clear();
            gnutls.gnutls_free(output.data);
        }
    }

    /// <summary>
    /// Writes the private key to <paramref name="path"/> with mode 0600. The file is created new; an existing file
    /// is not overwritten (an identity is not something to lose by accident). It appears whole or not at all: the key
    /// is written to a temporary file beside it, flushed, then moved into place, so a crash cannot leave a truncated
    /// key behind and a concurrent <see cref="LoadOrCreate"/> never reads half of one.
    /// </summary>
    public void Save(string path)
    {
        string pem = ExportPem();
        string full = Path.GetFullPath(path);
        string temp = Path.Combine(Path.GetDirectoryName(full)!, $".{Path.GetFileName(full)}.{Guid.NewGuid():N}.tmp");
        var options = new FileStreamOptions
        {
            Mode = FileMode.CreateNew,
            Access = FileAccess.Write,
            Share = FileShare.None,
        };
        if (!OperatingSystem.IsWindows())
        {
            options.UnixCreateMode = UnixFileMode.UserRead | UnixFileMode.UserWrite;
        }
        try
        {
            using (var stream = new FileStream(temp, options))
            {
                stream.Write(Encoding.ASCII.GetBytes(pem));
                stream.Flush(flushToDisk: true);
            }
            File.Move(temp, full, overwrite: false); // fails if the file exists meanwhile: theirs stays
        }
        finally
        {
            File.Delete(temp); // gone already when the move succeeded
        }
    }

    /// <summary>
    /// Builds the TLS credentials: a self-signed X.509 certificate for this key (its only job is to carry the
    /// public key; peers check the key, not a chain) plus the key, with <paramref name="verifyFunction"/> checking
    /// the peer's certificate during the handshake.
    /// </summary>
    internal SafeGnutlsCredentialsHandle CreateCredentials(nint verifyFunction)
    {
        using SafeGnutlsCertificateHandle crt = SafeGnutlsCertificateHandle.Create();
        void* c = (void*)crt.DangerousGetHandle();
        void* k = (void*)_key.DangerousGetHandle();
        GnutlsCheck.ThrowIfError(gnutls.gnutls_x509_crt_set_version(c, 3), "gnutls_x509_crt_set_version");
        Span<byte> serial = stackalloc byte[16];
        RandomNumberGenerator.Fill(serial);
        serial[0] &= 0x7f; // a positive INTEGER
        fixed (byte* s = serial)
        {
            GnutlsCheck.ThrowIfError(gnutls.gnutls_x509_crt_set_serial(c, s, (nuint)serial.Length), "gnutls_x509_crt_set_serial");
        }
        long now = DateTimeOffset.UtcNow.ToUnixTimeSeconds();
        GnutlsCheck.ThrowIfError(gnutls.gnutls_x509_crt_set_activation_time(c, now - 86_400), "gnutls_x509_crt_set_activation_time");
        GnutlsCheck.ThrowIfError(gnutls.gnutls_x509_crt_set_expiration_time(c, now + 20L * 365 * 86_400), "gnutls_x509_crt_set_expiration_time");
        byte[] cn = Encoding.ASCII.GetBytes("tensorprotocol " + PublicKey.ToString());
        fixed (byte* n = cn)
        {
            GnutlsCheck.ThrowIfError(gnutls.gnutls_x509_crt_set_dn_by_oid(c, "2.5.4.3", 0, n, (uint)cn.Length), "gnutls_x509_crt_set_dn_by_oid");
        }
        GnutlsCheck.ThrowIfError(gnutls.gnutls_x509_crt_set_key(c, k), "gnutls_x509_crt_set_key");
        GnutlsCheck.ThrowIfError(gnutls.gnutls_x509_crt_sign2(c, c, k, gnutls.GNUTLS_DIG_SHA512, 0), "gnutls_x509_crt_sign2");

        SafeGnutlsCredentialsHandle cred = SafeGnutlsCredentialsHandle.Create();
        try
        {
            void* certList = c;
            GnutlsCheck.ThrowIfError(gnutls.gnutls_certificate_set_x509_key((void*)cred.DangerousGetHandle(), &certList, 1, k), "gnutls_certificate_set_x509_key");
            gnutls.gnutls_certificate_set_verify_function((void*)cred.DangerousGetHandle(), verifyFunction);
            return cred;
        }
        catch
        {
            cred.Dispose();
            throw;
        }
    }

    /// <inheritdoc/>
    public void Dispose() => _key.Dispose();

    private static QuicPublicKey ReadPublicKey(SafeGnutlsPrivateKeyHandle key)
    {
        int curve;
        gnutls.gnutls_datum_t x = default, y = default, k = default;
        GnutlsCheck.ThrowIfError(gnutls.gnutls_x509_privkey_export_ecc_raw((void*)key.DangerousGetHandle(), &curve, &x, &y, &k), "gnutls_x509_privkey_export_ecc_raw");
        try
        {
            if (x.size != QuicPublicKey.Length)
            {
                throw new InvalidDataException("The identity key is not an Ed25519 key.");
            }
            return new QuicPublicKey(new ReadOnlySpan<byte>(x.data, (int)x.size));
        }
        finally
        {
            if (k.data != null)
            {
                new Span<byte>(k.data, (int)k.size).Clear();
            }
            gnutls.gnutls_free(x.data);
            gnutls.gnutls_free(y.data);
            gnutls.gnutls_free(k.data);
        }
    }
}
