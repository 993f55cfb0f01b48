using System.Text.Json;
using System.Text.Json.Nodes;
using Fellows.Federation.Groups;
using Fellows.Federation.Proofs;
using Fellows.Federation.Signatures;
using Fellows.Federation.Tests.Proofs;
using Fellows.Federation.Vocabulary;
using NUnit.Framework;

namespace Fellows.Federation.Tests.Groups;

public class MembershipAttestationTests
{
    const string Group = "https://b.example/users/coop";
    const string Member = "https://b.example/users/bob";
    const string KeyId = Group + "#ed25519-key";
    static readonly DateTimeOffset Issued = new(2026, 3, 8, 9, 0, 0, TimeSpan.Zero);

    static MembershipAttestation Sample() =>
        new(MembershipAttestation.UrlFor(Group + "/membership", Member), Group, Member, Issued, Issued.AddDays(1));

    static JsonObject Signed() =>
        IntegrityProof.Sign(Sample().ToDocument("https://b.example/ns/fellows"), ProofVectors.SigningKey(KeyId), KeyId, Issued);

    static ProofVerification Verify(JsonNode document) =>
        IntegrityProof.Verify(JsonDocument.Parse(ActivityPubWriter.Serialize(document)).RootElement,
            keyId => keyId == KeyId ? ProofVectors.VerificationKey(KeyId, Group) : null);

    [Test]
    public void UrlFor_escapes_the_member_and_appends_to_an_existing_query()
    {
        Assert.That(MembershipAttestation.UrlFor("https://b.example/g/membership", "https://b.example/users/bob"),
            Is.EqualTo("https://b.example/g/membership?member=https%3A%2F%2Fb.example%2Fusers%2Fbob"));
        Assert.That(MembershipAttestation.UrlFor("https://b.example/g?x=1", "a b"), Is.EqualTo("https://b.example/g?x=1&member=a%20b"));
    }

    [Test]
    public void Signed_attestation_reads_back_and_its_proof_vouches_for_the_group()
    {
        var signed = Signed();
        Assert.That(MembershipAttestation.TryRead(JsonDocument.Parse(signed.ToJsonString()).RootElement, out var read, out var error), Is.True, error);
        Assert.That(read, Is.EqualTo(Sample()));
        var verification = Verify(signed);
        Assert.That(verification.VouchesFor(Group), Is.True, verification.Reason);
        Assert.That(verification.VouchesFor(Member), Is.False, "the proof speaks for the group, not the member");
    }

    [Test]
    public void Attestation_changed_after_signing_fails_its_proof()
    {
        var signed = Signed();
        signed["member"] = "https://b.example/users/mallory";
        Assert.That(Verify(signed).IsValid, Is.False);
        signed = Signed();
        signed["endTime"] = "2036-03-09T09:00:00Z";
        Assert.That(Verify(signed).IsValid, Is.False);
    }

    [TestCase("""{"type": "Note", "id": "x", "attributedTo": "g", "member": "m", "published": "2026-03-08T09:00:00Z", "endTime": "2026-03-09T09:00:00Z"}""")]
    [TestCase("""{"type": "fellows:Membership", "id": "x", "attributedTo": "g", "published": "2026-03-08T09:00:00Z", "endTime": "2026-03-09T09:00:00Z"}""")]
    [TestCase("""{"type": "fellows:Membership", "id": "x", "attributedTo": "g", "member": "m", "published": "soon", "endTime": "2026-03-09T09:00:00Z"}""")]
    [TestCase("""["not", "an", "object"]""")]
    public void Malformed_attestations_are_refused(string json)
    {
        Assert.That(MembershipAttestation.TryRead(JsonDocument.Parse(json).RootElement, out var read, out var error), Is.False);
        Assert.That(read, Is.Null);
        Assert.That(error, Is.Not.Empty);
    }

    [Test]
    public void Full_iri_type_is_read_too()
    {
        const string json = """{"type": ["Object", "https://w3id.org/fellows/ns#Membership"], "id": "x", "attributedTo": "g", "member": "m", "published": "2026-03-08T09:00:00Z", "endTime": "2026-03-09T09:00:00Z"}""";
        Assert.That(MembershipAttestation.TryRead(JsonDocument.Parse(json).RootElement, out var read, out _), Is.True);
        Assert.That(read!.Member, Is.EqualTo("m"));
    }

    [Test]
    public void Fixture_is_what_the_writer_and_signer_make()
    {
        var fixture = File.ReadAllText(Path.Combine(TestContext.CurrentContext.TestDirectory, "Fixtures", "fellows", "membership.json"));
        Assert.That(JsonNode.DeepEquals(JsonNode.Parse(fixture), Signed()), Is.True, Signed().ToJsonString(new JsonSerializerOptions { WriteIndented = true }));
    }
}
