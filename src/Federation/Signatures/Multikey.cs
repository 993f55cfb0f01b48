using SimpleBase;

namespace Fellows.Federation.Signatures;

/// <summary>
/// FEP-521a <c>publicKeyMultibase</c> values: multibase base58btc (<c>z</c> prefix) of a multicodec
/// varint prefix followed by the key bytes.
/// </summary>
public static class Multikey
{
    // Multicodec "ed25519-pub" (0xed) and "rsa-pub" (0x1205), both as unsigned varints.
    private static ReadOnlySpan<byte> Ed25519Prefix => [0xed, 0x01];
    private static ReadOnlySpan<byte> RsaPrefix => [0x85, 0x24];

    // A 4096-bit PKCS#1 key is about 526 bytes; anything far bigger is not a key we want to parse.
    private const int MaxEncodedLength = 2048;

    /// <summary>Encodes a raw 32-byte Ed25519 public key, giving a value starting <c>z6Mk</c>.</summary>
    /// <exception cref="ArgumentException">The key is not 32 bytes.</exception>
    public static string EncodeEd25519(ReadOnlySpan<byte> publicKey)
    {
        if (publicKey.Length != 32)
            throw new ArgumentException("An Ed25519 public key is 32 bytes.", nameof(publicKey));
        return Encode(Ed25519Prefix, publicKey);
    }

    /// <summary>Encodes a DER PKCS#1 RSAPublicKey.</summary>
    public static string EncodeRsa(ReadOnlySpan<byte> pkcs1PublicKey) => Encode(RsaPrefix, pkcs1PublicKey);

    /// <summary>
    /// Decodes a Multikey value into its key type and raw key bytes (32 bytes for Ed25519,
    /// DER PKCS#1 for RSA). Returns false for anything else, never throws.
    /// </summary>
    public static bool TryDecode(string? value, out ActorKeyType keyType, out byte[] keyBytes)
    {
        keyType = default;
        keyBytes = [];
        if (value is null || value.Length < 2 || value.Length > MaxEncodedLength || value[0] != 'z')
            return false;

        var chars = value.AsSpan(1);
        var buffer = new byte[Base58.Bitcoin.GetSafeByteCountForDecoding(chars)];
        if (!Base58.Bitcoin.TryDecode(chars, buffer, out var written))
            return false;
        var decoded = buffer.AsSpan(0, written);

        if (decoded.StartsWith(Ed25519Prefix) && decoded.Length == Ed25519Prefix.Length + 32)
        {
            keyType = ActorKeyType.Ed25519;
            keyBytes = decoded[Ed25519Prefix.Length..].ToArray();
            return true;
        }

        if (decoded.StartsWith(RsaPrefix) && decoded.Length > RsaPrefix.Length)
        {
            keyType = ActorKeyType.Rsa;
            keyBytes = decoded[RsaPrefix.Length..].ToArray();
            return true;
        }

        return false;
    }

    private static string Encode(ReadOnlySpan<byte> prefix, ReadOnlySpan<byte> key)
    {
        var length = prefix.Length + key.Length;
        Span<byte> buffer = length <= 1024 ? stackalloc byte[length] : new byte[length];
        prefix.CopyTo(buffer);
        key.CopyTo(buffer[prefix.Length..]);
        return "z" + Base58.Bitcoin.Encode(buffer);
    }
}
