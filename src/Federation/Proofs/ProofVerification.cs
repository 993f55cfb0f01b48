namespace Fellows.Federation.Proofs;

/// <summary>Why an integrity proof did not verify. Stable codes for logs and metrics.</summary>
public enum ProofFailure
{
    /// <summary>No failure: the proof verified.</summary>
    None,

    /// <summary>The document has no <c>proof</c> member (or the document is not a JSON object).</summary>
    MissingProof,

    /// <summary>The <c>proof</c> holds more than one proof; Fellows verifies single proofs only.</summary>
    MultipleProofs,

    /// <summary>The proof is not an object, or a required member is absent or not a string.</summary>
    MalformedProof,

    /// <summary>The proof is not a <c>DataIntegrityProof</c> with the <c>eddsa-jcs-2022</c> cryptosuite.</summary>
    UnsupportedProof,

    /// <summary>The proof's <c>proofPurpose</c> is not the one the caller expects.</summary>
    WrongProofPurpose,

    /// <summary>The proof's <c>created</c> or <c>expires</c> is not an XML Schema dateTime.</summary>
    InvalidDate,

    /// <summary>The proof's <c>expires</c> time has passed.</summary>
    Expired,

    /// <summary>The proof carries an <c>@context</c> that the document's <c>@context</c> does not start with.</summary>
    ContextMismatch,

    /// <summary>The <c>proofValue</c> is not a base58btc multibase string of a 64-byte signature.</summary>
    BadProofValue,

    /// <summary>The document has no canonical form (duplicate member names, out-of-range numbers, bad Unicode).</summary>
    MalformedDocument,

    /// <summary>The verification method could not be resolved to a key.</summary>
    UnknownKey,

    /// <summary>The resolved key is not an Ed25519 key.</summary>
    KeyTypeMismatch,

    /// <summary>The signature does not match: the document or proof was changed, or the key is wrong.</summary>
    BadSignature,
}

/// <summary>
/// The outcome of <see cref="IntegrityProof.Verify(System.Text.Json.JsonElement, Func{string, Fellows.Federation.Signatures.VerificationKey?}, ProofVerificationOptions?)"/>.
/// </summary>
/// <param name="Failure">What went wrong, or <see cref="ProofFailure.None"/>.</param>
/// <param name="Reason">A human-readable reason, safe to log, not meant for end users.</param>
public sealed record ProofVerification(ProofFailure Failure, string Reason)
{
    /// <summary>True when the proof verified.</summary>
    /// <remarks>
    /// A valid proof says only that the holder of the key made this document. Whether that key may
    /// speak for the document is the caller's question: see <see cref="VouchesFor"/>.
    /// </remarks>
    public bool IsValid => Failure == ProofFailure.None;

    /// <summary>The proof's <c>verificationMethod</c> (a key id), when the proof got far enough to name one.</summary>
    public string? VerificationMethod { get; init; }

    /// <summary>The controller (owner) of the key that verified the proof; set only when <see cref="IsValid"/>.</summary>
    public string? Controller { get; init; }

    /// <summary>The proof's <c>created</c> time, when it has one.</summary>
    public DateTimeOffset? Created { get; init; }

    /// <summary>
    /// True when the proof is valid and its key is controlled by <paramref name="actorId"/>, the
    /// document's owner (the activity's <c>actor</c>, the object's <c>attributedTo</c>).
    /// </summary>
    /// <remarks>
    /// FEP-8b32 with FEP-fe34's origin rule: a proof vouches only for its controller's own objects.
    /// Without this check anyone could sign a Note "by" someone else with their own key.
    /// Ids are opaque URIs, so the comparison is ordinal.
    /// </remarks>
    public bool VouchesFor(string actorId) =>
        IsValid && Controller is not null && string.Equals(Controller, actorId, StringComparison.Ordinal);

    internal static ProofVerification Fail(ProofFailure failure, string reason, string? verificationMethod = null) =>
        new(failure, reason) { VerificationMethod = verificationMethod };
}

/// <summary>Policy for <see cref="IntegrityProof.Verify(System.Text.Json.JsonElement, Func{string, Fellows.Federation.Signatures.VerificationKey?}, ProofVerificationOptions?)"/>.</summary>
public sealed record ProofVerificationOptions
{
    /// <summary>The defaults: <c>assertionMethod</c> purpose, no expiry check.</summary>
    public static ProofVerificationOptions Default { get; } = new();

    /// <summary>The <c>proofPurpose</c> a proof must state. FEP-8b32 requires <c>assertionMethod</c>.</summary>
    public string ExpectedProofPurpose { get; init; } = IntegrityProof.AssertionMethod;

    /// <summary>
    /// The current time, for refusing proofs whose <c>expires</c> has passed. Null skips that check
    /// (useful for archives and tests); the inbox passes the time of receipt.
    /// </summary>
    public DateTimeOffset? Now { get; init; }
}
