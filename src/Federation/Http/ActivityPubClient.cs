using System.Collections.Concurrent;
using System.Text.Json;
using Fellows.Federation.Signatures;
using Polly.CircuitBreaker;
using Polly.Timeout;

namespace Fellows.Federation.Http;

/// <summary>
/// Fetches ActivityPub objects and delivers activities to inboxes: signs (with the double-knock
/// between signature schemes), limits size, verifies what came back, and guards each host with
/// a timeout, a circuit breaker and, for GETs, a small retry.
/// </summary>
/// <remarks>Thread-safe; keep one per process.</remarks>
public sealed partial class ActivityPubClient
{
    /// <summary>What we ask for on a fetch: both media types the ActivityPub spec allows.</summary>
    public const string AcceptHeader =
        "application/activity+json, application/ld+json; profile=\"https://www.w3.org/ns/activitystreams\"";

    private readonly HttpClient _http;
    private readonly FederationHttpOptions _options;
    private readonly TimeProvider _time;
    private readonly ISignatureSchemePreferences _schemes;
    private readonly ConcurrentDictionary<string, HostPipelines> _pipelines = new(StringComparer.OrdinalIgnoreCase);

    /// <summary>Creates a client on <paramref name="http"/>, which should be built on <see cref="FederationHttp.CreateHandler"/>.</summary>
    public ActivityPubClient(
        HttpClient http,
        FederationHttpOptions options,
        TimeProvider timeProvider,
        ISignatureSchemePreferences schemes)
    {
        ArgumentNullException.ThrowIfNull(http);
        ArgumentNullException.ThrowIfNull(options);
        ArgumentNullException.ThrowIfNull(timeProvider);
        ArgumentNullException.ThrowIfNull(schemes);
        var errors = options.Validate();
        if (errors.Count > 0)
        {
            throw new ArgumentException(string.Join(" ", errors), nameof(options));
        }

        _http = http;
        _options = options;
        _time = timeProvider;
        _schemes = schemes;
    }

    /// <summary>
    /// The key under which hosts are remembered (scheme preference, circuit breaker):
    /// the host in lower case, with <c>:port</c> when the port is not the scheme's default.
    /// </summary>
    public static string HostKey(Uri uri)
    {
        ArgumentNullException.ThrowIfNull(uri);
        var host = uri.IdnHost.ToLowerInvariant();
        return uri.IsDefaultPort ? host : $"{host}:{uri.Port}";
    }

    /// <summary>True while the circuit breaker of <paramref name="host"/> (a <see cref="HostKey"/>) is open.</summary>
    public bool IsCircuitOpen(string host) =>
        _pipelines.TryGetValue(host, out var pipelines) && pipelines.IsCircuitOpen;

    /// <summary>
    /// GETs the object <paramref name="id"/> and returns it only if it really is that object:
    /// an ActivityStreams media type, at most <see cref="FederationHttpOptions.MaxResponseBytes"/>,
    /// and a top-level <c>id</c> equal to the one asked for.
    /// </summary>
    /// <param name="id">The object id to fetch (http or https).</param>
    /// <param name="signer">Signs the GET (authorized fetch); null to fetch anonymously.</param>
    /// <param name="ct">Cancels the fetch; cancellation is thrown, not returned.</param>
    /// <remarks>
    /// When the document names a different id on the same origin (a canonical URL), that id is fetched
    /// once and must then match exactly; an id on another origin is refused, because a server may only
    /// speak for its own origin (FEP-fe34). This and the strict media type are what Mastodon tightened for
    /// CVE-2024-23832, where an uploaded file could pose as another server's actor.
    /// </remarks>
    public async Task<FetchResult> FetchAsync(Uri id, IRequestSigner? signer, CancellationToken ct)
    {
        ArgumentNullException.ThrowIfNull(id);
        if (!IsHttp(id))
        {
            return FetchResult.Fail(FetchFailure.Malformed, $"Not an http(s) id: {id}");
        }

        var first = await FetchDocumentAsync(id, signer, ct).ConfigureAwait(false);
        if (first.Failure is not null)
        {
            return first.Failure;
        }

        var (document, documentId) = (first.Document!, first.DocumentId!);
        if (SameId(documentId, id))
        {
            return FetchResult.Ok(document, id);
        }

        document.Dispose();
        if (!SameOrigin(documentId, id))
        {
            return FetchResult.Fail(FetchFailure.IdMismatch, $"Fetched {id} but the document claims id {documentId} on another origin.");
        }

        // Same origin, other id: the server points at its canonical URL. Ask for that once, and this time insist.
        var second = await FetchDocumentAsync(documentId, signer, ct).ConfigureAwait(false);
        if (second.Failure is not null)
        {
            return second.Failure;
        }

        if (SameId(second.DocumentId!, documentId))
        {
            return FetchResult.Ok(second.Document!, documentId);
        }

        second.Document!.Dispose();
        return FetchResult.Fail(FetchFailure.IdMismatch, $"Fetched {documentId} (named by {id}) but the document claims id {second.DocumentId}.");
    }

    /// <summary>
    /// POSTs <paramref name="body"/> (an activity) to <paramref name="inbox"/>, signed, once, and says
    /// whether the delivery queue should retry. Never retries itself.
    /// </summary>
    /// <param name="inbox">The inbox or shared inbox URL.</param>
    /// <param name="body">The serialized activity, exactly as signed.</param>
    /// <param name="signer">Signs on behalf of the sending actor.</param>
    /// <param name="ct">Cancels the delivery; cancellation is thrown, not returned.</param>
    public async Task<DeliveryResult> PostAsync(Uri inbox, ReadOnlyMemory<byte> body, IRequestSigner signer, CancellationToken ct)
    {
        ArgumentNullException.ThrowIfNull(inbox);
        ArgumentNullException.ThrowIfNull(signer);
        if (!IsHttp(inbox))
        {
            return new DeliveryResult(DeliveryOutcome.Permanent, null, null, null, $"Not an http(s) inbox: {inbox}");
        }

        SignatureScheme? scheme = null;
        try
        {
            var (answer, used) = await KnockAsync(HttpMethod.Post, inbox, body, signer, null, ct).ConfigureAwait(false);
            scheme = used;
            return ClassifyDelivery(answer, used);
        }
        catch (Exception e) when (!ct.IsCancellationRequested && TransportFailure(e) is { } failure)
        {
            var outcome = failure.Kind == FetchFailure.BlockedAddress ? DeliveryOutcome.Permanent : DeliveryOutcome.Retryable;
            return new DeliveryResult(outcome, null, (e as BrokenCircuitException)?.RetryAfter, scheme, failure.Message)
            {
                BlockedAddress = failure.Kind == FetchFailure.BlockedAddress,
                CircuitOpen = failure.Kind == FetchFailure.CircuitOpen,
            };
        }
    }

    private static DeliveryResult ClassifyDelivery(HttpAnswer answer, SignatureScheme? scheme)
    {
        var code = answer.Code;
        var (outcome, why) = code switch
        {
            >= 200 and <= 299 => (DeliveryOutcome.Delivered, "delivered"),
            408 or 429 => (DeliveryOutcome.Retryable, "remote asked us to come back later"),
            >= 500 => (DeliveryOutcome.Retryable, "remote server error"),
            // Redirects are not followed for deliveries: the signature and Digest were made for this
            // inbox, and an inbox that moved is learnt by refetching the actor, not by chasing Location.
            >= 300 and <= 399 => (DeliveryOutcome.Permanent, "inbox redirected"),
            _ => (DeliveryOutcome.Permanent, "remote refused the activity"),
        };
        return new DeliveryResult(outcome, code, answer.RetryAfter, scheme, $"{code}: {why}");
    }

    private readonly record struct Fetched(FetchResult? Failure, JsonDocument? Document, Uri? DocumentId);

    /// <summary>GET with redirects, then media type, size, JSON and origin checks; does not compare ids.</summary>
    private async Task<Fetched> FetchDocumentAsync(Uri id, IRequestSigner? signer, CancellationToken ct)
    {
        HttpAnswer answer;
        Uri final;
        try
        {
            (answer, final) = await GetFollowingRedirectsAsync(id, signer, IsActivityJson, AcceptHeader, ct).ConfigureAwait(false);
        }
        catch (Exception e) when (!ct.IsCancellationRequested && TransportFailure(e) is { } failure)
        {
            return new Fetched(FetchResult.Fail(failure.Kind, failure.Message), null, null);
        }

        if (FailureOf(answer, final, IsActivityJson) is { } error)
        {
            return new Fetched(error, null, null);
        }

        JsonDocument document;
        try
        {
            document = JsonDocument.Parse(answer.Body, new JsonDocumentOptions { MaxDepth = _options.MaxJsonDepth });
        }
        catch (JsonException e)
        {
            return new Fetched(FetchResult.Fail(FetchFailure.Malformed, $"{final}: invalid JSON: {e.Message}", answer.Code), null, null);
        }

        if (document.RootElement.ValueKind != JsonValueKind.Object
            || !document.RootElement.TryGetProperty("id", out var idElement)
            || idElement.ValueKind != JsonValueKind.String
            || !Uri.TryCreate(idElement.GetString(), UriKind.Absolute, out var documentId)
            || !IsHttp(documentId))
        {
            document.Dispose();
            return new Fetched(FetchResult.Fail(FetchFailure.Malformed, $"{final}: no top-level http(s) id.", answer.Code), null, null);
        }

        // Whatever answered last speaks only for its own origin: a redirect to another host cannot
        // deliver a document that claims an id on the original host.
        if (!SameOrigin(documentId, final))
        {
            document.Dispose();
            return new Fetched(
                FetchResult.Fail(FetchFailure.IdMismatch, $"{final} served a document claiming id {documentId} on another origin.", answer.Code),
                null,
                null);
        }

        return new Fetched(null, document, documentId);
    }

    /// <summary>Turns a non-usable answer into a fetch failure; null when the body is there to parse.</summary>
    internal static FetchResult? FailureOf(HttpAnswer answer, Uri final, Func<string?, bool> acceptMediaType)
    {
        var code = answer.Code;
        if (!answer.IsSuccess)
        {
            return code switch
            {
                404 => FetchResult.Fail(FetchFailure.NotFound, $"{final}: not found.", code),
                410 => FetchResult.Fail(FetchFailure.Gone, $"{final}: gone.", code),
                401 or 403 => FetchResult.Fail(FetchFailure.Unauthorized, $"{final}: refused ({code}).", code),
                _ when answer.IsRedirect => FetchResult.Fail(FetchFailure.Malformed, $"{final}: redirect without usable Location, or too many redirects.", code),
                _ => FetchResult.Fail(FetchFailure.HttpError, $"{final}: HTTP {code}.", code),
            };
        }

        if (!acceptMediaType(answer.MediaType))
        {
            return FetchResult.Fail(FetchFailure.NotActivityJson, $"{final}: unexpected content type '{answer.MediaType}'.", code);
        }

        if (answer.TooLarge || answer.Body is null)
        {
            return FetchResult.Fail(FetchFailure.TooLarge, $"{final}: body larger than the limit.", code);
        }

        return null;
    }

    internal readonly record struct Transport(FetchFailure Kind, string Message);

    /// <summary>Maps what the handler and the pipelines throw to a failure kind; null for anything unexpected (rethrown).</summary>
    internal static Transport? TransportFailure(Exception e) => e switch
    {
        BrokenCircuitException b => new Transport(FetchFailure.CircuitOpen, $"Circuit open: {b.Message}"),
        TimeoutRejectedException => new Transport(FetchFailure.Timeout, "Timed out."),
        HttpRequestException h when BlockedAddressException.IsCause(h) => new Transport(FetchFailure.BlockedAddress, h.InnerException?.Message ?? h.Message),
        HttpRequestException h => new Transport(FetchFailure.Unreachable, h.Message),
        // A client-wide HttpClient.Timeout or the connect timeout; the caller's own token was not cancelled.
        OperationCanceledException => new Transport(FetchFailure.Timeout, "Timed out."),
        IOException io => new Transport(FetchFailure.Unreachable, io.Message),
        _ => null,
    };

    /// <summary>
    /// <c>application/activity+json</c>, or <c>application/ld+json</c> with any profile. Refusing plain
    /// JSON and HTML is the point: servers let users upload files, and those must not pass as objects.
    /// </summary>
    internal static bool IsActivityJson(string? mediaType) =>
        string.Equals(mediaType, "application/activity+json", StringComparison.OrdinalIgnoreCase)
        || string.Equals(mediaType, "application/ld+json", StringComparison.OrdinalIgnoreCase);

    private static bool IsHttp(Uri uri) =>
        uri.IsAbsoluteUri && (uri.Scheme == Uri.UriSchemeHttps || uri.Scheme == Uri.UriSchemeHttp);

    private static bool SameId(Uri a, Uri b) => string.Equals(a.AbsoluteUri, b.AbsoluteUri, StringComparison.Ordinal);

    private static bool SameOrigin(Uri a, Uri b) =>
        string.Equals(a.Scheme, b.Scheme, StringComparison.OrdinalIgnoreCase)
        && string.Equals(HostKey(a), HostKey(b), StringComparison.OrdinalIgnoreCase);
}
