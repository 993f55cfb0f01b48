using System.Buffers;
using System.Net.Http.Headers;
using Fellows.Federation.Signatures;

namespace Fellows.Federation.Http;

public sealed partial class ActivityPubClient
{
    /// <summary>
    /// GET <paramref name="uri"/>, following up to <see cref="FederationHttpOptions.MaxRedirects"/> redirects
    /// ourselves so each hop goes through its own host's pipeline and gets its own signature
    /// (a signature covers the target, so the first hop's would be wrong, and would leak, elsewhere).
    /// </summary>
    internal async Task<(HttpAnswer Answer, Uri Final)> GetFollowingRedirectsAsync(
        Uri uri,
        IRequestSigner? signer,
        Func<string?, bool> acceptMediaType,
        string accept,
        CancellationToken ct)
    {
        for (var hop = 0; ; hop++)
        {
            var (answer, _) = await KnockAsync(HttpMethod.Get, uri, ReadOnlyMemory<byte>.Empty, signer, (acceptMediaType, accept), ct)
                .ConfigureAwait(false);
            if (!answer.IsRedirect || answer.Location is null || hop >= _options.MaxRedirects)
            {
                return (answer, uri);
            }

            var next = answer.Location.IsAbsoluteUri ? answer.Location : new Uri(uri, answer.Location);
            if (!IsHttp(next))
            {
                return (answer with { Location = null }, uri);
            }

            uri = next;
        }
    }

    /// <summary>
    /// Sends once, or twice when the host refuses our signature scheme: the double-knock. The scheme that
    /// worked is remembered per host, so the next request to it knocks once.
    /// </summary>
    /// <remarks>
    /// Knock again on 401 and 400 (how servers say "signature missing or unreadable"). For GETs also on 403:
    /// a second GET is harmless and some servers answer 403 to a signature they cannot parse. Not for POSTs,
    /// where 403 usually means we are blocked, and sending the activity again would only add load.
    /// </remarks>
    private async Task<(HttpAnswer Answer, SignatureScheme? Scheme)> KnockAsync(
        HttpMethod method,
        Uri uri,
        ReadOnlyMemory<byte> body,
        IRequestSigner? signer,
        (Func<string?, bool> AcceptMediaType, string Accept)? read,
        CancellationToken ct)
    {
        var host = HostKey(uri);
        var pipelines = _pipelines.GetOrAdd(host, _ => new HostPipelines(_options, _time));
        var pipeline = method == HttpMethod.Get ? pipelines.Fetch : pipelines.Post;

        if (signer is null)
        {
            var unsigned = await pipeline.ExecuteAsync(
                    (state, token) => SendOnceAsync(state.method, state.uri, state.body, null, default, state.read, token),
                    (method, uri, body, read),
                    ct)
                .ConfigureAwait(false);
            return (unsigned, null);
        }

        var first = _schemes.Get(host) ?? _options.DefaultSignatureScheme;
        var answer = await SendSignedAsync(pipeline, method, uri, body, signer, first, read, ct).ConfigureAwait(false);
        var used = first;

        var refused = answer.Code is 400 or 401 || (answer.Code == 403 && method == HttpMethod.Get);
        if (refused)
        {
            used = first == SignatureScheme.Rfc9421 ? SignatureScheme.Cavage : SignatureScheme.Rfc9421;
            answer = await SendSignedAsync(pipeline, method, uri, body, signer, used, read, ct).ConfigureAwait(false);
        }

        if (answer.IsSuccess)
        {
            _schemes.Remember(host, used);
        }

        return (answer, used);
    }

    private ValueTask<HttpAnswer> SendSignedAsync(
        Polly.ResiliencePipeline<HttpAnswer> pipeline,
        HttpMethod method,
        Uri uri,
        ReadOnlyMemory<byte> body,
        IRequestSigner signer,
        SignatureScheme scheme,
        (Func<string?, bool> AcceptMediaType, string Accept)? read,
        CancellationToken ct) =>
        pipeline.ExecuteAsync(
            (state, token) => SendOnceAsync(state.method, state.uri, state.body, state.signer, state.scheme, state.read, token),
            (method, uri, body, signer, scheme, read),
            ct);

    /// <summary>
    /// One request. The body is read here, inside the pipeline's timeout, and only when it is wanted
    /// (a 2xx of an acceptable media type), so a slow or endless body cannot outlive the timeout.
    /// </summary>
    private async ValueTask<HttpAnswer> SendOnceAsync(
        HttpMethod method,
        Uri uri,
        ReadOnlyMemory<byte> body,
        IRequestSigner? signer,
        SignatureScheme scheme,
        (Func<string?, bool> AcceptMediaType, string Accept)? read,
        CancellationToken ct)
    {
        using var request = new HttpRequestMessage(method, uri);
        if (_http.DefaultRequestHeaders.UserAgent.Count == 0)
        {
            request.Headers.TryAddWithoutValidation("User-Agent", _options.UserAgent);
        }

        request.Headers.TryAddWithoutValidation("Accept", read?.Accept ?? AcceptHeader);
        if (method != HttpMethod.Get)
        {
            request.Content = new ReadOnlyMemoryContent(body);
            request.Content.Headers.ContentType = new MediaTypeHeaderValue("application/activity+json");
        }

        signer?.Sign(request, body.Span, scheme);

        using var response = await _http.SendAsync(request, HttpCompletionOption.ResponseHeadersRead, ct).ConfigureAwait(false);
        var mediaType = response.Content.Headers.ContentType?.MediaType;
        byte[]? bytes = null;
        var tooLarge = false;
        if (read is { } wanted && response.IsSuccessStatusCode && wanted.AcceptMediaType(mediaType))
        {
            bytes = await ReadCappedAsync(response.Content, _options.MaxResponseBytes, ct).ConfigureAwait(false);
            tooLarge = bytes is null;
        }

        return new HttpAnswer(response.StatusCode, mediaType, response.Headers.Location, RetryAfter(response), bytes, tooLarge);
    }

    private TimeSpan? RetryAfter(HttpResponseMessage response)
    {
        var header = response.Headers.RetryAfter;
        if (header?.Delta is { } delta)
        {
            return delta;
        }

        if (header?.Date is { } date)
        {
            var wait = date - _time.GetUtcNow();
            return wait > TimeSpan.Zero ? wait : TimeSpan.Zero;
        }

        return null;
    }

    /// <summary>
    /// Reads at most <paramref name="limit"/> bytes; null when there is more. Counts what is actually
    /// read (after decompression), since Content-Length may be absent (chunked) or a lie.
    /// </summary>
    internal static async Task<byte[]?> ReadCappedAsync(HttpContent content, long limit, CancellationToken ct)
    {
        if (content.Headers.ContentLength > limit)
        {
            return null;
        }

        var stream = await content.ReadAsStreamAsync(ct).ConfigureAwait(false);
        await using (stream.ConfigureAwait(false))
        {
            using var buffer = new MemoryStream();
            var chunk = ArrayPool<byte>.Shared.Rent(16 * 1024);
            try
            {
                int read;
                while ((read = await stream.ReadAsync(chunk, ct).ConfigureAwait(false)) > 0)
                {
                    if (buffer.Length + read > limit)
                    {
                        return null;
                    }

                    buffer.Write(chunk, 0, read);
                }
            }
            finally
            {
                ArrayPool<byte>.Shared.Return(chunk);
            }

            return buffer.ToArray();
        }
    }
}
