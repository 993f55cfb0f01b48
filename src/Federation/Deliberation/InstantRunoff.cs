using System.Security.Cryptography;
using System.Text;

namespace Fellows.Federation.Deliberation;

/// <summary>The result of an instant run-off.</summary>
/// <param name="Winner">The option left with a strict majority of continuing ballots; null for a tie or no votes.</param>
/// <param name="Tied">True when the last two options could not be separated.</param>
/// <param name="Rounds">Every round, first preferences first.</param>
public sealed record RunoffResult(string? Winner, bool Tied, IReadOnlyList<RunoffRound> Rounds);

/// <summary>
/// Instant run-off voting over ranked ballots, with fully deterministic tie-breaks.
/// </summary>
/// <remarks>
/// <list type="number">
/// <item>Each round, every ballot counts for its most preferred option that is still continuing; a ballot
/// with none left is exhausted and leaves the count.</item>
/// <item>An option with more than half of the continuing ballots wins (a lone continuing option with any
/// vote has all of them).</item>
/// <item>Otherwise one option is eliminated: the one with the fewest votes this round. Ties for fewest are
/// broken backwards: among the tied, keep only those with the fewest votes in the previous round, then the
/// round before, back to the first round.</item>
/// <item>If several are still tied and more than two options continue, the one whose
/// <see cref="LotHash"/> is lowest (ordinal on lowercase hex) is eliminated: a lot any server can draw again.</item>
/// <item>If the last two options are still tied after the backwards tie-break, the result is a tie: the lot
/// never picks the winner directly.</item>
/// </list>
/// One option is eliminated per round, so zero-vote options take one round each; that keeps every step
/// visible and the rule simple.
/// </remarks>
public static class InstantRunoff
{
    /// <summary>
    /// The last-resort lot for <paramref name="option"/> in <paramref name="motionId"/>:
    /// lowercase hex of <c>SHA-256(UTF-8(motionId ‖ U+0000 ‖ option))</c>. Seeded with the motion id so no
    /// option name is favoured across motions, and fixed before anyone votes.
    /// </summary>
    public static string LotHash(string motionId, string option) =>
        Convert.ToHexStringLower(SHA256.HashData(Encoding.UTF8.GetBytes(motionId + "\0" + option)));

    /// <summary>
    /// Runs the count. <paramref name="ballots"/> are preference lists (most preferred first) of distinct
    /// option names from <paramref name="options"/>; abstentions are left out by the caller.
    /// </summary>
    public static RunoffResult Run(string motionId, IReadOnlyList<string> options, IReadOnlyList<IReadOnlyList<string>> ballots)
    {
        ArgumentNullException.ThrowIfNull(options);
        ArgumentNullException.ThrowIfNull(ballots);
        var continuing = new List<string>(options);
        var history = new List<Dictionary<string, long>>();
        var rounds = new List<RunoffRound>();

        while (true)
        {
            var counts = continuing.ToDictionary(o => o, _ => 0L, StringComparer.Ordinal);
            var exhausted = 0;
            foreach (var ballot in ballots)
            {
                var top = ballot.FirstOrDefault(counts.ContainsKey);
                if (top is null)
                    exhausted++;
                else
                    counts[top]++;
            }

            history.Add(counts);
            var roundCounts = continuing.Select(o => new OptionCount(o, counts[o])).ToArray();
            var total = counts.Values.Sum();
            if (total == 0)
            {
                rounds.Add(new RunoffRound(rounds.Count + 1, roundCounts, exhausted, null, TieBreak.None));
                return new RunoffResult(null, false, rounds);
            }

            var leader = continuing.MaxBy(o => counts[o])!;
            if (counts[leader] * 2 > total)
            {
                rounds.Add(new RunoffRound(rounds.Count + 1, roundCounts, exhausted, null, TieBreak.None));
                return new RunoffResult(leader, false, rounds);
            }

            var (eliminated, tieBreak) = PickElimination(motionId, continuing, history);
            rounds.Add(new RunoffRound(rounds.Count + 1, roundCounts, exhausted, eliminated, tieBreak));
            if (eliminated is null)
                return new RunoffResult(null, true, rounds);
            continuing.Remove(eliminated);
        }
    }

    /// <summary>The option to eliminate after the latest round in <paramref name="history"/>; null for a final tie.</summary>
    private static (string? Option, TieBreak TieBreak) PickElimination(string motionId, List<string> continuing, List<Dictionary<string, long>> history)
    {
        var latest = history[^1];
        var fewest = continuing.Min(o => latest[o]);
        var tied = continuing.Where(o => latest[o] == fewest).ToList();
        if (tied.Count == 1)
            return (tied[0], TieBreak.None);

        // Backwards: the earlier rounds, latest first. Every continuing option was counted in every earlier round.
        for (var r = history.Count - 2; r >= 0 && tied.Count > 1; r--)
        {
            var round = history[r];
            var min = tied.Min(o => round[o]);
            tied = tied.Where(o => round[o] == min).ToList();
        }

        if (tied.Count == 1)
            return (tied[0], TieBreak.EarlierRounds);
        if (continuing.Count == 2)
            return (null, TieBreak.None);
        return (tied.MinBy(o => LotHash(motionId, o), StringComparer.Ordinal), TieBreak.SeededHash);
    }
}
