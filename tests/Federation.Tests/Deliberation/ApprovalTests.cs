using Fellows.Federation.Deliberation;
using NUnit.Framework;
using static Fellows.Federation.Tests.Deliberation.Votes;

#pragma warning disable CA1861 // expected arrays inline read best in tests

namespace Fellows.Federation.Tests.Deliberation;

public class ApprovalTests
{
    private static readonly MotionRules Suppliers = Rules(DecisionMethod.Approval, "Acme", "Bolt", "Cogs") with { Threshold = Threshold.Plurality };

    [Test]
    public void Count_approvals_per_option_and_most_approved_wins()
    {
        var stances = new[] { By(1, "Acme", "Bolt"), By(2, "Bolt"), By(3, "Cogs", "Bolt"), By(4, "Acme") };

        var tally = Tally.Count(Suppliers, Electorate(4), stances);

        Assert.Multiple(() =>
        {
            Assert.That(tally.Winner, Is.EqualTo("Bolt"));
            Assert.That(tally.Counts.Select(c => c.Count), Is.EqualTo(new[] { 2L, 3L, 1L }));
            Assert.That(tally.Cast, Is.EqualTo(4));
        });
    }

    [Test]
    public void Count_threshold_is_share_of_voters_not_of_approvals()
    {
        // Bolt approved by 3 of 4 voters (75%), though it has 3 of 6 approvals.
        var rules = Suppliers with { Threshold = Threshold.TwoThirds };
        var stances = new[] { By(1, "Acme", "Bolt"), By(2, "Bolt"), By(3, "Cogs", "Bolt"), By(4, "Acme") };

        var tally = Tally.Count(rules, Electorate(4), stances);

        Assert.That(tally.State, Is.EqualTo(OutcomeState.Passed));
    }

    [Test]
    public void Count_choices_are_kept_as_cast_so_receipts_match()
    {
        var tally = Tally.Count(Suppliers, Electorate(1), [By(1, "Cogs", "Acme")]);

        Assert.That(tally.Ballots.Single().Choices, Is.EqualTo(new[] { "Cogs", "Acme" }));
    }

    [Test]
    public void Count_approving_everything_ties()
    {
        var tally = Tally.Count(Suppliers, Electorate(2), [By(1, "Acme", "Bolt", "Cogs"), By(2, "Cogs", "Bolt", "Acme")]);

        Assert.That(tally.State, Is.EqualTo(OutcomeState.Tie));
    }

    [Test]
    public void Count_repeated_option_is_malformed()
    {
        var tally = Tally.Count(Suppliers, Electorate(1), [By(1, "Acme", "Acme")]);

        Assert.That(tally.Rejections.Single().Reason, Is.EqualTo(RejectionReason.MalformedChoice));
    }

    [Test]
    public void Count_only_abstentions_is_rejected()
    {
        var tally = Tally.Count(Suppliers, Electorate(2), [Abstaining(1), Abstaining(2)]);

        Assert.Multiple(() =>
        {
            Assert.That(tally.State, Is.EqualTo(OutcomeState.Rejected));
            Assert.That(tally.Ballots.All(b => b.Abstain && b.Choices.Count == 0), Is.True);
        });
    }
}
