using System.Buffers.Binary;
using System.Net.Sockets;
using System.Security.Cryptography;

namespace TensorProtocol.Quic.Tests;

/// <summary>
/// Datagrams built by hand for tests that send them from a raw socket: client Initials protected with the keys anyone
/// can derive from their destination connection ID (RFC 9001 §5.2), and unknown-version probes whose Version
/// Negotiation answer marks the point by which every earlier answer has arrived.
/// </summary>
internal static class CraftedPackets
{
    private static readonly byte[] InitialSaltV1 = Convert.FromHexString("38762cf7f55934b34d179ae6a4c80cadccbb7f0a");

    private static byte[] ExpandLabel(byte[] secret, string label, int length)
    {
        byte[] full = System.Text.Encoding.ASCII.GetBytes("tls13 " + label);
        var info = new byte[2 + 1 + full.Length + 1];
        BinaryPrimitives.WriteUInt16BigEndian(info, (ushort)length);
        info[2] = (byte)full.Length;
        full.CopyTo(info, 3);
        info[^1] = 0;
        return HKDF.Expand(HashAlgorithmName.SHA256, secret, length, info);
    }

    /// <summary>
    /// A client Initial (QUIC v1, protected with the keys anyone can derive from <paramref name="dcid"/>) carrying one
    /// CRYPTO frame of <paramref name="cryptoData"/> at <paramref name="cryptoOffset"/>, padded to a 1200-byte datagram.
    /// </summary>
    internal static byte[] ClientInitial(byte[] dcid, byte[] scid, ulong cryptoOffset, byte[] cryptoData, uint packetNumber = 0)
    {
        byte[] initialSecret = HKDF.Extract(HashAlgorithmName.SHA256, dcid, InitialSaltV1);
        byte[] clientSecret = ExpandLabel(initialSecret, "client in", 32);
        byte[] key = ExpandLabel(clientSecret, "quic key", 16);
        byte[] iv = ExpandLabel(clientSecret, "quic iv", 12);
        byte[] hp = ExpandLabel(clientSecret, "quic hp", 16);

        const int total = 1200, pnLength = 4, tagLength = 16;
        var header = new List<byte> { 0xc0 | (pnLength - 1), 0, 0, 0, 1, (byte)dcid.Length };
        header.AddRange(dcid);
        header.Add((byte)scid.Length);
        header.AddRange(scid);
        header.Add(0); // token length
        int pnOffset = header.Count + 2;
        int payloadLength = total - pnOffset - pnLength - tagLength;
        int lengthField = pnLength + payloadLength + tagLength;
        header.Add((byte)(0x40 | (lengthField >> 8)));
        header.Add((byte)lengthField);
        var pn = new byte[4];
        BinaryPrimitives.WriteUInt32BigEndian(pn, packetNumber);
        header.AddRange(pn);
        byte[] aad = header.ToArray();

        var payload = new byte[payloadLength]; // zeros after the frame: PADDING
        int p = 0;
        payload[p++] = 0x06; // CRYPTO
        BinaryPrimitives.WriteUInt32BigEndian(payload.AsSpan(p), 0x80000000u | (uint)cryptoOffset); // 4-byte varint
        p += 4;
        BinaryPrimitives.WriteUInt16BigEndian(payload.AsSpan(p), (ushort)(0x4000 | cryptoData.Length)); // 2-byte varint
        p += 2;
        cryptoData.CopyTo(payload, p);

        var nonce = (byte[])iv.Clone();
        for (int i = 0; i < 4; i++)
        {
            nonce[8 + i] ^= pn[i];
        }
        var packet = new byte[total];
        aad.CopyTo(packet, 0);
        using (var gcm = new AesGcm(key, tagLength))
        {
            gcm.Encrypt(nonce, payload, packet.AsSpan(aad.Length, payloadLength), packet.AsSpan(aad.Length + payloadLength, tagLength), aad);
        }
        using var aes = Aes.Create();
        aes.Key = hp;
        byte[] mask = aes.EncryptEcb(packet.AsSpan(pnOffset + 4, 16), PaddingMode.None);
        packet[0] ^= (byte)(mask[0] & 0x0f);
        for (int i = 0; i < pnLength; i++)
        {
            packet[pnOffset + i] ^= mask[1 + i];
        }
        return packet;
    }

    /// <summary>A long-header packet of an unknown version: the endpoint answers it with Version Negotiation.</summary>
    internal static byte[] UnknownVersion(byte marker)
    {
        var packet = new byte[1200];
        packet[0] = 0xc0;
        BinaryPrimitives.WriteUInt32BigEndian(packet.AsSpan(1), 0x1a2a3a4a);
        packet[5] = 8;
        packet.AsSpan(6, 8).Fill(marker);
        packet[14] = 8;
        packet.AsSpan(15, 8).Fill(marker);
        return packet;
    }

    /// <summary>
    /// Receives until the Version Negotiation answering <see cref="UnknownVersion"/>: the loop handles datagrams in
    /// order, so whatever the endpoint sent in answer to the datagrams before the probe has arrived by then.
    /// </summary>
    internal static async Task<List<byte[]>> ReceiveUntilVersionNegotiation(Socket raw)
    {
        var replies = new List<byte[]>();
        var buffer = new byte[65536];
        while (true)
        {
            int n = await raw.ReceiveAsync(buffer, QuicTestBase.Timeout(TimeSpan.FromSeconds(10)));
            byte[] reply = buffer.AsSpan(0, n).ToArray();
            if ((reply[0] & 0x80) != 0 && BinaryPrimitives.ReadUInt32BigEndian(reply.AsSpan(1)) == 0)
            {
                return replies;
            }
            replies.Add(reply);
        }
    }
}
