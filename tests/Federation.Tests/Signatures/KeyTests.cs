using Fellows.Federation.Signatures;
using NUnit.Framework;

namespace Fellows.Federation.Tests.Signatures;

public class KeyTests
{
    [Test]
    public void ExportRsa_pems_round_trip_through_import()
    {
        using var pair = ActorKeyPair.GenerateRsa();

        var privatePem = pair.ExportRsaPrivateKeyPem();
        var publicPem = pair.ExportRsaPublicKeyPem();

        Assert.That(privatePem, Does.StartWith("-----BEGIN PRIVATE KEY-----"));
        Assert.That(publicPem, Does.StartWith("-----BEGIN PUBLIC KEY-----"));
        using var signing = SigningKey.FromRsaPem("k", privatePem);
        using var verification = VerificationKey.FromPem("k", "a", publicPem);
        Assert.That(verification.RsaKeySizeBits, Is.EqualTo(2048));
        Assert.That(verification.Verify(ResolvedAlgorithm.RsaPkcs1Sha256, "x"u8, signing.Sign("x"u8)), Is.True);
    }

    [Test]
    public void FromPem_pkcs1_rsa_public_key_is_accepted()
    {
        // RFC 9421 B.1.1 publishes its public key as PKCS#1 "RSA PUBLIC KEY".
        using var key = VerificationKey.FromPem("test-key-rsa", "a", TestKeys.RsaPublicPkcs1Pem);

        Assert.That(key.KeyType, Is.EqualTo(ActorKeyType.Rsa));
        Assert.That(key.RsaKeySizeBits, Is.EqualTo(2048));
    }

    [TestCase("")]
    [TestCase("not a pem")]
    [TestCase("-----BEGIN PUBLIC KEY-----\nAAAA\n-----END PUBLIC KEY-----")]
    public void TryFromPem_garbage_returns_false(string pem)
    {
        Assert.That(VerificationKey.TryFromPem("k", "a", pem, out _), Is.False);
    }

    [Test]
    public void TryFromPem_private_key_is_refused_as_public_key()
    {
        Assert.That(VerificationKey.TryFromPem("k", "a", TestKeys.FixedRsaPrivatePem, out _), Is.False);
    }

    [Test]
    public void FromRsaPem_public_key_throws()
    {
        Assert.That(() => SigningKey.FromRsaPem("k", TestKeys.FixedRsaPublicPem), Throws.ArgumentException);
    }

    [Test]
    public void ExportEd25519_seed_round_trips_to_same_public_key()
    {
        using var pair = ActorKeyPair.GenerateEd25519();

        using var signing = SigningKey.FromEd25519Seed("k", pair.ExportEd25519Seed());

        Assert.That(signing.Ed25519PublicKey, Is.EqualTo(pair.ExportEd25519PublicKey()));
        Assert.That(pair.ExportEd25519Seed(), Has.Length.EqualTo(32));
    }

    [Test]
    public void VerificationKey_exposes_key_and_owner_ids()
    {
        using var pair = ActorKeyPair.GenerateEd25519();

        using var key = pair.ToVerificationKey("https://a.example/u/alice#ed25519-key", "https://a.example/u/alice");

        Assert.That(key.KeyId, Is.EqualTo("https://a.example/u/alice#ed25519-key"));
        Assert.That(key.OwnerId, Is.EqualTo("https://a.example/u/alice"));
        Assert.That(key.IsOwnedBy("https://a.example/u/alice"), Is.True);
        Assert.That(key.IsOwnedBy("https://a.example/u/mallory"), Is.False);
    }
}

public class MultikeyTests
{
    // FEP-521a's example actor key.
    private const string Fep521aExample = "z6MkekwC6R9bj9ErToB7AiZJfyCSDhaZe1UxhDbCqJrhqpS5";

    [Test]
    public void TryDecode_fep521a_example_round_trips()
    {
        Assert.That(Multikey.TryDecode(Fep521aExample, out var type, out var key), Is.True);

        Assert.That(type, Is.EqualTo(ActorKeyType.Ed25519));
        Assert.That(key, Has.Length.EqualTo(32));
        Assert.That(Multikey.EncodeEd25519(key), Is.EqualTo(Fep521aExample));
    }

    [Test]
    public void EncodeEd25519_known_key_gives_known_value()
    {
        // Key/value pair from the FEP-521a conformance feature (also the did:key spec's example).
        var key = Convert.FromHexString("2e6fcce36701dc791488e0d0b1745cc1e33a4c1c9fcc41c63bd343dbbe0970e6");

        Assert.That(Multikey.EncodeEd25519(key), Is.EqualTo("z6MkhaXgBZDvotDkL5257faiztiGiC2QtKLGpbnnEGta2doK"));
    }

    [Test]
    public void EncodeRsa_round_trips_through_verification_key()
    {
        using var pair = ActorKeyPair.GenerateRsa();
        var multibase = pair.ExportPublicKeyMultibase();

        using var key = VerificationKey.FromMultibase("k", "a", multibase);

        Assert.That(multibase, Does.StartWith("z"));
        Assert.That(key.KeyType, Is.EqualTo(ActorKeyType.Rsa));
        Assert.That(key.RsaKeySizeBits, Is.EqualTo(2048));
    }

    [TestCase(null)]
    [TestCase("")]
    [TestCase("z")]
    [TestCase("u6MkekwC6R9bj9ErToB7AiZJfyCSDhaZe1UxhDbCqJrhqpS5")]
    [TestCase("z6MkekwC6R9bj9ErToB7AiZJfyCSDhaZe1UxhDbCqJrhqpS")]
    [TestCase("z0OIl")]
    public void TryDecode_invalid_value_returns_false(string? value)
    {
        Assert.That(Multikey.TryDecode(value, out _, out _), Is.False);
    }
}
