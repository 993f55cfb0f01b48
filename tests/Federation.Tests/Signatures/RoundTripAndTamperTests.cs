using System.Text;
using Fellows.Federation.Signatures;
using NUnit.Framework;

namespace Fellows.Federation.Tests.Signatures;

public class RoundTripAndTamperTests
{
    private const string Inbox = "https://remote.example/users/bob/inbox";
    private static readonly DateTimeOffset Now = MastodonProfileTests.Now;
    private static readonly byte[] Body = Encoding.UTF8.GetBytes(MastodonProfileTests.Body);

    private static ActorKeyPair? _rsa;
    private static ActorKeyPair? _ed25519;

    [OneTimeSetUp]
    public void GenerateKeys()
    {
        _rsa = ActorKeyPair.GenerateRsa();
        _ed25519 = ActorKeyPair.GenerateEd25519();
    }

    [OneTimeTearDown]
    public void DisposeKeys()
    {
        _rsa?.Dispose();
        _ed25519?.Dispose();
    }

    private static ActorKeyPair Pair(ActorKeyType type) => type == ActorKeyType.Rsa ? _rsa! : _ed25519!;

    /// <summary>Signs a POST (or a GET when <paramref name="body"/> is null) and returns it as the receiver sees it.</summary>
    private static IncomingRequest SignedRequest(ActorKeyType type, SignatureScheme scheme, byte[]? body = null, string uri = Inbox, DateTimeOffset? at = null)
    {
        using var key = Pair(type).ToSigningKey(MastodonProfileTests.KeyId);
        using var request = body is null
            ? new HttpRequestMessage(HttpMethod.Get, uri)
            : new HttpRequestMessage(HttpMethod.Post, uri) { Content = new ByteArrayContent(body) };
        new HttpMessageSigner(key, new FixedTimeProvider(at ?? Now)).Sign(request, body ?? [], scheme);
        return MastodonProfileTests.ToIncoming(request, body ?? []);
    }

    private static VerificationResult ParseAndVerify(IncomingRequest request, ActorKeyType type = ActorKeyType.Rsa, DateTimeOffset? now = null, VerificationKey? key = null)
    {
        var parsed = SignatureParser.TryParse(request);
        if (!parsed.Success)
            return new VerificationResult(parsed.Error.Failure, parsed.Error.Reason);
        using var own = Pair(type).ToVerificationKey(MastodonProfileTests.KeyId, MastodonProfileTests.Actor);
        return SignatureVerifier.Verify(parsed.Signature, request, key ?? own, now ?? Now);
    }

    private static IncomingRequest WithHeader(IncomingRequest request, string name, string value) =>
        request with
        {
            Headers = HeaderLookup.FromFunc(n => string.Equals(n, name, StringComparison.OrdinalIgnoreCase) ? value : request.Headers[n]),
        };

    [Test]
    public void Verify_signed_post_round_trip_is_valid(
        [Values] ActorKeyType type, [Values] SignatureScheme scheme)
    {
        var request = SignedRequest(type, scheme, Body);

        var result = ParseAndVerify(request, type);

        Assert.That(result, Is.EqualTo(VerificationResult.Valid));
        Assert.That(SignatureParser.TryParse(request).Signature!.Scheme, Is.EqualTo(scheme));
    }

    [Test]
    public void Verify_signed_get_round_trip_is_valid([Values] ActorKeyType type, [Values] SignatureScheme scheme)
    {
        var request = SignedRequest(type, scheme, body: null, uri: "https://remote.example/users/bob?page=2");

        Assert.That(ParseAndVerify(request, type), Is.EqualTo(VerificationResult.Valid));
    }

    [Test]
    public void Verify_changed_body_fails_digest([Values] SignatureScheme scheme)
    {
        var request = SignedRequest(ActorKeyType.Rsa, scheme, Body) with { Body = Encoding.UTF8.GetBytes(MastodonProfileTests.Body.Replace("Follow", "Block", StringComparison.Ordinal)) };

        Assert.That(ParseAndVerify(request).Failure, Is.EqualTo(SignatureFailure.DigestMismatch));
    }

    [Test]
    public void Verify_changed_path_fails_signature([Values] SignatureScheme scheme)
    {
        var request = SignedRequest(ActorKeyType.Rsa, scheme, Body) with { Target = new Uri("https://remote.example/users/carol/inbox") };

        Assert.That(ParseAndVerify(request).Failure, Is.EqualTo(SignatureFailure.BadSignature));
    }

    [Test]
    public void Verify_changed_host_fails_signature([Values] SignatureScheme scheme)
    {
        var request = SignedRequest(ActorKeyType.Rsa, scheme, Body);
        request = WithHeader(request, "Host", "other.example") with { Target = new Uri("https://other.example/users/bob/inbox") };

        Assert.That(ParseAndVerify(request).Failure, Is.EqualTo(SignatureFailure.BadSignature));
    }

    [Test]
    public void Verify_wrong_digest_header_fails_signature([Values] SignatureScheme scheme)
    {
        // Body and digest changed together: the digest now matches, but it is not what was signed.
        var other = Encoding.UTF8.GetBytes("{}");
        var request = SignedRequest(ActorKeyType.Rsa, scheme, Body) with { Body = other };
        request = scheme == SignatureScheme.Cavage
            ? WithHeader(request, "Digest", DigestHeader.Sha256Legacy(other))
            : WithHeader(request, "Content-Digest", DigestHeader.Sha256ContentDigest(other));

        Assert.That(ParseAndVerify(request).Failure, Is.EqualTo(SignatureFailure.BadSignature));
    }

    [Test]
    public void Verify_garbage_digest_header_fails_with_malformed_or_unsupported([Values] SignatureScheme scheme)
    {
        var request = SignedRequest(ActorKeyType.Rsa, scheme, Body);
        request = scheme == SignatureScheme.Cavage
            ? WithHeader(request, "Digest", "MD5=abc")
            : WithHeader(request, "Content-Digest", "sha-256=nope");

        Assert.That(ParseAndVerify(request).Failure, Is.AnyOf(SignatureFailure.UnsupportedDigest, SignatureFailure.MalformedHeader));
    }

    [Test]
    public void Verify_digest_not_covered_fails()
    {
        using var key = _rsa!.ToSigningKey(MastodonProfileTests.KeyId);
        var signingString = "(request-target): post /users/bob/inbox\nhost: remote.example\ndate: Sat, 01 Mar 2025 12:00:00 GMT";
        var signature = Convert.ToBase64String(key.Sign(Encoding.UTF8.GetBytes(signingString)));
        var request = IncomingRequest.Create("POST", new Uri(Inbox),
        [
            new("Host", "remote.example"),
            new("Date", "Sat, 01 Mar 2025 12:00:00 GMT"),
            new("Digest", DigestHeader.Sha256Legacy(Body)),
            new("Signature", $"keyId=\"{MastodonProfileTests.KeyId}\",algorithm=\"rsa-sha256\",headers=\"(request-target) host date\",signature=\"{signature}\""),
        ], Body);

        Assert.That(ParseAndVerify(request).Failure, Is.EqualTo(SignatureFailure.DigestNotCovered));
    }

    [Test]
    public void Verify_date_too_old_fails([Values] SignatureScheme scheme)
    {
        var request = SignedRequest(ActorKeyType.Rsa, scheme, Body, at: Now.AddHours(-1).AddMinutes(-1));

        Assert.That(ParseAndVerify(request).Failure, Is.EqualTo(SignatureFailure.TooOld));
    }

    [Test]
    public void Verify_date_within_skew_is_valid([Values] SignatureScheme scheme)
    {
        var request = SignedRequest(ActorKeyType.Rsa, scheme, Body, at: Now.AddMinutes(-59));

        Assert.That(ParseAndVerify(request).IsValid, Is.True);
    }

    [Test]
    public void Verify_date_too_far_in_future_fails([Values] SignatureScheme scheme)
    {
        var request = SignedRequest(ActorKeyType.Rsa, scheme, Body, at: Now.AddHours(1).AddMinutes(1));

        Assert.That(ParseAndVerify(request).Failure, Is.EqualTo(SignatureFailure.InTheFuture));
    }

    [Test]
    public void Verify_expired_signature_fails()
    {
        using var key = _ed25519!.ToSigningKey(MastodonProfileTests.KeyId);
        var created = Now.ToUnixTimeSeconds() - 60;
        var parameters = $"(\"@method\" \"@target-uri\" \"@authority\");created={created};expires={created + 30};keyid=\"{MastodonProfileTests.KeyId}\"";
        var signatureBase = $"\"@method\": GET\n\"@target-uri\": https://remote.example/users/bob\n\"@authority\": remote.example\n\"@signature-params\": {parameters}";
        var request = IncomingRequest.Create("GET", new Uri("https://remote.example/users/bob"),
        [
            new("Signature-Input", "sig1=" + parameters),
            new("Signature", "sig1=:" + Convert.ToBase64String(key.Sign(Encoding.UTF8.GetBytes(signatureBase))) + ":"),
        ]);

        Assert.That(ParseAndVerify(request, ActorKeyType.Ed25519).Failure, Is.EqualTo(SignatureFailure.Expired));
        Assert.That(ParseAndVerify(request, ActorKeyType.Ed25519, now: Now.AddSeconds(-45)).IsValid, Is.True);
    }

    [Test]
    public void Verify_wrong_key_fails([Values] ActorKeyType type, [Values] SignatureScheme scheme)
    {
        var request = SignedRequest(type, scheme, Body);
        using var other = type == ActorKeyType.Rsa ? ActorKeyPair.GenerateRsa() : ActorKeyPair.GenerateEd25519();
        using var wrongKey = other.ToVerificationKey(MastodonProfileTests.KeyId, MastodonProfileTests.Actor);

        Assert.That(ParseAndVerify(request, key: wrongKey).Failure, Is.EqualTo(SignatureFailure.BadSignature));
    }

    [Test]
    public void Verify_key_of_other_type_fails_with_algorithm_mismatch([Values] SignatureScheme scheme)
    {
        var request = SignedRequest(ActorKeyType.Rsa, scheme, Body);
        using var edKey = _ed25519!.ToVerificationKey(MastodonProfileTests.KeyId, MastodonProfileTests.Actor);

        Assert.That(ParseAndVerify(request, key: edKey).Failure, Is.EqualTo(SignatureFailure.AlgorithmKeyMismatch));
    }

    [Test]
    public void Verify_short_rsa_key_fails_as_too_weak()
    {
        var request = SignedRequest(ActorKeyType.Rsa, SignatureScheme.Cavage, Body);
        using var weak = VerificationKey.FromPem("k", "a", TestKeys.CavagePublicPem);

        Assert.That(ParseAndVerify(request, key: weak).Failure, Is.EqualTo(SignatureFailure.KeyTooWeak));
    }

    [Test]
    public void Sign_twice_replaces_previous_signature_headers()
    {
        using var key = _rsa!.ToSigningKey(MastodonProfileTests.KeyId);
        using var request = new HttpRequestMessage(HttpMethod.Post, Inbox) { Content = new ByteArrayContent(Body) };
        var signer = new HttpMessageSigner(key, new FixedTimeProvider(Now));

        signer.Sign(request, Body, SignatureScheme.Cavage);
        signer.Sign(request, Body, SignatureScheme.Cavage);

        Assert.That(request.Headers.GetValues("Signature").Count(), Is.EqualTo(1));
        Assert.That(request.Headers.GetValues("Digest").Count(), Is.EqualTo(1));
    }

    [Test]
    public void Verify_rsa_request_concurrently_is_valid()
    {
        var request = SignedRequest(ActorKeyType.Rsa, SignatureScheme.Cavage, Body);
        var parsed = SignatureParser.TryParse(request).Signature!;
        using var key = _rsa!.ToVerificationKey(MastodonProfileTests.KeyId, MastodonProfileTests.Actor);
        var results = new bool[200];

        Parallel.For(0, results.Length, i => results[i] = SignatureVerifier.Verify(parsed, request, key, Now).IsValid);

        Assert.That(results, Is.All.True);
    }
}
