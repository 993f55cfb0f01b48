using System.Text.Json;

namespace Fellows.Federation.Http;

/// <summary>Why a handle could not be resolved.</summary>
public enum WebFingerFailure
{
    /// <summary>Not of the form <c>user@host</c> or <c>acct:user@host</c>.</summary>
    InvalidHandle,

    /// <summary>The host does not know the account (404 or 410).</summary>
    NotFound,

    /// <summary>Transport or HTTP failure; see <see cref="WebFingerResult.Transport"/>.</summary>
    Unreachable,

    /// <summary>The answer was not a JRD document.</summary>
    Malformed,

    /// <summary>The subject's own host does not confirm the subject the queried host named.</summary>
    SubjectMismatch,

    /// <summary>No <c>self</c> link of an ActivityStreams media type.</summary>
    NoActorLink,
}

/// <summary>The outcome of <see cref="WebFingerClient.ResolveAsync"/>.</summary>
public sealed record WebFingerResult
{
    /// <summary>True when <see cref="ActorId"/> and <see cref="Subject"/> are set.</summary>
    [System.Diagnostics.CodeAnalysis.MemberNotNullWhen(true, nameof(ActorId), nameof(Subject))]
    public bool IsOk => ActorId is not null && Subject is not null;

    /// <summary>The canonical <c>acct:</c> URI, confirmed by its own host; may differ from the handle asked for.</summary>
    public string? Subject { get; init; }

    /// <summary>The actor id from the <c>self</c> link.</summary>
    public Uri? ActorId { get; init; }

    /// <summary>The <c>aliases</c> of the final answer (often the actor id and profile page).</summary>
    public IReadOnlyList<string> Aliases { get; init; } = [];

    /// <summary>Why resolution failed.</summary>
    public WebFingerFailure? Failure { get; init; }

    /// <summary>The underlying fetch failure when <see cref="Failure"/> is <see cref="WebFingerFailure.Unreachable"/> or <see cref="WebFingerFailure.NotFound"/>.</summary>
    public FetchFailure? Transport { get; init; }

    /// <summary>Detail for logs.</summary>
    public string Message { get; init; } = "";

    internal static WebFingerResult Fail(WebFingerFailure failure, string message, FetchFailure? transport = null) =>
        new() { Failure = failure, Message = message, Transport = transport };
}

/// <summary>
/// Resolves <c>user@host</c> handles to actor ids with WebFinger (RFC 7033), through the same
/// SSRF-safe transport, per-host circuit breakers and size limit as <see cref="ActivityPubClient"/>.
/// </summary>
public sealed class WebFingerClient
{
    private const string JrdAccept = "application/jrd+json, application/json;q=0.9";

    private readonly ActivityPubClient _client;
    private readonly Func<string, string> _schemeForHost;

    /// <summary>Creates a client.</summary>
    /// <param name="client">Transport to send the queries through.</param>
    /// <param name="schemeForHost">URL scheme for a host's WebFinger endpoint; https when null. Tests use http.</param>
    public WebFingerClient(ActivityPubClient client, Func<string, string>? schemeForHost = null)
    {
        ArgumentNullException.ThrowIfNull(client);
        _client = client;
        _schemeForHost = schemeForHost ?? (_ => Uri.UriSchemeHttps);
    }

    /// <summary>Resolves <paramref name="handle"/> (<c>user@host</c>, <c>@user@host</c> or <c>acct:user@host</c>) to an actor id.</summary>
    /// <remarks>
    /// The account's domain may differ from the domain that serves it (alice@example.com living on
    /// social.example.com). So, as Mastodon does, when the answer's subject is not the handle we asked for,
    /// we ask the subject's own host about the subject and accept it only if that host names the same
    /// subject. One step only: a second differing subject is refused, so hosts cannot bounce us around.
    /// </remarks>
    public async Task<WebFingerResult> ResolveAsync(string handle, CancellationToken ct)
    {
        if (ParseAcct(handle) is not { } asked)
        {
            return WebFingerResult.Fail(WebFingerFailure.InvalidHandle, $"Not a user@host handle: '{handle}'.");
        }

        var first = await QueryAsync(asked, ct).ConfigureAwait(false);
        if (!first.IsOk || string.Equals(first.Subject, asked.Subject, StringComparison.OrdinalIgnoreCase))
        {
            return first;
        }

        if (ParseAcct(first.Subject) is not { } named)
        {
            return WebFingerResult.Fail(WebFingerFailure.SubjectMismatch, $"{asked.Host} named an unusable subject '{first.Subject}'.");
        }

        var confirmed = await QueryAsync(named, ct).ConfigureAwait(false);
        if (!confirmed.IsOk)
        {
            return confirmed.Failure == WebFingerFailure.NotFound
                ? WebFingerResult.Fail(WebFingerFailure.SubjectMismatch, $"{named.Host} does not know {named.Subject}, named by {asked.Host}.", confirmed.Transport)
                : confirmed;
        }

        if (!string.Equals(confirmed.Subject, named.Subject, StringComparison.OrdinalIgnoreCase))
        {
            return WebFingerResult.Fail(
                WebFingerFailure.SubjectMismatch,
                $"{asked.Host} named {named.Subject}, but {named.Host} calls it {confirmed.Subject}.");
        }

        return confirmed;
    }

    private sealed record Acct(string User, string Host)
    {
        public string Subject => $"acct:{User}@{Host}";
    }

    private static Acct? ParseAcct(string? handle)
    {
        if (string.IsNullOrWhiteSpace(handle))
        {
            return null;
        }

        var text = handle.Trim();
        if (text.StartsWith("acct:", StringComparison.OrdinalIgnoreCase))
        {
            text = text[5..];
        }

        text = text.TrimStart('@');
        var at = text.LastIndexOf('@');
        if (at <= 0 || at == text.Length - 1)
        {
            return null;
        }

        var user = text[..at];
        var host = text[(at + 1)..].ToLowerInvariant();
        // The host becomes part of a URL: refuse anything that could change its meaning.
        if (user.Contains('@', StringComparison.Ordinal)
            || host.IndexOfAny(['/', '?', '#', '@', '\\', ' ']) >= 0
            || (Uri.CheckHostName(host.Split(':')[0]) == UriHostNameType.Unknown && !host.StartsWith('[')))
        {
            return null;
        }

        return new Acct(user, host);
    }

    private async Task<WebFingerResult> QueryAsync(Acct acct, CancellationToken ct)
    {
        if (!Uri.TryCreate(
                $"{_schemeForHost(acct.Host)}://{acct.Host}/.well-known/webfinger?resource={Uri.EscapeDataString(acct.Subject)}",
                UriKind.Absolute,
                out var url))
        {
            return WebFingerResult.Fail(WebFingerFailure.InvalidHandle, $"No WebFinger URL for host '{acct.Host}'.");
        }

        HttpAnswer answer;
        Uri final;
        try
        {
            (answer, final) = await _client.GetFollowingRedirectsAsync(url, null, IsJson, JrdAccept, ct).ConfigureAwait(false);
        }
        catch (Exception e) when (!ct.IsCancellationRequested && ActivityPubClient.TransportFailure(e) is { } failure)
        {
            return WebFingerResult.Fail(WebFingerFailure.Unreachable, $"{url}: {failure.Message}", failure.Kind);
        }

        if (ActivityPubClient.FailureOf(answer, final, IsJson) is { } error)
        {
            using (error)
            {
                var kind = error.Failure is FetchFailure.NotFound or FetchFailure.Gone
                    ? WebFingerFailure.NotFound
                    : error.Failure is FetchFailure.NotActivityJson ? WebFingerFailure.Malformed : WebFingerFailure.Unreachable;
                return WebFingerResult.Fail(kind, error.Message, error.Failure);
            }
        }

        try
        {
            using var jrd = JsonDocument.Parse(answer.Body, new JsonDocumentOptions { MaxDepth = 16 });
            return Read(jrd.RootElement, final);
        }
        catch (JsonException e)
        {
            return WebFingerResult.Fail(WebFingerFailure.Malformed, $"{final}: invalid JSON: {e.Message}");
        }
    }

    private static WebFingerResult Read(JsonElement root, Uri from)
    {
        if (root.ValueKind != JsonValueKind.Object
            || !root.TryGetProperty("subject", out var subjectElement)
            || subjectElement.ValueKind != JsonValueKind.String)
        {
            return WebFingerResult.Fail(WebFingerFailure.Malformed, $"{from}: JRD without a subject.");
        }

        var aliases = new List<string>();
        if (root.TryGetProperty("aliases", out var aliasArray) && aliasArray.ValueKind == JsonValueKind.Array)
        {
            aliases.AddRange(aliasArray.EnumerateArray()
                .Where(a => a.ValueKind == JsonValueKind.String)
                .Select(a => a.GetString()!));
        }

        Uri? actor = null;
        if (root.TryGetProperty("links", out var links) && links.ValueKind == JsonValueKind.Array)
        {
            foreach (var link in links.EnumerateArray())
            {
                if (link.ValueKind == JsonValueKind.Object
                    && Text(link, "rel") == "self"
                    && IsActivityType(Text(link, "type"))
                    && Uri.TryCreate(Text(link, "href"), UriKind.Absolute, out var href)
                    && (href.Scheme == Uri.UriSchemeHttps || href.Scheme == Uri.UriSchemeHttp))
                {
                    actor = href;
                    break;
                }
            }
        }

        var subject = subjectElement.GetString()!;
        if (actor is null)
        {
            return WebFingerResult.Fail(WebFingerFailure.NoActorLink, $"{from}: no ActivityPub self link for {subject}.");
        }

        return new WebFingerResult { Subject = subject, ActorId = actor, Aliases = aliases, Message = "OK" };
    }

    private static string? Text(JsonElement element, string name) =>
        element.TryGetProperty(name, out var value) && value.ValueKind == JsonValueKind.String ? value.GetString() : null;

    // The link type may carry parameters: application/ld+json; profile="https://www.w3.org/ns/activitystreams".
    private static bool IsActivityType(string? type) =>
        type is not null && ActivityPubClient.IsActivityJson(type.Split(';')[0].Trim());

    private static bool IsJson(string? mediaType) =>
        mediaType is not null
        && (mediaType.Equals("application/jrd+json", StringComparison.OrdinalIgnoreCase)
            || mediaType.Equals("application/json", StringComparison.OrdinalIgnoreCase));
}
