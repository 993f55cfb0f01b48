using Fellows.Federation.Deliberation;
using NUnit.Framework;
using static Fellows.Federation.Tests.Deliberation.Votes;

#pragma warning disable CA1861 // expected arrays inline read best in tests

namespace Fellows.Federation.Tests.Deliberation;

public class CoopByCoopTests
{
    private static IEnumerable<Stance> In(string coop, int first, int count, params string[] choices) =>
        Enumerable.Range(first, count).Select(n => By(Voter(n, coop), choices));

    [Test]
    public void Count_each_coop_is_one_voice_whatever_its_size()
    {
        var rules = Rules(DecisionMethod.Majority, "X", "Y") with { Mode = CountingMode.CoopByCoop };
        var stances = In(CoopA, 1, 10, "X").Concat(In(CoopB, 1, 2, "Y")).Concat(In(CoopC, 1, 2, "Y")).ToArray();

        var pooled = Tally.Count(rules with { Mode = CountingMode.Pooled }, Coops(10, 2, 2), stances);
        var byCoop = Tally.Count(rules, Coops(10, 2, 2), stances);

        Assert.Multiple(() =>
        {
            Assert.That(pooled.Winner, Is.EqualTo("X"));
            Assert.That(byCoop.Winner, Is.EqualTo("Y"));
            Assert.That(byCoop.Counts.Select(c => (c.Option, c.Count)), Is.EqualTo(new[] { ("X", 1L), ("Y", 2L) }));
            Assert.That(byCoop.Coops.Select(c => c.Voice), Is.EqualTo(new[] { "X", "Y", "Y" }));
            Assert.That(byCoop.Coops.Select(c => c.Coop), Is.EqualTo(new[] { CoopA, CoopB, CoopC }));
            Assert.That(byCoop.Participants, Is.EqualTo(14));
            Assert.That(byCoop.Eligible, Is.EqualTo(14));
            Assert.That(byCoop.CoopVoices, Is.EqualTo(3));
            Assert.That(byCoop.Digest, Is.EqualTo(pooled.Digest), "the digest is over ballots, whatever the mode");
        });
    }

    [Test]
    public void Count_consent_voices_follow_each_coops_outcome()
    {
        var rules = Rules(DecisionMethod.Consent) with { Mode = CountingMode.CoopByCoop };
        var stances = In(CoopA, 1, 3, "agree").Concat(In(CoopA, 4, 1, "disagree"))
            .Concat(In(CoopB, 1, 2, "agree"))
            .Concat(In(CoopC, 1, 1, "agree")).Concat(In(CoopC, 2, 2, "disagree"));

        var tally = Tally.Count(rules, Coops(4, 2, 3), stances);

        Assert.Multiple(() =>
        {
            Assert.That(tally.Coops.Select(c => c.State), Is.EqualTo(new OutcomeState?[] { OutcomeState.Passed, OutcomeState.Passed, OutcomeState.Rejected }));
            Assert.That(tally.Coops.Select(c => c.Voice), Is.EqualTo(new[] { "agree", "agree", "disagree" }));
            Assert.That(tally.CountOf("agree"), Is.EqualTo(2));
            Assert.That(tally.CountOf("disagree"), Is.EqualTo(1));
            Assert.That(tally.State, Is.EqualTo(OutcomeState.Passed));
        });
    }

    [Test]
    public void Count_a_coop_that_blocks_blocks_the_motion()
    {
        var rules = Rules(DecisionMethod.Consent) with { Mode = CountingMode.CoopByCoop };
        var stances = In(CoopA, 1, 5, "agree").Concat(In(CoopB, 1, 5, "agree"))
            .Append(By(Voter(1, CoopC), "block") with { Reason = "It would break our lease." });

        var tally = Tally.Count(rules, Coops(5, 5, 1), stances);

        Assert.Multiple(() =>
        {
            Assert.That(tally.State, Is.EqualTo(OutcomeState.Blocked));
            Assert.That(tally.Blocks, Is.EqualTo(1));
            Assert.That(tally.Coops[2].Voice, Is.EqualTo("block"));
        });
    }

    [Test]
    public void Count_coop_without_its_quorum_gives_no_voice()
    {
        var rules = Rules(DecisionMethod.Majority, "X", "Y") with
        {
            Mode = CountingMode.CoopByCoop,
            CoopQuorum = Quorum.Fraction(1, 2),
        };
        // C: 1 of 4 votes, below its half; A and B split, so without C it is a tie.
        var stances = In(CoopA, 1, 2, "X").Concat(In(CoopB, 1, 2, "Y")).Concat(In(CoopC, 1, 1, "X"));

        var tally = Tally.Count(rules, Coops(2, 2, 4), stances);

        Assert.Multiple(() =>
        {
            Assert.That(tally.Coops[2].QuorumMet, Is.False);
            Assert.That(tally.Coops[2].State, Is.EqualTo(OutcomeState.NoQuorum));
            Assert.That(tally.Coops[2].Voice, Is.Null);
            Assert.That(tally.CoopVoices, Is.EqualTo(2));
            Assert.That(tally.State, Is.EqualTo(OutcomeState.Tie));
        });
    }

    [TestCase(3, false)]
    [TestCase(2, true)]
    public void Count_overall_quorum_counts_coops_with_a_voice(int coopsRequired, bool met)
    {
        var rules = Rules(DecisionMethod.Majority, "X", "Y") with
        {
            Mode = CountingMode.CoopByCoop,
            Quorum = Quorum.AtLeast(coopsRequired),
            CoopQuorum = Quorum.Fraction(1, 2),
        };
        var stances = In(CoopA, 1, 2, "X").Concat(In(CoopB, 1, 2, "X")).Concat(In(CoopC, 1, 1, "Y"));

        var tally = Tally.Count(rules, Coops(2, 2, 4), stances);

        Assert.Multiple(() =>
        {
            Assert.That(tally.QuorumMet, Is.EqualTo(met));
            Assert.That(tally.QuorumRequired, Is.EqualTo(coopsRequired));
            Assert.That(tally.State, Is.EqualTo(met ? OutcomeState.Passed : OutcomeState.NoQuorum));
        });
    }

    [Test]
    public void Count_fractional_overall_quorum_is_of_coops_with_members()
    {
        var rules = Rules(DecisionMethod.Majority, "X", "Y") with { Mode = CountingMode.CoopByCoop, Quorum = Quorum.Fraction(2, 3) };
        var stances = In(CoopA, 1, 1, "X").Concat(In(CoopB, 1, 1, "X"));

        var tally = Tally.Count(rules, Coops(1, 1, 1), stances);

        Assert.Multiple(() =>
        {
            Assert.That(tally.QuorumRequired, Is.EqualTo(2));
            Assert.That(tally.State, Is.EqualTo(OutcomeState.Passed));
            Assert.That(tally.Coops[2].Participants, Is.Zero);
            Assert.That(tally.Coops[2].Voice, Is.EqualTo("abstain"), "no votes → rejected → abstain");
        });
    }

    [Test]
    public void Count_coop_tie_is_an_abstaining_voice()
    {
        var rules = Rules(DecisionMethod.Majority, "X", "Y") with { Mode = CountingMode.CoopByCoop };
        var stances = In(CoopA, 1, 1, "X").Concat(In(CoopA, 2, 1, "Y")).Concat(In(CoopB, 1, 1, "Y"));

        var tally = Tally.Count(rules, Coops(2, 1), stances);

        Assert.Multiple(() =>
        {
            Assert.That(tally.Coops[0].State, Is.EqualTo(OutcomeState.Tie));
            Assert.That(tally.Coops[0].Voice, Is.EqualTo("abstain"));
            Assert.That(tally.Abstentions, Is.EqualTo(1));
            Assert.That(tally.Cast, Is.EqualTo(1));
            Assert.That(tally.Winner, Is.EqualTo("Y"));
        });
    }

    [Test]
    public void Count_ranked_choice_runs_in_each_coop_then_majority_over_winners()
    {
        var rules = Rules(DecisionMethod.RankedChoice, "P", "Q", "R") with { Mode = CountingMode.CoopByCoop };
        var stances = In(CoopA, 1, 2, "P").Concat(In(CoopA, 3, 2, "Q")).Concat(In(CoopA, 5, 1, "R", "Q"))
            .Concat(In(CoopB, 1, 3, "Q"));

        var tally = Tally.Count(rules, Coops(5, 3), stances);

        Assert.Multiple(() =>
        {
            Assert.That(tally.Coops[0].Rounds, Has.Count.EqualTo(2));
            Assert.That(tally.Coops[0].Winner, Is.EqualTo("Q"));
            Assert.That(tally.Winner, Is.EqualTo("Q"));
            Assert.That(tally.Rounds, Is.Empty);
        });
    }
}
