using System.Text;
using Fellows.Federation.Deliberation;
using NUnit.Framework;
using static Fellows.Federation.Tests.Deliberation.Votes;

#pragma warning disable CA1861 // expected arrays inline read best in tests

namespace Fellows.Federation.Tests.Deliberation;

public class DigestTests
{
    // Three ballots whose digest was computed by an independent Python script (json.dumps with sorted keys,
    // hashlib.sha256, the RFC 9162 tree), so this pins the format, not just self-consistency.
    private static readonly Ballot[] Vector =
    [
        new() { StanceId = "https://a.example/users/v1/stances/1", Voter = "https://a.example/users/v1", Coop = CoopA, Choices = ["yes"], ProofValue = "z1" },
        new() { StanceId = "https://a.example/users/v2/stances/2", Voter = "https://a.example/users/v2", Coop = CoopA, Choices = ["no"], ProofValue = "z2" },
        new() { StanceId = "https://b.example/users/v1/stances/3", Voter = "https://b.example/users/v1", Coop = CoopB, Abstain = true },
    ];

    private const string VectorDigest = "6320928052fc7a382bb5e1b48774d9086a855860551d4cda488c9a8e54653946";

    private static Ballot PublicBallot(int n) => new()
    {
        StanceId = $"https://a.example/s/{n}",
        Voter = $"https://a.example/users/u{n}",
        Coop = CoopA,
        Choices = [n % 3 == 0 ? "yes" : "no"],
        ProofValue = "z" + n,
    };

    [Test]
    public void LeafData_is_jcs_of_the_leaf_object()
    {
        Assert.That(Encoding.UTF8.GetString(TallyDigest.LeafData(Vector[2])),
            Is.EqualTo("""{"abstain":true,"actor":"https://b.example/users/v1","choice":[],"coop":"https://b.example/coop","id":"https://b.example/users/v1/stances/3"}"""));
    }

    [Test]
    public void LeafHash_prefixes_zero_byte()
    {
        Assert.That(Convert.ToHexStringLower(TallyDigest.LeafHash(Vector[0])), Is.EqualTo("c41888131351321236994e1d75efa7043f01b4b8fb94b55bd12e0b6ebed3b8e5"));
    }

    [Test]
    public void LeafData_of_a_secret_score_ballot_matches_the_independent_vector()
    {
        var ballot = new Ballot { Receipt = string.Concat(Enumerable.Repeat("ab", 32)), Coop = CoopA, Scores = [new("Red", 4), new("Blue", -1)] };

        Assert.Multiple(() =>
        {
            Assert.That(Encoding.UTF8.GetString(TallyDigest.LeafData(ballot)),
                Is.EqualTo("""{"choice":[],"coop":"https://a.example/coop","receipt":"abababababababababababababababababababababababababababababababab","scores":[{"option":"Red","score":4},{"option":"Blue","score":-1}]}"""));
            Assert.That(TallyDigest.Compute([ballot]), Is.EqualTo("87ed5bfd65ab4f1957e69f48d98a33e77d8c120cfa82e720549c976fe97df28c"));
        });
    }

    [Test]
    public void Compute_matches_the_independent_vector_in_any_order()
    {
        Assert.Multiple(() =>
        {
            Assert.That(TallyDigest.Compute(Vector), Is.EqualTo(VectorDigest));
            Assert.That(TallyDigest.Compute(Vector.Reverse()), Is.EqualTo(VectorDigest));
            Assert.That(TallyDigest.Verify(VectorDigest, [Vector[1], Vector[2], Vector[0]]), Is.True);
            Assert.That(TallyDigest.Verify(VectorDigest.ToUpperInvariant(), Vector), Is.True);
        });
    }

    [Test]
    public void Recount_publishes_the_vector_digest_and_the_ballots_in_leaf_hash_order()
    {
        var eligible = new Dictionary<string, int> { [CoopA] = 2, [CoopB] = 1 };
        var forward = Tally.Recount(Rules(DecisionMethod.Majority, "yes", "no"), eligible, Vector);
        var backward = Tally.Recount(Rules(DecisionMethod.Majority, "yes", "no"), eligible, Vector.Reverse());
        var hashes = forward.Ballots.Select(b => Convert.ToHexStringLower(TallyDigest.LeafHash(b))).ToArray();

        Assert.Multiple(() =>
        {
            Assert.That(forward.Digest, Is.EqualTo(VectorDigest));
            Assert.That(backward.Digest, Is.EqualTo(VectorDigest));
            Assert.That(hashes, Is.Ordered.Using((IComparer<string>)StringComparer.Ordinal), "ballots in ascending leaf hash order");
            Assert.That(backward.Ballots, Is.EqualTo(forward.Ballots), "the same order whatever order they came in");
            Assert.That(forward.Ballots, Is.EquivalentTo(Vector));
        });
    }

    [Test]
    public void Compute_empty_is_sha256_of_nothing()
    {
        Assert.That(TallyDigest.Compute([]), Is.EqualTo("e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855"));
    }

    [Test]
    public void Compute_single_ballot_is_its_leaf_hash()
    {
        Assert.That(TallyDigest.Compute([Vector[0]]), Is.EqualTo("c41888131351321236994e1d75efa7043f01b4b8fb94b55bd12e0b6ebed3b8e5"));
    }

    [Test]
    public void Verify_fails_when_a_choice_a_ballot_or_a_flag_changes()
    {
        Ballot[] changedChoice = [Vector[0] with { Choices = ["no"] }, Vector[1], Vector[2]];
        Ballot[] missing = [Vector[0], Vector[1]];
        Ballot[] extra = [.. Vector, PublicBallot(9)];
        Ballot[] resolved = [Vector[0] with { BlockResolved = true }, Vector[1], Vector[2]];
        Ballot[] movedCoop = [Vector[0] with { Coop = CoopB }, Vector[1], Vector[2]];

        Assert.Multiple(() =>
        {
            Assert.That(TallyDigest.Verify(VectorDigest, changedChoice), Is.False);
            Assert.That(TallyDigest.Verify(VectorDigest, missing), Is.False);
            Assert.That(TallyDigest.Verify(VectorDigest, extra), Is.False);
            Assert.That(TallyDigest.Verify(VectorDigest, resolved), Is.False);
            Assert.That(TallyDigest.Verify(VectorDigest, movedCoop), Is.False);
        });
    }

    [Test]
    public void Compute_ranking_order_matters()
    {
        var ab = new Ballot { StanceId = "s", Voter = "v", Coop = CoopA, Choices = ["A", "B"] };
        var ba = ab with { Choices = ["B", "A"] };

        Assert.That(TallyDigest.Compute([ab]), Is.Not.EqualTo(TallyDigest.Compute([ba])));
    }

    [Test]
    public void Prove_and_VerifyInclusion_work_for_every_leaf_of_every_size_up_to_33()
    {
        for (var size = 1; size <= 33; size++)
        {
            var ballots = Enumerable.Range(1, size).Select(PublicBallot).ToArray();
            var digest = TallyDigest.Compute(ballots);
            foreach (var ballot in ballots)
            {
                var proof = TallyDigest.Prove(ballots, ballot)!;
                Assert.That(proof.TreeSize, Is.EqualTo(size));
                Assert.That(proof.Path.Count, Is.LessThanOrEqualTo((int)Math.Ceiling(Math.Log2(size))));
                Assert.That(TallyDigest.VerifyInclusion(digest, ballot, proof), Is.True, $"size {size}, leaf {proof.LeafIndex}");
            }
        }
    }

    [Test]
    public void VerifyInclusion_refuses_tampering()
    {
        var ballots = Enumerable.Range(1, 11).Select(PublicBallot).ToArray();
        var digest = TallyDigest.Compute(ballots);
        var mine = ballots[4];
        var proof = TallyDigest.Prove(ballots, mine)!;
        var flipped = proof.Path.Select((h, i) => i == 1 ? (h[0] == '0' ? "1" : "0") + h[1..] : h).ToArray();

        Assert.Multiple(() =>
        {
            Assert.That(TallyDigest.VerifyInclusion(digest, mine with { Choices = ["maybe"] }, proof), Is.False, "other choice");
            Assert.That(TallyDigest.VerifyInclusion(digest, mine, proof with { Path = flipped }), Is.False, "changed sibling");
            Assert.That(TallyDigest.VerifyInclusion(digest, mine, proof with { LeafIndex = (proof.LeafIndex + 1) % 11 }), Is.False, "other index");
            Assert.That(TallyDigest.VerifyInclusion(digest, mine, proof with { TreeSize = 5 }), Is.False, "other tree shape");
            Assert.That(TallyDigest.VerifyInclusion(digest, mine, proof with { Path = proof.Path.Skip(1).ToArray() }), Is.False, "short path");
            Assert.That(TallyDigest.VerifyInclusion(digest, mine, proof with { Path = [.. proof.Path, proof.Path[0]] }), Is.False, "long path");
            Assert.That(TallyDigest.VerifyInclusion(digest, mine, proof with { Path = ["not hex", .. proof.Path.Skip(1)] }), Is.False, "garbage");
            Assert.That(TallyDigest.VerifyInclusion(digest, mine, proof with { LeafIndex = -1 }), Is.False, "negative");
            Assert.That(TallyDigest.VerifyInclusion(TallyDigest.Compute(ballots.Skip(1)), mine, proof), Is.False, "other digest");
        });
    }

    [Test]
    public void Prove_returns_null_for_a_ballot_not_counted()
    {
        var ballots = Enumerable.Range(1, 4).Select(PublicBallot).ToArray();

        Assert.That(TallyDigest.Prove(ballots, PublicBallot(5)), Is.Null);
    }

    [Test]
    public void Receipt_matches_the_independent_vector()
    {
        var nonce = Enumerable.Range(0, 32).Select(i => (byte)i).ToArray();

        Assert.That(TallyDigest.Receipt(Motion, nonce, ["yes"]), Is.EqualTo("22fb131ca5365a7b5a2f8648f67db7020203bb8e6069f4a39ad89029354b1922"));
    }

    [Test]
    public void Receipt_binds_motion_nonce_and_choice()
    {
        var nonce = TallyDigest.NewNonce();
        var receipt = TallyDigest.Receipt(Motion, nonce, ["yes"]);

        Assert.Multiple(() =>
        {
            Assert.That(TallyDigest.IsWellFormedReceipt(receipt), Is.True);
            Assert.That(TallyDigest.Receipt(Motion, nonce, ["no"]), Is.Not.EqualTo(receipt));
            Assert.That(TallyDigest.Receipt(Motion + "x", nonce, ["yes"]), Is.Not.EqualTo(receipt));
            Assert.That(TallyDigest.Receipt(Motion, TallyDigest.NewNonce(), ["yes"]), Is.Not.EqualTo(receipt));
            Assert.That(TallyDigest.Receipt(Motion, nonce, [], abstain: true), Is.Not.EqualTo(TallyDigest.Receipt(Motion, nonce, [])));
            Assert.Throws<ArgumentException>(() => TallyDigest.Receipt(Motion, new byte[15], ["yes"]));
        });
    }

    [Test]
    public void VerifyOwnSecretBallot_finds_own_ballot_and_catches_a_moved_choice()
    {
        var rules = Rules(DecisionMethod.Majority, "yes", "no") with { SecretBallot = true };
        var nonces = Enumerable.Range(0, 7).Select(_ => TallyDigest.NewNonce()).ToArray();
        var choices = new[] { "yes", "no", "yes", "yes", "no", "yes", "no" };
        var stances = Enumerable.Range(0, 7)
            .Select(i => By(i + 1, choices[i]) with { Receipt = TallyDigest.Receipt(Motion, nonces[i], [choices[i]]) })
            .ToArray();
        var tally = Tally.Count(rules, Electorate(7), stances);
        var proof = TallyDigest.Prove(tally.Ballots, tally.Ballots.Single(b => b.Receipt == stances[3].Receipt));

        // A dishonest counter moves voter 4's ballot from yes to no and recomputes the digest.
        var moved = tally.Ballots.Select(b => b.Receipt == stances[3].Receipt ? b with { Choices = ["no"] } : b).ToArray();

        Assert.Multiple(() =>
        {
            Assert.That(tally.CountOf("yes"), Is.EqualTo(4));
            Assert.That(TallyDigest.VerifyOwnSecretBallot(Motion, nonces[3], ["yes"], null, false, tally.Ballots, tally.Digest), Is.True);
            Assert.That(TallyDigest.VerifyOwnSecretBallot(Motion, nonces[3], ["yes"], null, false, tally.Ballots, tally.Digest, proof), Is.True);
            Assert.That(TallyDigest.VerifyOwnSecretBallot(Motion, nonces[3], ["no"], null, false, tally.Ballots, tally.Digest), Is.False, "not what I chose");
            Assert.That(TallyDigest.VerifyOwnSecretBallot(Motion, TallyDigest.NewNonce(), ["yes"], null, false, tally.Ballots, tally.Digest), Is.False, "not my nonce");
            Assert.That(TallyDigest.VerifyOwnSecretBallot(Motion, nonces[3], ["yes"], null, false, moved, TallyDigest.Compute(moved)), Is.False, "moved ballot");
            Assert.That(TallyDigest.VerifyOwnSecretBallot(Motion, nonces[3], ["yes"], null, false, tally.Ballots.Where(b => b.Receipt != stances[3].Receipt).ToArray(), tally.Digest), Is.False, "dropped ballot");
        });
    }

    [Test]
    public void VerifyOwnSecretBallot_checks_scores()
    {
        var rules = Rules(DecisionMethod.Score, "A", "B") with { SecretBallot = true };
        var nonce = TallyDigest.NewNonce();
        OptionScore[] scores = [new("B", 2), new("A", 4)];
        var stance = Scoring(1, ("B", 2), ("A", 4)) with { Receipt = TallyDigest.Receipt(Motion, nonce, [], scores) };

        var tally = Tally.Count(rules, Electorate(1), [stance]);

        Assert.Multiple(() =>
        {
            Assert.That(TallyDigest.VerifyOwnSecretBallot(Motion, nonce, [], scores, false, tally.Ballots, tally.Digest), Is.True);
            Assert.That(TallyDigest.VerifyOwnSecretBallot(Motion, nonce, [], [new("A", 4), new("B", 3)], false, tally.Ballots, tally.Digest), Is.False);
        });
    }

    [Test]
    public void TryRecount_refuses_ballots_admission_could_not_have_produced()
    {
        var rules = Rules(DecisionMethod.Majority, "yes", "no");
        var eligible = new Dictionary<string, int> { [CoopA] = 5 };
        Ballot Good(int n, string choice) => new() { StanceId = $"https://a.example/s/{n}", Voter = Voter(n), Coop = CoopA, Choices = [choice] };
        var cases = new (string Name, MotionRules Rules, Ballot[] Ballots)[]
        {
            ("unknown option", rules, [Good(1, "maybe")]),
            ("two choices", rules, [Good(1, "yes") with { Choices = ["yes", "no"] }]),
            ("no choice", rules, [Good(1, "yes") with { Choices = [] }]),
            ("voter twice", rules, [Good(1, "yes"), Good(2, "yes") with { Voter = Voter(1) }]),
            ("stance twice", rules, [Good(1, "yes"), Good(2, "no") with { StanceId = "https://a.example/s/1" }]),
            ("public without voter", rules, [Good(1, "yes") with { Voter = null }]),
            ("secret naming the voter", rules with { SecretBallot = true }, [Good(1, "yes") with { Receipt = new string('a', 64) }]),
            ("secret receipt twice", rules with { SecretBallot = true }, [new() { Receipt = new string('a', 64), Coop = CoopA, Choices = ["yes"] }, new() { Receipt = new string('a', 64), Coop = CoopA, Choices = ["no"] }]),
            ("resolved non-block", Rules(DecisionMethod.Consent), [Good(1, "agree") with { BlockResolved = true }]),
            ("consent abstain unmarked", Rules(DecisionMethod.Consent), [Good(1, "abstain")]),
            ("score out of range", Rules(DecisionMethod.Score, "A") with { ScoreMax = 3 }, [Good(1, "A") with { Choices = [], Scores = [new("A", 4)] }]),
        };

        Assert.Multiple(() =>
        {
            foreach (var (name, caseRules, ballots) in cases)
            {
                Assert.That(Tally.TryRecount(caseRules, eligible, ballots, out _, out var error), Is.False, name);
                Assert.Throws<ArgumentException>(() => Tally.Recount(caseRules, eligible, ballots), name);
            }

            Assert.That(Tally.TryRecount(rules, eligible, [Good(1, "yes"), Good(2, "no"), Good(3, "yes")], out var ok, out _), Is.True);
            Assert.That(ok!.Winner, Is.EqualTo("yes"));
        });
    }

    [Test]
    public void Recount_of_published_ballots_reproduces_the_tally()
    {
        var rules = Rules(DecisionMethod.RankedChoice, "A", "B", "C") with { Quorum = Quorum.Fraction(1, 2), CoopQuorum = Quorum.AtLeast(1) };
        var electorate = Coops(6, 4);
        var stances = new[]
        {
            By(Voter(1, CoopA), "A", "B"), By(Voter(2, CoopA), "B"), By(Voter(3, CoopA), "C", "B"),
            By(Voter(4, CoopA), "A"), By(Voter(1, CoopB), "C", "A"), By(Voter(2, CoopB), "B", "C"), Abstaining(Voter(3, CoopB)),
            By(Voter(4, CoopB), "Z"),
        };
        var tally = Tally.Count(rules, electorate, stances);

        var recount = Tally.Recount(rules, electorate.EligibleByCoop, tally.Ballots.Reverse());

        Assert.Multiple(() =>
        {
            Assert.That(recount.Digest, Is.EqualTo(tally.Digest));
            Assert.That(recount.State, Is.EqualTo(tally.State));
            Assert.That(recount.Winner, Is.EqualTo(tally.Winner));
            Assert.That(recount.Counts, Is.EqualTo(tally.Counts));
            Assert.That(recount.Rounds.Select(r => r.Eliminated), Is.EqualTo(tally.Rounds.Select(r => r.Eliminated)));
            Assert.That(recount.Rejections, Is.Empty, "rejections are the counting instance's record, not part of a recount");
            Assert.That(tally.Rejections, Has.Count.EqualTo(1));
        });
    }
}
