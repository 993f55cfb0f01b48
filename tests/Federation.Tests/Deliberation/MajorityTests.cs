using Fellows.Federation.Deliberation;
using NUnit.Framework;
using static Fellows.Federation.Tests.Deliberation.Votes;

#pragma warning disable CA1861 // expected arrays inline read best in tests

namespace Fellows.Federation.Tests.Deliberation;

public class MajorityTests
{
    private static readonly MotionRules Days = Rules(DecisionMethod.Majority, "Monday", "Wednesday", "Friday");

    [Test]
    public void Count_clear_majority_passes_with_winner()
    {
        var stances = Many(1, 4, "Friday").Concat(Many(5, 2, "Monday")).Append(By(7, "Wednesday"));

        var tally = Tally.Count(Days, Electorate(7), stances);

        Assert.Multiple(() =>
        {
            Assert.That(tally.State, Is.EqualTo(OutcomeState.Passed));
            Assert.That(tally.Winner, Is.EqualTo("Friday"));
            Assert.That(tally.Counts.Select(c => (c.Option, c.Count)), Is.EqualTo(new[] { ("Monday", 2L), ("Wednesday", 1L), ("Friday", 4L) }));
        });
    }

    [Test]
    public void Count_plurality_leader_without_majority_is_rejected_under_simple_majority()
    {
        var stances = Many(1, 3, "Friday").Concat(Many(4, 2, "Monday")).Concat(Many(6, 2, "Wednesday"));

        var tally = Tally.Count(Days, Electorate(7), stances);

        Assert.Multiple(() =>
        {
            Assert.That(tally.State, Is.EqualTo(OutcomeState.Rejected));
            Assert.That(tally.Winner, Is.Null);
        });
    }

    [Test]
    public void Count_plurality_leader_passes_under_plurality()
    {
        var stances = Many(1, 3, "Friday").Concat(Many(4, 2, "Monday")).Concat(Many(6, 2, "Wednesday"));

        var tally = Tally.Count(Days with { Threshold = Threshold.Plurality }, Electorate(7), stances);

        Assert.That(tally.Winner, Is.EqualTo("Friday"));
    }

    [Test]
    public void Count_shared_top_is_a_tie()
    {
        var stances = Many(1, 2, "Friday").Concat(Many(3, 2, "Monday")).Append(By(5, "Wednesday"));

        var tally = Tally.Count(Days with { Threshold = Threshold.Plurality }, Electorate(5), stances);

        Assert.That(tally.State, Is.EqualTo(OutcomeState.Tie));
    }

    [Test]
    public void Count_abstentions_are_not_in_the_threshold_denominator()
    {
        // 3 of 5 cast: a majority of votes, though not of participants (3 of 9).
        var stances = Many(1, 3, "Friday").Concat(Many(4, 2, "Monday")).Concat(Enumerable.Range(6, 4).Select(n => Abstaining(n)));

        var tally = Tally.Count(Days, Electorate(9), stances);

        Assert.Multiple(() =>
        {
            Assert.That(tally.State, Is.EqualTo(OutcomeState.Passed));
            Assert.That(tally.Cast, Is.EqualTo(5));
            Assert.That(tally.Abstentions, Is.EqualTo(4));
            Assert.That(tally.Participants, Is.EqualTo(9));
        });
    }

    [TestCase(Threshold.SimpleMajority, 3, 3, OutcomeState.Tie)]
    [TestCase(Threshold.SimpleMajority, 4, 3, OutcomeState.Passed)]
    [TestCase(Threshold.TwoThirds, 6, 3, OutcomeState.Passed)]
    [TestCase(Threshold.TwoThirds, 5, 3, OutcomeState.Rejected)]
    [TestCase(Threshold.Unanimity, 6, 0, OutcomeState.Passed)]
    [TestCase(Threshold.Unanimity, 6, 1, OutcomeState.Rejected)]
    public void Count_threshold_boundaries(Threshold threshold, int yes, int no, OutcomeState expected)
    {
        var rules = Rules(DecisionMethod.Majority, "yes", "no") with { Threshold = threshold };

        var tally = Tally.Count(rules, Electorate(yes + no), Many(1, yes, "yes").Concat(Many(yes + 1, no, "no")));

        Assert.That(tally.State, Is.EqualTo(expected));
    }

    [Test]
    public void Count_two_choices_is_malformed()
    {
        var tally = Tally.Count(Days, Electorate(1), [By(1, "Monday", "Friday")]);

        Assert.Multiple(() =>
        {
            Assert.That(tally.Rejections.Single().Reason, Is.EqualTo(RejectionReason.MalformedChoice));
            Assert.That(tally.Ballots, Is.Empty);
        });
    }

    [Test]
    public void Count_unknown_option_and_scores_are_malformed()
    {
        var unknown = By(1, "Sunday");
        var scored = By(2, "Monday") with { Scores = [new OptionScore("Monday", 3)] };
        var abstainWithChoice = By(3, "Monday") with { Abstain = true };
        var empty = By(4);

        var tally = Tally.Count(Days, Electorate(4), [unknown, scored, abstainWithChoice, empty]);

        Assert.Multiple(() =>
        {
            Assert.That(tally.Rejections, Has.Count.EqualTo(4));
            Assert.That(tally.Rejections.Select(r => r.Reason), Is.All.EqualTo(RejectionReason.MalformedChoice));
            Assert.That(tally.Participants, Is.Zero);
        });
    }

    [Test]
    public void Count_option_named_abstain_is_an_ordinary_option()
    {
        var rules = Rules(DecisionMethod.Majority, "abstain", "go");

        var tally = Tally.Count(rules, Electorate(3), Many(1, 2, "abstain").Append(By(3, "go")));

        Assert.Multiple(() =>
        {
            Assert.That(tally.Winner, Is.EqualTo("abstain"));
            Assert.That(tally.Abstentions, Is.Zero);
        });
    }
}
