using System.Globalization;
using System.Text.Json.Nodes;
using Fellows.Federation.Proofs;

namespace Fellows.Federation.Deliberation;

/// <summary>
/// Counts a motion. Pure and deterministic: the same rules, electorate and stances give the same
/// <see cref="TallyResult"/> (digest included) whatever order the stances are in, on every instance.
/// </summary>
/// <remarks>
/// <para><b>Admission.</b> Copies of one stance id: identical copies count once (the rest are
/// <see cref="RejectionReason.Duplicate"/>), differing copies are all <see cref="RejectionReason.ConflictingDuplicate"/>.
/// Then each stance is checked in this order: it answers this motion, it was cast before the close, the voter is
/// eligible, a secret ballot carries a receipt, its choices fit the method, a block has a reason. Among a voter's
/// admissible stances the latest <see cref="Stance.Published"/> counts (equal times: the greater id, ordinal);
/// the others are <see cref="RejectionReason.Superseded"/>. A rejected stance never displaces an admissible one.
/// Secret ballots: of two counted ballots with the same receipt the earlier (then lower id) counts.</para>
/// <para><b>Deciding</b> (<see cref="Decide"/>): quorum first (<see cref="OutcomeState.NoQuorum"/>), then an
/// unresolved consent block (<see cref="OutcomeState.Blocked"/>), then: no votes cast →
/// <see cref="OutcomeState.Rejected"/>; a shared highest count → <see cref="OutcomeState.Tie"/>; otherwise the
/// leader passes when it meets the <see cref="Threshold"/> of votes cast (abstentions excluded).</para>
/// <para>Methods: consent compares agree with disagree (resolved blocks count as disagree). Majority: one
/// option per ballot. Approval: approvals per option, share of non-abstaining ballots. Ranked choice:
/// <see cref="InstantRunoff"/>; the threshold is checked on the winner's share of continuing ballots in the last
/// round. Score: total score per option (options a ballot leaves out score the minimum, which makes the total
/// rank options exactly as the mean over all ballots would); the threshold does not apply, the highest total
/// passes unless shared.</para>
/// <para><b>Co-op by co-op</b>: each co-op is counted as above on its own members with
/// <see cref="MotionRules.CoopQuorum"/>. Its voice: consent Passed → agree, Rejected → disagree, Blocked → block,
/// Tie → abstain; other methods Passed → its winning option, Rejected or Tie → abstain; no quorum → no voice. The
/// voices are then counted with consent (consent motions) or majority (the others; score with plurality), the
/// motion's threshold, and <see cref="MotionRules.Quorum"/> applied to co-ops with a voice out of co-ops with
/// eligible members.</para>
/// </remarks>
public static class Tally
{
    /// <summary>Admits <paramref name="stances"/> and counts the ballots.</summary>
    public static TallyResult Count(MotionRules rules, Electorate electorate, IEnumerable<Stance> stances)
    {
        ArgumentNullException.ThrowIfNull(rules);
        ArgumentNullException.ThrowIfNull(electorate);
        ArgumentNullException.ThrowIfNull(stances);
        rules.Validate();
        var (ballots, rejections) = Admit(rules, electorate, stances);
        return Recount(rules, electorate.EligibleByCoop, ballots) with { Rejections = rejections };
    }

    /// <summary>
    /// Counts already-admitted ballots, as an instance does to check a published tally: with the published
    /// ballots and eligible counts per co-op it must reproduce the published counts, state and digest.
    /// </summary>
    /// <exception cref="ArgumentException">A ballot does not fit the rules, or two ballots share a voter, stance or receipt.</exception>
    public static TallyResult Recount(MotionRules rules, IReadOnlyDictionary<string, int> eligibleByCoop, IEnumerable<Ballot> ballots) =>
        TryRecount(rules, eligibleByCoop, ballots, out var result, out var error)
            ? result
            : throw new ArgumentException(error, nameof(ballots));

    /// <summary>
    /// <see cref="Recount"/> for ballots from elsewhere: false with a reason, instead of a count, when a ballot
    /// does not fit the rules (the form admission would have refused) or when two ballots share a voter, a stance
    /// id or a receipt (a ballot counted twice).
    /// </summary>
    public static bool TryRecount(
        MotionRules rules,
        IReadOnlyDictionary<string, int> eligibleByCoop,
        IEnumerable<Ballot> ballots,
        [System.Diagnostics.CodeAnalysis.NotNullWhen(true)] out TallyResult? result,
        [System.Diagnostics.CodeAnalysis.NotNullWhen(false)] out string? error)
    {
        ArgumentNullException.ThrowIfNull(rules);
        ArgumentNullException.ThrowIfNull(eligibleByCoop);
        ArgumentNullException.ThrowIfNull(ballots);
        rules.Validate();
        result = null;
        var list = ballots.ToList();
        var known = new HashSet<string>(rules.EffectiveOptions, StringComparer.Ordinal);
        foreach (var ballot in list)
        {
            if (ValidateBallot(rules, known, ballot) is { } problem)
            {
                error = $"ballot {ballot.StanceId ?? ballot.Receipt ?? "(unnamed)"}: {problem}";
                return false;
            }
        }

        if (HasRepeats(list.Select(b => b.Voter)) || HasRepeats(list.Select(b => b.StanceId)) || HasRepeats(list.Select(b => b.Receipt)))
        {
            error = "two ballots share a voter, a stance or a receipt";
            return false;
        }

        error = null;
        result = CountValid(rules, eligibleByCoop, list);
        return true;
    }

    private static bool HasRepeats(IEnumerable<string?> keys)
    {
        var seen = new HashSet<string>(StringComparer.Ordinal);
        return keys.Any(k => k is not null && !seen.Add(k));
    }

    /// <summary>
    /// Why a published ballot could not have come out of admission under <paramref name="rules"/>; null when it
    /// could. <paramref name="known"/> is the set of <see cref="MotionRules.EffectiveOptions"/>, built once per count.
    /// </summary>
    private static string? ValidateBallot(MotionRules rules, HashSet<string> known, Ballot ballot)
    {
        if (rules.SecretBallot
            ? !TallyDigest.IsWellFormedReceipt(ballot.Receipt) || ballot.Voter is not null || ballot.StanceId is not null || ballot.ProofValue is not null
            : ballot.Receipt is not null || ballot.Voter is null || ballot.StanceId is null)
            return rules.SecretBallot ? "a secret ballot names only a receipt" : "a public ballot names its stance and voter";

        var consent = rules.Method == DecisionMethod.Consent;
        if (ballot.BlockResolved && !(consent && ballot.Choices is [ConsentPositions.Block]))
            return "only a consent block can be resolved";
        if (ballot.Abstain)
        {
            var fits = ballot.Scores.Count == 0 && (consent ? ballot.Choices is [ConsentPositions.Abstain] : ballot.Choices.Count == 0);
            return fits ? null : "an abstention carries no choices or scores";
        }

        if (rules.Method == DecisionMethod.Score)
        {
            if (ballot.Choices.Count > 0 || ballot.Scores.Count == 0)
                return "a score ballot gives scores, not choices";
            if (ballot.Scores.Any(s => !known.Contains(s.Option) || s.Score < rules.ScoreMin || s.Score > rules.ScoreMax))
                return "a score is for an unknown option or out of range";
            return ballot.Scores.Select(s => s.Option).Distinct(StringComparer.Ordinal).Count() == ballot.Scores.Count ? null : "an option is scored twice";
        }

        if (ballot.Scores.Count > 0 || ballot.Choices.Count == 0)
            return "a ballot of this method has choices and no scores";
        if (ballot.Choices.Any(c => !known.Contains(c)) || ballot.Choices.Distinct(StringComparer.Ordinal).Count() != ballot.Choices.Count)
            return "a choice is unknown or repeated";
        if (rules.Method is DecisionMethod.Consent or DecisionMethod.Majority && ballot.Choices.Count != 1)
            return "exactly one choice is allowed";
        return consent && ballot.Choices[0] == ConsentPositions.Abstain ? "a consent abstention is marked as one" : null;
    }

    private static TallyResult CountValid(MotionRules rules, IReadOnlyDictionary<string, int> eligibleByCoop, IReadOnlyList<Ballot> ballots)
    {
        var (ordered, digest) = TallyDigest.OrderAndCompute(ballots);
        var coops = eligibleByCoop.Keys.Union(ordered.Select(b => b.Coop), StringComparer.Ordinal)
            .Order(StringComparer.Ordinal).ToArray();
        var eligible = eligibleByCoop.Values.Sum();

        if (rules.Mode == CountingMode.Pooled)
        {
            var count = CountPooled(rules, ordered);
            var coopResults = coops.Select(c =>
            {
                var coopEligible = eligibleByCoop.GetValueOrDefault(c);
                var participants = ordered.Count(b => b.Coop == c);
                var met = rules.CoopQuorum?.IsMet(participants, coopEligible) ?? true;
                return new CoopResult(c, coopEligible, participants, met, null, null, null, [], []);
            }).ToArray();
            var quorumMet = (rules.Quorum?.IsMet(ordered.Count, eligible) ?? true) && coopResults.All(c => c.QuorumMet);
            var (state, winner) = Decide(rules, count, quorumMet);
            return new TallyResult
            {
                MotionId = rules.MotionId,
                Method = rules.Method,
                Mode = rules.Mode,
                Threshold = rules.Threshold,
                State = state,
                Winner = winner,
                Eligible = eligible,
                Participants = ordered.Count,
                Abstentions = count.Abstentions,
                Cast = count.Cast,
                Blocks = count.Blocks,
                QuorumMet = quorumMet,
                QuorumRequired = rules.Quorum?.Required(eligible) ?? 0,
                Counts = count.Counts,
                Rounds = count.Rounds,
                Coops = coopResults,
                Ballots = ordered,
                Digest = digest,
            };
        }

        return CountCoopByCoop(rules, eligibleByCoop, coops, ordered, eligible, digest);
    }

    /// <summary>
    /// The outcome of a count: <see cref="OutcomeState.NoQuorum"/>, then <see cref="OutcomeState.Blocked"/>,
    /// then no votes → Rejected, shared top → Tie, else the leader against the threshold.
    /// </summary>
    internal static (OutcomeState State, string? Winner) Decide(MotionRules rules, MethodCount count, bool quorumMet)
    {
        if (!quorumMet)
            return (OutcomeState.NoQuorum, null);
        if (count.Blocks > 0)
            return (OutcomeState.Blocked, null);
        if (count.LeaderTotal == 0 || count.Leaders.Count == 0)
            return (OutcomeState.Rejected, null);
        if (count.Leaders.Count > 1)
            return (OutcomeState.Tie, null);
        if (rules.Method == DecisionMethod.Consent && count.Leaders[0] != ConsentPositions.Agree)
            return (OutcomeState.Rejected, null);
        var threshold = rules.Method == DecisionMethod.Score ? Threshold.Plurality : rules.Threshold;
        if (!Meets(threshold, count.LeaderVotes, count.LeaderTotal))
            return (OutcomeState.Rejected, null);
        return (OutcomeState.Passed, rules.Method == DecisionMethod.Consent ? null : count.Leaders[0]);
    }

    /// <summary>Whether <paramref name="votes"/> out of <paramref name="cast"/> meets <paramref name="threshold"/> (exact integer arithmetic).</summary>
    public static bool Meets(Threshold threshold, long votes, long cast) => cast > 0 && threshold switch
    {
        Threshold.Plurality => votes > 0,
        Threshold.SimpleMajority => 2 * votes > cast,
        Threshold.TwoThirds => 3 * votes >= 2 * cast,
        Threshold.Unanimity => votes == cast,
        _ => false,
    };

    /// <summary>A method's raw count before the outcome is decided.</summary>
    /// <param name="Counts">Per option, for publication.</param>
    /// <param name="Leaders">The option(s) with the highest decisive count (consent: agree, or agree and disagree when equal); empty when nothing leads.</param>
    /// <param name="LeaderVotes">The leader's decisive count.</param>
    /// <param name="LeaderTotal">What the threshold is a share of.</param>
    /// <param name="Cast">Ballots that are not abstentions.</param>
    /// <param name="Abstentions">Ballots that abstain.</param>
    /// <param name="Blocks">Unresolved consent blocks.</param>
    /// <param name="Rounds">Ranked choice: the run-off rounds.</param>
    internal sealed record MethodCount(
        IReadOnlyList<OptionCount> Counts,
        IReadOnlyList<string> Leaders,
        long LeaderVotes,
        long LeaderTotal,
        int Cast,
        int Abstentions,
        int Blocks,
        IReadOnlyList<RunoffRound> Rounds);

    private static MethodCount CountPooled(MotionRules rules, IReadOnlyList<Ballot> ballots)
    {
        var abstentions = ballots.Count(b => b.IsAbstention);
        var voting = ballots.Where(b => !b.IsAbstention).ToArray();
        var options = rules.EffectiveOptions;
        switch (rules.Method)
        {
            case DecisionMethod.Consent:
            {
                var agree = voting.Count(b => b.Choices[0] == ConsentPositions.Agree);
                var disagree = voting.Count(b => b.Choices[0] == ConsentPositions.Disagree);
                var blocks = voting.Count(b => b.Choices[0] == ConsentPositions.Block && !b.BlockResolved);
                var resolved = voting.Count(b => b.Choices[0] == ConsentPositions.Block && b.BlockResolved);
                var against = disagree + resolved;
                OptionCount[] counts =
                [
                    new(ConsentPositions.Agree, agree),
                    new(ConsentPositions.Abstain, abstentions),
                    new(ConsentPositions.Disagree, disagree),
                    new(ConsentPositions.Block, blocks + resolved),
                ];
                // Consent decides about agree: it leads when more agree than disagree, ties when as many.
                string[] leaders = agree == against ? [ConsentPositions.Agree, ConsentPositions.Disagree]
                    : agree > against ? [ConsentPositions.Agree] : [ConsentPositions.Disagree];
                return new MethodCount(counts, leaders, agree, agree + against, voting.Length, abstentions, blocks, []);
            }

            case DecisionMethod.Majority:
            case DecisionMethod.Approval:
            {
                var tally = options.ToDictionary(o => o, _ => 0L, StringComparer.Ordinal);
                foreach (var ballot in voting)
                {
                    foreach (var choice in ballot.Choices)
                        tally[choice]++;
                }

                return Plurality(options, tally, voting.Length, voting.Length, abstentions);
            }

            case DecisionMethod.RankedChoice:
            {
                var firsts = options.ToDictionary(o => o, _ => 0L, StringComparer.Ordinal);
                foreach (var ballot in voting)
                    firsts[ballot.Choices[0]]++;
                var run = InstantRunoff.Run(rules.MotionId, options, voting.Select(b => b.Choices).ToArray());
                var counts = options.Select(o => new OptionCount(o, firsts[o])).ToArray();
                var last = run.Rounds.Count > 0 ? run.Rounds[^1] : null;
                var lastTotal = last?.Counts.Sum(c => c.Count) ?? 0;
                if (run.Winner is { } winner)
                {
                    var winnerVotes = last!.Counts.First(c => c.Option == winner).Count;
                    return new MethodCount(counts, [winner], winnerVotes, lastTotal, voting.Length, abstentions, 0, run.Rounds);
                }

                IReadOnlyList<string> tied = run.Tied ? last!.Counts.Select(c => c.Option).ToArray() : [];
                return new MethodCount(counts, tied, lastTotal / 2, lastTotal, voting.Length, abstentions, 0, run.Rounds);
            }

            case DecisionMethod.Score:
            {
                var totals = options.ToDictionary(o => o, _ => 0L, StringComparer.Ordinal);
                foreach (var ballot in voting)
                {
                    foreach (var option in options)
                        totals[option] += ballot.Scores.FirstOrDefault(s => s.Option == option)?.Score ?? rules.ScoreMin;
                }

                var counts = options.Select(o => new OptionCount(o, totals[o])).ToArray();
                if (voting.Length == 0)
                    return new MethodCount(counts, [], 0, 0, 0, abstentions, 0, []);
                var best = totals.Values.Max();
                var leaders = options.Where(o => totals[o] == best).ToArray();
                // The threshold does not apply to scores (see Decide); LeaderTotal only marks that votes were cast.
                return new MethodCount(counts, leaders, 1, 1, voting.Length, abstentions, 0, []);
            }

            default:
                throw new ArgumentOutOfRangeException(nameof(rules), rules.Method, "unknown decision method");
        }
    }

    private static MethodCount Plurality(IReadOnlyList<string> options, Dictionary<string, long> tally, long total, int cast, int abstentions)
    {
        var counts = options.Select(o => new OptionCount(o, tally[o])).ToArray();
        var best = counts.Length == 0 ? 0 : counts.Max(c => c.Count);
        var leaders = best == 0 ? [] : counts.Where(c => c.Count == best).Select(c => c.Option).ToArray();
        return new MethodCount(counts, leaders, best, total, cast, abstentions, 0, []);
    }

    private static TallyResult CountCoopByCoop(
        MotionRules rules,
        IReadOnlyDictionary<string, int> eligibleByCoop,
        IReadOnlyList<string> coops,
        IReadOnlyList<Ballot> ballots,
        int eligible,
        string digest)
    {
        var coopRules = rules with { Quorum = rules.CoopQuorum, CoopQuorum = null, Mode = CountingMode.Pooled };
        var results = new List<CoopResult>();
        var voices = new List<Ballot>();
        foreach (var coop in coops)
        {
            var members = ballots.Where(b => b.Coop == coop).ToArray();
            var coopEligible = eligibleByCoop.GetValueOrDefault(coop);
            var count = CountPooled(coopRules, members);
            var quorumMet = coopRules.Quorum?.IsMet(members.Length, coopEligible) ?? true;
            var (state, winner) = Decide(coopRules, count, quorumMet);
            var voice = Voice(rules.Method, state, winner);
            results.Add(new CoopResult(coop, coopEligible, members.Length, quorumMet, state, winner, voice, count.Counts, count.Rounds));
            if (voice is not null)
            {
                var isAbstain = voice == ConsentPositions.Abstain;
                var consent = rules.Method == DecisionMethod.Consent;
                voices.Add(new Ballot
                {
                    Coop = coop,
                    Choices = isAbstain && !consent ? [] : [voice],
                    Abstain = isAbstain,
                });
            }
        }

        // The voices are counted as consent (consent motions) or as majority over the options (the others).
        var overallRules = rules.Method == DecisionMethod.Consent
            ? coopRules
            : coopRules with { Method = DecisionMethod.Majority, Threshold = rules.Method == DecisionMethod.Score ? Threshold.Plurality : rules.Threshold };
        var overall = CountPooled(overallRules, voices);
        var coopsWithMembers = eligibleByCoop.Count(kv => kv.Value > 0);
        var overallQuorum = rules.Quorum?.IsMet(voices.Count, coopsWithMembers) ?? true;
        var (overallState, overallWinner) = Decide(overallRules, overall, overallQuorum);
        return new TallyResult
        {
            MotionId = rules.MotionId,
            Method = rules.Method,
            Mode = rules.Mode,
            Threshold = rules.Threshold,
            State = overallState,
            Winner = overallWinner,
            Eligible = eligible,
            Participants = ballots.Count,
            Abstentions = overall.Abstentions,
            Cast = overall.Cast,
            Blocks = overall.Blocks,
            QuorumMet = overallQuorum,
            QuorumRequired = rules.Quorum?.Required(coopsWithMembers) ?? 0,
            CoopVoices = voices.Count,
            Counts = overall.Counts,
            Coops = results,
            Ballots = ballots,
            Digest = digest,
        };
    }

    private static string? Voice(DecisionMethod method, OutcomeState state, string? winner) => state switch
    {
        OutcomeState.NoQuorum => null,
        OutcomeState.Passed when method == DecisionMethod.Consent => ConsentPositions.Agree,
        OutcomeState.Passed => winner,
        OutcomeState.Rejected when method == DecisionMethod.Consent => ConsentPositions.Disagree,
        OutcomeState.Blocked => ConsentPositions.Block,
        _ => ConsentPositions.Abstain,
    };

    // ---- Admission ----

    private static (IReadOnlyList<Ballot> Ballots, IReadOnlyList<Rejection> Rejections) Admit(MotionRules rules, Electorate electorate, IEnumerable<Stance> stances)
    {
        var rejections = new List<Rejection>();
        var candidates = new List<(Stance Stance, Ballot Ballot)>();
        var known = new HashSet<string>(rules.EffectiveOptions, StringComparer.Ordinal);

        foreach (var copies in stances.GroupBy(s => s.Id, StringComparer.Ordinal))
        {
            var list = copies.ToList();
            if (list.Count > 1 && list.Select(Fingerprint).Distinct(StringComparer.Ordinal).Count() > 1)
            {
                foreach (var copy in list)
                    rejections.Add(new Rejection(copy.Id, copy.Voter, RejectionReason.ConflictingDuplicate, "different stances share this id; none is counted"));
                continue;
            }

            for (var i = 1; i < list.Count; i++)
                rejections.Add(new Rejection(list[i].Id, list[i].Voter, RejectionReason.Duplicate, "this stance arrived more than once; it is counted once"));

            var stance = list[0];
            var coop = electorate.CoopOf(stance.Voter);
            var problem = Check(rules, known, stance, coop, out var ballot);
            if (problem is { } rejection)
                rejections.Add(rejection);
            else
                candidates.Add((stance, ballot!));
        }

        var counted = new List<(Stance Stance, Ballot Ballot)>();
        foreach (var byVoter in candidates.GroupBy(c => c.Stance.Voter, StringComparer.Ordinal))
        {
            var latestFirst = byVoter
                .OrderByDescending(c => c.Stance.Published)
                .ThenByDescending(c => c.Stance.Id, StringComparer.Ordinal)
                .ToList();
            counted.Add(latestFirst[0]);
            foreach (var older in latestFirst.Skip(1))
                rejections.Add(new Rejection(older.Stance.Id, older.Stance.Voter, RejectionReason.Superseded, $"a later stance ({latestFirst[0].Stance.Id}) counts instead"));
        }

        if (rules.SecretBallot)
        {
            var unique = new List<(Stance Stance, Ballot Ballot)>();
            foreach (var byReceipt in counted.GroupBy(c => c.Ballot.Receipt, StringComparer.Ordinal))
            {
                var earliestFirst = byReceipt.OrderBy(c => c.Stance.Published).ThenBy(c => c.Stance.Id, StringComparer.Ordinal).ToList();
                unique.Add(earliestFirst[0]);
                foreach (var copy in earliestFirst.Skip(1))
                    rejections.Add(new Rejection(copy.Stance.Id, copy.Stance.Voter, RejectionReason.DuplicateReceipt, "an earlier ballot already uses this receipt"));
            }

            counted = unique;
        }

        var ordered = rejections
            .OrderBy(r => r.StanceId, StringComparer.Ordinal)
            .ThenBy(r => r.Reason)
            .ThenBy(r => r.Voter, StringComparer.Ordinal)
            .ToArray();
        return (counted.Select(c => c.Ballot).ToArray(), ordered);
    }

    private static Rejection? Check(MotionRules rules, HashSet<string> known, Stance stance, string? coop, out Ballot? ballot)
    {
        ballot = null;
        if (!string.Equals(stance.InReplyTo, rules.MotionId, StringComparison.Ordinal))
            return Reject(stance, RejectionReason.WrongMotion, $"it answers {stance.InReplyTo}, not this motion");
        if (stance.Published >= rules.ClosesAt)
            return Reject(stance, RejectionReason.AfterClose, $"cast at {Format(stance.Published)}, voting closed at {Format(rules.ClosesAt)}");
        if (coop is null)
            return Reject(stance, RejectionReason.Ineligible, "the voter is not eligible for this motion");
        if (rules.SecretBallot && !TallyDigest.IsWellFormedReceipt(stance.Receipt))
            return Reject(stance, RejectionReason.MissingReceipt, "a secret ballot needs a receipt of 64 lowercase hex characters");

        var choices = stance.Choices;
        var scores = stance.Scores;
        IReadOnlyList<string> normalised;
        IReadOnlyList<OptionScore> normalisedScores = [];
        var abstain = false;

        if (stance.Abstain)
        {
            if (choices.Count > 0 || scores.Count > 0)
                return Reject(stance, RejectionReason.MalformedChoice, "an abstention carries no choices or scores");
            normalised = rules.Method == DecisionMethod.Consent ? [ConsentPositions.Abstain] : [];
            abstain = true;
        }
        else if (rules.Method == DecisionMethod.Score)
        {
            if (choices.Count > 0)
                return Reject(stance, RejectionReason.MalformedChoice, "a score ballot gives scores, not choices");
            if (scores.Count == 0)
                return Reject(stance, RejectionReason.MalformedChoice, "a score ballot needs at least one score");
            var seen = new HashSet<string>(StringComparer.Ordinal);
            foreach (var score in scores)
            {
                if (!known.Contains(score.Option))
                    return Reject(stance, RejectionReason.MalformedChoice, $"'{score.Option}' is not an option");
                if (!seen.Add(score.Option))
                    return Reject(stance, RejectionReason.MalformedChoice, $"'{score.Option}' is scored twice");
                if (score.Score < rules.ScoreMin || score.Score > rules.ScoreMax)
                    return Reject(stance, RejectionReason.MalformedChoice, $"score {score.Score} for '{score.Option}' is outside {rules.ScoreMin}..{rules.ScoreMax}");
            }

            normalisedScores = scores.ToArray();
            normalised = [];
        }
        else
        {
            if (scores.Count > 0)
                return Reject(stance, RejectionReason.MalformedChoice, "only score ballots carry scores");
            if (choices.Count == 0)
                return Reject(stance, RejectionReason.MalformedChoice, "no choice was made");
            foreach (var choice in choices)
            {
                if (!known.Contains(choice))
                    return Reject(stance, RejectionReason.MalformedChoice, $"'{choice}' is not an option");
            }

            if (choices.Distinct(StringComparer.Ordinal).Count() != choices.Count)
                return Reject(stance, RejectionReason.MalformedChoice, "an option is chosen more than once");
            if (rules.Method is DecisionMethod.Consent or DecisionMethod.Majority && choices.Count != 1)
                return Reject(stance, RejectionReason.MalformedChoice, "exactly one choice is allowed");
            if (rules.Method == DecisionMethod.Consent && choices[0] == ConsentPositions.Block && string.IsNullOrWhiteSpace(stance.Reason))
                return Reject(stance, RejectionReason.BlockWithoutReason, "a block needs a reason");

            normalised = choices.ToArray();
            abstain = rules.Method == DecisionMethod.Consent && normalised[0] == ConsentPositions.Abstain;
        }

        ballot = new Ballot
        {
            StanceId = rules.SecretBallot ? null : stance.Id,
            Voter = rules.SecretBallot ? null : stance.Voter,
            Receipt = rules.SecretBallot ? stance.Receipt : null,
            Coop = coop,
            Choices = normalised,
            Scores = normalisedScores,
            Abstain = abstain,
            BlockResolved = rules.Method == DecisionMethod.Consent
                && normalised is [ConsentPositions.Block]
                && rules.ResolvedBlocks.Contains(stance.Id),
            ProofValue = rules.SecretBallot ? null : stance.ProofValue,
        };
        return null;
    }

    private static Rejection Reject(Stance stance, RejectionReason reason, string detail) => new(stance.Id, stance.Voter, reason, detail);

    private static string Format(DateTimeOffset value) =>
        value.UtcDateTime.ToString("yyyy-MM-dd'T'HH:mm:ss.FFFFFFF'Z'", CultureInfo.InvariantCulture);

    /// <summary>The whole content of a stance, canonically, to tell identical copies from conflicting ones.</summary>
    private static string Fingerprint(Stance stance)
    {
        var scores = new JsonArray();
        foreach (var score in stance.Scores)
            scores.Add(new JsonArray(score.Option, score.Score));
        var choices = new JsonArray();
        foreach (var choice in stance.Choices)
            choices.Add(choice);
        var json = new JsonObject
        {
            ["id"] = stance.Id,
            ["voter"] = stance.Voter,
            ["inReplyTo"] = stance.InReplyTo,
            ["published"] = Format(stance.Published),
            ["choices"] = choices,
            ["scores"] = scores,
            ["abstain"] = stance.Abstain,
            ["reason"] = stance.Reason,
            ["proofValue"] = stance.ProofValue,
            ["receipt"] = stance.Receipt,
        };
        return Convert.ToBase64String(JsonCanonicalizer.Canonicalize(json));
    }
}
