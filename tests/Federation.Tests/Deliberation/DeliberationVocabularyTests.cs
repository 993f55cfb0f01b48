using System.Text.Json;
using System.Text.Json.Nodes;
using Fellows.Federation.Deliberation;
using Fellows.Federation.Proofs;
using Fellows.Federation.Signatures;
using Fellows.Federation.Tests.Vocabulary;
using Fellows.Federation.Vocabulary;
using NUnit.Framework;

#pragma warning disable CA1861 // expected arrays inline read best in tests

namespace Fellows.Federation.Tests.Deliberation;

public class DeliberationVocabularyTests
{
    private static string Serialize(JsonNode node) => ActivityPubWriter.Serialize(node, indented: true) + "\n";

    private static string FixtureText(string name) => File.ReadAllText(Fixture.Path(name));

    private static JsonElement Element(JsonNode node) => JsonDocument.Parse(node.ToJsonString()).RootElement;

    // ---- Snapshots: the exact documents we send ----

    [Test]
    public void Motion_open_matches_snapshot()
    {
        Assert.That(Serialize(DeliberationWriter.Motion(Samples.Motion(closed: false), Samples.ContextUrl)), Is.EqualTo(FixtureText("fellows/motion_open.json")));
    }

    [Test]
    public void UpdateMotion_closed_matches_snapshot()
    {
        var update = DeliberationWriter.UpdateMotion(Samples.MotionId + "/updates/1", Samples.Motion(closed: true), Samples.ContextUrl);

        Assert.That(Serialize(update), Is.EqualTo(FixtureText("fellows/update_motion_closed.json")));
    }

    [Test]
    public void Stance_matches_snapshot()
    {
        Assert.That(Serialize(DeliberationWriter.Stance(Samples.BobsStance, Samples.ContextUrl)), Is.EqualTo(FixtureText("fellows/stance.json")));
    }

    [Test]
    public void Tally_with_ballots_matches_snapshot()
    {
        var tally = DeliberationWriter.Tally(Samples.Tally, Samples.MotionId + "/tally", null, Samples.ContextUrl, embedBallots: true);

        Assert.That(Serialize(tally), Is.EqualTo(FixtureText("fellows/tally_with_ballots.json")));
    }

    [Test]
    public void Outcome_amendment_commitment_and_reject_match_snapshots()
    {
        Assert.Multiple(() =>
        {
            Assert.That(Serialize(DeliberationWriter.Outcome(Samples.Outcome, Samples.ContextUrl)), Is.EqualTo(FixtureText("fellows/outcome.json")));
            Assert.That(Serialize(DeliberationWriter.Amendment(Samples.Amendment, Samples.ContextUrl)), Is.EqualTo(FixtureText("fellows/amendment.json")));
            Assert.That(Serialize(DeliberationWriter.AmendmentPosition(Samples.AmendmentPosition, Samples.ContextUrl)), Is.EqualTo(FixtureText("fellows/amendment_position.json")));
            Assert.That(Serialize(DeliberationWriter.Commitment(Samples.Commitment, Samples.ContextUrl)), Is.EqualTo(FixtureText("fellows/commitment.json")));
            Assert.That(Serialize(DeliberationWriter.RejectStance("https://a.example/activities/r1", Samples.Author, Samples.Tally.Rejections[0], Samples.ContextUrl)), Is.EqualTo(FixtureText("fellows/reject_stance.json")));
        });
    }

    // ---- The context ----

    [Test]
    public void Context_is_valid_json_with_the_namespaces()
    {
        using var document = JsonDocument.Parse(DeliberationVocabulary.ContextDocument);
        var context = document.RootElement.GetProperty("@context");

        Assert.Multiple(() =>
        {
            Assert.That(context.GetProperty("fellows").GetString(), Is.EqualTo(DeliberationVocabulary.Namespace));
            Assert.That(context.GetProperty("vf").GetString(), Is.EqualTo(DeliberationVocabulary.ValueFlowsNamespace));
            Assert.That(context.GetProperty("toot").GetString(), Is.EqualTo("http://joinmastodon.org/ns#"));
            Assert.That(context.GetProperty("votersCount").GetProperty("@id").GetString(), Is.EqualTo("toot:votersCount"));
            Assert.That(context.GetProperty("Commitment").GetString(), Is.EqualTo("vf:Commitment"));
            Assert.That(context.TryGetProperty("Proposal", out _), Is.False, "vf:Proposal is a market offer, never our motion");
            Assert.That(DeliberationVocabulary.ContextUrl("https://a.example/"), Is.EqualTo("https://a.example/ns/fellows"));
        });
    }

    /// <summary>ActivityStreams terms (from its own context) and the proof, which Data Integrity defines.</summary>
    private static readonly HashSet<string> DefinedElsewhere =
    [
        "@context", "@list", "@value", "id", "type", "actor", "object", "attributedTo", "name", "content", "source", "mediaType",
        "published", "updated", "url", "to", "cc", "audience", "context", "oneOf", "anyOf", "endTime", "closed",
        "replies", "totalItems", "inReplyTo", "proof",
    ];

    [Test]
    public void Every_property_we_write_is_defined_by_a_context()
    {
        using var document = JsonDocument.Parse(DeliberationVocabulary.ContextDocument);
        var ours = document.RootElement.GetProperty("@context").EnumerateObject().Select(p => p.Name).ToHashSet();
        var written = new JsonNode[]
        {
            DeliberationWriter.UpdateMotion("https://a.example/u/1", Samples.Motion(closed: true) with { Rules = Samples.ConsentRules with { Mode = CountingMode.CoopByCoop } }, Samples.ContextUrl),
            DeliberationWriter.Motion(Samples.Motion(closed: false) with { Rules = Samples.ConsentRules with { Method = DecisionMethod.Score, Options = ["A"] } }, Samples.ContextUrl),
            DeliberationWriter.Stance(Samples.BobsStance with { Scores = [new("A", 1)], Abstain = true, Receipt = new string('a', 64) }, Samples.ContextUrl),
            DeliberationWriter.Tally(RankedTally(), "https://a.example/t", null, Samples.ContextUrl, embedBallots: true),
            DeliberationWriter.Outcome(Samples.Outcome, Samples.ContextUrl),
            DeliberationWriter.Amendment(Samples.Amendment, Samples.ContextUrl),
            DeliberationWriter.Commitment(Samples.Commitment with { Satisfies = "https://a.example/intents/1", Updated = Samples.Closes }, Samples.ContextUrl),
            DeliberationWriter.RejectStance("https://a.example/r/1", Samples.Author, Samples.Tally.Rejections[0], Samples.ContextUrl),
        };
        var names = new HashSet<string>();
        foreach (var node in written)
            Collect(node, names);

        var undefined = names.Where(n => !ours.Contains(n) && !DefinedElsewhere.Contains(n)).Order().ToArray();

        Assert.Multiple(() =>
        {
            Assert.That(undefined, Is.Empty);
            Assert.That(names, Does.Contain("rounds").And.Contain("coopResults").And.Contain("proofValue").And.Contain("scores").And.Contain("receipt").And.Contain("satisfies"));
        });
    }

    private static TallyResult RankedTally()
    {
        var rules = Samples.ConsentRules with { Method = DecisionMethod.RankedChoice, Options = ["A", "B", "C"], Mode = CountingMode.CoopByCoop };
        Stance[] stances =
        [
            new() { Id = Samples.Author + "/s/1", Voter = Samples.Author, InReplyTo = Samples.MotionId, Published = Samples.Published, Choices = ["A"], ProofValue = "z1" },
            new() { Id = Samples.Carol + "/s/1", Voter = Samples.Carol, InReplyTo = Samples.MotionId, Published = Samples.Published, Choices = ["B", "A"] },
            new() { Id = Samples.Bob + "/s/1", Voter = Samples.Bob, InReplyTo = Samples.MotionId, Published = Samples.Published, Choices = ["C"] },
        ];
        return Tally.Count(rules, Samples.Electorate, stances);
    }

    private static void Collect(JsonNode? node, HashSet<string> names)
    {
        switch (node)
        {
            case JsonObject obj:
                foreach (var (name, value) in obj)
                {
                    names.Add(name);
                    // Under "scores" of a ballot leaf object: option names are values, not properties.
                    Collect(value, names);
                }

                break;
            case JsonArray array:
                foreach (var item in array)
                    Collect(item, names);
                break;
        }
    }

    // ---- Round trips ----

    [Test]
    public void Motion_round_trips_to_the_same_rules()
    {
        var written = DeliberationWriter.Motion(Samples.Motion(closed: true), Samples.ContextUrl);

        Assert.That(DeliberationReader.TryReadMotion(Element(written), out var motion, out var error), Is.True, error);
        var rules = motion!.ToRules()!;
        Assert.Multiple(() =>
        {
            Assert.That(motion.IsFellowsMotion, Is.True);
            Assert.That(motion.Name, Is.EqualTo("Buy a second oven"));
            Assert.That(motion.SourceMarkdown, Does.StartWith("**Buy"));
            Assert.That(motion.Options, Is.EqualTo(ConsentPositions.All));
            Assert.That(motion.OptionCounts, Is.EqualTo(new long?[] { 2, 0, 1, 0 }));
            Assert.That(motion.VotersCount, Is.EqualTo(3));
            Assert.That(motion.Phase, Is.EqualTo(MotionPhase.Closed));
            Assert.That(motion.Electorate, Has.Count.EqualTo(2));
            Assert.That(motion.Audience, Is.EqualTo(Samples.Workgroup));
            Assert.That(rules.MotionId, Is.EqualTo(Samples.MotionId));
            Assert.That(rules.Method, Is.EqualTo(DecisionMethod.Consent));
            Assert.That(rules.Threshold, Is.EqualTo(Threshold.SimpleMajority));
            Assert.That(rules.Quorum, Is.EqualTo(Quorum.Fraction(1, 2)));
            Assert.That(rules.ClosesAt, Is.EqualTo(Samples.Closes));
            Assert.That(motion.Tally!.Digest, Is.EqualTo(Samples.Tally.Digest));
            Assert.That(motion.Tally.State, Is.EqualTo(OutcomeState.Passed));
            Assert.That(motion.Tally.BallotsUrl, Is.EqualTo(Samples.MotionId + "/ballots"));
        });
    }

    [TestCase(DecisionMethod.Majority, Threshold.TwoThirds, CountingMode.CoopByCoop)]
    [TestCase(DecisionMethod.Approval, Threshold.Plurality, CountingMode.Pooled)]
    [TestCase(DecisionMethod.RankedChoice, Threshold.SimpleMajority, CountingMode.Pooled)]
    [TestCase(DecisionMethod.Score, Threshold.Plurality, CountingMode.Pooled)]
    public void Motion_round_trips_every_method(DecisionMethod method, Threshold threshold, CountingMode mode)
    {
        var rules = Samples.ConsentRules with
        {
            Method = method,
            Options = ["Oak", "Birch", "Pine"],
            Threshold = threshold,
            Mode = mode,
            CoopQuorum = Quorum.AtLeast(2),
            SecretBallot = true,
            ScoreMin = -3,
            ScoreMax = 3,
        };
        var written = DeliberationWriter.Motion(Samples.Motion(closed: false) with { Rules = rules }, Samples.ContextUrl);

        Assert.That(DeliberationReader.TryReadMotion(Element(written), out var motion, out var error), Is.True, error);
        var read = motion!.ToRules()!;
        Assert.Multiple(() =>
        {
            Assert.That(read.Method, Is.EqualTo(method));
            Assert.That(read.Options, Is.EqualTo(rules.Options));
            Assert.That(read.Threshold, Is.EqualTo(threshold));
            Assert.That(read.Mode, Is.EqualTo(mode));
            Assert.That(read.CoopQuorum, Is.EqualTo(Quorum.AtLeast(2)));
            Assert.That(read.SecretBallot, Is.True);
            Assert.That(motion.Multiple, Is.EqualTo(method == DecisionMethod.Approval));
            Assert.That(motion.OptionCounts, Is.All.Null, "no counts before the close unless results are shown");
            if (method == DecisionMethod.Score)
                Assert.That((read.ScoreMin, read.ScoreMax), Is.EqualTo((-3, 3)));
        });
    }

    [Test]
    public void Stance_signed_round_trips_and_its_proof_value_is_counted()
    {
        using var pair = ActorKeyPair.GenerateEd25519();
        using var signingKey = pair.ToSigningKey(Samples.Bob + "#ed25519-key");
        using var verificationKey = pair.ToVerificationKey(Samples.Bob + "#ed25519-key", Samples.Bob);
        var signed = IntegrityProof.Sign(DeliberationWriter.Stance(Samples.BobsStance, Samples.ContextUrl), signingKey, Samples.Bob + "#ed25519-key", Samples.Published.AddHours(2));
        var element = Element(signed);

        var verification = IntegrityProof.Verify(element, _ => verificationKey);
        Assert.That(DeliberationReader.TryReadStance(element, out var stance, out var error), Is.True, error);
        var tally = Tally.Count(Samples.ConsentRules, Samples.Electorate, [stance!.ToStance(Samples.Published.AddHours(3))]);

        Assert.Multiple(() =>
        {
            Assert.That(verification.IsValid, Is.True, verification.Reason);
            Assert.That(stance.IsPollVote, Is.False);
            Assert.That(stance.Choices, Is.EqualTo(new[] { "disagree" }));
            Assert.That(stance.Reason, Is.EqualTo("<p>Too soon.</p>"));
            Assert.That(stance.Coop, Is.EqualTo("https://b.example/coop"));
            Assert.That(stance.ProofValue, Is.EqualTo(signed["proof"]!["proofValue"]!.GetValue<string>()));
            Assert.That(tally.Ballots.Single().ProofValue, Is.EqualTo(stance.ProofValue));
            Assert.That(tally.CountOf("disagree"), Is.EqualTo(1));
        });
    }

    [Test]
    public void Stance_with_scores_receipt_and_abstain_round_trips()
    {
        var local = Samples.BobsStance with { Choices = [], Scores = [new("Oak", 3), new("Pine", -1)], Receipt = new string('b', 64), ReasonHtml = null };
        var abstaining = Samples.BobsStance with { Choices = [], Abstain = true, ReasonHtml = null };

        Assert.That(DeliberationReader.TryReadStance(Element(DeliberationWriter.Stance(local, Samples.ContextUrl)), out var scored, out var error), Is.True, error);
        Assert.That(DeliberationReader.TryReadStance(Element(DeliberationWriter.Stance(abstaining, Samples.ContextUrl)), out var abstained, out error), Is.True, error);
        Assert.Multiple(() =>
        {
            Assert.That(scored!.Scores, Is.EqualTo(local.Scores));
            Assert.That(scored.Receipt, Is.EqualTo(local.Receipt));
            Assert.That(scored.Choices, Is.Empty);
            Assert.That(abstained!.Abstain, Is.True);
            Assert.That(abstained.IsPollVote, Is.False);
        });
    }

    [Test]
    public void Stance_from_another_implementation_is_read_tolerantly()
    {
        using var document = Fixture.Load("fellows/stance_tolerant.json");

        Assert.That(DeliberationReader.TryReadStance(document.RootElement, out var stance, out var error), Is.True, error);
        Assert.Multiple(() =>
        {
            Assert.That(stance!.AttributedTo, Is.EqualTo("https://c.example/users/finn"));
            Assert.That(stance.InReplyTo, Is.EqualTo("https://a.example/motions/77"));
            Assert.That(stance.Choices, Is.EqualTo(new[] { "Oak", "Birch", "Pine" }));
            Assert.That(stance.Coop, Is.EqualTo("https://c.example/coop"));
            Assert.That(stance.Reason, Is.EqualTo("<p>Oak lasts longest.</p>"));
            Assert.That(stance.Published, Is.EqualTo(new DateTimeOffset(2026, 3, 2, 9, 30, 0, TimeSpan.Zero)));
            Assert.That(stance.ProofValue, Is.EqualTo("z5sample"));
            Assert.That(stance.IsPollVote, Is.False);
        });
    }

    [Test]
    public void Tally_round_trips_and_its_embedded_ballots_verify_and_recount()
    {
        using var document = Fixture.Load("fellows/tally_with_ballots.json");

        Assert.That(DeliberationReader.TryReadTally(document.RootElement, out var tally, out var error), Is.True, error);
        var recount = Tally.Recount(Samples.ConsentRules, Samples.Electorate.EligibleByCoop, tally!.Ballots);
        Assert.Multiple(() =>
        {
            Assert.That(tally.Ballots, Has.Count.EqualTo(3));
            Assert.That(tally.BallotCount, Is.EqualTo(3));
            Assert.That(tally.DigestMethod, Is.EqualTo(TallyDigest.Method));
            Assert.That(TallyDigest.Verify(tally.Digest!, tally.Ballots), Is.True);
            Assert.That(recount.Digest, Is.EqualTo(tally.Digest));
            Assert.That(recount.State, Is.EqualTo(tally.State));
            Assert.That(recount.Counts, Is.EqualTo(tally.Counts));
            Assert.That(tally.RejectedCount, Is.EqualTo(1));
            Assert.That(tally.Coops.Select(c => c.Participants), Is.EqualTo(new[] { 2, 1 }));
            Assert.That(tally.Motion, Is.EqualTo(Samples.MotionId));
        });
    }

    [Test]
    public void Tally_ranked_rounds_and_coop_results_round_trip()
    {
        var original = RankedTally();
        var written = DeliberationWriter.Tally(original, null, "https://a.example/ballots", Samples.ContextUrl);

        Assert.That(DeliberationReader.TryReadTally(Element(written), out var tally, out var error), Is.True, error);
        Assert.Multiple(() =>
        {
            Assert.That(tally!.Mode, Is.EqualTo(CountingMode.CoopByCoop));
            Assert.That(tally.Coops.Select(c => c.Voice), Is.EqualTo(original.Coops.Select(c => c.Voice)));
            Assert.That(tally.Coops[0].Rounds.Select(r => r.Eliminated), Is.EqualTo(original.Coops[0].Rounds.Select(r => r.Eliminated)));
            Assert.That(tally.Coops[0].Rounds.Select(r => r.TieBreak), Is.EqualTo(original.Coops[0].Rounds.Select(r => r.TieBreak)));
            Assert.That(tally.BallotsUrl, Is.EqualTo("https://a.example/ballots"));
            Assert.That(tally.Ballots, Is.Empty);
        });
    }

    [Test]
    public void Ballot_reader_is_strict_because_ballots_are_hashed()
    {
        static bool Read(string json) => DeliberationReader.TryReadBallot(JsonDocument.Parse(json).RootElement, out _, out _);

        Assert.Multiple(() =>
        {
            Assert.That(Read("""{"coop":"https://a.example/coop","choice":["A"],"id":"https://a.example/s/1"}"""), Is.True);
            Assert.That(Read("""{"coop":"https://a.example/coop","choice":["A"],"colour":"red"}"""), Is.False, "unknown member");
            Assert.That(Read("""{"coop":"https://a.example/coop","choice":"A"}"""), Is.False, "choice not an array");
            Assert.That(Read("""{"choice":["A"]}"""), Is.False, "no coop");
            Assert.That(Read("""{"coop":"c","choice":[1]}"""), Is.False, "number choice");
            Assert.That(Read("""{"coop":"c","choice":[],"scores":[{"option":"A","score":1.5}]}"""), Is.False, "fractional score");
            Assert.That(Read("""{"coop":"c","choice":[],"abstain":false}"""), Is.False, "false flags are omitted, never written");
        });
    }

    [Test]
    public void Outcome_amendment_and_commitment_round_trip()
    {
        var outcomeOk = DeliberationReader.TryReadOutcome(Element(DeliberationWriter.Outcome(Samples.Outcome, Samples.ContextUrl)), out var outcome, out var e1);
        var amendmentOk = DeliberationReader.TryReadAmendment(Element(DeliberationWriter.Amendment(Samples.Amendment, Samples.ContextUrl)), out var amendment, out var e2);
        var commitmentOk = DeliberationReader.TryReadCommitment(Element(DeliberationWriter.Commitment(Samples.Commitment, Samples.ContextUrl)), out var commitment, out var e3);

        Assert.Multiple(() =>
        {
            Assert.That(outcomeOk, Is.True, e1);
            Assert.That(outcome!.State, Is.EqualTo(OutcomeState.Passed));
            Assert.That(outcome.ReviewDate, Is.EqualTo(Samples.Outcome.ReviewDate));
            Assert.That(outcome.InReplyTo, Is.EqualTo(Samples.MotionId));
            Assert.That(outcome.Content, Is.EqualTo(Samples.Outcome.StatementHtml));
            Assert.That(amendmentOk, Is.True, e2);
            Assert.That(amendment!.Amends, Is.EqualTo(Samples.MotionId));
            Assert.That(amendment.ProposedText, Is.EqualTo(Samples.Amendment.ProposedText));
            Assert.That(amendment.State, Is.EqualTo(AmendmentState.Accepted));
            Assert.That(commitmentOk, Is.True, e3);
            Assert.That(commitment!.Provider, Is.EqualTo(Samples.Carol));
            Assert.That(commitment.Receiver, Is.EqualTo(Samples.Workgroup));
            Assert.That(commitment.ClauseOf, Is.EqualTo(Samples.MotionId + "/outcome"));
            Assert.That(commitment.Due, Is.EqualTo(Samples.Commitment.Due));
            Assert.That(commitment.Finished, Is.False);
            Assert.That(commitment.Name, Is.EqualTo("Get three quotes for the oven"));
        });
    }

    [Test]
    public void Motion_with_files_carries_them_as_attachments_that_a_reader_of_notes_takes()
    {
        var file = new MediaAttachment("Document", "image/jpeg", "https://a.example/media/plan.jpg", "Roof plan", 800, 600, null);
        var withFile = DeliberationWriter.Motion(Samples.Motion(closed: false) with { Attachments = [file] }, Samples.ContextUrl);
        var without = DeliberationWriter.Motion(Samples.Motion(closed: false), Samples.ContextUrl);

        Assert.Multiple(() =>
        {
            Assert.That(without.ContainsKey("attachment"), Is.False, "a motion without files reads as before");
            Assert.That(RemoteObject.TryRead(Element(withFile), out var read, out var error), Is.True, error);
            var attachment = read!.Attachments.Single();
            Assert.That(attachment.Url, Is.EqualTo(file.Url));
            Assert.That(attachment.MediaType, Is.EqualTo("image/jpeg"));
            Assert.That(attachment.Name, Is.EqualTo("Roof plan"));
            Assert.That(attachment.Width, Is.EqualTo(800));
        });
    }

    [Test]
    public void Amendment_position_round_trips_and_only_the_four_consent_positions_are_read()
    {
        var written = DeliberationWriter.AmendmentPosition(new LocalAmendmentPosition
        {
            Id = Samples.Carol + "/amendment-positions/1",
            AttributedTo = Samples.Carol,
            Amendment = Samples.MotionId + "/amendments/7",
            Position = ConsentPositions.Block,
            ContentHtml = "<p>The oven needs a chimney first</p>",
            Published = new DateTimeOffset(2026, 11, 26, 12, 0, 0, TimeSpan.Zero),
            To = [Samples.MotionId],
        }, Samples.ContextUrl);
        using var context = JsonDocument.Parse(DeliberationVocabulary.ContextDocument);
        var terms = context.RootElement.GetProperty("@context");

        Assert.Multiple(() =>
        {
            Assert.That(DeliberationReader.TryReadAmendmentPosition(Element(written), out var read, out var error), Is.True, error);
            Assert.That(read!.Position, Is.EqualTo("block"));
            Assert.That(read.Amendment, Is.EqualTo(Samples.MotionId + "/amendments/7"));
            Assert.That(read.AttributedTo, Is.EqualTo(Samples.Carol));
            Assert.That(read.Content, Is.EqualTo("<p>The oven needs a chimney first</p>"));
            Assert.That(written["type"]!.AsArray().Select(t => t!.GetValue<string>()), Is.EqualTo(new[] { "Note", "fellows:AmendmentPosition" }));
            Assert.That(terms.GetProperty("AmendmentPosition").GetString(), Is.EqualTo("fellows:AmendmentPosition"));
            Assert.That(terms.GetProperty("position").GetString(), Is.EqualTo("fellows:position"));
            foreach (var bad in new JsonNode?[] { "maybe", "Agree", 1, null })
            {
                var copy = written.DeepClone().AsObject();
                copy["position"] = bad;
                Assert.That(DeliberationReader.TryReadAmendmentPosition(Element(copy), out _, out _), Is.False, $"position {bad?.ToJsonString() ?? "missing"}");
            }
            var noTarget = written.DeepClone().AsObject();
            noTarget.Remove("inReplyTo");
            Assert.That(DeliberationReader.TryReadAmendmentPosition(Element(noTarget), out _, out _), Is.False, "no amendment");
            var stance = written.DeepClone().AsObject();
            stance["type"] = new JsonArray("Note", "fellows:Stance");
            Assert.That(DeliberationReader.TryReadAmendmentPosition(Element(stance), out _, out _), Is.False, "another type");
        });
    }

    [Test]
    public void Text_version_outcome_digest_and_proposed_title_round_trip_and_are_defined_by_the_context()
    {
        var motion = DeliberationWriter.Motion(Samples.Motion(closed: false) with { TextVersion = 3 }, Samples.ContextUrl);
        var outcome = DeliberationWriter.Outcome(Samples.Outcome with { Digest = "sha256-abc" }, Samples.ContextUrl);
        var amendment = DeliberationWriter.Amendment(Samples.Amendment with { ProposedName = "Buy the oven in May", TextVersion = 2 }, Samples.ContextUrl);
        var unversioned = DeliberationWriter.Motion(Samples.Motion(closed: false), Samples.ContextUrl);
        using var context = JsonDocument.Parse(DeliberationVocabulary.ContextDocument);
        var terms = context.RootElement.GetProperty("@context");

        Assert.Multiple(() =>
        {
            Assert.That(DeliberationReader.TryReadMotion(Element(motion), out var readMotion, out _), Is.True);
            Assert.That(readMotion!.TextVersion, Is.EqualTo(3));
            Assert.That(DeliberationReader.TryReadMotion(Element(unversioned), out var plain, out _), Is.True);
            Assert.That(plain!.TextVersion, Is.Null, "absent means not given");
            Assert.That(DeliberationReader.TryReadOutcome(Element(outcome), out var readOutcome, out _), Is.True);
            Assert.That(readOutcome!.Digest, Is.EqualTo("sha256-abc"));
            Assert.That(DeliberationReader.TryReadAmendment(Element(amendment), out var readAmendment, out _), Is.True);
            Assert.That(readAmendment!.ProposedName, Is.EqualTo("Buy the oven in May"));
            Assert.That(amendment["textVersion"]!.GetValue<int>(), Is.EqualTo(2));
            foreach (var term in new[] { "textVersion", "proposedName", "forWhom", "fulfilled", "commitmentsKept" })
                Assert.That(terms.TryGetProperty(term, out _), Is.True, term);
            Assert.That(terms.GetProperty("commitmentsKept").GetProperty("@id").GetString(), Is.EqualTo("fellows:commitmentsKept"));
        });
    }

    [Test]
    public void Motion_text_version_that_is_not_a_positive_whole_number_is_ignored()
    {
        var motion = DeliberationWriter.Motion(Samples.Motion(closed: false), Samples.ContextUrl);
        foreach (var bad in new JsonNode?[] { 0, -2, 1.5, "2" })
        {
            motion["textVersion"] = bad?.DeepClone();
            Assert.That(DeliberationReader.TryReadMotion(Element(motion), out var read, out _), Is.True);
            Assert.That(read!.TextVersion, Is.Null, bad?.ToJsonString());
        }
    }

    // ---- Degradation: what servers that know nothing of Fellows see, and what they send ----

    [Test]
    public void Motion_reads_as_an_ordinary_poll_with_the_generic_reader()
    {
        var written = DeliberationWriter.Motion(Samples.Motion(closed: true), Samples.ContextUrl);

        Assert.That(RemoteObject.TryRead(Element(written), out var note, out var error), Is.True, error);
        Assert.Multiple(() =>
        {
            Assert.That(note!.Type, Is.EqualTo("Question"));
            Assert.That(note.Poll!.Options.Select(o => o.Name), Is.EqualTo(ConsentPositions.All));
            Assert.That(note.Poll.Options.Select(o => o.Votes), Is.EqualTo(new long?[] { 2, 0, 1, 0 }));
            Assert.That(note.Poll.Multiple, Is.False);
            Assert.That(note.Poll.Closed, Is.True);
            Assert.That(note.Poll.VotersCount, Is.EqualTo(3));
            Assert.That(note.Poll.EndTime, Is.EqualTo(Samples.Closes));
            Assert.That(note.Content, Does.Contain("Buy a second oven"));
        });
    }

    [TestCase(false, false)]
    [TestCase(true, true)]
    public void Motion_running_counts_show_only_when_results_before_close_allows(bool resultsBeforeClose, bool shown)
    {
        var open = Samples.Motion(closed: false) with { Tally = Samples.Tally, ResultsBeforeClose = resultsBeforeClose };

        var written = DeliberationWriter.Motion(open, Samples.ContextUrl);

        Assert.Multiple(() =>
        {
            Assert.That(written.ContainsKey("votersCount"), Is.EqualTo(shown));
            Assert.That(written["oneOf"]!.AsArray().Any(o => o!.AsObject().ContainsKey("replies")), Is.EqualTo(shown));
            Assert.That(written.ContainsKey("tally"), Is.False, "the tally itself is published at the close");
        });
    }

    [Test]
    public void Mastodon_poll_vote_on_ranked_choice_ranks_one_and_on_score_is_refused()
    {
        using var document = Fixture.Load("mastodon/poll_vote.json");
        DeliberationReader.TryReadStance(document.RootElement.GetProperty("object"), out var vote, out _);
        var dana = "https://mastodon.example/users/dana";
        var electorate = Electorate.Single("https://a.example/coop", [dana]);
        var ranked = Samples.ConsentRules with { Method = DecisionMethod.RankedChoice, Options = ["agree", "other"] };
        var scored = Samples.ConsentRules with { Method = DecisionMethod.Score, Options = ["agree", "other"] };

        var rankedTally = Tally.Count(ranked, electorate, [vote!.ToStance(Samples.Published)]);
        var scoredTally = Tally.Count(scored, electorate, [vote.ToStance(Samples.Published)]);

        Assert.Multiple(() =>
        {
            Assert.That(rankedTally.Winner, Is.EqualTo("agree"));
            Assert.That(rankedTally.Ballots.Single().Choices, Is.EqualTo(new[] { "agree" }));
            Assert.That(scoredTally.Rejections.Single().Reason, Is.EqualTo(RejectionReason.MalformedChoice));
        });
    }

    [Test]
    public void Approval_motion_is_a_multiple_choice_poll()
    {
        var rules = Samples.ConsentRules with { Method = DecisionMethod.Approval, Options = ["Mon", "Fri"] };
        var written = DeliberationWriter.Motion(Samples.Motion(closed: false) with { Rules = rules }, Samples.ContextUrl);

        Assert.That(RemoteObject.TryRead(Element(written), out var note, out _), Is.True);
        Assert.That(note!.Poll!.Multiple, Is.True);
    }

    [Test]
    public void Mastodon_poll_vote_becomes_a_stance_and_is_counted()
    {
        using var document = Fixture.Load("mastodon/poll_vote.json");
        var received = Samples.Published.AddHours(5);

        Assert.That(DeliberationReader.TryReadStance(document.RootElement.GetProperty("object"), out var vote, out var error), Is.True, error);
        var dana = "https://mastodon.example/users/dana";
        var electorate = Electorate.FromMembers([(Samples.Author, "https://a.example/coop"), (dana, "https://a.example/coop")]);
        var tally = Tally.Count(Samples.ConsentRules, electorate, [vote!.ToStance(received)]);

        Assert.Multiple(() =>
        {
            Assert.That(vote.IsPollVote, Is.True);
            Assert.That(vote.Choices, Is.EqualTo(new[] { "agree" }));
            Assert.That(vote.Published, Is.Null);
            Assert.That(vote.Reason, Is.Null);
            Assert.That(vote.ToStance(received).Published, Is.EqualTo(received));
            Assert.That(tally.CountOf("agree"), Is.EqualTo(1));
            Assert.That(tally.Rejections, Is.Empty);
        });
    }

    [Test]
    public void Mastodon_poll_vote_from_an_ineligible_voter_is_rejected_with_a_reason_to_send_back()
    {
        using var document = Fixture.Load("mastodon/poll_vote.json");
        DeliberationReader.TryReadStance(document.RootElement.GetProperty("object"), out var vote, out _);

        var tally = Tally.Count(Samples.ConsentRules, Samples.Electorate, [vote!.ToStance(Samples.Published.AddHours(5))]);
        var reject = DeliberationWriter.RejectStance("https://a.example/activities/r2", Samples.Author, tally.Rejections.Single(), Samples.ContextUrl);

        Assert.Multiple(() =>
        {
            Assert.That(tally.Participants, Is.Zero);
            Assert.That(reject["rejectionReason"]!.GetValue<string>(), Is.EqualTo("ineligible"));
            Assert.That(reject["object"]!.GetValue<string>(), Is.EqualTo("https://mastodon.example/users/dana#votes/389574"));
            Assert.That(reject["to"]![0]!.GetValue<string>(), Is.EqualTo("https://mastodon.example/users/dana"));
        });
    }

    [Test]
    public void Mastodon_poll_vote_for_block_is_refused_for_want_of_a_reason()
    {
        using var document = Fixture.Load("mastodon/poll_vote_block.json");
        DeliberationReader.TryReadStance(document.RootElement, out var vote, out _);
        var erin = "https://mastodon.example/users/erin";

        var tally = Tally.Count(Samples.ConsentRules, Electorate.Single("https://a.example/coop", [erin]), [vote!.ToStance(Samples.Published)]);

        Assert.Multiple(() =>
        {
            Assert.That(tally.Rejections.Single().Reason, Is.EqualTo(RejectionReason.BlockWithoutReason));
            Assert.That(tally.State, Is.Not.EqualTo(OutcomeState.Blocked));
        });
    }

    [Test]
    public void Mastodon_question_reads_as_a_plain_majority_motion()
    {
        using var document = Fixture.Load("mastodon/question.json");

        Assert.That(DeliberationReader.TryReadMotion(document.RootElement, out var motion, out var error), Is.True, error);
        var rules = motion!.ToRules()!;
        Assert.Multiple(() =>
        {
            Assert.That(motion.IsFellowsMotion, Is.False);
            Assert.That(rules.Method, Is.EqualTo(DecisionMethod.Majority));
            Assert.That(rules.Options, Is.EqualTo(new[] { "Monday", "Friday" }));
            Assert.That(motion.OptionCounts, Is.EqualTo(new long?[] { 3, 4 }));
            Assert.That(rules.ClosesAt, Is.EqualTo(new DateTimeOffset(2024, 5, 2, 10, 0, 0, TimeSpan.Zero)));
        });
    }

    [Test]
    public void Multiple_choice_poll_votes_merge_into_one_approval_stance_in_any_order()
    {
        RemoteStance Vote(string id, string option, int minute) => new()
        {
            Id = "https://mastodon.example/users/dana#votes/" + id,
            AttributedTo = "https://mastodon.example/users/dana",
            InReplyTo = Samples.MotionId,
            Published = Samples.Published.AddMinutes(minute),
            Choices = [option],
            IsPollVote = true,
        };
        RemoteStance[] votes = [Vote("2", "Fri", 1), Vote("1", "Mon", 2), Vote("3", "Fri", 3)];

        var merged = RemoteStance.MergePollVotes(votes);
        var reversed = RemoteStance.MergePollVotes(votes.Reverse().ToArray());

        Assert.Multiple(() =>
        {
            Assert.That(merged, Is.EqualTo(reversed).Using<RemoteStance>((a, b) => a.Id == b.Id && a.Choices.SequenceEqual(b.Choices) && a.Published == b.Published));
            Assert.That(merged.Choices, Is.EqualTo(new[] { "Fri", "Mon" }));
            Assert.That(merged.Id, Does.EndWith("#votes/1"));
            Assert.That(merged.Published, Is.EqualTo(Samples.Published.AddMinutes(3)));
            Assert.Throws<ArgumentException>(() => RemoteStance.MergePollVotes([votes[0], votes[1] with { AttributedTo = Samples.Bob }]));
        });
    }

    [Test]
    public void ToStance_never_takes_a_published_time_later_than_receipt()
    {
        var stance = new RemoteStance { Id = "https://x/s", AttributedTo = "https://x/u", InReplyTo = Samples.MotionId, Published = Samples.Closes.AddDays(-1) };

        Assert.Multiple(() =>
        {
            Assert.That(stance.ToStance(Samples.Closes.AddDays(-2)).Published, Is.EqualTo(Samples.Closes.AddDays(-2)), "a clock ahead is clamped");
            Assert.That(stance.ToStance(Samples.Closes.AddHours(1)).Published, Is.EqualTo(Samples.Closes.AddDays(-1)), "delivery delay does not make a stance late");
        });
    }

    // ---- Hostile input ----

    [TestCase("""{"id":"https://a/s","type":"Note","name":"agree","inReplyTo":"https://a/m"}""", "attributedTo")]
    [TestCase("""{"id":"https://a/s","type":"Note","name":"agree","attributedTo":"https://a/u"}""", "inReplyTo")]
    [TestCase("""{"id":"ftp://a/s","type":"Note","name":"agree","attributedTo":"https://a/u","inReplyTo":"https://a/m"}""", "id")]
    [TestCase("""{"id":"https://a/s","type":"Note","content":"hello","attributedTo":"https://a/u","inReplyTo":"https://a/m"}""", "poll vote")]
    [TestCase("""{"id":"https://a/s","type":"Note","attributedTo":"https://a/u","inReplyTo":"https://a/m","scores":[{"option":"A","score":"lots"}]}""", "score")]
    [TestCase("""{"id":"https://a/s","type":"Note","attributedTo":"https://a/u","inReplyTo":"https://a/m","scores":[{"option":"A","score":99999999999}]}""", "score")]
    [TestCase("""[1,2,3]""", "object")]
    public void TryReadStance_refuses_unusable_documents(string json, string mention)
    {
        var ok = DeliberationReader.TryReadStance(JsonDocument.Parse(json).RootElement, out _, out var error);

        Assert.Multiple(() =>
        {
            Assert.That(ok, Is.False);
            Assert.That(error, Does.Contain(mention).IgnoreCase);
        });
    }

    [Test]
    public void TryReadStance_refuses_too_many_choices()
    {
        var choices = string.Join(",", Enumerable.Range(0, 65).Select(i => $"\"o{i}\""));
        var json = $$"""{"id":"https://a/s","type":["Note","fellows:Stance"],"attributedTo":"https://a/u","inReplyTo":"https://a/m","choice":[{{choices}}]}""";

        Assert.That(DeliberationReader.TryReadStance(JsonDocument.Parse(json).RootElement, out _, out _), Is.False);
    }

    [TestCase("""{"id":"https://a/m","type":"Note","oneOf":[{"type":"Note","name":"A"}]}""")]
    [TestCase("""{"id":"https://a/m","type":"Question"}""")]
    [TestCase("""{"id":"https://a/m","type":"Question","oneOf":[{"type":"Note"}]}""")]
    [TestCase("""{"type":"Question","oneOf":[{"type":"Note","name":"A"}]}""")]
    public void TryReadMotion_refuses_what_cannot_be_counted(string json)
    {
        Assert.That(DeliberationReader.TryReadMotion(JsonDocument.Parse(json).RootElement, out _, out _), Is.False);
    }

    [Test]
    public void TryReadMotion_drops_repeated_options_and_tolerates_unknown_values()
    {
        var json = """{"id":"https://a/m","type":["Question","https://w3id.org/fellows/ns#Motion"],"oneOf":[{"type":"Note","name":"A"},{"type":"Note","name":"A"},{"type":"Note","name":"B"}],"decisionMethod":"sortition","threshold":"most","quorum":"lots","endTime":"2026-01-01T00:00:00Z"}""";

        Assert.That(DeliberationReader.TryReadMotion(JsonDocument.Parse(json).RootElement, out var motion, out var error), Is.True, error);
        Assert.Multiple(() =>
        {
            Assert.That(motion!.IsFellowsMotion, Is.True);
            Assert.That(motion.Options, Is.EqualTo(new[] { "A", "B" }));
            Assert.That(motion.Method, Is.EqualTo(DecisionMethod.Majority));
            Assert.That(motion.Threshold, Is.EqualTo(Threshold.SimpleMajority));
            Assert.That(motion.Quorum, Is.Null);
        });
    }

    [Test]
    public void ToRules_is_null_without_an_end_time()
    {
        var json = """{"id":"https://a/m","type":"Question","oneOf":[{"type":"Note","name":"A"}]}""";
        DeliberationReader.TryReadMotion(JsonDocument.Parse(json).RootElement, out var motion, out _);

        Assert.That(motion!.ToRules(), Is.Null);
    }

    [Test]
    public void Names_round_trip_for_every_enumerated_value()
    {
        Assert.Multiple(() =>
        {
            foreach (var v in Enum.GetValues<DecisionMethod>())
                Assert.That(DeliberationVocabulary.Parse<DecisionMethod>(DeliberationVocabulary.Name(v)), Is.EqualTo(v));
            foreach (var v in Enum.GetValues<Threshold>())
                Assert.That(DeliberationVocabulary.Parse<Threshold>(DeliberationVocabulary.Name(v)), Is.EqualTo(v));
            foreach (var v in Enum.GetValues<OutcomeState>())
                Assert.That(DeliberationVocabulary.Parse<OutcomeState>(DeliberationVocabulary.Name(v)), Is.EqualTo(v));
            foreach (var v in Enum.GetValues<CountingMode>())
                Assert.That(DeliberationVocabulary.Parse<CountingMode>(DeliberationVocabulary.Name(v)), Is.EqualTo(v));
            foreach (var v in Enum.GetValues<MotionPhase>())
                Assert.That(DeliberationVocabulary.Parse<MotionPhase>(DeliberationVocabulary.Name(v)), Is.EqualTo(v));
            foreach (var v in Enum.GetValues<TieBreak>())
                Assert.That(DeliberationVocabulary.Parse<TieBreak>(DeliberationVocabulary.Name(v)), Is.EqualTo(v));
            foreach (var v in Enum.GetValues<AmendmentState>())
                Assert.That(DeliberationVocabulary.Parse<AmendmentState>(DeliberationVocabulary.Name(v)), Is.EqualTo(v));
            Assert.That(DeliberationVocabulary.Parse<DecisionMethod>("Consent"), Is.Null, "names are case-sensitive");
        });
    }
}
