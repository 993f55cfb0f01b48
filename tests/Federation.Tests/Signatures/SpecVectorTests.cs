using System.Text;
using Fellows.Federation.Signatures;
using NUnit.Framework;

namespace Fellows.Federation.Tests.Signatures;

/// <summary>Published test vectors: draft-cavage-http-signatures-12 Appendix C and RFC 9421 Appendix B.2.</summary>
public class SpecVectorTests
{
    // draft-cavage-12 Appendix C: the request every test there signs.
    private static readonly DateTimeOffset CavageNow = new(2014, 1, 5, 21, 31, 40, TimeSpan.Zero);
    private const string CavageBody = """{"hello": "world"}""";

    // The Appendix C key is 1024 bits; Fellows wants 2048 in production.
    private static readonly SignatureVerifierOptions CavageKeySize = new() { MinimumRsaKeyBits = 1024 };

    private static IncomingRequest CavageRequest(string signatureHeader, string headerName = "Signature") =>
        IncomingRequest.Create("POST", new Uri("https://example.com/foo?param=value&pet=dog"),
        [
            new("Host", "example.com"),
            new("Date", "Sun, 05 Jan 2014 21:31:40 GMT"),
            new("Content-Type", "application/json"),
            new("Digest", "SHA-256=X48E9qOokqqrvdts8nOJRJN3OWDUoyWxBf7kbu9DBPE="),
            new("Content-Length", "18"),
            new(headerName, signatureHeader),
        ], Encoding.UTF8.GetBytes(CavageBody));

    private static VerificationKey CavageKey() => VerificationKey.FromPem("Test", "https://example.com/actor", TestKeys.CavagePublicPem);

    [Test]
    public void Cavage_C1_default_test_verifies_and_signs_to_same_bytes()
    {
        const string signature = "SjWJWbWN7i0wzBvtPl8rbASWz5xQW6mcJmn+ibttBqtifLN7Sazz6m79cNfwwb8DMJ5cou1s7uEGKKCs+FLEEaDV5lp7q25WqS+lavg7T8hc0GppauB6hbgEKTwblDHYGEtbGmtdHgVCk9SuS13F0hZ8FD0k/5OxEPXe5WozsbM=";
        var request = CavageRequest($"keyId=\"Test\",algorithm=\"rsa-sha256\",signature=\"{signature}\"", "Authorization");
        request = request with { Headers = HeaderLookup.FromPairs([new("Date", "Sun, 05 Jan 2014 21:31:40 GMT"), new("Authorization", $"Signature keyId=\"Test\",algorithm=\"rsa-sha256\",signature=\"{signature}\"")]) };

        var parsed = SignatureParser.TryParse(request);

        Assert.That(parsed.Success, Is.True, () => parsed.Error!.Reason);
        Assert.That(Encoding.UTF8.GetString(parsed.Signature!.SignatureBase.Span), Is.EqualTo("date: Sun, 05 Jan 2014 21:31:40 GMT"));
        // C.1 covers only the date, so only a policy that asks for nothing more accepts it.
        var relaxed = CavageKeySize with { RequireTargetCoverage = false, RequireHostCoverage = false, RequireBodyDigest = false };
        Assert.That(SignatureVerifier.Verify(parsed.Signature, request, CavageKey(), CavageNow, relaxed).IsValid, Is.True);
        Assert.That(SignatureVerifier.Verify(parsed.Signature, request, CavageKey(), CavageNow, CavageKeySize).Failure, Is.EqualTo(SignatureFailure.TargetNotCovered));

        using var signingKey = SigningKey.FromRsaPem("Test", TestKeys.CavagePrivatePem);
        Assert.That(Convert.ToBase64String(signingKey.Sign(parsed.Signature.SignatureBase.Span)), Is.EqualTo(signature));
    }

    [Test]
    public void Cavage_C2_basic_test_verifies_and_signs_to_same_bytes()
    {
        const string signature = "qdx+H7PHHDZgy4y/Ahn9Tny9V3GP6YgBPyUXMmoxWtLbHpUnXS2mg2+SbrQDMCJypxBLSPQR2aAjn7ndmw2iicw3HMbe8VfEdKFYRqzic+efkb3nndiv/x1xSHDJWeSWkx3ButlYSuBskLu6kd9Fswtemr3lgdDEmn04swr2Os0=";
        var request = CavageRequest($"keyId=\"Test\",algorithm=\"rsa-sha256\",headers=\"(request-target) host date\",signature=\"{signature}\"");

        var parsed = SignatureParser.TryParse(request);

        Assert.That(parsed.Success, Is.True, () => parsed.Error!.Reason);
        Assert.That(Encoding.UTF8.GetString(parsed.Signature!.SignatureBase.Span), Is.EqualTo(
            "(request-target): post /foo?param=value&pet=dog\nhost: example.com\ndate: Sun, 05 Jan 2014 21:31:40 GMT"));
        Assert.That(SignatureVerifier.Verify(parsed.Signature, request, CavageKey(), CavageNow, CavageKeySize with { RequireBodyDigest = false }).IsValid, Is.True);
        // The body is not covered, which Fellows' default policy refuses.
        Assert.That(SignatureVerifier.Verify(parsed.Signature, request, CavageKey(), CavageNow, CavageKeySize).Failure, Is.EqualTo(SignatureFailure.DigestNotCovered));

        using var signingKey = SigningKey.FromRsaPem("Test", TestKeys.CavagePrivatePem);
        Assert.That(Convert.ToBase64String(signingKey.Sign(parsed.Signature.SignatureBase.Span)), Is.EqualTo(signature));
    }

    [Test]
    public void Cavage_C3_all_headers_test_verifies_under_default_policy()
    {
        // The -12 text lists (created) and (expires) in this example's header but its signature value
        // is over the six headers below (as in -10); implementations test against this form.
        const string signature = "vSdrb+dS3EceC9bcwHSo4MlyKS59iFIrhgYkz8+oVLEEzmYZZvRs8rgOp+63LEM3v+MFHB32NfpB2bEKBIvB1q52LaEUHFv120V01IL+TAD48XaERZFukWgHoBTLMhYS2Gb51gWxpeIq8knRmPnYePbF5MOkR0Zkly4zKH7s1dE=";
        var request = CavageRequest($"keyId=\"Test\",algorithm=\"rsa-sha256\",headers=\"(request-target) host date content-type digest content-length\",signature=\"{signature}\"");

        var parsed = SignatureParser.TryParse(request);

        Assert.That(parsed.Success, Is.True, () => parsed.Error!.Reason);
        Assert.That(SignatureVerifier.Verify(parsed.Signature!, request, CavageKey(), CavageNow, CavageKeySize), Is.EqualTo(VerificationResult.Valid));
    }

    // RFC 9421 Appendix B.2: the "test-request" message.
    private static readonly DateTimeOffset Rfc9421Created = DateTimeOffset.FromUnixTimeSeconds(1618884473);

    private static IncomingRequest Rfc9421Request(string signatureInput, string signature) =>
        IncomingRequest.Create("POST", new Uri("https://example.com/foo?param=Value&Pet=dog"),
        [
            new("Host", "example.com"),
            new("Date", "Tue, 20 Apr 2021 02:07:55 GMT"),
            new("Content-Type", "application/json"),
            new("Content-Digest", "sha-512=:WZDPaVn/7XgHaAy8pmojAkGWoRx2UFChF41A2svX+TaPm+AbwAgBWnrIiYllu7BNNyealdVLvRwEmTHWXvJwew==:"),
            new("Content-Length", "18"),
            new("Signature-Input", signatureInput),
            new("Signature", signature),
        ], Encoding.UTF8.GetBytes("""{"hello": "world"}"""));

    [Test]
    public void Rfc9421_B26_ed25519_verifies_and_signs_to_same_bytes()
    {
        var request = Rfc9421Request(
            "sig-b26=(\"date\" \"@method\" \"@path\" \"@authority\" \"content-type\" \"content-length\");created=1618884473;keyid=\"test-key-ed25519\"",
            "sig-b26=:wqcAqbmYJ2ji2glfAMaRy4gruYYnx2nEFN2HN6jrnDnQCK1u02Gb04v9EDgwUPiu4A0w6vuQv5lIp5WPpBKRCw==:");

        var parsed = SignatureParser.TryParse(request);

        Assert.That(parsed.Success, Is.True, () => parsed.Error!.Reason);
        Assert.That(parsed.Signature!.Label, Is.EqualTo("sig-b26"));
        Assert.That(Encoding.UTF8.GetString(parsed.Signature.SignatureBase.Span), Is.EqualTo(
            "\"date\": Tue, 20 Apr 2021 02:07:55 GMT\n\"@method\": POST\n\"@path\": /foo\n\"@authority\": example.com\n" +
            "\"content-type\": application/json\n\"content-length\": 18\n" +
            "\"@signature-params\": (\"date\" \"@method\" \"@path\" \"@authority\" \"content-type\" \"content-length\");created=1618884473;keyid=\"test-key-ed25519\""));

        using var key = VerificationKey.FromPem("test-key-ed25519", "https://example.com/actor", TestKeys.Ed25519PublicPem);
        Assert.That(SignatureVerifier.Verify(parsed.Signature, request, key, Rfc9421Created, new SignatureVerifierOptions { RequireBodyDigest = false }).IsValid, Is.True);
        Assert.That(SignatureVerifier.Verify(parsed.Signature, request, key, Rfc9421Created).Failure, Is.EqualTo(SignatureFailure.DigestNotCovered));

        using var signingKey = SigningKey.FromEd25519Pem("test-key-ed25519", TestKeys.Ed25519PrivatePem);
        Assert.That(signingKey.Sign(parsed.Signature.SignatureBase.Span), Is.EqualTo(parsed.Signature.Signature.ToArray()));
    }

    [Test]
    public void Rfc9421_B23_rsa_pss_sha512_full_coverage_verifies_with_pss()
    {
        var request = Rfc9421Request(
            "sig-b23=(\"date\" \"@method\" \"@path\" \"@query\" \"@authority\" \"content-type\" \"content-digest\" \"content-length\");created=1618884473;keyid=\"test-key-rsa-pss\"",
            "sig-b23=:bbN8oArOxYoyylQQUU6QYwrTuaxLwjAC9fbY2F6SVWvh0yBiMIRGOnMYwZ/5MR6fb0Kh1rIRASVxFkeGt683+qRpRRU5p2voTp768ZrCUb38K0fUxN0O0iC59DzYx8DFll5GmydPxSmme9v6ULbMFkl+V5B1TP/yPViV7KsLNmvKiLJH1pFkh/aYA2HXXZzNBXmIkoQoLd7YfW91kE9o/CCoC1xMy7JA1ipwvKvfrs65ldmlu9bpG6A9BmzhuzF8Eim5f8ui9eH8LZH896+QIF61ka39VBrohr9iyMUJpvRX2Zbhl5ZJzSRxpJyoEZAFL2FUo5fTIztsDZKEgM4cUA==:");
        using var key = VerificationKey.FromPem("test-key-rsa-pss", "https://example.com/actor", TestKeys.RsaPssPublicPem);

        var parsed = SignatureParser.TryParse(request);

        Assert.That(parsed.Success, Is.True, () => parsed.Error!.Reason);
        Assert.That(key.Verify(ResolvedAlgorithm.RsaPssSha512, parsed.Signature!.SignatureBase.Span, parsed.Signature.Signature.Span), Is.True);
        // The example sends no alg, and an RSA key alone cannot say "PSS", so policy checks (including
        // the SHA-512 Content-Digest) pass and then RSA falls back to PKCS#1 v1.5, the fediverse norm.
        Assert.That(SignatureVerifier.Verify(parsed.Signature, request, key, Rfc9421Created).Failure, Is.EqualTo(SignatureFailure.BadSignature));
    }
}
