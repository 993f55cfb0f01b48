using System.Globalization;
using System.Security.Cryptography;

namespace Fellows.Federation.Signatures;

/// <summary>Policy for <see cref="SignatureVerifier"/>. The defaults are what Fellows' inbox enforces.</summary>
public sealed record SignatureVerifierOptions
{
    /// <summary>The defaults.</summary>
    public static SignatureVerifierOptions Default { get; } = new();

    /// <summary>
    /// How far the signed timestamp may be from now, either way. An hour matches Mastodon, which
    /// tolerates badly synchronised clocks while still bounding replays.
    /// </summary>
    public TimeSpan MaxClockSkew { get; init; } = TimeSpan.FromHours(1);

    /// <summary>Require the method and target to be covered, so a signature cannot be moved to another endpoint.</summary>
    public bool RequireTargetCoverage { get; init; } = true;

    /// <summary>Require host/@authority coverage, so a signature cannot be replayed against another server.</summary>
    public bool RequireHostCoverage { get; init; } = true;

    /// <summary>Require a covered, matching digest on requests with a body; without it the body is unsigned.</summary>
    public bool RequireBodyDigest { get; init; } = true;

    /// <summary>Shortest RSA modulus accepted.</summary>
    public int MinimumRsaKeyBits { get; init; } = 2048;
}

/// <summary>
/// Verifies a <see cref="ParsedSignature"/> against the request it came with and the sender's key:
/// algorithm against key type, coverage policy, timestamps, body digest, then the signature itself
/// (cheapest checks first, so junk costs little).
/// </summary>
public static class SignatureVerifier
{
    /// <summary>Verifies with <see cref="SignatureVerifierOptions.Default"/>.</summary>
    public static VerificationResult Verify(ParsedSignature signature, IncomingRequest request, VerificationKey key, DateTimeOffset now) =>
        Verify(signature, request, key, now, SignatureVerifierOptions.Default);

    /// <summary>Verifies with the given policy.</summary>
    public static VerificationResult Verify(ParsedSignature signature, IncomingRequest request, VerificationKey key, DateTimeOffset now, SignatureVerifierOptions options)
    {
        ArgumentNullException.ThrowIfNull(signature);
        ArgumentNullException.ThrowIfNull(request);
        ArgumentNullException.ThrowIfNull(key);
        ArgumentNullException.ThrowIfNull(options);

        if (!TryResolveAlgorithm(signature, key, out var algorithm, out var failure))
            return failure;
        if (key.KeyType == ActorKeyType.Rsa && key.RsaKeySizeBits < options.MinimumRsaKeyBits)
            return VerificationResult.Fail(SignatureFailure.KeyTooWeak, $"RSA key of {key.RsaKeySizeBits} bits is below {options.MinimumRsaKeyBits}");

        var cavage = signature.Scheme == SignatureScheme.Cavage;
        if (options.RequireTargetCoverage)
        {
            var covered = cavage
                ? signature.Covers("(request-target)")
                : signature.Covers("@method") && (signature.Covers("@target-uri") || signature.Covers("@path") || signature.Covers("@request-target"));
            if (!covered)
                return VerificationResult.Fail(SignatureFailure.TargetNotCovered, cavage ? "(request-target) not covered" : "@method and @target-uri/@path not covered");
        }

        if (options.RequireHostCoverage && !(signature.Covers("host") || signature.Covers("@authority") || signature.Covers("@target-uri")))
            return VerificationResult.Fail(SignatureFailure.HostNotCovered, "host/@authority not covered");

        var timeCheck = CheckTime(signature, request, now, options.MaxClockSkew);
        if (!timeCheck.IsValid)
            return timeCheck;

        var digestCheck = CheckDigests(signature, request, options.RequireBodyDigest);
        if (!digestCheck.IsValid)
            return digestCheck;

        return key.Verify(algorithm, signature.SignatureBase.Span, signature.Signature.Span)
            ? VerificationResult.Valid
            : VerificationResult.Fail(SignatureFailure.BadSignature, "signature does not verify with this key");
    }

    private static bool TryResolveAlgorithm(ParsedSignature signature, VerificationKey key, out ResolvedAlgorithm algorithm, out VerificationResult failure)
    {
        failure = VerificationResult.Valid;
        var rsa = key.KeyType == ActorKeyType.Rsa;
        // "hs2019" and a missing algorithm mean "ask the key". For RSA that is PKCS#1 v1.5 with
        // SHA-256, which is what Mastodon and everyone else signs with under hs2019.
        ResolvedAlgorithm? resolved = signature.Algorithm switch
        {
            null or "hs2019" => rsa ? ResolvedAlgorithm.RsaPkcs1Sha256 : ResolvedAlgorithm.Ed25519,
            "rsa-sha256" or "rsa-v1_5-sha256" => ResolvedAlgorithm.RsaPkcs1Sha256,
            "rsa-sha512" => ResolvedAlgorithm.RsaPkcs1Sha512,
            "rsa-pss-sha512" => ResolvedAlgorithm.RsaPssSha512,
            "ed25519" => ResolvedAlgorithm.Ed25519,
            _ => null,
        };
        algorithm = resolved.GetValueOrDefault();
        if (resolved is null)
        {
            failure = VerificationResult.Fail(SignatureFailure.UnsupportedAlgorithm, "algorithm not supported");
            return false;
        }

        // Never let the sender choose how our key is used: an RSA key only verifies RSA algorithms.
        if ((algorithm == ResolvedAlgorithm.Ed25519) == rsa)
        {
            failure = VerificationResult.Fail(SignatureFailure.AlgorithmKeyMismatch, $"algorithm '{signature.Algorithm}' does not fit a {key.KeyType} key");
            return false;
        }

        return true;
    }

    private static VerificationResult CheckTime(ParsedSignature signature, IncomingRequest request, DateTimeOffset now, TimeSpan skew)
    {
        if (signature.Expires is { } expires && expires < now)
            return VerificationResult.Fail(SignatureFailure.Expired, "signature has expired");

        DateTimeOffset signedAt;
        // The timestamp only counts if it is signed: cavage via (created) or a covered Date, RFC 9421
        // via the created parameter (always covered) or a covered Date.
        if (signature.Created is { } created && (signature.Scheme == SignatureScheme.Rfc9421 || signature.Covers("(created)")))
        {
            signedAt = created;
        }
        else if (signature.Covers("date"))
        {
            var date = request.Headers["Date"];
            if (date is null || !TryParseHttpDate(date, out signedAt))
                return VerificationResult.Fail(SignatureFailure.InvalidDate, "Date header is not an HTTP date");
        }
        else
        {
            return VerificationResult.Fail(SignatureFailure.DateNotCovered, "neither Date nor created is signed");
        }

        if (now - signedAt > skew)
            return VerificationResult.Fail(SignatureFailure.TooOld, $"signed at {signedAt:u}, more than {skew} ago");
        if (signedAt - now > skew)
            return VerificationResult.Fail(SignatureFailure.InTheFuture, $"signed at {signedAt:u}, more than {skew} ahead");
        return VerificationResult.Valid;
    }

    private static bool TryParseHttpDate(string value, out DateTimeOffset date) =>
        DateTimeOffset.TryParseExact(value.Trim(), "r", CultureInfo.InvariantCulture, DateTimeStyles.AssumeUniversal, out date) ||
        // Obsolete RFC 850 / asctime forms still turn up from old software.
        DateTimeOffset.TryParseExact(value.Trim(), ["dddd, dd-MMM-yy HH:mm:ss 'GMT'", "ddd MMM d HH:mm:ss yyyy"],
            CultureInfo.InvariantCulture, DateTimeStyles.AssumeUniversal | DateTimeStyles.AllowInnerWhite, out date);

    private static VerificationResult CheckDigests(ParsedSignature signature, IncomingRequest request, bool requireForBody)
    {
        var coversDigest = signature.Covers("digest");
        var coversContentDigest = signature.Covers("content-digest");
        if (!coversDigest && !coversContentDigest)
        {
            return requireForBody && !request.Body.IsEmpty
                ? VerificationResult.Fail(SignatureFailure.DigestNotCovered, "request has a body but no signed digest")
                : VerificationResult.Valid;
        }

        // Whatever digest is signed must match, body or not: a signed digest of other content is a lie.
        if (coversDigest)
        {
            var result = DigestHeader.Check(request.Headers["Digest"]!, request.Body.Span, DigestHeader.Format.Legacy);
            if (!result.IsValid)
                return result;
        }

        if (coversContentDigest)
        {
            var result = DigestHeader.Check(request.Headers["Content-Digest"]!, request.Body.Span, DigestHeader.Format.Rfc9530);
            if (!result.IsValid)
                return result;
        }

        return VerificationResult.Valid;
    }
}

/// <summary>Body digests: the legacy <c>Digest</c> header (RFC 3230) and RFC 9530 <c>Content-Digest</c>.</summary>
internal static class DigestHeader
{
    public enum Format
    {
        Legacy,
        Rfc9530,
    }

    public static string Sha256Legacy(ReadOnlySpan<byte> body) => "SHA-256=" + Convert.ToBase64String(SHA256.HashData(body));

    public static string Sha256ContentDigest(ReadOnlySpan<byte> body) => "sha-256=:" + Convert.ToBase64String(SHA256.HashData(body)) + ":";

    /// <summary>
    /// Every digest we understand must match and at least one must be present; digests in algorithms
    /// we do not know are ignored, as RFC 9530 asks.
    /// </summary>
    public static VerificationResult Check(string header, ReadOnlySpan<byte> body, Format format)
    {
        if (header.Length > SignatureParser.MaxHeaderLength)
            return VerificationResult.Fail(SignatureFailure.HeaderTooLarge, "digest header too large");

        var checkedAny = false;
        if (format == Format.Rfc9530)
        {
            if (!StructuredFieldParser.TryParseDictionary(header, out var members))
                return VerificationResult.Fail(SignatureFailure.MalformedHeader, "Content-Digest is not a structured-field dictionary");
            foreach (var member in members)
            {
                if (member.Item is not { Kind: SfKind.ByteSequence } item)
                    continue;
                var result = Compare(member.Key, item.Bytes!, body, ref checkedAny);
                if (!result.IsValid)
                    return result;
            }
        }
        else
        {
            foreach (var range in header.AsSpan().Split(','))
            {
                var part = header.AsSpan()[range].Trim(" \t");
                var eq = part.IndexOf('=');
                if (eq <= 0)
                    return VerificationResult.Fail(SignatureFailure.MalformedHeader, "Digest entry without '='");
                var algorithm = part[..eq].ToString().ToLowerInvariant();
                if (algorithm is not ("sha-256" or "sha-512"))
                    continue;
                var expected = new byte[64];
                if (!Convert.TryFromBase64Chars(part[(eq + 1)..], expected, out var written))
                    return VerificationResult.Fail(SignatureFailure.MalformedHeader, "Digest value is not base64");
                var result = Compare(algorithm, expected.AsSpan(0, written), body, ref checkedAny);
                if (!result.IsValid)
                    return result;
            }
        }

        return checkedAny
            ? VerificationResult.Valid
            : VerificationResult.Fail(SignatureFailure.UnsupportedDigest, "no SHA-256 or SHA-512 digest present");
    }

    private static VerificationResult Compare(string algorithm, ReadOnlySpan<byte> expected, ReadOnlySpan<byte> body, ref bool checkedAny)
    {
        Span<byte> actual = stackalloc byte[64];
        int length;
        switch (algorithm)
        {
            case "sha-256":
                length = SHA256.HashData(body, actual);
                break;
            case "sha-512":
                length = SHA512.HashData(body, actual);
                break;
            default:
                return VerificationResult.Valid;
        }

        checkedAny = true;
        return CryptographicOperations.FixedTimeEquals(actual[..length], expected)
            ? VerificationResult.Valid
            : VerificationResult.Fail(SignatureFailure.DigestMismatch, $"{algorithm} digest does not match the body");
    }
}
