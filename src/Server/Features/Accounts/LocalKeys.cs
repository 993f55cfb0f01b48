using System.Security.Cryptography;
using NSec.Cryptography;

namespace Fellows.Server.Features.Accounts;

/// <summary>Fresh key material for a local actor: RSA-2048 (what Mastodon verifies) and Ed25519 (FEP-521a, proofs).</summary>
public sealed record LocalKeyMaterial(string RsaPublicPem, string RsaPrivatePem, string Ed25519PublicMultibase, string Ed25519PrivateSeed)
{
    public static LocalKeyMaterial Generate()
    {
        using var rsa = RSA.Create(2048);
        using var ed = Key.Create(SignatureAlgorithm.Ed25519, new KeyCreationParameters { ExportPolicy = KeyExportPolicies.AllowPlaintextExport });
        var seed = ed.Export(KeyBlobFormat.RawPrivateKey);
        var pub = ed.PublicKey.Export(KeyBlobFormat.RawPublicKey);
        return new LocalKeyMaterial(
            rsa.ExportSubjectPublicKeyInfoPem(),
            rsa.ExportPkcs8PrivateKeyPem(),
            Ed25519Multibase(pub),
            Convert.ToBase64String(seed));
    }

    /// <summary>FEP-521a: multibase base58btc of the ed25519-pub multicodec (0xed 0x01) followed by the key.</summary>
    static string Ed25519Multibase(byte[] publicKey)
    {
        var prefixed = new byte[2 + publicKey.Length];
        prefixed[0] = 0xed;
        prefixed[1] = 0x01;
        publicKey.CopyTo(prefixed, 2);
        return "z" + SimpleBase.Base58.Bitcoin.Encode(prefixed);
    }
}
