using Fellows.Federation.Deliberation;
using NUnit.Framework;
using static Fellows.Federation.Tests.Deliberation.Votes;

#pragma warning disable CA1861 // expected arrays inline read best in tests

namespace Fellows.Federation.Tests.Deliberation;

public class RankedChoiceTests
{
    private static MotionRules Ranked(params string[] options) => Rules(DecisionMethod.RankedChoice, options);

    private static IEnumerable<Stance> Ballots(params (int Count, string[] Ranking)[] groups)
    {
        var voter = 1;
        foreach (var (count, ranking) in groups)
        {
            for (var i = 0; i < count; i++)
                yield return By(voter++, ranking);
        }
    }

    private static int Voters(params (int Count, string[] Ranking)[] groups) => groups.Sum(g => g.Count);

    private static TallyResult Run(MotionRules rules, params (int Count, string[] Ranking)[] groups) =>
        Tally.Count(rules, Electorate(Voters(groups)), Ballots(groups));

    private static string Counts(RunoffRound round) => string.Join(" ", round.Counts.Select(c => $"{c.Option}{c.Count}"));

    [Test]
    public void LotHash_is_sha256_of_motion_nul_option()
    {
        Assert.Multiple(() =>
        {
            Assert.That(InstantRunoff.LotHash(Motion, "B"), Is.EqualTo("95167fde35273c8598e3d1827d2d225994ea7cf2f28b137900d9e63ae9b6df81"));
            Assert.That(InstantRunoff.LotHash(Motion, "C"), Is.EqualTo("bd9e760585d0c2f78c074fc893d5132d37cf97ce63d2f73ab0b25325a4492295"));
        });
    }

    [Test]
    public void Count_majority_of_first_preferences_wins_in_round_one()
    {
        var tally = Run(Ranked("A", "B", "C"), (3, ["A", "B"]), (2, ["B"]));

        Assert.Multiple(() =>
        {
            Assert.That(tally.Winner, Is.EqualTo("A"));
            Assert.That(tally.Rounds, Has.Count.EqualTo(1));
            Assert.That(tally.Rounds[0].Eliminated, Is.Null);
        });
    }

    [Test]
    public void Count_transfers_eliminated_votes_to_next_preference()
    {
        var tally = Run(Ranked("A", "B", "C"), (4, ["A"]), (3, ["B", "C"]), (2, ["C", "B"]));

        Assert.Multiple(() =>
        {
            Assert.That(tally.State, Is.EqualTo(OutcomeState.Passed));
            Assert.That(tally.Winner, Is.EqualTo("B"));
            Assert.That(tally.Counts.Select(c => c.Count), Is.EqualTo(new[] { 4L, 3L, 2L }), "counts are first preferences");
            Assert.That(tally.Rounds.Select(Counts), Is.EqualTo(new[] { "A4 B3 C2", "A4 B5" }));
            Assert.That(tally.Rounds[0].Eliminated, Is.EqualTo("C"));
            Assert.That(tally.Rounds[0].TieBreak, Is.EqualTo(TieBreak.None));
        });
    }

    [Test]
    public void Count_exhausted_ballots_leave_the_count()
    {
        var tally = Run(Ranked("A", "B", "C"), (4, ["A"]), (3, ["B"]), (2, ["C"]));

        Assert.Multiple(() =>
        {
            Assert.That(tally.Rounds.Select(Counts), Is.EqualTo(new[] { "A4 B3 C2", "A4 B3" }));
            Assert.That(tally.Rounds[1].Exhausted, Is.EqualTo(2));
            Assert.That(tally.Winner, Is.EqualTo("A"), "4 of 7 continuing ballots is a majority");
        });
    }

    [Test]
    public void Count_two_thirds_is_checked_on_the_final_round_share()
    {
        var rules = Ranked("A", "B", "C") with { Threshold = Threshold.TwoThirds };

        var fails = Run(rules, (4, ["A"]), (3, ["B"]), (2, ["C"]));
        var passes = Run(rules, (4, ["A"]), (1, ["B", "A"]), (1, ["C"]));

        Assert.Multiple(() =>
        {
            Assert.That(fails.State, Is.EqualTo(OutcomeState.Rejected), "4 of 7");
            Assert.That(passes.State, Is.EqualTo(OutcomeState.Passed), "5 of 6 after B's transfer");
            Assert.That(passes.Winner, Is.EqualTo("A"));
        });
    }

    [Test]
    public void Count_tie_for_last_is_broken_by_earlier_rounds()
    {
        var tally = Run(Ranked("A", "B", "C", "D"), (6, ["A"]), (4, ["B"]), (3, ["C", "B"]), (1, ["D", "C", "B"]));

        Assert.Multiple(() =>
        {
            Assert.That(tally.Rounds.Select(Counts), Is.EqualTo(new[] { "A6 B4 C3 D1", "A6 B4 C4", "A6 B8" }));
            Assert.That(tally.Rounds[1].Eliminated, Is.EqualTo("C"), "C had fewer in round 1 (3 against 4)");
            Assert.That(tally.Rounds[1].TieBreak, Is.EqualTo(TieBreak.EarlierRounds));
            Assert.That(tally.Winner, Is.EqualTo("B"));
        });
    }

    [Test]
    public void Count_tie_in_round_one_is_broken_by_the_seeded_lot()
    {
        // B and C tie with 2 and there is no earlier round; B's lot hash (95…) sorts before C's (bd…).
        var tally = Run(Ranked("A", "B", "C"), (3, ["A"]), (2, ["B", "A"]), (2, ["C", "B"]));

        Assert.Multiple(() =>
        {
            Assert.That(tally.Rounds[0].Eliminated, Is.EqualTo("B"));
            Assert.That(tally.Rounds[0].TieBreak, Is.EqualTo(TieBreak.SeededHash));
            Assert.That(tally.Rounds.Select(Counts), Is.EqualTo(new[] { "A3 B2 C2", "A5 C2" }));
            Assert.That(tally.Winner, Is.EqualTo("A"));
        });
    }

    [Test]
    public void Count_lot_depends_on_the_motion_id_not_the_option_order()
    {
        var reordered = Run(Ranked("C", "B", "A"), (3, ["A"]), (2, ["B", "A"]), (2, ["C", "B"]));

        Assert.That(reordered.Rounds[0].Eliminated, Is.EqualTo("B"));
    }

    [Test]
    public void Count_three_way_cycle_is_settled_by_the_lot_then_counted()
    {
        var tally = Run(Ranked("A", "B", "C"), (1, ["A", "B"]), (1, ["B", "C"]), (1, ["C", "A"]));

        Assert.Multiple(() =>
        {
            Assert.That(tally.Rounds[0].Eliminated, Is.EqualTo("B"));
            Assert.That(tally.Rounds.Select(Counts), Is.EqualTo(new[] { "A1 B1 C1", "A1 C2" }));
            Assert.That(tally.Winner, Is.EqualTo("C"));
        });
    }

    [Test]
    public void Count_zero_vote_options_go_one_per_round()
    {
        var tally = Run(Ranked("A", "B", "C", "D", "E"), (2, ["A"]), (2, ["B"]), (1, ["C", "A"]));

        Assert.Multiple(() =>
        {
            Assert.That(tally.Rounds.Select(r => r.Eliminated), Is.EqualTo(new[] { "E", "D", "C", null }));
            Assert.That(tally.Rounds.Select(r => r.TieBreak), Is.EqualTo(new[] { TieBreak.SeededHash, TieBreak.None, TieBreak.None, TieBreak.None }));
            Assert.That(Counts(tally.Rounds[^1]), Is.EqualTo("A3 B2"));
            Assert.That(tally.Winner, Is.EqualTo("A"));
        });
    }

    [Test]
    public void Count_final_two_tied_in_every_round_is_a_tie()
    {
        var tally = Run(Ranked("A", "B"), (2, ["A", "B"]), (2, ["B"]));

        Assert.Multiple(() =>
        {
            Assert.That(tally.State, Is.EqualTo(OutcomeState.Tie));
            Assert.That(tally.Winner, Is.Null);
            Assert.That(tally.Rounds, Has.Count.EqualTo(1));
            Assert.That(tally.Rounds[0].Eliminated, Is.Null);
        });
    }

    [Test]
    public void Count_final_two_tied_after_transfers_is_a_tie_when_earlier_rounds_agree()
    {
        // Round 1: A2 B2 C1 (C eliminated, exhausted); round 2: A2 B2, equal in round 1 too.
        var tally = Run(Ranked("A", "B", "C"), (2, ["A"]), (2, ["B"]), (1, ["C"]));

        Assert.Multiple(() =>
        {
            Assert.That(tally.State, Is.EqualTo(OutcomeState.Tie));
            Assert.That(tally.Rounds.Select(Counts), Is.EqualTo(new[] { "A2 B2 C1", "A2 B2" }));
        });
    }

    [Test]
    public void Count_final_two_tied_now_but_not_earlier_is_decided_backwards()
    {
        var tally = Run(Ranked("A", "B", "C"), (3, ["A"]), (2, ["B"]), (1, ["C", "B"]));

        Assert.Multiple(() =>
        {
            Assert.That(tally.Rounds.Select(Counts), Is.EqualTo(new[] { "A3 B2 C1", "A3 B3", "A3" }));
            Assert.That(tally.Rounds[1].Eliminated, Is.EqualTo("B"));
            Assert.That(tally.Rounds[1].TieBreak, Is.EqualTo(TieBreak.EarlierRounds));
            Assert.That(tally.Rounds[2].Exhausted, Is.EqualTo(3));
            Assert.That(tally.Winner, Is.EqualTo("A"));
        });
    }

    [Test]
    public void Count_no_ballots_is_rejected()
    {
        var tally = Tally.Count(Ranked("A", "B"), Electorate(3), [Abstaining(1)]);

        Assert.Multiple(() =>
        {
            Assert.That(tally.State, Is.EqualTo(OutcomeState.Rejected));
            Assert.That(tally.Participants, Is.EqualTo(1));
            Assert.That(tally.Rounds.Single().Counts.Select(c => c.Count), Is.All.Zero);
        });
    }

    [Test]
    public void Count_repeated_or_unknown_ranking_is_malformed()
    {
        var tally = Tally.Count(Ranked("A", "B"), Electorate(3), [By(1, "A", "B", "A"), By(2, "A", "Z"), By(3, "B")]);

        Assert.Multiple(() =>
        {
            Assert.That(tally.Rejections.Select(r => r.Reason), Is.EqualTo(new[] { RejectionReason.MalformedChoice, RejectionReason.MalformedChoice }));
            Assert.That(tally.Winner, Is.EqualTo("B"));
        });
    }

    [Test]
    public void Run_directly_reports_rounds()
    {
        var result = InstantRunoff.Run(Motion, ["X", "Y"], [["X"], ["Y", "X"], ["X", "Y"]]);

        Assert.Multiple(() =>
        {
            Assert.That(result.Winner, Is.EqualTo("X"));
            Assert.That(result.Tied, Is.False);
            Assert.That(result.Rounds.Single().Counts.Select(c => c.Count), Is.EqualTo(new[] { 2L, 1L }));
        });
    }
}
