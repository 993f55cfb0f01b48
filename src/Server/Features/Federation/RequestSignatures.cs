using Fellows.Federation.Signatures;
using Fellows.Server.Configuration;
using Microsoft.AspNetCore.Http.Features;

namespace Fellows.Server.Features.Federation;

/// <summary>The outcome of checking an incoming request's HTTP signature.</summary>
public sealed record SignatureCheck
{
    /// <summary>The verified key; its <see cref="VerificationKey.OwnerId"/> is who signed.</summary>
    public VerificationKey? Key { get; init; }

    /// <summary>The key id the request named, even when it could not be verified.</summary>
    public string? KeyId { get; init; }

    /// <summary>No <c>Signature</c> or <c>Signature-Input</c> header at all.</summary>
    public bool Unsigned { get; init; }

    /// <summary>The signature parsed but its key could not be had (actor gone or unreachable).</summary>
    public bool KeyUnavailable { get; init; }

    /// <summary>Why verification failed, for a 401 body; null when verified.</summary>
    public string? Failure { get; init; }

    public bool IsVerified => Key is not null;
}

/// <summary>
/// Verifies HTTP signatures on incoming requests (inbox POSTs and signed GETs) in either format: parse, find the
/// key (fetching its actor when unknown), verify against the wall clock, and on a bad signature refetch the key
/// once in case its actor rotated it.
/// </summary>
public sealed class RequestSignatures(RemoteActors actors, InstanceUrls urls)
{
    /// <summary>The request as the signature library sees it, with the URL as the public sees this server.</summary>
    public IncomingRequest Describe(HttpContext context, ReadOnlyMemory<byte> body = default)
    {
        var headers = context.Request.Headers;
        return new IncomingRequest(context.Request.Method,
            new Uri(urls.Base + context.Request.Path + context.Request.QueryString),
            HeaderLookup.FromFunc(name => headers.TryGetValue(name, out var value) ? value.ToString() : null), body)
        {
            RawPathAndQuery = context.Features.Get<IHttpRequestFeature>()?.RawTarget,
        };
    }

    public static bool IsSigned(HttpRequest request) =>
        request.Headers.ContainsKey("Signature") || request.Headers.ContainsKey("Signature-Input");

    /// <summary>Checks the signature of <paramref name="request"/>.</summary>
    public async Task<SignatureCheck> VerifyAsync(IncomingRequest request, CancellationToken ct)
    {
        var parsed = SignatureParser.TryParse(request);
        if (!parsed.Success)
            return new SignatureCheck
            {
                Unsigned = request.Headers["Signature"] is null && request.Headers["Signature-Input"] is null,
                Failure = parsed.Error!.Reason,
            };
        var keyId = parsed.Signature!.KeyId;
        var key = await actors.GetKeyAsync(keyId, refresh: false, ct);
        if (key is null) return new SignatureCheck { KeyId = keyId, KeyUnavailable = true, Failure = "signing key could not be fetched" };

        // Signature dates are checked against the wall clock, whatever clock drives the rest of the server.
        var wallClock = TimeProvider.System.GetUtcNow();
        var verification = SignatureVerifier.Verify(parsed.Signature, request, key, wallClock);
        if (!verification.IsValid && verification.Failure == SignatureFailure.BadSignature
            && await actors.GetKeyAsync(keyId, refresh: true, ct) is { } refreshed)
        {
            key = refreshed;
            verification = SignatureVerifier.Verify(parsed.Signature, request, key, wallClock);
        }
        return verification.IsValid
            ? new SignatureCheck { Key = key, KeyId = keyId }
            : new SignatureCheck { KeyId = keyId, Failure = verification.Reason };
    }
}
