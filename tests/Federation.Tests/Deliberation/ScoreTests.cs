using Fellows.Federation.Deliberation;
using NUnit.Framework;
using static Fellows.Federation.Tests.Deliberation.Votes;

#pragma warning disable CA1861 // expected arrays inline read best in tests

namespace Fellows.Federation.Tests.Deliberation;

public class ScoreTests
{
    private static readonly MotionRules Designs = Rules(DecisionMethod.Score, "Red", "Green", "Blue") with { ScoreMin = 0, ScoreMax = 5 };

    [Test]
    public void Count_highest_total_wins_and_counts_are_totals()
    {
        var stances = new[]
        {
            Scoring(1, ("Red", 5), ("Green", 3), ("Blue", 0)),
            Scoring(2, ("Red", 1), ("Green", 4), ("Blue", 2)),
            Scoring(3, ("Red", 2), ("Green", 4), ("Blue", 5)),
        };

        var tally = Tally.Count(Designs, Electorate(3), stances);

        Assert.Multiple(() =>
        {
            Assert.That(tally.Winner, Is.EqualTo("Green"));
            Assert.That(tally.Counts.Select(c => c.Count), Is.EqualTo(new[] { 8L, 11L, 7L }));
        });
    }

    [Test]
    public void Count_missing_score_counts_as_minimum()
    {
        var rules = Designs with { ScoreMin = 1, ScoreMax = 10 };
        var stances = new[] { Scoring(1, ("Red", 10)), Scoring(2, ("Green", 6), ("Red", 1)) };

        var tally = Tally.Count(rules, Electorate(2), stances);

        Assert.Multiple(() =>
        {
            Assert.That(tally.Counts.Select(c => c.Count), Is.EqualTo(new[] { 11L, 7L, 2L }));
            Assert.That(tally.Winner, Is.EqualTo("Red"));
            Assert.That(tally.Ballots.Single(b => b.Scores.Count == 2).Scores.Select(s => s.Option), Is.EqualTo(new[] { "Green", "Red" }), "kept as cast");
        });
    }

    [Test]
    public void Count_negative_range_is_supported()
    {
        var rules = Designs with { ScoreMin = -2, ScoreMax = 2 };
        var stances = new[] { Scoring(1, ("Red", -2), ("Green", 2)), Scoring(2, ("Blue", 1)) };

        var tally = Tally.Count(rules, Electorate(2), stances);

        Assert.Multiple(() =>
        {
            Assert.That(tally.Counts.Select(c => c.Count), Is.EqualTo(new[] { -4L, 0L, -1L }));
            Assert.That(tally.Winner, Is.EqualTo("Green"));
        });
    }

    [Test]
    public void Count_equal_top_totals_tie()
    {
        var stances = new[] { Scoring(1, ("Red", 5), ("Green", 1)), Scoring(2, ("Red", 1), ("Green", 5)) };

        var tally = Tally.Count(Designs, Electorate(2), stances);

        Assert.That(tally.State, Is.EqualTo(OutcomeState.Tie));
    }

    [Test]
    public void Count_threshold_does_not_apply_to_scores()
    {
        var stances = new[] { Scoring(1, ("Red", 1)), Scoring(2, ("Green", 1)), Scoring(3, ("Red", 1)) };

        var tally = Tally.Count(Designs with { Threshold = Threshold.Unanimity }, Electorate(3), stances);

        Assert.That(tally.Winner, Is.EqualTo("Red"));
    }

    [TestCase(6)]
    [TestCase(-1)]
    public void Count_score_out_of_range_is_malformed(int score)
    {
        var tally = Tally.Count(Designs, Electorate(1), [Scoring(1, ("Red", score))]);

        Assert.Multiple(() =>
        {
            Assert.That(tally.Rejections.Single().Reason, Is.EqualTo(RejectionReason.MalformedChoice));
            Assert.That(tally.Rejections.Single().Detail, Does.Contain("outside 0..5"));
        });
    }

    [Test]
    public void Count_boundary_scores_are_accepted()
    {
        var tally = Tally.Count(Designs, Electorate(1), [Scoring(1, ("Red", 0), ("Green", 5))]);

        Assert.That(tally.Rejections, Is.Empty);
    }

    [Test]
    public void Count_score_twice_choices_or_nothing_is_malformed()
    {
        var twice = Scoring(1, ("Red", 1), ("Red", 2));
        var withChoice = Scoring(2, ("Red", 1)) with { Choices = ["Red"] };
        var nothing = Scoring(3);
        var unknown = Scoring(4, ("Pink", 1));

        var tally = Tally.Count(Designs, Electorate(4), [twice, withChoice, nothing, unknown]);

        Assert.Multiple(() =>
        {
            Assert.That(tally.Rejections, Has.Count.EqualTo(4));
            Assert.That(tally.Rejections.Select(r => r.Reason), Is.All.EqualTo(RejectionReason.MalformedChoice));
        });
    }

    [Test]
    public void Rules_empty_range_is_refused()
    {
        Assert.Throws<ArgumentException>(() => Tally.Count(Designs with { ScoreMin = 3, ScoreMax = 3 }, Electorate(1), []));
    }
}
