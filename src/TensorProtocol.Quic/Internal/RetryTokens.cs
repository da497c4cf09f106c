using System.Security.Cryptography;
using TensorProtocol.Quic.Interop;

namespace TensorProtocol.Quic.Internal;

/// <summary>
/// Retry tokens (RFC 9000 §8.1.2), sealed by ngtcp2 with a secret of this endpoint's: a token names the client's address
/// and the connection IDs of its first Initial and of our Retry, and is accepted for <see cref="Lifetime"/>.
/// </summary>
internal sealed unsafe class RetryTokens
{
    /// <summary>How long a token is accepted: many round trips of the slowest path, not long enough to hoard.</summary>
    internal const ulong Lifetime = 10UL * 1_000_000_000;

    internal const int MaxLength = ngtcp2_crypto.NGTCP2_CRYPTO_MAX_RETRY_TOKENLEN2;

    // Only this endpoint ever checks its tokens, and they live seconds: a random secret per endpoint suffices.
    private readonly byte[] _secret = RandomNumberGenerator.GetBytes(32);

    /// <summary>Whether <paramref name="token"/> claims to be one of ours (we issue no other kind).</summary>
    internal static bool IsRetryToken(ReadOnlySpan<byte> token) => token.Length > 0 && token[0] == ngtcp2_crypto.NGTCP2_CRYPTO_TOKEN_MAGIC_RETRY2;

    /// <summary>Writes a token into <paramref name="destination"/> (at least <see cref="MaxLength"/> bytes); its length, or -1.</summary>
    internal int Generate(Span<byte> destination, uint version, byte* address, int addressLength, ngtcp2.ngtcp2_cid* retryScid, ngtcp2.ngtcp2_cid* originalDcid, ulong now)
    {
        if (destination.Length < MaxLength)
        {
            throw new ArgumentException("The destination is too small for a Retry token.", nameof(destination));
        }
        fixed (byte* token = destination)
        fixed (byte* secret = _secret)
        {
            return (int)ngtcp2_crypto.ngtcp2_crypto_generate_retry_token2(token, secret, (nuint)_secret.Length, version, address, (uint)addressLength, retryScid, originalDcid, now);
        }
    }

    /// <summary>
    /// Whether <paramref name="token"/> is ours, for this address and for <paramref name="dcid"/> (the Retry's SCID,
    /// which the client now sends to), and not expired; if so, the DCID of the client's first Initial.
    /// </summary>
    internal bool Verify(ReadOnlySpan<byte> token, uint version, byte* address, int addressLength, ngtcp2.ngtcp2_cid* dcid, ulong now, out ngtcp2.ngtcp2_cid originalDcid)
    {
        originalDcid = default;
        fixed (byte* t = token)
        fixed (byte* secret = _secret)
        fixed (ngtcp2.ngtcp2_cid* odcid = &originalDcid)
        {
            return ngtcp2_crypto.ngtcp2_crypto_verify_retry_token2(odcid, t, (nuint)token.Length, secret, (nuint)_secret.Length, version, address, (uint)addressLength, dcid, Lifetime, now) == 0;
        }
    }
}
