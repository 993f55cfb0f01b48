using Fellows.Federation.Deliberation;
using NUnit.Framework;
using static Fellows.Federation.Tests.Deliberation.Votes;

namespace Fellows.Federation.Tests.Deliberation;

/// <summary>
/// Randomised properties, with fixed seeds so a failure reproduces: the tally does not depend on the order
/// stances arrive in, and ranked choice over two options is majority.
/// </summary>
public class PropertyTests
{
    private const int Runs = 150;

    private static readonly string[] Options = ["A", "B", "C", "D"];

    /// <summary>Random stances for a method, including late, ineligible, malformed, changed and duplicated ones.</summary>
    private static List<Stance> RandomStances(Random random, DecisionMethod method, int voters)
    {
        var stances = new List<Stance>();
        var count = random.Next(0, voters * 2);
        for (var i = 0; i < count; i++)
        {
            var voter = random.Next(1, voters + 3); // a few beyond the electorate
            var stance = By(voter) with
            {
                Published = Opens.AddMinutes(random.Next(0, 12_000)), // some after the close (10,080 minutes)
            };
            stance = random.Next(10) switch
            {
                0 => stance with { Abstain = true },
                1 => stance with { Choices = ["nonsense"] },
                _ => method switch
                {
                    DecisionMethod.Consent => stance with
                    {
                        Choices = [ConsentPositions.All[random.Next(4)]],
                        Reason = random.Next(3) == 0 ? null : "because",
                    },
                    DecisionMethod.Majority => stance with { Choices = [Options[random.Next(Options.Length)]] },
                    DecisionMethod.Approval => stance with { Choices = Options.Where(_ => random.Next(2) == 0).DefaultIfEmpty("A").ToArray() },
                    DecisionMethod.RankedChoice => stance with { Choices = Options.OrderBy(_ => random.Next()).Take(random.Next(1, 5)).ToArray() },
                    _ => stance with { Scores = Options.Where(_ => random.Next(3) > 0).Select(o => new OptionScore(o, random.Next(0, 6))).ToArray() },
                },
            };
            stances.Add(stance);
            if (random.Next(8) == 0)
                stances.Add(stance); // an exact duplicate delivery
        }

        return stances;
    }

    private static string Summary(TallyResult t) =>
        $"{t.State}|{t.Winner}|{t.Participants}|{t.Cast}|{t.Abstentions}|{t.Blocks}|{t.QuorumMet}|{t.Digest}|"
        + string.Join(",", t.Counts.Select(c => $"{c.Option}={c.Count}")) + "|"
        + string.Join(";", t.Rounds.Select(r => $"{r.Eliminated}:{r.TieBreak}:{r.Exhausted}:" + string.Join(",", r.Counts.Select(c => c.Count)))) + "|"
        + string.Join(";", t.Coops.Select(c => $"{c.Coop}:{c.State}:{c.Voice}:{c.Participants}")) + "|"
        + string.Join(";", t.Rejections.Select(r => $"{r.StanceId}:{r.Code}"));

    [TestCase(DecisionMethod.Consent, CountingMode.Pooled)]
    [TestCase(DecisionMethod.Majority, CountingMode.Pooled)]
    [TestCase(DecisionMethod.Approval, CountingMode.Pooled)]
    [TestCase(DecisionMethod.RankedChoice, CountingMode.Pooled)]
    [TestCase(DecisionMethod.Score, CountingMode.Pooled)]
    [TestCase(DecisionMethod.Consent, CountingMode.CoopByCoop)]
    [TestCase(DecisionMethod.RankedChoice, CountingMode.CoopByCoop)]
    public void Count_reordering_stances_changes_nothing(DecisionMethod method, CountingMode mode)
    {
        var random = new Random(4000 + (int)method * 10 + (int)mode);
        for (var run = 0; run < Runs; run++)
        {
            var voters = random.Next(1, 12);
            var electorate = Fellows.Federation.Deliberation.Electorate.FromMembers(Enumerable.Range(1, voters).Select(n => (Voter(n), n % 3 == 0 ? CoopB : CoopA)));
            var rules = Rules(method, Options) with
            {
                Mode = mode,
                Threshold = (Threshold)random.Next(4),
                Quorum = random.Next(2) == 0 ? null : Quorum.Fraction(1, random.Next(2, 5)),
            };
            var stances = RandomStances(random, method, voters);
            var expected = Summary(Tally.Count(rules, electorate, stances));

            for (var shuffle = 0; shuffle < 3; shuffle++)
            {
                var shuffled = stances.OrderBy(_ => random.Next()).ToArray();
                Assert.That(Summary(Tally.Count(rules, electorate, shuffled)), Is.EqualTo(expected), $"run {run}");
            }
        }
    }

    [Test]
    public void Count_ranked_choice_over_two_options_equals_majority()
    {
        var random = new Random(2026);
        for (var run = 0; run < Runs * 2; run++)
        {
            var voters = random.Next(0, 15);
            var threshold = (Threshold)random.Next(4);
            var ranked = new List<Stance>();
            var single = new List<Stance>();
            for (var v = 1; v <= voters; v++)
            {
                if (random.Next(6) == 0)
                {
                    var abstain = Abstaining(v);
                    ranked.Add(abstain);
                    single.Add(abstain);
                    continue;
                }

                var first = random.Next(2) == 0 ? "A" : "B";
                var second = first == "A" ? "B" : "A";
                var stance = By(v, first);
                single.Add(stance);
                ranked.Add(random.Next(2) == 0 ? stance : stance with { Choices = [first, second] });
            }

            var irv = Tally.Count(Rules(DecisionMethod.RankedChoice, "A", "B") with { Threshold = threshold }, Electorate(Math.Max(voters, 1)), ranked);
            var majority = Tally.Count(Rules(DecisionMethod.Majority, "A", "B") with { Threshold = threshold }, Electorate(Math.Max(voters, 1)), single);

            Assert.Multiple(() =>
            {
                Assert.That(irv.State, Is.EqualTo(majority.State), $"run {run}");
                Assert.That(irv.Winner, Is.EqualTo(majority.Winner), $"run {run}");
                Assert.That(irv.Counts, Is.EqualTo(majority.Counts), $"run {run}");
            });
        }
    }

    [Test]
    public void Count_result_is_stable_across_repeated_counts()
    {
        var random = new Random(77);
        var electorate = Electorate(30);
        var rules = Rules(DecisionMethod.RankedChoice, Options);
        var stances = RandomStances(random, DecisionMethod.RankedChoice, 30);

        var first = Summary(Tally.Count(rules, electorate, stances));
        var second = Summary(Tally.Count(rules, electorate, stances.ToArray()));

        Assert.That(second, Is.EqualTo(first));
    }

    [Test]
    public void Count_ten_thousand_ballots_is_fast_enough()
    {
        var random = new Random(10_000);
        var electorate = Electorate(10_000);
        var rules = Rules(DecisionMethod.RankedChoice, Options);
        var stances = Enumerable.Range(1, 10_000).Select(n => By(n, Options.OrderBy(_ => random.Next()).Take(random.Next(1, 5)).ToArray()) with { Published = Opens }).ToArray();

        var watch = System.Diagnostics.Stopwatch.StartNew();
        var tally = Tally.Count(rules, electorate, stances);
        watch.Stop();
        TestContext.Out.WriteLine($"10,000 ranked ballots counted with digest in {watch.ElapsedMilliseconds} ms");

        Assert.Multiple(() =>
        {
            Assert.That(tally.Participants, Is.EqualTo(10_000));
            Assert.That(watch.Elapsed, Is.LessThan(TimeSpan.FromSeconds(20)));
        });
    }
}
