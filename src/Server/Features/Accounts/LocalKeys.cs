using Fellows.Federation.Signatures;

namespace Fellows.Server.Features.Accounts;

/// <summary>Fresh key material for a local actor: RSA-2048 (what Mastodon verifies) and Ed25519 (FEP-521a, proofs).</summary>
public sealed record LocalKeyMaterial(string RsaPublicPem, string RsaPrivatePem, string Ed25519PublicMultibase, string Ed25519PrivateSeed)
{
    public static LocalKeyMaterial Generate()
    {
        using var rsa = ActorKeyPair.GenerateRsa();
        using var ed = ActorKeyPair.GenerateEd25519();
        return new LocalKeyMaterial(
            rsa.ExportRsaPublicKeyPem(),
            rsa.ExportRsaPrivateKeyPem(),
            ed.ExportPublicKeyMultibase(),
            Convert.ToBase64String(ed.ExportEd25519Seed()));
    }
}
