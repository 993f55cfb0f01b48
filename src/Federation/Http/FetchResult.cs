using System.Diagnostics.CodeAnalysis;
using System.Text.Json;

namespace Fellows.Federation.Http;

/// <summary>Why a fetch produced no document.</summary>
public enum FetchFailure
{
    /// <summary>404: the object does not exist (or is hidden from us).</summary>
    NotFound,

    /// <summary>410: the object was deleted; callers treat it as a tombstone.</summary>
    Gone,

    /// <summary>401 or 403 even after both signature schemes were tried.</summary>
    Unauthorized,

    /// <summary>The host resolved only to addresses we refuse to connect to (SSRF protection).</summary>
    BlockedAddress,

    /// <summary>The body was larger than <see cref="FederationHttpOptions.MaxResponseBytes"/>.</summary>
    TooLarge,

    /// <summary>The response was not <c>application/activity+json</c> or <c>application/ld+json</c>.</summary>
    NotActivityJson,

    /// <summary>The document's <c>id</c> does not match the URL it was fetched from.</summary>
    IdMismatch,

    /// <summary>The body was not a JSON object with a string <c>id</c>, was too deep, or the redirect chain was unusable.</summary>
    Malformed,

    /// <summary>The host did not answer in time.</summary>
    Timeout,

    /// <summary>Any other non-success status; see <see cref="FetchResult.StatusCode"/>.</summary>
    HttpError,

    /// <summary>The host's circuit breaker is open after repeated failures; nothing was sent.</summary>
    CircuitOpen,

    /// <summary>DNS failure, connection refused or reset, TLS failure.</summary>
    Unreachable,
}

/// <summary>
/// The outcome of <see cref="ActivityPubClient.FetchAsync"/>: a parsed document whose id was
/// verified against where it came from, or a failure kind. Dispose it to release the document.
/// </summary>
public sealed class FetchResult : IDisposable
{
    private FetchResult(JsonDocument? document, Uri? finalUri, FetchFailure? failure, int? statusCode, string message)
    {
        Document = document;
        FinalUri = finalUri;
        Failure = failure;
        StatusCode = statusCode;
        Message = message;
    }

    /// <summary>True when <see cref="Document"/> and <see cref="FinalUri"/> are set.</summary>
    [MemberNotNullWhen(true, nameof(Document), nameof(FinalUri))]
    [MemberNotNullWhen(false, nameof(Failure))]
    public bool IsOk => Document is not null;

    /// <summary>The fetched document; its top-level <c>id</c> equals <see cref="FinalUri"/>.</summary>
    public JsonDocument? Document { get; }

    /// <summary>The id the document was verified against (the requested id, or a same-host id it pointed to).</summary>
    public Uri? FinalUri { get; }

    /// <summary>Why there is no document.</summary>
    public FetchFailure? Failure { get; }

    /// <summary>The HTTP status of the last answer, when there was one.</summary>
    public int? StatusCode { get; }

    /// <summary>Human-readable detail for logs.</summary>
    public string Message { get; }

    /// <summary>A verified document.</summary>
    public static FetchResult Ok(JsonDocument document, Uri finalUri) =>
        new(document, finalUri, null, 200, "OK");

    /// <summary>A failure of <paramref name="kind"/>.</summary>
    public static FetchResult Fail(FetchFailure kind, string message, int? statusCode = null) =>
        new(null, null, kind, statusCode, message);

    /// <inheritdoc />
    public void Dispose() => Document?.Dispose();

    /// <inheritdoc />
    public override string ToString() => IsOk ? $"Ok {FinalUri}" : $"{Failure} ({StatusCode}): {Message}";
}
