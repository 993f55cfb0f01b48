using System.Globalization;
using System.Text;
using Fellows.Federation.Http;

namespace Fellows.Federation.Signatures;

/// <summary>
/// Signs outgoing requests with one actor's key, in the cavage profile Mastodon verifies or in
/// RFC 9421. Stateless apart from the key, so one instance can serve concurrent deliveries.
/// </summary>
public sealed class HttpMessageSigner : IRequestSigner
{
    private readonly SigningKey _key;
    private readonly TimeProvider _time;

    /// <summary>Creates a signer for <paramref name="key"/>, reading the clock from <paramref name="time"/>.</summary>
    public HttpMessageSigner(SigningKey key, TimeProvider time)
    {
        ArgumentNullException.ThrowIfNull(key);
        ArgumentNullException.ThrowIfNull(time);
        _key = key;
        _time = time;
    }

    /// <inheritdoc />
    public void Sign(HttpRequestMessage request, ReadOnlySpan<byte> body, SignatureScheme scheme)
    {
        ArgumentNullException.ThrowIfNull(request);
        var uri = request.RequestUri;
        if (uri is null || !uri.IsAbsoluteUri)
            throw new ArgumentException("The request needs an absolute RequestUri.", nameof(request));

        // Whole seconds: both Date and created carry no more, and the signature must match them.
        var nowSeconds = _time.GetUtcNow().ToUnixTimeSeconds();
        var now = DateTimeOffset.FromUnixTimeSeconds(nowSeconds);
        var authority = uri.IsDefaultPort ? uri.IdnHost : uri.IdnHost + ":" + uri.Port.ToString(CultureInfo.InvariantCulture);
        var hasBody = !body.IsEmpty || request.Content is not null;

        // Re-signing (e.g. a retried delivery) must not leave stale values behind.
        foreach (var name in (string[])["Signature", "Signature-Input", "Digest", "Content-Digest"])
            request.Headers.Remove(name);
        request.Headers.Date = now;
        request.Headers.Host = authority;

        if (scheme == SignatureScheme.Cavage)
            SignCavage(request, body, uri, authority, now, hasBody);
        else
            SignRfc9421(request, body, uri, authority, nowSeconds, hasBody);
    }

    private void SignCavage(HttpRequestMessage request, ReadOnlySpan<byte> body, Uri uri, string authority, DateTimeOffset now, bool hasBody)
    {
        var headers = new StringBuilder("(request-target) host date");
        var signingString = new StringBuilder(256)
            .Append("(request-target): ").Append(request.Method.Method.ToLowerInvariant()).Append(' ').Append(uri.PathAndQuery)
            .Append("\nhost: ").Append(authority)
            .Append("\ndate: ").Append(now.ToString("r", CultureInfo.InvariantCulture));

        if (hasBody)
        {
            // Digest is not a content header .NET knows, so it can travel with the request headers.
            var digest = DigestHeader.Sha256Legacy(body);
            request.Headers.TryAddWithoutValidation("Digest", digest);
            headers.Append(" digest");
            signingString.Append("\ndigest: ").Append(digest);
        }
        else if (request.Headers.Accept.Count > 0)
        {
            // Mastodon signs Accept on fetches; it shows the content negotiation was ours.
            headers.Append(" accept");
            signingString.Append("\naccept: ").Append(request.Headers.Accept.ToString());
        }

        var signature = Convert.ToBase64String(_key.Sign(Encoding.UTF8.GetBytes(signingString.ToString())));
        // Ed25519 has no cavage algorithm name of its own; hs2019 means "look at the key".
        var algorithm = _key.KeyType == ActorKeyType.Rsa ? "rsa-sha256" : "hs2019";
        request.Headers.TryAddWithoutValidation("Signature",
            $"keyId=\"{_key.KeyId}\",algorithm=\"{algorithm}\",headers=\"{headers}\",signature=\"{signature}\"");
    }

    private void SignRfc9421(HttpRequestMessage request, ReadOnlySpan<byte> body, Uri uri, string authority, long created, bool hasBody)
    {
        var method = request.Method.Method;
        var targetUri = uri.Scheme + "://" + authority + uri.PathAndQuery;
        string? contentDigest = null;
        if (hasBody)
        {
            contentDigest = DigestHeader.Sha256ContentDigest(body);
            request.Headers.TryAddWithoutValidation("Content-Digest", contentDigest);
        }

        var parameters = new StringBuilder(256).Append(hasBody
            ? "(\"@method\" \"@target-uri\" \"@authority\" \"content-digest\")"
            : "(\"@method\" \"@target-uri\" \"@authority\")");
        parameters.Append(";created=").Append(created.ToString(CultureInfo.InvariantCulture)).Append(";keyid=");
        new SfBareItem(SfKind.String, Text: _key.KeyId).WriteTo(parameters);
        parameters.Append(";alg=\"").Append(_key.KeyType == ActorKeyType.Rsa ? "rsa-v1_5-sha256" : "ed25519").Append('"');

        var signatureBase = new StringBuilder(512)
            .Append("\"@method\": ").Append(method)
            .Append("\n\"@target-uri\": ").Append(targetUri)
            .Append("\n\"@authority\": ").Append(authority);
        if (contentDigest is not null)
            signatureBase.Append("\n\"content-digest\": ").Append(contentDigest);
        signatureBase.Append("\n\"@signature-params\": ").Append(parameters);

        var signature = Convert.ToBase64String(_key.Sign(Encoding.UTF8.GetBytes(signatureBase.ToString())));
        request.Headers.TryAddWithoutValidation("Signature-Input", "sig1=" + parameters);
        request.Headers.TryAddWithoutValidation("Signature", "sig1=:" + signature + ":");
    }
}
