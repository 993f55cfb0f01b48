using System.Diagnostics.CodeAnalysis;

namespace Fellows.Federation.Signatures;

/// <summary>Why a signature could not be parsed or did not verify. Stable codes for logs and metrics.</summary>
public enum SignatureFailure
{
    /// <summary>No failure.</summary>
    None,

    /// <summary>The request carries no Signature, Signature-Input or <c>Authorization: Signature</c> header.</summary>
    MissingSignature,

    /// <summary>A signature header is syntactically broken.</summary>
    MalformedHeader,

    /// <summary>A signature header exceeds the size limits.</summary>
    HeaderTooLarge,

    /// <summary>A required signature parameter (keyId, signature, …) is absent.</summary>
    MissingParameter,

    /// <summary>The named algorithm is not one Fellows accepts.</summary>
    UnsupportedAlgorithm,

    /// <summary>A covered component is one this implementation cannot reproduce.</summary>
    UnsupportedComponent,

    /// <summary>A covered header is absent from the request.</summary>
    MissingComponentValue,

    /// <summary>The algorithm named in the signature does not fit the key's type.</summary>
    AlgorithmKeyMismatch,

    /// <summary>The RSA key is shorter than the configured minimum.</summary>
    KeyTooWeak,

    /// <summary>Neither (request-target) nor @method with @target-uri/@path is covered.</summary>
    TargetNotCovered,

    /// <summary>Neither host nor @authority is covered.</summary>
    HostNotCovered,

    /// <summary>No covered timestamp: neither Date nor created.</summary>
    DateNotCovered,

    /// <summary>The Date header or created parameter cannot be read.</summary>
    InvalidDate,

    /// <summary>The timestamp is older than the allowed clock skew.</summary>
    TooOld,

    /// <summary>The timestamp is further in the future than the allowed clock skew.</summary>
    InTheFuture,

    /// <summary>The signature's expires time has passed.</summary>
    Expired,

    /// <summary>The request has a body but no covered Digest/Content-Digest.</summary>
    DigestNotCovered,

    /// <summary>The digest header uses no algorithm we accept (SHA-256, SHA-512).</summary>
    UnsupportedDigest,

    /// <summary>The digest header does not match the body.</summary>
    DigestMismatch,

    /// <summary>The cryptographic check failed: tampered message or wrong key.</summary>
    BadSignature,
}

/// <summary>A failure with a human-readable reason (safe to log, not meant for end users).</summary>
public sealed record SignatureError(SignatureFailure Failure, string Reason);

/// <summary>The outcome of <see cref="SignatureParser.TryParse"/>: a signature or an error.</summary>
public readonly struct SignatureParseResult
{
    private SignatureParseResult(ParsedSignature? signature, SignatureError? error) =>
        (Signature, Error) = (signature, error);

    /// <summary>The parsed signature when <see cref="Success"/>.</summary>
    public ParsedSignature? Signature { get; }

    /// <summary>Why parsing failed when not <see cref="Success"/>.</summary>
    public SignatureError? Error { get; }

    /// <summary>True when a signature was parsed.</summary>
    [MemberNotNullWhen(true, nameof(Signature))]
    [MemberNotNullWhen(false, nameof(Error))]
    public bool Success => Signature is not null;

    internal static SignatureParseResult Ok(ParsedSignature signature) => new(signature, null);

    internal static SignatureParseResult Fail(SignatureFailure failure, string reason) =>
        new(null, new SignatureError(failure, reason));
}

/// <summary>The outcome of <see cref="SignatureVerifier.Verify(ParsedSignature, IncomingRequest, VerificationKey, DateTimeOffset)"/>.</summary>
public sealed record VerificationResult(SignatureFailure Failure, string Reason)
{
    /// <summary>The single successful result.</summary>
    public static VerificationResult Valid { get; } = new(SignatureFailure.None, "valid");

    /// <summary>True when the signature verified and every policy rule held.</summary>
    public bool IsValid => Failure == SignatureFailure.None;

    internal static VerificationResult Fail(SignatureFailure failure, string reason) => new(failure, reason);
}
