using System.Security.Cryptography;
using NSec.Cryptography;

namespace Fellows.Federation.Signatures;

/// <summary>The kinds of actor key Fellows can sign and verify with.</summary>
public enum ActorKeyType
{
    /// <summary>RSA, what every ActivityPub server publishes as <c>publicKeyPem</c>.</summary>
    Rsa,

    /// <summary>Ed25519, used for RFC 9421 signatures and FEP-8b32 integrity proofs.</summary>
    Ed25519,
}

/// <summary>
/// A freshly generated key pair for a local actor, with the exports needed to store it and publish
/// its public half. Dispose it once the exports are stored.
/// </summary>
public sealed class ActorKeyPair : IDisposable
{
    private readonly RSA? _rsa;
    private readonly Key? _ed25519;

    private ActorKeyPair(RSA rsa) => (_rsa, KeyType) = (rsa, ActorKeyType.Rsa);

    private ActorKeyPair(Key ed25519) => (_ed25519, KeyType) = (ed25519, ActorKeyType.Ed25519);

    /// <summary>Which kind of key this is.</summary>
    public ActorKeyType KeyType { get; }

    /// <summary>Generates an RSA key pair; 2048 bits is what the fediverse expects.</summary>
    public static ActorKeyPair GenerateRsa(int bits = 2048) => new(RSA.Create(bits));

    /// <summary>Generates an Ed25519 key pair whose private seed may be exported for storage.</summary>
    public static ActorKeyPair GenerateEd25519() =>
        new(Key.Create(NSec.Cryptography.SignatureAlgorithm.Ed25519,
            new KeyCreationParameters { ExportPolicy = KeyExportPolicies.AllowPlaintextExport }));

    /// <summary>RSA private key as PKCS#8 PEM (<c>-----BEGIN PRIVATE KEY-----</c>).</summary>
    public string ExportRsaPrivateKeyPem() => Rsa.ExportPkcs8PrivateKeyPem();

    /// <summary>RSA public key as SubjectPublicKeyInfo PEM (<c>-----BEGIN PUBLIC KEY-----</c>), the form of <c>publicKeyPem</c>.</summary>
    public string ExportRsaPublicKeyPem() => Rsa.ExportSubjectPublicKeyInfoPem();

    /// <summary>The raw 32-byte Ed25519 private seed.</summary>
    public byte[] ExportEd25519Seed() => Ed.Export(KeyBlobFormat.RawPrivateKey);

    /// <summary>The raw 32-byte Ed25519 public key.</summary>
    public byte[] ExportEd25519PublicKey() => Ed.PublicKey.Export(KeyBlobFormat.RawPublicKey);

    /// <summary>The public key as a FEP-521a <c>publicKeyMultibase</c> value.</summary>
    public string ExportPublicKeyMultibase() => KeyType == ActorKeyType.Ed25519
        ? Multikey.EncodeEd25519(ExportEd25519PublicKey())
        : Multikey.EncodeRsa(Rsa.ExportRSAPublicKey());

    /// <summary>A signing key over a copy of this pair's private key.</summary>
    public SigningKey ToSigningKey(string keyId) => KeyType == ActorKeyType.Ed25519
        ? SigningKey.FromEd25519Seed(keyId, ExportEd25519Seed())
        : SigningKey.FromRsaPem(keyId, ExportRsaPrivateKeyPem());

    /// <summary>A verification key over this pair's public key.</summary>
    public VerificationKey ToVerificationKey(string keyId, string ownerId) => KeyType == ActorKeyType.Ed25519
        ? VerificationKey.FromEd25519(keyId, ownerId, ExportEd25519PublicKey())
        : VerificationKey.FromPem(keyId, ownerId, ExportRsaPublicKeyPem());

    /// <inheritdoc />
    public void Dispose()
    {
        _rsa?.Dispose();
        _ed25519?.Dispose();
    }

    private RSA Rsa => _rsa ?? throw new InvalidOperationException("This is not an RSA key pair.");

    private Key Ed => _ed25519 ?? throw new InvalidOperationException("This is not an Ed25519 key pair.");
}

/// <summary>
/// The private key of a local actor, named by the key id remote servers will dereference.
/// Safe to share between threads: signing does not mutate the key.
/// </summary>
public sealed class SigningKey : IDisposable
{
    private readonly RSA? _rsa;
    private readonly Key? _ed25519;

    private SigningKey(string keyId, RSA? rsa, Key? ed25519)
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(keyId);
        KeyId = keyId;
        _rsa = rsa;
        _ed25519 = ed25519;
        KeyType = rsa is null ? ActorKeyType.Ed25519 : ActorKeyType.Rsa;
    }

    /// <summary>The key id (a URI, usually <c>{actor}#main-key</c>) sent as <c>keyId</c>/<c>keyid</c>.</summary>
    public string KeyId { get; }

    /// <summary>Which kind of key this is.</summary>
    public ActorKeyType KeyType { get; }

    /// <summary>Imports an RSA private key from PEM (PKCS#8 <c>PRIVATE KEY</c> or PKCS#1 <c>RSA PRIVATE KEY</c>).</summary>
    /// <exception cref="ArgumentException">The PEM holds no RSA private key.</exception>
    public static SigningKey FromRsaPem(string keyId, string pem)
    {
        var rsa = RSA.Create();
        try
        {
            rsa.ImportFromPem(pem);
            // ImportFromPem happily takes a public key; signing with it would fail much later.
            _ = rsa.ExportParameters(includePrivateParameters: true);
        }
        catch (CryptographicException e)
        {
            rsa.Dispose();
            throw new ArgumentException("The PEM does not hold an RSA private key.", nameof(pem), e);
        }

        return new SigningKey(keyId, rsa, null);
    }

    /// <summary>Imports an Ed25519 private key from its raw 32-byte seed.</summary>
    /// <exception cref="ArgumentException">The seed is not 32 bytes.</exception>
    public static SigningKey FromEd25519Seed(string keyId, ReadOnlySpan<byte> seed)
    {
        if (seed.Length != 32)
            throw new ArgumentException("An Ed25519 seed is 32 bytes.", nameof(seed));
        var key = Key.Import(NSec.Cryptography.SignatureAlgorithm.Ed25519, seed, KeyBlobFormat.RawPrivateKey);
        return new SigningKey(keyId, null, key);
    }

    /// <summary>Imports an Ed25519 private key from PKCS#8 PEM (as in RFC 9421 Appendix B.1.4).</summary>
    public static SigningKey FromEd25519Pem(string keyId, string pem)
    {
        var key = Key.Import(NSec.Cryptography.SignatureAlgorithm.Ed25519,
            System.Text.Encoding.ASCII.GetBytes(pem), KeyBlobFormat.PkixPrivateKeyText);
        return new SigningKey(keyId, null, key);
    }

    /// <summary>The raw Ed25519 public key, or null for an RSA key.</summary>
    public byte[]? Ed25519PublicKey => _ed25519?.PublicKey.Export(KeyBlobFormat.RawPublicKey);

    /// <summary>Signs <paramref name="data"/>: RSASSA-PKCS1-v1_5 with SHA-256 for RSA, pure Ed25519 otherwise.</summary>
    internal byte[] Sign(ReadOnlySpan<byte> data) => _rsa is not null
        ? _rsa.SignData(data, HashAlgorithmName.SHA256, RSASignaturePadding.Pkcs1)
        : NSec.Cryptography.SignatureAlgorithm.Ed25519.Sign(_ed25519!, data);

    /// <inheritdoc />
    public void Dispose()
    {
        _rsa?.Dispose();
        _ed25519?.Dispose();
    }
}

/// <summary>
/// A remote (or local) actor's public key, as fetched from its actor document. Callers cache these:
/// importing a key costs far more than verifying with it. Safe for concurrent verification.
/// </summary>
public sealed class VerificationKey : IDisposable
{
    // .NET's RSA implementations are safe for concurrent sign/verify once the key is imported;
    // only import and generation mutate them, and we do both in the factories below.
    private readonly RSA? _rsa;
    private readonly PublicKey? _ed25519;

    private VerificationKey(string keyId, string ownerId, RSA? rsa, PublicKey? ed25519)
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(keyId);
        ArgumentException.ThrowIfNullOrWhiteSpace(ownerId);
        KeyId = keyId;
        OwnerId = ownerId;
        _rsa = rsa;
        _ed25519 = ed25519;
        KeyType = rsa is null ? ActorKeyType.Ed25519 : ActorKeyType.Rsa;
        RsaKeySizeBits = rsa?.KeySize ?? 0;
    }

    /// <summary>The key's id (<c>publicKey.id</c> or the Multikey <c>id</c>).</summary>
    public string KeyId { get; }

    /// <summary>The actor the key belongs to (<c>owner</c> or <c>controller</c>). The caller checks it against the activity's actor.</summary>
    public string OwnerId { get; }

    /// <summary>Which kind of key this is.</summary>
    public ActorKeyType KeyType { get; }

    /// <summary>Modulus size for RSA keys, 0 for Ed25519.</summary>
    public int RsaKeySizeBits { get; }

    /// <summary>True when <paramref name="actorId"/> is this key's owner (ordinal comparison, as ids are opaque URIs).</summary>
    public bool IsOwnedBy(string actorId) => string.Equals(OwnerId, actorId, StringComparison.Ordinal);

    /// <summary>
    /// Imports a public key from PEM: RSA SubjectPublicKeyInfo (<c>PUBLIC KEY</c>), RSA PKCS#1
    /// (<c>RSA PUBLIC KEY</c>), or an Ed25519 SubjectPublicKeyInfo.
    /// </summary>
    /// <exception cref="ArgumentException">The PEM holds no supported public key.</exception>
    public static VerificationKey FromPem(string keyId, string ownerId, string pem)
    {
        if (!TryFromPem(keyId, ownerId, pem, out var key))
            throw new ArgumentException("The PEM does not hold a supported public key.", nameof(pem));
        return key;
    }

    /// <summary>Like <see cref="FromPem"/>, without throwing on bad key material (it comes from remote servers).</summary>
    public static bool TryFromPem(string keyId, string ownerId, string pem, [System.Diagnostics.CodeAnalysis.NotNullWhen(true)] out VerificationKey? key)
    {
        key = null;
        if (string.IsNullOrWhiteSpace(keyId) || string.IsNullOrWhiteSpace(ownerId) || string.IsNullOrEmpty(pem) || pem.Length > 16_384)
            return false;

        if (PemEncoding.TryFind(pem, out var fields))
        {
            var label = pem.AsSpan()[fields.Label];
            if (label.SequenceEqual("PUBLIC KEY"))
            {
                var der = Convert.FromBase64String(pem[fields.Base64Data]);
                if (PublicKey.TryImport(NSec.Cryptography.SignatureAlgorithm.Ed25519, der, KeyBlobFormat.PkixPublicKey, out var ed) && ed is not null)
                {
                    key = new VerificationKey(keyId, ownerId, null, ed);
                    return true;
                }
            }
            else if (!label.SequenceEqual("RSA PUBLIC KEY"))
            {
                return false; // never accept private key PEM as "public": it would mean a leaked key
            }
        }

        var rsa = RSA.Create();
        try
        {
            rsa.ImportFromPem(pem);
        }
        catch (Exception e) when (e is CryptographicException or ArgumentException)
        {
            rsa.Dispose();
            return false;
        }

        key = new VerificationKey(keyId, ownerId, rsa, null);
        return true;
    }

    /// <summary>Imports a raw 32-byte Ed25519 public key.</summary>
    /// <exception cref="ArgumentException">The bytes are not an Ed25519 public key.</exception>
    public static VerificationKey FromEd25519(string keyId, string ownerId, ReadOnlySpan<byte> publicKey)
    {
        if (publicKey.Length != 32 ||
            !PublicKey.TryImport(NSec.Cryptography.SignatureAlgorithm.Ed25519, publicKey, KeyBlobFormat.RawPublicKey, out var ed) || ed is null)
            throw new ArgumentException("Not an Ed25519 public key.", nameof(publicKey));
        return new VerificationKey(keyId, ownerId, null, ed);
    }

    /// <summary>Imports a DER PKCS#1 RSAPublicKey.</summary>
    /// <exception cref="ArgumentException">The bytes are not an RSA public key.</exception>
    public static VerificationKey FromRsaPkcs1(string keyId, string ownerId, ReadOnlySpan<byte> der)
    {
        var rsa = RSA.Create();
        try
        {
            rsa.ImportRSAPublicKey(der, out var read);
            if (read != der.Length)
                throw new CryptographicException("Trailing bytes after the RSA public key.");
        }
        catch (CryptographicException e)
        {
            rsa.Dispose();
            throw new ArgumentException("Not an RSA public key.", nameof(der), e);
        }

        return new VerificationKey(keyId, ownerId, rsa, null);
    }

    /// <summary>Imports a FEP-521a <c>publicKeyMultibase</c> value (Ed25519, or RSA).</summary>
    /// <exception cref="ArgumentException">The value is not a supported Multikey.</exception>
    public static VerificationKey FromMultibase(string keyId, string ownerId, string publicKeyMultibase)
    {
        if (!Multikey.TryDecode(publicKeyMultibase, out var type, out var keyBytes))
            throw new ArgumentException("Not a supported Multikey value.", nameof(publicKeyMultibase));
        return type == ActorKeyType.Ed25519
            ? FromEd25519(keyId, ownerId, keyBytes)
            : FromRsaPkcs1(keyId, ownerId, keyBytes);
    }

    internal bool Verify(ResolvedAlgorithm algorithm, ReadOnlySpan<byte> data, ReadOnlySpan<byte> signature)
    {
        switch (algorithm)
        {
            case ResolvedAlgorithm.Ed25519 when _ed25519 is not null:
                return NSec.Cryptography.SignatureAlgorithm.Ed25519.Verify(_ed25519, data, signature);
            case ResolvedAlgorithm.RsaPkcs1Sha256 when _rsa is not null:
                return _rsa.VerifyData(data, signature, HashAlgorithmName.SHA256, RSASignaturePadding.Pkcs1);
            case ResolvedAlgorithm.RsaPkcs1Sha512 when _rsa is not null:
                return _rsa.VerifyData(data, signature, HashAlgorithmName.SHA512, RSASignaturePadding.Pkcs1);
            case ResolvedAlgorithm.RsaPssSha512 when _rsa is not null:
                return _rsa.VerifyData(data, signature, HashAlgorithmName.SHA512, RSASignaturePadding.Pss);
            default:
                return false;
        }
    }

    /// <inheritdoc />
    public void Dispose() => _rsa?.Dispose();
}

/// <summary>A signature algorithm once the header's name and the key type have been reconciled.</summary>
internal enum ResolvedAlgorithm
{
    RsaPkcs1Sha256,
    RsaPkcs1Sha512,
    RsaPssSha512,
    Ed25519,
}
