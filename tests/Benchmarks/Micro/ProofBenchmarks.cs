using System.Security.Cryptography;
using System.Text.Json;
using System.Text.Json.Nodes;
using BenchmarkDotNet.Attributes;
using Fellows.Federation.Proofs;
using Fellows.Federation.Signatures;

namespace Fellows.Benchmarks.Micro;

/// <summary>
/// FEP-8b32 eddsa-jcs-2022: canonicalising (JCS) a Mastodon-sized Note and verifying its proof, against a bare Ed25519
/// verify of the same 64 signed bytes through NSec: the ratio is what canonicalisation, hashing and the proof's
/// checks add to the cryptography.
/// </summary>
[MemoryDiagnoser]
public class ProofBenchmarks
{
    const string Actor = "https://remote.example/users/alice";
    const string KeyId = Actor + "#ed25519-key";

    ActorKeyPair _pair = null!;
    VerificationKey _key = null!;
    NSec.Cryptography.PublicKey _nsecKey = null!;
    JsonDocument _secured = null!;
    JsonElement _document;
    byte[] _hashData = null!;
    byte[] _signature = null!;

    [GlobalSetup]
    public void Setup()
    {
        _pair = ActorKeyPair.GenerateEd25519();
        _key = _pair.ToVerificationKey(KeyId, Actor);
        _nsecKey = NSec.Cryptography.PublicKey.Import(NSec.Cryptography.SignatureAlgorithm.Ed25519,
            _pair.ExportEd25519PublicKey(), NSec.Cryptography.KeyBlobFormat.RawPublicKey);

        var create = JsonNode.Parse(ParsingBenchmarks.Fixture("mastodon/create_note.json"))!.AsObject();
        create["actor"] = Actor;
        using var signing = _pair.ToSigningKey(KeyId);
        var secured = IntegrityProof.Sign(create, signing, KeyId, new DateTimeOffset(2026, 11, 26, 12, 0, 0, TimeSpan.Zero));
        _secured = JsonDocument.Parse(secured.ToJsonString());
        _document = _secured.RootElement;

        // The signed bytes, rebuilt by hand: SHA-256(JCS(proof without proofValue)) || SHA-256(JCS(document without proof)).
        var proof = secured["proof"]!.DeepClone().AsObject();
        var proofValue = proof["proofValue"]!.GetValue<string>();
        proof.Remove("proofValue");
        var unsecured = secured.DeepClone().AsObject();
        unsecured.Remove("proof");
        _hashData = [.. SHA256.HashData(JsonCanonicalizer.Canonicalize(proof)), .. SHA256.HashData(JsonCanonicalizer.Canonicalize(unsecured))];
        _signature = SimpleBase.Base58.Bitcoin.Decode(proofValue.AsSpan(1));

        if (!BareEd25519Verify() || !VerifyProof())
            throw new InvalidOperationException("The set-up proof does not verify; the benchmark would measure failures.");
    }

    [GlobalCleanup]
    public void Cleanup()
    {
        _secured.Dispose();
        _key.Dispose();
        _pair.Dispose();
    }

    [Benchmark(Baseline = true)]
    public bool BareEd25519Verify() =>
        NSec.Cryptography.SignatureAlgorithm.Ed25519.Verify(_nsecKey, _hashData, _signature);

    /// <summary>JCS (RFC 8785) of the whole secured activity.</summary>
    [Benchmark]
    public int Canonicalize() => JsonCanonicalizer.Canonicalize(_document).Length;

    /// <summary>The full check the inbox would make: proof shape, both canonical forms, hashes, signature, controller.</summary>
    [Benchmark]
    public bool VerifyProof() =>
        IntegrityProof.Verify(_document, id => id == KeyId ? _key : null).VouchesFor(Actor);
}
