using System.Security.Cryptography;
using System.Text;
using BenchmarkDotNet.Attributes;
using Fellows.Federation.Signatures;

namespace Fellows.Benchmarks.Micro;

/// <summary>
/// Verifying an incoming signed inbox POST (parse the headers, rebuild the signed bytes, check date and body digest,
/// verify) in each format Fellows accepts, against a bare RSA verify of the same signed bytes: the ratio is what the
/// protocol work costs on top of the cryptography that cannot be avoided.
/// </summary>
[MemoryDiagnoser]
public class SignatureBenchmarks
{
    static readonly DateTimeOffset Now = new(2026, 11, 26, 12, 0, 0, TimeSpan.Zero);
    const string Actor = "https://remote.example/users/alice";

    ActorKeyPair _rsaPair = null!;
    ActorKeyPair _edPair = null!;
    VerificationKey _rsaKey = null!;
    VerificationKey _edKey = null!;
    RSA _bareRsa = null!;
    IncomingRequest _cavage = null!;
    IncomingRequest _rfc9421Rsa = null!;
    IncomingRequest _rfc9421Ed = null!;
    byte[] _cavageSignedBytes = null!;
    byte[] _cavageSignature = null!;

    [GlobalSetup]
    public void Setup()
    {
        _rsaPair = ActorKeyPair.GenerateRsa();
        _edPair = ActorKeyPair.GenerateEd25519();
        _rsaKey = _rsaPair.ToVerificationKey(Actor + "#main-key", Actor);
        _edKey = _edPair.ToVerificationKey(Actor + "#ed25519-key", Actor);
        _bareRsa = RSA.Create();
        _bareRsa.ImportFromPem(_rsaPair.ExportRsaPublicKeyPem());

        var body = Encoding.UTF8.GetBytes(ParsingBenchmarks.Fixture("mastodon/create_note.json"));
        using var rsaSigning = _rsaPair.ToSigningKey(Actor + "#main-key");
        using var edSigning = _edPair.ToSigningKey(Actor + "#ed25519-key");
        _cavage = Signed(rsaSigning, SignatureScheme.Cavage, body);
        _rfc9421Rsa = Signed(rsaSigning, SignatureScheme.Rfc9421, body);
        _rfc9421Ed = Signed(edSigning, SignatureScheme.Rfc9421, body);

        var parsed = SignatureParser.TryParse(_cavage).Signature!;
        _cavageSignedBytes = parsed.SignatureBase.ToArray();
        _cavageSignature = parsed.Signature.ToArray();
        if (!Verify(_cavage, _rsaKey) || !Verify(_rfc9421Rsa, _rsaKey) || !Verify(_rfc9421Ed, _edKey) || !BareRsaVerify())
            throw new InvalidOperationException("A set-up signature does not verify; the benchmark would measure failures.");
    }

    static IncomingRequest Signed(SigningKey key, SignatureScheme scheme, byte[] body)
    {
        var target = new Uri("https://fellows.example/users/bob/inbox");
        using var request = new HttpRequestMessage(HttpMethod.Post, target) { Content = new ByteArrayContent(body) };
        request.Content.Headers.ContentType = new("application/activity+json");
        new HttpMessageSigner(key, new FixedTime(Now)).Sign(request, body, scheme);
        var headers = request.Headers.Concat(request.Content.Headers)
            .Select(h => new KeyValuePair<string, string>(h.Key, string.Join(", ", h.Value)));
        return IncomingRequest.Create("POST", target, headers, body);
    }

    static bool Verify(IncomingRequest request, VerificationKey key)
    {
        var parsed = SignatureParser.TryParse(request);
        return parsed.Success && SignatureVerifier.Verify(parsed.Signature!, request, key, Now).IsValid;
    }

    [GlobalCleanup]
    public void Cleanup()
    {
        _rsaKey.Dispose();
        _edKey.Dispose();
        _bareRsa.Dispose();
        _rsaPair.Dispose();
        _edPair.Dispose();
    }

    /// <summary>RSASSA-PKCS1-v1_5/SHA-256 over the cavage signing string, straight through System.Security.Cryptography.</summary>
    [Benchmark(Baseline = true)]
    public bool BareRsaVerify() =>
        _bareRsa.VerifyData(_cavageSignedBytes, _cavageSignature, HashAlgorithmName.SHA256, RSASignaturePadding.Pkcs1);

    /// <summary>draft-cavage-12 rsa-sha256 with (request-target), host, date and digest: what Mastodon sends.</summary>
    [Benchmark]
    public bool CavageRsaSha256() => Verify(_cavage, _rsaKey);

    /// <summary>RFC 9421 rsa-v1_5-sha256 with @method, @target-uri, @authority and content-digest.</summary>
    [Benchmark]
    public bool Rfc9421RsaV15Sha256() => Verify(_rfc9421Rsa, _rsaKey);

    /// <summary>RFC 9421 ed25519 (NSec) over the same components.</summary>
    [Benchmark]
    public bool Rfc9421Ed25519() => Verify(_rfc9421Ed, _edKey);
}
