using Fellows.Federation.Deliberation;
using NUnit.Framework;
using static Fellows.Federation.Tests.Deliberation.Votes;

#pragma warning disable CA1861 // expected arrays inline read best in tests

namespace Fellows.Federation.Tests.Deliberation;

public class ConsentTests
{
    private static readonly MotionRules Consent = Rules(DecisionMethod.Consent);

    [Test]
    public void Count_no_stances_is_rejected_with_zero_counts()
    {
        var tally = Tally.Count(Consent, Electorate(5), []);

        Assert.Multiple(() =>
        {
            Assert.That(tally.State, Is.EqualTo(OutcomeState.Rejected));
            Assert.That(tally.Participants, Is.Zero);
            Assert.That(tally.Cast, Is.Zero);
            Assert.That(tally.Counts.Select(c => c.Option), Is.EqualTo(ConsentPositions.All));
            Assert.That(tally.Counts.Select(c => c.Count), Is.All.Zero);
            Assert.That(tally.Ballots, Is.Empty);
            Assert.That(tally.Rejections, Is.Empty);
        });
    }

    [Test]
    public void Count_agree_majority_passes_and_reports_each_position()
    {
        var stances = Many(1, 3, "agree").Append(By(4, "disagree")).Append(By(5, "abstain"));

        var tally = Tally.Count(Consent, Electorate(5), stances);

        Assert.Multiple(() =>
        {
            Assert.That(tally.State, Is.EqualTo(OutcomeState.Passed));
            Assert.That(tally.Winner, Is.Null);
            Assert.That(tally.CountOf("agree"), Is.EqualTo(3));
            Assert.That(tally.CountOf("disagree"), Is.EqualTo(1));
            Assert.That(tally.CountOf("abstain"), Is.EqualTo(1));
            Assert.That(tally.CountOf("block"), Is.Zero);
            Assert.That(tally.Participants, Is.EqualTo(5));
            Assert.That(tally.Abstentions, Is.EqualTo(1));
            Assert.That(tally.Cast, Is.EqualTo(4));
        });
    }

    [Test]
    public void Count_all_abstain_is_rejected_but_meets_quorum()
    {
        var rules = Consent with { Quorum = Quorum.Fraction(1, 2) };

        var tally = Tally.Count(rules, Electorate(4), Many(1, 4, "abstain"));

        Assert.Multiple(() =>
        {
            Assert.That(tally.State, Is.EqualTo(OutcomeState.Rejected));
            Assert.That(tally.QuorumMet, Is.True);
            Assert.That(tally.Abstentions, Is.EqualTo(4));
            Assert.That(tally.Cast, Is.Zero);
        });
    }

    [Test]
    public void Count_explicit_abstention_without_choice_counts_as_abstain()
    {
        var tally = Tally.Count(Consent, Electorate(2), [Abstaining(1), By(2, "agree")]);

        Assert.Multiple(() =>
        {
            Assert.That(tally.CountOf("abstain"), Is.EqualTo(1));
            Assert.That(tally.State, Is.EqualTo(OutcomeState.Passed));
        });
    }

    [Test]
    public void Count_one_block_with_reason_stops_an_otherwise_passing_motion()
    {
        var stances = Many(1, 9, "agree").Append(By(10, "block") with { Reason = "This breaks our rules on pay." });

        var tally = Tally.Count(Consent, Electorate(10), stances);

        Assert.Multiple(() =>
        {
            Assert.That(tally.State, Is.EqualTo(OutcomeState.Blocked));
            Assert.That(tally.Blocks, Is.EqualTo(1));
            Assert.That(tally.CountOf("block"), Is.EqualTo(1));
            Assert.That(tally.Rejections, Is.Empty);
        });
    }

    [Test]
    public void Count_block_without_reason_is_rejected_and_does_not_block()
    {
        var blank = By(3, "block") with { Reason = "   " };
        var none = By(4, "block");
        var stances = Many(1, 2, "agree").Append(blank).Append(none);

        var tally = Tally.Count(Consent, Electorate(4), stances);

        Assert.Multiple(() =>
        {
            Assert.That(tally.State, Is.EqualTo(OutcomeState.Passed));
            Assert.That(tally.Blocks, Is.Zero);
            Assert.That(tally.Participants, Is.EqualTo(2));
            Assert.That(tally.Rejections.Select(r => r.Reason), Is.EqualTo(new[] { RejectionReason.BlockWithoutReason, RejectionReason.BlockWithoutReason }));
            Assert.That(tally.Rejections.Select(r => r.Code), Is.All.EqualTo("block-without-reason"));
        });
    }

    [Test]
    public void Count_resolved_block_counts_as_disagree()
    {
        var block = By(4, "block") with { Reason = "Not until the budget is known." };
        var rules = Consent with { ResolvedBlocks = new HashSet<string> { block.Id } };
        var stances = Many(1, 3, "agree").Append(block);

        var tally = Tally.Count(rules, Electorate(4), stances);

        Assert.Multiple(() =>
        {
            Assert.That(tally.State, Is.EqualTo(OutcomeState.Passed));
            Assert.That(tally.Blocks, Is.Zero);
            Assert.That(tally.CountOf("block"), Is.EqualTo(1));
            Assert.That(tally.Cast, Is.EqualTo(4));
            Assert.That(tally.Ballots.Single(b => b.StanceId == block.Id).BlockResolved, Is.True);
        });
    }

    [Test]
    public void Count_resolved_block_is_against_for_the_threshold()
    {
        var block = By(2, "block") with { Reason = "No." };
        var rules = Consent with { ResolvedBlocks = new HashSet<string> { block.Id } };

        var tally = Tally.Count(rules, Electorate(2), [By(1, "agree"), block]);

        Assert.That(tally.State, Is.EqualTo(OutcomeState.Tie));
    }

    [Test]
    public void Count_a_blocker_who_changes_to_agree_no_longer_blocks()
    {
        var block = By(2, "block") with { Reason = "Wait", Published = Opens.AddHours(1) };
        var change = By(2, "agree") with { Published = Opens.AddHours(2) };

        var tally = Tally.Count(Consent, Electorate(2), [By(1, "agree"), block, change]);

        Assert.Multiple(() =>
        {
            Assert.That(tally.State, Is.EqualTo(OutcomeState.Passed));
            Assert.That(tally.CountOf("agree"), Is.EqualTo(2));
            Assert.That(tally.Rejections.Single().Reason, Is.EqualTo(RejectionReason.Superseded));
        });
    }

    [Test]
    public void Count_as_many_disagree_as_agree_is_a_tie()
    {
        var tally = Tally.Count(Consent, Electorate(4), Many(1, 2, "agree").Concat(Many(3, 2, "disagree")));

        Assert.That(tally.State, Is.EqualTo(OutcomeState.Tie));
    }

    [Test]
    public void Count_more_disagree_is_rejected_even_with_plurality()
    {
        var rules = Consent with { Threshold = Threshold.Plurality };

        var tally = Tally.Count(rules, Electorate(3), [By(1, "agree"), By(2, "disagree"), By(3, "disagree")]);

        Assert.That(tally.State, Is.EqualTo(OutcomeState.Rejected));
    }

    [TestCase(Threshold.SimpleMajority, 2, 1, OutcomeState.Passed)]
    [TestCase(Threshold.TwoThirds, 2, 1, OutcomeState.Passed)]
    [TestCase(Threshold.TwoThirds, 3, 2, OutcomeState.Rejected)]
    [TestCase(Threshold.TwoThirds, 4, 2, OutcomeState.Passed)]
    [TestCase(Threshold.Unanimity, 5, 1, OutcomeState.Rejected)]
    [TestCase(Threshold.Unanimity, 5, 0, OutcomeState.Passed)]
    public void Count_threshold_of_agree_against_disagree(Threshold threshold, int agree, int disagree, OutcomeState expected)
    {
        var rules = Consent with { Threshold = threshold };
        var stances = Many(1, agree, "agree").Concat(Many(agree + 1, disagree, "disagree")).Concat(Many(agree + disagree + 1, 3, "abstain"));

        var tally = Tally.Count(rules, Electorate(agree + disagree + 3), stances);

        Assert.That(tally.State, Is.EqualTo(expected));
    }

    [Test]
    public void Count_no_quorum_wins_over_a_block()
    {
        var rules = Consent with { Quorum = Quorum.AtLeast(3) };
        var stances = new[] { By(1, "agree"), By(2, "block") with { Reason = "Harmful" } };

        var tally = Tally.Count(rules, Electorate(10), stances);

        Assert.Multiple(() =>
        {
            Assert.That(tally.State, Is.EqualTo(OutcomeState.NoQuorum));
            Assert.That(tally.Blocks, Is.EqualTo(1));
        });
    }

    [TestCase("yes")]
    [TestCase("Agree")]
    [TestCase("")]
    public void Count_unknown_position_is_malformed(string position)
    {
        var tally = Tally.Count(Consent, Electorate(2), [By(1, position), By(2, "agree")]);

        Assert.Multiple(() =>
        {
            Assert.That(tally.Rejections.Single().Reason, Is.EqualTo(RejectionReason.MalformedChoice));
            Assert.That(tally.Participants, Is.EqualTo(1));
        });
    }

    [Test]
    public void Count_two_positions_in_one_stance_is_malformed()
    {
        var tally = Tally.Count(Consent, Electorate(1), [By(1, "agree", "disagree")]);

        Assert.That(tally.Rejections.Single().Reason, Is.EqualTo(RejectionReason.MalformedChoice));
    }
}
