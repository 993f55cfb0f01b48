using Fellows.Federation.Deliberation;
using NUnit.Framework;
using static Fellows.Federation.Tests.Deliberation.Votes;

#pragma warning disable CA1861 // expected arrays inline read best in tests

namespace Fellows.Federation.Tests.Deliberation;

public class QuorumTests
{
    private static readonly MotionRules YesNo = Rules(DecisionMethod.Majority, "yes", "no");

    [TestCase(4, false)]
    [TestCase(5, true)]
    [TestCase(6, true)]
    public void Count_absolute_quorum_just_below_at_and_above(int participants, bool met)
    {
        var rules = YesNo with { Quorum = Quorum.AtLeast(5) };

        var tally = Tally.Count(rules, Electorate(10), Many(1, participants, "yes"));

        Assert.Multiple(() =>
        {
            Assert.That(tally.QuorumMet, Is.EqualTo(met));
            Assert.That(tally.State, Is.EqualTo(met ? OutcomeState.Passed : OutcomeState.NoQuorum));
            Assert.That(tally.QuorumRequired, Is.EqualTo(5));
        });
    }

    [TestCase(1, 3, 10, 3, false)]
    [TestCase(1, 3, 10, 4, true)]
    [TestCase(2, 3, 9, 5, false)]
    [TestCase(2, 3, 9, 6, true)]
    [TestCase(1, 2, 10, 5, true)]
    [TestCase(1, 2, 10, 4, false)]
    public void Count_fractional_quorum_is_exact(int numerator, int denominator, int eligible, int participants, bool met)
    {
        var rules = YesNo with { Quorum = Quorum.Fraction(numerator, denominator) };

        var tally = Tally.Count(rules, Electorate(eligible), Many(1, participants, "yes"));

        Assert.That(tally.QuorumMet, Is.EqualTo(met));
    }

    [TestCase(1, 3, 10, 4)]
    [TestCase(2, 3, 9, 6)]
    [TestCase(1, 2, 10, 5)]
    [TestCase(1, 2, 11, 6)]
    [TestCase(1, 1, 7, 7)]
    [TestCase(0, 1, 7, 0)]
    public void Required_rounds_up(int numerator, int denominator, int eligible, int required)
    {
        Assert.That(Quorum.Fraction(numerator, denominator).Required(eligible), Is.EqualTo(required));
    }

    [Test]
    public void Count_abstentions_count_towards_quorum()
    {
        var rules = YesNo with { Quorum = Quorum.AtLeast(3) };
        var stances = new[] { By(1, "yes"), Abstaining(2), Abstaining(3) };

        var tally = Tally.Count(rules, Electorate(5), stances);

        Assert.Multiple(() =>
        {
            Assert.That(tally.QuorumMet, Is.True);
            Assert.That(tally.State, Is.EqualTo(OutcomeState.Passed));
        });
    }

    [Test]
    public void Count_rejected_stances_do_not_count_towards_quorum()
    {
        var rules = YesNo with { Quorum = Quorum.AtLeast(2) };
        var stances = new[] { By(1, "yes"), By(2, "yes") with { Published = Closes }, By("https://x.example/users/z", "yes") };

        var tally = Tally.Count(rules, Electorate(5), stances);

        Assert.That(tally.State, Is.EqualTo(OutcomeState.NoQuorum));
    }

    [Test]
    public void Count_pooled_per_coop_quorum_needs_every_coop()
    {
        var rules = YesNo with { Quorum = Quorum.Fraction(1, 2), CoopQuorum = Quorum.Fraction(1, 2) };
        // A: 4 of 4 vote, B: 1 of 4: overall 5 of 8 meets 1/2, but B misses its own half.
        var stances = Enumerable.Range(1, 4).Select(n => By(Voter(n, CoopA), "yes")).Append(By(Voter(1, CoopB), "no"));

        var tally = Tally.Count(rules, Coops(4, 4), stances);

        Assert.Multiple(() =>
        {
            Assert.That(tally.State, Is.EqualTo(OutcomeState.NoQuorum));
            Assert.That(tally.Coops.Select(c => (c.Coop, c.Participants, c.QuorumMet)), Is.EqualTo(new[] { (CoopA, 4, true), (CoopB, 1, false) }));
        });
    }

    [Test]
    public void Count_pooled_per_coop_quorum_met_everywhere_passes()
    {
        var rules = YesNo with { CoopQuorum = Quorum.Fraction(1, 2) };
        var stances = Enumerable.Range(1, 2).Select(n => By(Voter(n, CoopA), "yes")).Concat(Enumerable.Range(1, 2).Select(n => By(Voter(n, CoopB), "yes")));

        var tally = Tally.Count(rules, Coops(4, 4), stances);

        Assert.Multiple(() =>
        {
            Assert.That(tally.State, Is.EqualTo(OutcomeState.Passed));
            Assert.That(tally.Coops.All(c => c.QuorumMet && c.State is null), Is.True);
        });
    }

    [TestCase("12", 12, 0, 0)]
    [TestCase("1/2", 0, 1, 2)]
    [TestCase("2/3", 0, 2, 3)]
    public void Parse_reads_the_written_form(string text, int count, int numerator, int denominator)
    {
        var quorum = Quorum.Parse(text)!;

        Assert.Multiple(() =>
        {
            Assert.That(quorum.Count, Is.EqualTo(count));
            Assert.That(quorum.Numerator, Is.EqualTo(numerator));
            Assert.That(quorum.Denominator, Is.EqualTo(denominator));
            Assert.That(quorum.ToString(), Is.EqualTo(text));
        });
    }

    [TestCase("")]
    [TestCase("-1")]
    [TestCase("3/2")]
    [TestCase("1/0")]
    [TestCase("a/b")]
    [TestCase("1.5")]
    public void Parse_refuses_malformed(string text)
    {
        Assert.That(Quorum.Parse(text), Is.Null);
    }
}
