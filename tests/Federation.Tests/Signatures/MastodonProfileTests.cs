using System.Text;
using Fellows.Federation.Signatures;
using NUnit.Framework;

namespace Fellows.Federation.Tests.Signatures;

/// <summary>
/// What Fellows sends, pinned byte for byte: a fixed key, a fixed clock and
/// a fixed body. A change here changes what every remote server receives, so it must be deliberate.
/// </summary>
public class MastodonProfileTests
{
    internal const string KeyId = "https://fellows.example/users/alice#main-key";
    internal const string Actor = "https://fellows.example/users/alice";
    internal static readonly DateTimeOffset Now = new(2025, 3, 1, 12, 0, 0, TimeSpan.Zero);
    internal const string Body = """{"@context":"https://www.w3.org/ns/activitystreams","type":"Follow","actor":"https://fellows.example/users/alice","object":"https://remote.example/users/bob"}""";

    internal static IncomingRequest ToIncoming(HttpRequestMessage request, byte[] body)
    {
        var headers = new List<KeyValuePair<string, string>>();
        foreach (var (name, values) in request.Headers)
            headers.Add(new(name, string.Join(", ", values)));
        if (request.Content is not null)
        {
            foreach (var (name, values) in request.Content.Headers)
                headers.Add(new(name, string.Join(", ", values)));
        }

        return IncomingRequest.Create(request.Method.Method, request.RequestUri!, headers, body);
    }

    private static HttpMessageSigner Signer(SigningKey key) => new(key, new FixedTimeProvider(Now));

    [Test]
    public void Sign_cavage_post_to_inbox_produces_pinned_headers()
    {
        using var key = SigningKey.FromRsaPem(KeyId, TestKeys.FixedRsaPrivatePem);
        var body = Encoding.UTF8.GetBytes(Body);
        using var request = new HttpRequestMessage(HttpMethod.Post, "https://remote.example/users/bob/inbox")
        {
            Content = new ByteArrayContent(body),
        };

        Signer(key).Sign(request, body, SignatureScheme.Cavage);

        Assert.That(request.Headers.GetValues("Date").Single(), Is.EqualTo("Sat, 01 Mar 2025 12:00:00 GMT"));
        Assert.That(request.Headers.Host, Is.EqualTo("remote.example"));
        Assert.That(request.Headers.GetValues("Digest").Single(), Is.EqualTo(PinnedPostDigest));
        Assert.That(request.Headers.GetValues("Signature").Single(), Is.EqualTo(PinnedPostSignature));
        using var verificationKey = VerificationKey.FromPem(KeyId, Actor, TestKeys.FixedRsaPublicPem);
        var incoming = ToIncoming(request, body);
        var parsed = SignatureParser.TryParse(incoming);
        Assert.That(SignatureVerifier.Verify(parsed.Signature!, incoming, verificationKey, Now), Is.EqualTo(VerificationResult.Valid));
    }

    [Test]
    public void Sign_cavage_get_produces_pinned_headers()
    {
        using var key = SigningKey.FromRsaPem(KeyId, TestKeys.FixedRsaPrivatePem);
        using var request = new HttpRequestMessage(HttpMethod.Get, "https://remote.example/users/bob");
        request.Headers.TryAddWithoutValidation("Accept", "application/activity+json");

        Signer(key).Sign(request, [], SignatureScheme.Cavage);

        Assert.That(request.Headers.Contains("Digest"), Is.False);
        Assert.That(request.Headers.GetValues("Signature").Single(), Is.EqualTo(PinnedGetSignature));
        using var verificationKey = VerificationKey.FromPem(KeyId, Actor, TestKeys.FixedRsaPublicPem);
        var incoming = ToIncoming(request, []);
        var parsed = SignatureParser.TryParse(incoming);
        Assert.That(SignatureVerifier.Verify(parsed.Signature!, incoming, verificationKey, Now), Is.EqualTo(VerificationResult.Valid));
    }

    [Test]
    public void Sign_rfc9421_post_to_inbox_produces_pinned_headers()
    {
        using var key = SigningKey.FromRsaPem(KeyId, TestKeys.FixedRsaPrivatePem);
        var body = Encoding.UTF8.GetBytes(Body);
        using var request = new HttpRequestMessage(HttpMethod.Post, "https://remote.example/users/bob/inbox")
        {
            Content = new ByteArrayContent(body),
        };

        Signer(key).Sign(request, body, SignatureScheme.Rfc9421);

        Assert.That(request.Headers.GetValues("Content-Digest").Single(), Is.EqualTo(PinnedContentDigest));
        Assert.That(request.Headers.GetValues("Signature-Input").Single(), Is.EqualTo(
            "sig1=(\"@method\" \"@target-uri\" \"@authority\" \"content-digest\");created=1740830400;keyid=\"https://fellows.example/users/alice#main-key\";alg=\"rsa-v1_5-sha256\""));
        Assert.That(request.Headers.GetValues("Signature").Single(), Is.EqualTo(Pinned9421Signature));
        using var verificationKey = VerificationKey.FromPem(KeyId, Actor, TestKeys.FixedRsaPublicPem);
        var incoming = ToIncoming(request, body);
        var parsed = SignatureParser.TryParse(incoming);
        Assert.That(SignatureVerifier.Verify(parsed.Signature!, incoming, verificationKey, Now), Is.EqualTo(VerificationResult.Valid));
    }

    // The signature values below were cross-checked with `openssl dgst -sha256 -sign` over the
    // signing strings written out by hand, so they pin the format, not just our own output.
    private const string PinnedPostDigest = "SHA-256=migK0kqbG6AhinkMqonXatTaNxQHSkVdZvhw4JFQs5c=";

    private const string PinnedPostSignature =
        "keyId=\"https://fellows.example/users/alice#main-key\",algorithm=\"rsa-sha256\",headers=\"(request-target) host date digest\"," +
        "signature=\"oMbWAZqyYJWQvH8xqK58MY9vjDB0tngJSSSZmY1ABzkDjf8RS2Ls6m/uxnVOqkCE8bU0f41d8Ol6rm19/uCco/C5r3Pw1SrUHuTvxfY+h8D0OVhLNm01MAG/n2lVOtGHcjEMi7tTB0WV4SK/1im/MxCr0iKN7UirG1im81fCsvMeJq7h2/28t/UcbCD+NpwplFVlwRnaRGPXG2W3yILtQHU5JJ0flVjCnCCp6THyXNWVQ4YDCiYyWK1L1gJLJSrhd2HcxzLVapAI3E1Cnpb4DhoODM0QMd/4nxyJqAgjLXhaWnCB2qiu+B23qS1x09mNDYFp92cj8bSLC6Wcn7NnoQ==\"";

    private const string PinnedGetSignature =
        "keyId=\"https://fellows.example/users/alice#main-key\",algorithm=\"rsa-sha256\",headers=\"(request-target) host date accept\"," +
        "signature=\"jLKBGNOmMsmTOud5TRcMXY6KHy1xOBxq+UzFFVcJYFYvitwLjDR0M+eaLyoO6z9UIQ2rrbknrn4gG4flFJQBSQIWkxn6VqTkABzinNRCpwxjDIHOoQKawMQeodN8Y3XcKTxpWdorLSiRdz7nTlsBNUkpsOQ2VFgJ0C64QFoaU+6JzIhAiLdAETDr32k/Tluq0eqRmB0a080ROH7ak8rCxmKVofdAEquF3wYceVb/PPhh65n37yATLGXTt3kefpqSEgpaigqoCm23vaK5S+F9uSV8ZQbUIdzi4VEUv1JFjPZwkH5L48m+qvlfhqbxf3668f3YmVC/niSlbhRcnMyklQ==\"";

    private const string PinnedContentDigest = "sha-256=:migK0kqbG6AhinkMqonXatTaNxQHSkVdZvhw4JFQs5c=:";

    private const string Pinned9421Signature =
        "sig1=:rB2x0INNJf9KblgolqbaPxsjFjQD2wRKyMDgFapYWhShIRpkL6G4g3G99i5bE8LBgKWXJUTQFQfsYoWToCCgLzaCqphJvW9CYWYN+vi1IPPbQhjVpf2Su2ZGqzbV+YtlycXxccHuROEhLIerIdO1OAgek5GvT1pJFNL4UrtJbXas+026INRMULz30+LVWCHkhzwkjhLAKA8YXG5kW1Tog+TsAyt0vUhD8hBwQCXLyi3blbOZNKJRovRp5yMrcg7J7EJ/o3n/EoMgWFxvoNZRYeqUCEp3cIYiGeeR7qlSglEGDUPOfc7HVdsNfRXIcPPF77Om1LCKO7bybvPWUOzBSQ==:";
}
