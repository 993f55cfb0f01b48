using System.Diagnostics.CodeAnalysis;
using System.Globalization;
using System.Security.Cryptography;
using System.Text.Json;
using System.Text.Json.Nodes;
using System.Text.RegularExpressions;
using Fellows.Federation.Signatures;
using SimpleBase;

namespace Fellows.Federation.Proofs;

/// <summary>
/// FEP-8b32 Object Integrity Proofs: a <c>DataIntegrityProof</c> with the <c>eddsa-jcs-2022</c>
/// cryptosuite (W3C Data Integrity EdDSA Cryptosuites v1.0), which lets an activity or object
/// carry its author's signature wherever it travels, independent of the HTTP request that
/// delivered it.
/// </summary>
/// <remarks>
/// What is signed is <c>SHA-256(JCS(proof config)) || SHA-256(JCS(document without proof))</c>,
/// where the proof config is the proof without its <c>proofValue</c>. Proofs made here repeat
/// the document's <c>@context</c>, so the config covers it. Only single proofs are made and accepted (no proof sets or chains): FEP-8b32
/// says objects SHOULD NOT carry more than one.
/// </remarks>
public static partial class IntegrityProof
{
    /// <summary>The proof <c>type</c>.</summary>
    public const string ProofType = "DataIntegrityProof";

    /// <summary>The only cryptosuite Fellows makes and accepts, the one FEP-8b32 recommends.</summary>
    public const string Cryptosuite = "eddsa-jcs-2022";

    /// <summary>The proof purpose FEP-8b32 requires.</summary>
    public const string AssertionMethod = "assertionMethod";

    private const string ProofMember = "proof";
    private const string ContextMember = "@context";
    private const string ProofValueMember = "proofValue";

    // Mastodon-style Linked Data Signatures live in "signature"; FEP-8b32 has them added after
    // the proof, so the proof never covers them and verification removes them first.
    private const string LinkedDataSignatureMember = "signature";

    // base58btc of 64 bytes is at most 88 characters; anything much longer is not a signature.
    private const int MaxProofValueLength = 100;

    private static readonly string[] OmitFromProofConfig = [ProofValueMember];

    /// <summary>
    /// Returns a copy of <paramref name="document"/> with a <c>proof</c> member made with
    /// <paramref name="ed25519Key"/>. The input is not modified.
    /// </summary>
    /// <param name="document">The unsecured document: an activity or object, without <c>proof</c> or <c>signature</c>.</param>
    /// <param name="ed25519Key">The actor's Ed25519 key.</param>
    /// <param name="verificationMethod">The key's id as published in the actor's <c>assertionMethod</c>.</param>
    /// <param name="created">When the proof is made; written in UTC to the second.</param>
    /// <param name="proofPurpose">The proof purpose; FEP-8b32 requires the default.</param>
    /// <exception cref="ArgumentException">
    /// The key is not Ed25519, the document already carries a proof or a linked data signature,
    /// or it has no canonical form (for example a NaN number).
    /// </exception>
    public static JsonObject Sign(
        JsonObject document,
        SigningKey ed25519Key,
        string verificationMethod,
        DateTimeOffset created,
        string proofPurpose = AssertionMethod)
    {
        ArgumentNullException.ThrowIfNull(document);
        ArgumentNullException.ThrowIfNull(ed25519Key);
        ArgumentException.ThrowIfNullOrWhiteSpace(verificationMethod);
        ArgumentException.ThrowIfNullOrWhiteSpace(proofPurpose);
        if (ed25519Key.KeyType != ActorKeyType.Ed25519)
            throw new ArgumentException("eddsa-jcs-2022 proofs need an Ed25519 key.", nameof(ed25519Key));
        if (document.ContainsKey(ProofMember))
            throw new ArgumentException("The document already carries a proof; Fellows makes single proofs only.", nameof(document));
        if (document[LinkedDataSignatureMember] is JsonObject)
            throw new ArgumentException("Add the integrity proof before the linked data signature (FEP-8b32).", nameof(document));

        var secured = document.DeepClone().AsObject();

        var proof = new JsonObject();
        // The proof repeats the document's @context (eddsa-jcs-2022, Create Proof step 2) so it
        // can be checked on its own and survives being moved into a proof set by someone else.
        if (secured[ContextMember] is { } context)
            proof[ContextMember] = context.DeepClone();
        proof["type"] = ProofType;
        proof["cryptosuite"] = Cryptosuite;
        proof["verificationMethod"] = verificationMethod;
        proof["proofPurpose"] = proofPurpose;
        proof["created"] = FormatDateTime(created);

        if (!JsonCanonicalizer.TryCanonicalize(secured, out var canonicalDocument, out var error))
            throw new ArgumentException($"The document cannot be canonicalised: {error}", nameof(document));
        var canonicalConfig = JsonCanonicalizer.Canonicalize(proof);

        var signature = ed25519Key.Sign(HashData(canonicalConfig, canonicalDocument));
        proof[ProofValueMember] = "z" + Base58.Bitcoin.Encode(signature);
        secured[ProofMember] = proof;
        return secured;
    }

    /// <summary>
    /// Verifies the single <c>eddsa-jcs-2022</c> proof of <paramref name="securedDocument"/>.
    /// Never throws for bad input; exceptions from <paramref name="resolveKey"/> propagate.
    /// </summary>
    /// <param name="securedDocument">The received object, <c>proof</c> included.</param>
    /// <param name="resolveKey">
    /// Finds the public key named by the proof's <c>verificationMethod</c>, or null when it cannot.
    /// Its <see cref="VerificationKey.OwnerId"/> must be the key's controller, as the actor
    /// document states it: <see cref="ProofVerification.VouchesFor"/> relies on it.
    /// </param>
    /// <param name="options">Policy; <see cref="ProofVerificationOptions.Default"/> when null.</param>
    public static ProofVerification Verify(
        JsonElement securedDocument,
        Func<string, VerificationKey?> resolveKey,
        ProofVerificationOptions? options = null)
    {
        ArgumentNullException.ThrowIfNull(resolveKey);
        if (!TryPrepare(securedDocument, options ?? ProofVerificationOptions.Default, out var prepared, out var failure))
            return failure;
        return Check(prepared, resolveKey(prepared.VerificationMethod));
    }

    /// <summary>
    /// Like <see cref="Verify(JsonElement, Func{string, VerificationKey?}, ProofVerificationOptions?)"/>,
    /// with a key resolver that may fetch the actor. The proof is checked for form before the
    /// resolver is called, so malformed proofs cost no fetch.
    /// </summary>
    public static async Task<ProofVerification> VerifyAsync(
        JsonElement securedDocument,
        Func<string, CancellationToken, Task<VerificationKey?>> resolveKey,
        ProofVerificationOptions? options = null,
        CancellationToken ct = default)
    {
        ArgumentNullException.ThrowIfNull(resolveKey);
        if (!TryPrepare(securedDocument, options ?? ProofVerificationOptions.Default, out var prepared, out var failure))
            return failure;
        var key = await resolveKey(prepared.VerificationMethod, ct).ConfigureAwait(false);
        return Check(prepared, key);
    }

    /// <summary>Everything needed to check the signature once the key is known.</summary>
    private sealed record PreparedProof(string VerificationMethod, byte[] Signature, byte[] HashData, DateTimeOffset? Created);

    private static bool TryPrepare(
        JsonElement document,
        ProofVerificationOptions options,
        [NotNullWhen(true)] out PreparedProof? prepared,
        [NotNullWhen(false)] out ProofVerification? failure)
    {
        prepared = null;
        failure = null;

        if (document.ValueKind != JsonValueKind.Object)
            return Fail(ProofFailure.MissingProof, "the document is not a JSON object", null, out failure);
        if (!document.TryGetProperty(ProofMember, out var proofValue))
            return Fail(ProofFailure.MissingProof, "the document has no proof", null, out failure);

        // Data Integrity allows a proof set (an array); a one-element array is just a proof.
        if (proofValue.ValueKind == JsonValueKind.Array)
        {
            if (proofValue.GetArrayLength() != 1)
                return Fail(ProofFailure.MultipleProofs, $"the proof array holds {proofValue.GetArrayLength()} proofs; exactly one is accepted", null, out failure);
            proofValue = proofValue[0];
        }

        if (proofValue.ValueKind != JsonValueKind.Object)
            return Fail(ProofFailure.MalformedProof, "the proof is not a JSON object", null, out failure);
        var proof = proofValue;

        if (!TryGetString(proof, "type", out var type) || !TryGetString(proof, "cryptosuite", out var cryptosuite))
            return Fail(ProofFailure.MalformedProof, "the proof lacks a type or cryptosuite string", null, out failure);
        if (type != ProofType || cryptosuite != Cryptosuite)
            return Fail(ProofFailure.UnsupportedProof, $"unsupported proof {type}/{cryptosuite}; only {ProofType}/{Cryptosuite} is accepted", null, out failure);

        if (!TryGetString(proof, "verificationMethod", out var verificationMethod) || string.IsNullOrWhiteSpace(verificationMethod))
            return Fail(ProofFailure.MalformedProof, "the proof lacks a verificationMethod", null, out failure);
        if (!TryGetString(proof, "proofPurpose", out var proofPurpose))
            return Fail(ProofFailure.MalformedProof, "the proof lacks a proofPurpose", verificationMethod, out failure);
        if (!string.Equals(proofPurpose, options.ExpectedProofPurpose, StringComparison.Ordinal))
            return Fail(ProofFailure.WrongProofPurpose, $"the proof's purpose is {proofPurpose}, not {options.ExpectedProofPurpose}", verificationMethod, out failure);

        DateTimeOffset? created = null;
        if (proof.TryGetProperty("created", out var createdValue))
        {
            if (!TryParseDateTime(createdValue, out var parsed))
                return Fail(ProofFailure.InvalidDate, "the proof's created is not an XML Schema dateTime", verificationMethod, out failure);
            created = parsed;
        }

        if (proof.TryGetProperty("expires", out var expiresValue))
        {
            if (!TryParseDateTime(expiresValue, out var expires))
                return Fail(ProofFailure.InvalidDate, "the proof's expires is not an XML Schema dateTime", verificationMethod, out failure);
            if (options.Now is { } now && now >= expires)
                return Fail(ProofFailure.Expired, $"the proof expired at {FormatDateTime(expires)}", verificationMethod, out failure);
        }

        if (!TryGetString(proof, ProofValueMember, out var proofValueText))
            return Fail(ProofFailure.MalformedProof, "the proof lacks a proofValue string", verificationMethod, out failure);
        if (!TryDecodeSignature(proofValueText, out var signature))
            return Fail(ProofFailure.BadProofValue, "the proofValue is not a base58btc multibase Ed25519 signature", verificationMethod, out failure);

        // Verify Proof step 4: when the proof carries an @context, the document's must start with
        // it, and the document is hashed with the proof's @context. Contexts appended after
        // signing (for another proof in a set) are thereby not part of this signature. A proof
        // without @context (earlier FEP-8b32 drafts, and producers that skip that optional
        // creation step) is hashed exactly as it stands, as the published vector of that era shows.
        var documentReplace = new Dictionary<string, JsonElement>(StringComparer.Ordinal);
        if (proof.TryGetProperty(ContextMember, out var proofContext))
        {
            if (!document.TryGetProperty(ContextMember, out var documentContext) || !StartsWith(documentContext, proofContext))
                return Fail(ProofFailure.ContextMismatch, "the document's @context does not start with the proof's @context", verificationMethod, out failure);
            documentReplace[ContextMember] = proofContext;
        }

        var documentOmit = new List<string> { ProofMember };
        if (document.TryGetProperty(LinkedDataSignatureMember, out var ldSignature) && ldSignature.ValueKind == JsonValueKind.Object)
            documentOmit.Add(LinkedDataSignatureMember);

        if (!JsonCanonicalizer.TryCanonicalizeObject(document, documentOmit, documentReplace, out var canonicalDocument, out var documentError))
            return Fail(ProofFailure.MalformedDocument, "the document cannot be canonicalised: " + documentError, verificationMethod, out failure);
        if (!JsonCanonicalizer.TryCanonicalizeObject(proof, OmitFromProofConfig, replace: null, out var canonicalConfig, out var configError))
            return Fail(ProofFailure.MalformedProof, "the proof cannot be canonicalised: " + configError, verificationMethod, out failure);

        prepared = new PreparedProof(verificationMethod, signature, HashData(canonicalConfig, canonicalDocument), created);
        return true;
    }

    private static ProofVerification Check(PreparedProof prepared, VerificationKey? key)
    {
        if (key is null)
            return ProofVerification.Fail(ProofFailure.UnknownKey, "the verification method could not be resolved", prepared.VerificationMethod);
        if (key.KeyType != ActorKeyType.Ed25519)
            return ProofVerification.Fail(ProofFailure.KeyTypeMismatch, $"the verification method is a {key.KeyType} key, not Ed25519", prepared.VerificationMethod);
        if (!key.Verify(ResolvedAlgorithm.Ed25519, prepared.HashData, prepared.Signature))
            return ProofVerification.Fail(ProofFailure.BadSignature, "the signature does not match the document and proof", prepared.VerificationMethod);

        return new ProofVerification(ProofFailure.None, "valid")
        {
            VerificationMethod = prepared.VerificationMethod,
            Controller = key.OwnerId,
            Created = prepared.Created,
        };
    }

    /// <summary>The eddsa-jcs-2022 hash data: the proof config's hash first, then the document's.</summary>
    private static byte[] HashData(ReadOnlySpan<byte> canonicalConfig, ReadOnlySpan<byte> canonicalDocument)
    {
        var hashData = new byte[2 * SHA256.HashSizeInBytes];
        SHA256.HashData(canonicalConfig, hashData.AsSpan(0, SHA256.HashSizeInBytes));
        SHA256.HashData(canonicalDocument, hashData.AsSpan(SHA256.HashSizeInBytes));
        return hashData;
    }

    private static bool TryDecodeSignature(string proofValue, [NotNullWhen(true)] out byte[]? signature)
    {
        signature = null;
        // Multibase prefix "z" is base58btc, the only encoding the cryptosuite allows.
        if (proofValue.Length < 2 || proofValue.Length > MaxProofValueLength || proofValue[0] != 'z')
            return false;
        var chars = proofValue.AsSpan(1);
        var buffer = new byte[Base58.Bitcoin.GetSafeByteCountForDecoding(chars)];
        if (!Base58.Bitcoin.TryDecode(chars, buffer, out var written) || written != 64)
            return false;
        signature = buffer[..written];
        return true;
    }

    /// <summary>True when <paramref name="documentContext"/> begins with every entry of <paramref name="proofContext"/>, in order.</summary>
    private static bool StartsWith(JsonElement documentContext, JsonElement proofContext)
    {
        // A single context (string or object) is a one-entry list.
        var documentEntries = Entries(documentContext);
        var proofEntries = Entries(proofContext);
        if (proofEntries.Count > documentEntries.Count)
            return false;
        for (var i = 0; i < proofEntries.Count; i++)
        {
            if (!JsonElement.DeepEquals(proofEntries[i], documentEntries[i]))
                return false;
        }

        return true;

        static List<JsonElement> Entries(JsonElement context) =>
            context.ValueKind == JsonValueKind.Array ? [.. context.EnumerateArray()] : [context];
    }

    private static bool TryGetString(JsonElement obj, string name, [NotNullWhen(true)] out string? value)
    {
        value = null;
        if (!obj.TryGetProperty(name, out var element) || element.ValueKind != JsonValueKind.String)
            return false;
        try
        {
            value = element.GetString();
        }
        catch (InvalidOperationException)
        {
            return false; // not valid UTF-16
        }

        return value is not null;
    }

    private static bool TryParseDateTime(JsonElement value, out DateTimeOffset parsed)
    {
        parsed = default;
        if (!AsString(value, out var text) || !XmlDateTime().IsMatch(text))
            return false;
        // XML Schema allows a dateTime without a time zone; Data Integrity examples are all UTC,
        // so a missing zone is read as UTC rather than as this server's local time.
        return DateTimeOffset.TryParse(text, CultureInfo.InvariantCulture,
            DateTimeStyles.AssumeUniversal | DateTimeStyles.AdjustToUniversal, out parsed);

        static bool AsString(JsonElement element, [NotNullWhen(true)] out string? text)
        {
            text = element.ValueKind == JsonValueKind.String ? element.GetString() : null;
            return text is not null;
        }
    }

    private static string FormatDateTime(DateTimeOffset value) =>
        value.UtcDateTime.ToString("yyyy-MM-dd'T'HH:mm:ss'Z'", CultureInfo.InvariantCulture);

    private static bool Fail(ProofFailure code, string reason, string? verificationMethod, out ProofVerification failure)
    {
        failure = ProofVerification.Fail(code, reason, verificationMethod);
        return false;
    }

    // XML Schema 1.1 dateTime with a four-digit year (the forms Data Integrity producers write).
    [GeneratedRegex(@"^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d+)?(Z|[+-]\d{2}:\d{2})?$", RegexOptions.CultureInvariant, matchTimeoutMilliseconds: 100)]
    private static partial Regex XmlDateTime();
}
