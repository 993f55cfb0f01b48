using System.Security.Cryptography;
using System.Text;
using System.Text.Json;
using System.Text.Json.Nodes;
using Fellows.Federation.Proofs;
using Fellows.Federation.Signatures;
using NUnit.Framework;
using SimpleBase;

namespace Fellows.Federation.Tests.Proofs;

public class IntegrityProofTests
{
    private const string Actor = ProofVectors.FepActor;
    private const string KeyId = ProofVectors.FepVerificationMethod;
    private static readonly DateTimeOffset Created = ProofVectors.FepCreated;

    private static VerificationKey? _vectorKey;
    private static ActorKeyPair? _otherPair;
    private static VerificationKey? _otherKey;
    private static VerificationKey? _rsaKey;

    [OneTimeSetUp]
    public void CreateKeys()
    {
        _vectorKey = ProofVectors.VerificationKey(KeyId, Actor);
        _otherPair = ActorKeyPair.GenerateEd25519();
        _otherKey = _otherPair.ToVerificationKey(KeyId, Actor);
        using var rsa = ActorKeyPair.GenerateRsa();
        _rsaKey = rsa.ToVerificationKey(KeyId, Actor);
    }

    [OneTimeTearDown]
    public void DisposeKeys()
    {
        _vectorKey?.Dispose();
        _otherKey?.Dispose();
        _otherPair?.Dispose();
        _rsaKey?.Dispose();
    }

    private static VerificationKey? VectorKeyFor(string verificationMethod) =>
        verificationMethod == KeyId ? _vectorKey : null;

    private static JsonElement Element(string json) => JsonDocument.Parse(json).RootElement;

    private static JsonElement Element(JsonNode node) => JsonDocument.Parse(node.ToJsonString()).RootElement;

    private static JsonObject SignedNote()
    {
        var note = JsonNode.Parse("""
            {
                "@context": ["https://www.w3.org/ns/activitystreams", "https://w3id.org/security/data-integrity/v2"],
                "id": "https://server.example/objects/2",
                "type": "Note",
                "attributedTo": "https://server.example/users/alice",
                "content": "Proposal: paint the shed green. Voting closes Friday.",
                "to": ["https://www.w3.org/ns/activitystreams#Public"],
                "tag": [{"type": "Hashtag", "name": "#coop"}],
                "votes": 3
            }
            """)!.AsObject();
        using var key = ProofVectors.SigningKey(KeyId);
        return IntegrityProof.Sign(note, key, KeyId, Created);
    }

    private static ProofVerification VerifyTampered(Action<JsonObject> tamper)
    {
        var signed = SignedNote();
        tamper(signed);
        return IntegrityProof.Verify(Element(signed), VectorKeyFor);
    }

    private static JsonObject Proof(JsonObject signed) => signed["proof"]!.AsObject();

    // --- Published vectors ------------------------------------------------------------------

    [Test]
    public void Sign_w3c_alumni_credential_reproduces_published_proof()
    {
        var document = JsonNode.Parse(ProofVectors.W3cUnsigned)!.AsObject();
        using var key = ProofVectors.SigningKey(ProofVectors.W3cVerificationMethod);

        var signed = IntegrityProof.Sign(document, key, ProofVectors.W3cVerificationMethod, ProofVectors.W3cCreated);

        var proof = Proof(signed);
        Assert.That((string?)proof["proofValue"], Is.EqualTo(ProofVectors.W3cProofValue));
        Assert.That(Convert.ToHexStringLower(Base58.Bitcoin.Decode(ProofVectors.W3cProofValue.AsSpan(1))), Is.EqualTo(ProofVectors.W3cSignatureHex));
        Assert.That(JsonNode.DeepEquals(proof["@context"], document["@context"]), Is.True);
        Assert.That(JsonNode.DeepEquals(signed, JsonNode.Parse(ProofVectors.W3cSigned)), Is.True,
            "the whole secured document equals signedJCS.json");
    }

    [Test]
    public void Canonicalize_w3c_intermediate_values_match_published_ones()
    {
        var document = JsonNode.Parse(ProofVectors.W3cUnsigned);
        var proofConfig = JsonNode.Parse(ProofVectors.W3cSigned)!["proof"]!.DeepClone().AsObject();
        proofConfig.Remove("proofValue");

        var canonicalDocument = JsonCanonicalizer.Canonicalize(document);
        var canonicalConfig = JsonCanonicalizer.Canonicalize(proofConfig);

        Assert.That(Encoding.UTF8.GetString(canonicalDocument), Is.EqualTo(ProofVectors.W3cCanonicalDocument));
        Assert.That(Encoding.UTF8.GetString(canonicalConfig), Is.EqualTo(ProofVectors.W3cCanonicalProofConfig));
        Assert.That(Convert.ToHexStringLower(SHA256.HashData(canonicalDocument)), Is.EqualTo(ProofVectors.W3cDocumentHash));
        Assert.That(Convert.ToHexStringLower(SHA256.HashData(canonicalConfig)), Is.EqualTo(ProofVectors.W3cProofConfigHash));
    }

    [Test]
    public void Verify_w3c_signed_credential_is_valid()
    {
        using var key = ProofVectors.VerificationKey(ProofVectors.W3cVerificationMethod, "did:key:z6MkrJVnaZkeFzdQyMZu1cgjg7k1pZZ6pvBQ7XJPt4swbTQ2");

        var result = IntegrityProof.Verify(Element(ProofVectors.W3cSigned), vm => vm == ProofVectors.W3cVerificationMethod ? key : null);

        Assert.That(result.IsValid, Is.True, result.Reason);
        Assert.That(result.VerificationMethod, Is.EqualTo(ProofVectors.W3cVerificationMethod));
        Assert.That(result.Created, Is.EqualTo(ProofVectors.W3cCreated));
    }

    [Test]
    public void Sign_fep_8b32_activity_reproduces_published_proof()
    {
        var document = JsonNode.Parse(ProofVectors.FepUnsigned)!.AsObject();
        using var key = ProofVectors.SigningKey(KeyId);

        var signed = IntegrityProof.Sign(document, key, KeyId, Created);

        Assert.That((string?)Proof(signed)["proofValue"], Is.EqualTo(ProofVectors.FepProofValue));
        Assert.That(JsonNode.DeepEquals(signed, JsonNode.Parse(ProofVectors.FepSigned)), Is.True,
            "the whole secured document equals the feature file's");
    }

    [Test]
    public void Verify_fep_8b32_signed_activity_is_valid_and_vouches_for_its_actor()
    {
        var result = IntegrityProof.Verify(Element(ProofVectors.FepSigned), VectorKeyFor);

        Assert.That(result.IsValid, Is.True, result.Reason);
        Assert.That(result.Controller, Is.EqualTo(Actor));
        Assert.That(result.VouchesFor(Actor), Is.True);
        Assert.That(result.VouchesFor("https://server.example/users/mallory"), Is.False);
    }

    [Test]
    public void Verify_legacy_proof_without_context_is_valid()
    {
        var result = IntegrityProof.Verify(Element(ProofVectors.FepLegacySigned), VectorKeyFor);

        Assert.That(result.IsValid, Is.True, result.Reason);
    }

    // --- Round trip --------------------------------------------------------------------------

    [Test]
    public void Sign_then_verify_with_generated_key_is_valid()
    {
        using var pair = ActorKeyPair.GenerateEd25519();
        using var signingKey = pair.ToSigningKey(KeyId);
        using var verificationKey = pair.ToVerificationKey(KeyId, Actor);
        var note = JsonNode.Parse("""{"@context":"https://www.w3.org/ns/activitystreams","type":"Note","attributedTo":"https://server.example/users/alice","content":"hi"}""")!.AsObject();

        var signed = IntegrityProof.Sign(note, signingKey, KeyId, new DateTimeOffset(2025, 6, 1, 14, 30, 15, 999, TimeSpan.FromHours(2)));
        var result = IntegrityProof.Verify(Element(signed), _ => verificationKey);

        Assert.That(result.IsValid, Is.True, result.Reason);
        Assert.That(result.VouchesFor(Actor), Is.True);
        Assert.That((string?)Proof(signed)["created"], Is.EqualTo("2025-06-01T12:30:15Z"));
        Assert.That(Proof(signed)["@context"]!.GetValue<string>(), Is.EqualTo("https://www.w3.org/ns/activitystreams"));
    }

    [Test]
    public void Sign_document_without_context_gives_proof_without_context()
    {
        using var key = ProofVectors.SigningKey(KeyId);
        var note = new JsonObject { ["type"] = "Note", ["content"] = "no context" };

        var signed = IntegrityProof.Sign(note, key, KeyId, Created);

        Assert.That(Proof(signed).ContainsKey("@context"), Is.False);
        Assert.That(IntegrityProof.Verify(Element(signed), VectorKeyFor).IsValid, Is.True);
    }

    [Test]
    public void Sign_leaves_input_unchanged()
    {
        var document = JsonNode.Parse(ProofVectors.FepUnsigned)!.AsObject();
        var before = document.ToJsonString();
        using var key = ProofVectors.SigningKey(KeyId);

        _ = IntegrityProof.Sign(document, key, KeyId, Created);

        Assert.That(document.ToJsonString(), Is.EqualTo(before));
    }

    [Test]
    public void Verify_member_order_and_whitespace_do_not_matter()
    {
        var signed = SignedNote();
        var reordered = (JsonObject)RandomJson.Shuffled(signed, new Random(7))!;

        var result = IntegrityProof.Verify(Element(reordered.ToJsonString(new JsonSerializerOptions { WriteIndented = true })), VectorKeyFor);

        Assert.That(result.IsValid, Is.True, result.Reason);
    }

    [Test]
    public void Verify_one_element_proof_array_is_valid()
    {
        var result = VerifyTampered(signed =>
        {
            var proof = signed["proof"]!;
            signed.Remove("proof");
            signed["proof"] = new JsonArray(proof);
        });

        Assert.That(result.IsValid, Is.True, result.Reason);
    }

    [Test]
    public void Verify_linked_data_signature_added_after_proof_is_ignored()
    {
        var result = VerifyTampered(signed => signed["signature"] = new JsonObject
        {
            ["type"] = "RsaSignature2017",
            ["creator"] = "https://server.example/users/alice#main-key",
            ["signatureValue"] = "AAAA",
        });

        Assert.That(result.IsValid, Is.True, result.Reason);
    }

    [Test]
    public async Task VerifyAsync_resolves_key_and_is_valid()
    {
        using var cts = new CancellationTokenSource();
        CancellationToken seen = default;

        var result = await IntegrityProof.VerifyAsync(Element(ProofVectors.FepSigned), (vm, ct) =>
        {
            seen = ct;
            return Task.FromResult(VectorKeyFor(vm));
        }, ct: cts.Token);

        Assert.That(result.IsValid, Is.True, result.Reason);
        Assert.That(seen, Is.EqualTo(cts.Token));
    }

    [Test]
    public async Task VerifyAsync_malformed_proof_never_calls_resolver()
    {
        var signed = SignedNote();
        Proof(signed)["proofValue"] = "not multibase";
        var called = false;

        var result = await IntegrityProof.VerifyAsync(Element(signed), (_, _) =>
        {
            called = true;
            return Task.FromResult<VerificationKey?>(null);
        });

        Assert.That(result.Failure, Is.EqualTo(ProofFailure.BadProofValue));
        Assert.That(called, Is.False);
    }

    // --- Tampering ---------------------------------------------------------------------------

    [Test]
    public void Verify_changed_content_is_bad_signature()
    {
        var result = VerifyTampered(signed => signed["content"] = "Proposal: paint the shed red. Voting closes Friday.");

        Assert.That(result.Failure, Is.EqualTo(ProofFailure.BadSignature));
        Assert.That(result.VouchesFor(Actor), Is.False);
    }

    [Test]
    public void Verify_changed_nested_value_is_bad_signature() =>
        Assert.That(VerifyTampered(signed => signed["tag"]![0]!["name"] = "#other").Failure, Is.EqualTo(ProofFailure.BadSignature));

    [Test]
    public void Verify_changed_number_is_bad_signature() =>
        Assert.That(VerifyTampered(signed => signed["votes"] = 4).Failure, Is.EqualTo(ProofFailure.BadSignature));

    [Test]
    public void Verify_changed_attribution_is_bad_signature() =>
        Assert.That(VerifyTampered(signed => signed["attributedTo"] = "https://server.example/users/mallory").Failure, Is.EqualTo(ProofFailure.BadSignature));

    [Test]
    public void Verify_changed_created_is_bad_signature() =>
        Assert.That(VerifyTampered(signed => Proof(signed)["created"] = "2023-02-24T23:36:39Z").Failure, Is.EqualTo(ProofFailure.BadSignature));

    [Test]
    public void Verify_changed_verification_method_is_bad_signature()
    {
        const string otherMethod = "https://server.example/users/alice#other-key";
        var signed = SignedNote();
        Proof(signed)["verificationMethod"] = otherMethod;

        // Even when the other id resolves to the very same key, the proof config no longer matches.
        var result = IntegrityProof.Verify(Element(signed), _ => _vectorKey);

        Assert.That(result.Failure, Is.EqualTo(ProofFailure.BadSignature));
        Assert.That(result.VerificationMethod, Is.EqualTo(otherMethod));
    }

    [Test]
    public void Verify_extra_document_property_is_bad_signature() =>
        Assert.That(VerifyTampered(signed => signed["sensitive"] = true).Failure, Is.EqualTo(ProofFailure.BadSignature));

    [Test]
    public void Verify_extra_proof_property_is_bad_signature() =>
        Assert.That(VerifyTampered(signed => Proof(signed)["expires"] = "2999-01-01T00:00:00Z").Failure, Is.EqualTo(ProofFailure.BadSignature));

    [Test]
    public void Verify_removed_document_property_is_bad_signature() =>
        Assert.That(VerifyTampered(signed => signed.Remove("to")).Failure, Is.EqualTo(ProofFailure.BadSignature));

    [Test]
    public void Verify_removed_created_is_bad_signature() =>
        Assert.That(VerifyTampered(signed => Proof(signed).Remove("created")).Failure, Is.EqualTo(ProofFailure.BadSignature));

    [Test]
    public void Verify_wrong_key_is_bad_signature()
    {
        var result = IntegrityProof.Verify(Element(SignedNote()), _ => _otherKey);

        Assert.That(result.Failure, Is.EqualTo(ProofFailure.BadSignature));
        Assert.That(result.Controller, Is.Null);
    }

    [Test]
    public void Verify_truncated_proof_value_is_bad_proof_value() =>
        Assert.That(VerifyTampered(signed => Proof(signed)["proofValue"] = ((string)Proof(signed)["proofValue"]!)[..^2]).Failure,
            Is.EqualTo(ProofFailure.BadProofValue));

    [TestCase("", TestName = "Verify_empty_proof_value_is_bad_proof_value")]
    [TestCase("z", TestName = "Verify_bare_multibase_prefix_is_bad_proof_value")]
    [TestCase("u3q2-7w", TestName = "Verify_base64url_multibase_is_bad_proof_value")]
    [TestCase("z0OIl", TestName = "Verify_non_base58_characters_is_bad_proof_value")]
    public void Verify_unusable_proof_value_is_bad_proof_value(string proofValue) =>
        Assert.That(VerifyTampered(signed => Proof(signed)["proofValue"] = proofValue).Failure, Is.EqualTo(ProofFailure.BadProofValue));

    [Test]
    public void Verify_flipped_signature_byte_is_bad_signature()
    {
        var result = VerifyTampered(signed =>
        {
            var bytes = Base58.Bitcoin.Decode(((string)Proof(signed)["proofValue"]!).AsSpan(1));
            bytes[10] ^= 0x01;
            Proof(signed)["proofValue"] = "z" + Base58.Bitcoin.Encode(bytes);
        });

        Assert.That(result.Failure, Is.EqualTo(ProofFailure.BadSignature));
    }

    // --- Refusals before the signature check -------------------------------------------------

    [Test]
    public void Verify_no_proof_is_missing_proof() =>
        Assert.That(VerifyTampered(signed => signed.Remove("proof")).Failure, Is.EqualTo(ProofFailure.MissingProof));

    [Test]
    public void Verify_non_object_document_is_missing_proof() =>
        Assert.That(IntegrityProof.Verify(Element("[1]"), VectorKeyFor).Failure, Is.EqualTo(ProofFailure.MissingProof));

    [Test]
    public void Verify_two_proofs_is_multiple_proofs()
    {
        var result = VerifyTampered(signed =>
        {
            var proof = signed["proof"]!;
            signed.Remove("proof");
            signed["proof"] = new JsonArray(proof, proof.DeepClone());
        });

        Assert.That(result.Failure, Is.EqualTo(ProofFailure.MultipleProofs));
    }

    [Test]
    public void Verify_proof_as_string_is_malformed() =>
        Assert.That(VerifyTampered(signed => signed["proof"] = "z123").Failure, Is.EqualTo(ProofFailure.MalformedProof));

    [TestCase("type", "Ed25519Signature2020")]
    [TestCase("cryptosuite", "eddsa-rdfc-2022")]
    [TestCase("cryptosuite", "jcs-eddsa-2022")]
    public void Verify_other_proof_type_or_cryptosuite_is_unsupported(string member, string value) =>
        Assert.That(VerifyTampered(signed => Proof(signed)[member] = value).Failure, Is.EqualTo(ProofFailure.UnsupportedProof));

    [TestCase("type")]
    [TestCase("cryptosuite")]
    [TestCase("verificationMethod")]
    [TestCase("proofPurpose")]
    [TestCase("proofValue")]
    public void Verify_missing_proof_member_is_malformed(string member) =>
        Assert.That(VerifyTampered(signed => Proof(signed).Remove(member)).Failure, Is.EqualTo(ProofFailure.MalformedProof));

    [Test]
    public void Verify_other_proof_purpose_is_wrong_purpose() =>
        Assert.That(VerifyTampered(signed => Proof(signed)["proofPurpose"] = "authentication").Failure, Is.EqualTo(ProofFailure.WrongProofPurpose));

    [Test]
    public void Verify_expected_other_purpose_accepts_it()
    {
        using var key = ProofVectors.SigningKey(KeyId);
        var signed = IntegrityProof.Sign(new JsonObject { ["type"] = "Note" }, key, KeyId, Created, proofPurpose: "authentication");

        var result = IntegrityProof.Verify(Element(signed), VectorKeyFor, new ProofVerificationOptions { ExpectedProofPurpose = "authentication" });

        Assert.That(result.IsValid, Is.True, result.Reason);
    }

    [TestCase("yesterday")]
    [TestCase("2023-02-24 23:36:38Z")]
    [TestCase("2023-13-24T23:36:38Z")]
    public void Verify_unparseable_created_is_invalid_date(string created) =>
        Assert.That(VerifyTampered(signed => Proof(signed)["created"] = created).Failure, Is.EqualTo(ProofFailure.InvalidDate));

    [Test]
    public void Verify_passed_expiry_is_expired()
    {
        var signed = SignedNote();
        Proof(signed)["expires"] = "2024-01-01T00:00:00Z";
        var options = new ProofVerificationOptions { Now = new DateTimeOffset(2024, 1, 1, 0, 0, 1, TimeSpan.Zero) };

        var result = IntegrityProof.Verify(Element(signed), VectorKeyFor, options);

        Assert.That(result.Failure, Is.EqualTo(ProofFailure.Expired));
    }

    [Test]
    public void Verify_signed_future_expiry_is_valid()
    {
        // expires is part of the proof config, so a proof that carries it must be made with it:
        // build one by hand with the cryptosuite's steps.
        var signed = SignWithExtraProofMember("expires", "2030-01-01T00:00:00Z");
        var options = new ProofVerificationOptions { Now = new DateTimeOffset(2025, 1, 1, 0, 0, 0, TimeSpan.Zero) };

        var result = IntegrityProof.Verify(Element(signed), VectorKeyFor, options);

        Assert.That(result.IsValid, Is.True, result.Reason);
    }

    [Test]
    public void Verify_proof_context_not_prefix_of_document_context_is_mismatch()
    {
        var result = VerifyTampered(signed => signed["@context"] = new JsonArray("https://www.w3.org/ns/activitystreams"));

        Assert.That(result.Failure, Is.EqualTo(ProofFailure.ContextMismatch));
    }

    [Test]
    public void Verify_document_without_context_but_proof_with_one_is_mismatch() =>
        Assert.That(VerifyTampered(signed => signed.Remove("@context")).Failure, Is.EqualTo(ProofFailure.ContextMismatch));

    [Test]
    public void Verify_changed_proof_context_is_mismatch() =>
        Assert.That(VerifyTampered(signed => Proof(signed)["@context"] = new JsonArray("https://example.com/other")).Failure,
            Is.EqualTo(ProofFailure.ContextMismatch));

    [Test]
    public void Verify_context_appended_after_signing_is_valid()
    {
        // eddsa-jcs-2022 verifies against the proof's @context when the document's starts with it
        // (room for another proof's context in a proof set).
        var result = VerifyTampered(signed => signed["@context"]!.AsArray().Add("https://w3id.org/security/v1"));

        Assert.That(result.IsValid, Is.True, result.Reason);
    }

    [Test]
    public void Verify_duplicate_member_in_document_is_malformed_document()
    {
        var json = SignedNote().ToJsonString();
        var tampered = json.Replace("\"votes\":3", "\"votes\":3,\"votes\":4", StringComparison.Ordinal);

        var result = IntegrityProof.Verify(Element(tampered), VectorKeyFor);

        Assert.That(result.Failure, Is.EqualTo(ProofFailure.MalformedDocument));
    }

    [Test]
    public void Verify_unresolvable_key_is_unknown_key()
    {
        var result = IntegrityProof.Verify(Element(SignedNote()), _ => null);

        Assert.That(result.Failure, Is.EqualTo(ProofFailure.UnknownKey));
        Assert.That(result.VerificationMethod, Is.EqualTo(KeyId));
    }

    [Test]
    public void Verify_rsa_key_is_key_type_mismatch() =>
        Assert.That(IntegrityProof.Verify(Element(SignedNote()), _ => _rsaKey).Failure, Is.EqualTo(ProofFailure.KeyTypeMismatch));

    // --- Sign refusals -----------------------------------------------------------------------

    [Test]
    public void Sign_rsa_key_throws()
    {
        using var pair = ActorKeyPair.GenerateRsa();
        using var key = pair.ToSigningKey(KeyId);

        Assert.That(() => IntegrityProof.Sign(new JsonObject(), key, KeyId, Created), Throws.ArgumentException);
    }

    [Test]
    public void Sign_document_with_proof_throws()
    {
        using var key = ProofVectors.SigningKey(KeyId);

        Assert.That(() => IntegrityProof.Sign(SignedNote(), key, KeyId, Created), Throws.ArgumentException);
    }

    [Test]
    public void Sign_document_with_linked_data_signature_throws()
    {
        using var key = ProofVectors.SigningKey(KeyId);
        var document = new JsonObject { ["type"] = "Note", ["signature"] = new JsonObject { ["type"] = "RsaSignature2017" } };

        Assert.That(() => IntegrityProof.Sign(document, key, KeyId, Created), Throws.ArgumentException);
    }

    [Test]
    public void Sign_document_with_nan_throws()
    {
        using var key = ProofVectors.SigningKey(KeyId);
        var document = new JsonObject { ["type"] = "Note", ["n"] = double.NaN };

        Assert.That(() => IntegrityProof.Sign(document, key, KeyId, Created), Throws.ArgumentException);
    }

    /// <summary>Signs a note whose proof carries one more member, following the cryptosuite by hand.</summary>
    private static JsonObject SignWithExtraProofMember(string name, string value)
    {
        var document = new JsonObject { ["@context"] = "https://www.w3.org/ns/activitystreams", ["type"] = "Note", ["content"] = "x" };
        var proof = new JsonObject
        {
            ["@context"] = "https://www.w3.org/ns/activitystreams",
            ["type"] = IntegrityProof.ProofType,
            ["cryptosuite"] = IntegrityProof.Cryptosuite,
            ["verificationMethod"] = KeyId,
            ["proofPurpose"] = IntegrityProof.AssertionMethod,
            ["created"] = "2024-06-01T00:00:00Z",
            [name] = value,
        };
        var hashData = SHA256.HashData(JsonCanonicalizer.Canonicalize(proof))
            .Concat(SHA256.HashData(JsonCanonicalizer.Canonicalize(document))).ToArray();
        using var key = ProofVectors.SigningKey(KeyId);
        proof["proofValue"] = "z" + Base58.Bitcoin.Encode(key.Sign(hashData));
        document["proof"] = proof;
        return document;
    }
}
