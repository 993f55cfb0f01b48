namespace Fellows.Federation.Deliberation;

/// <summary>
/// What an option received: votes (majority, consent positions, co-op voices), approvals, first preferences
/// (ranked choice) or the total score.
/// </summary>
public sealed record OptionCount(string Option, long Count);

/// <summary>How a tie for elimination in an instant run-off was broken.</summary>
public enum TieBreak
{
    /// <summary>No tie: one option had the fewest votes.</summary>
    None,

    /// <summary>By the counts of earlier rounds, latest first (backwards tie-break).</summary>
    EarlierRounds,

    /// <summary>By the seeded hash of <see cref="InstantRunoff.LotHash"/>, the last resort.</summary>
    SeededHash,
}

/// <summary>One round of an instant run-off.</summary>
/// <param name="Number">1 for the first-preference round.</param>
/// <param name="Counts">Votes per continuing option, in the motion's option order.</param>
/// <param name="Exhausted">Ballots whose ranked options have all been eliminated.</param>
/// <param name="Eliminated">The option eliminated after this round; null in the last round.</param>
/// <param name="TieBreak">How a tie for last place was broken.</param>
public sealed record RunoffRound(int Number, IReadOnlyList<OptionCount> Counts, int Exhausted, string? Eliminated, TieBreak TieBreak);

/// <summary>One co-op's part of a tally.</summary>
/// <param name="Coop">The co-op's group actor id.</param>
/// <param name="Eligible">Its eligible members.</param>
/// <param name="Participants">Its members with a counted ballot (abstentions included).</param>
/// <param name="QuorumMet">Whether it met <see cref="MotionRules.CoopQuorum"/>.</param>
/// <param name="State">Co-op by co-op: its internal outcome. Pooled: null.</param>
/// <param name="Winner">Co-op by co-op: its passed option. Pooled: null.</param>
/// <param name="Voice">
/// Co-op by co-op: what it contributes to the overall count (a consent position or an option, or
/// <c>abstain</c>); null when it gives no voice (no quorum) or in pooled counting.
/// </param>
/// <param name="Counts">Co-op by co-op: its internal counts. Pooled: empty.</param>
/// <param name="Rounds">Co-op by co-op, ranked choice: its run-off rounds.</param>
public sealed record CoopResult(
    string Coop,
    int Eligible,
    int Participants,
    bool QuorumMet,
    OutcomeState? State,
    string? Winner,
    string? Voice,
    IReadOnlyList<OptionCount> Counts,
    IReadOnlyList<RunoffRound> Rounds);

/// <summary>
/// A counted motion. Every field is a pure function of the rules, the eligible counts and the counted
/// ballots, so any instance recounting the published ballots gets the same result and digest.
/// </summary>
public sealed record TallyResult
{
    public required string MotionId { get; init; }
    public required DecisionMethod Method { get; init; }
    public required CountingMode Mode { get; init; }
    public required Threshold Threshold { get; init; }
    public required OutcomeState State { get; init; }

    /// <summary>The option that passed (not for consent, where <see cref="State"/> says it all).</summary>
    public string? Winner { get; init; }

    /// <summary>Eligible voters (all co-ops together).</summary>
    public required int Eligible { get; init; }

    /// <summary>Eligible voters with a counted ballot, abstentions included (Mastodon's <c>votersCount</c>).</summary>
    public required int Participants { get; init; }

    /// <summary>Counted ballots that abstain (consent <c>abstain</c> or an explicit abstention).</summary>
    public required int Abstentions { get; init; }

    /// <summary>
    /// Pooled: votes cast (ballots that are not abstentions). Co-op by co-op: co-op voices cast (not abstentions).
    /// Thresholds are shares of this.
    /// </summary>
    public required int Cast { get; init; }

    /// <summary>Consent: unresolved blocks (pooled: ballots; co-op by co-op: co-ops that blocked).</summary>
    public required int Blocks { get; init; }

    /// <summary>Whether every quorum of the rules was met.</summary>
    public required bool QuorumMet { get; init; }

    /// <summary>
    /// Pooled: the participants the overall quorum needs (0 without one). Co-op by co-op: the co-ops with a
    /// voice that it needs.
    /// </summary>
    public required int QuorumRequired { get; init; }

    /// <summary>Co-op by co-op: how many co-ops gave a voice. Pooled: 0.</summary>
    public int CoopVoices { get; init; }

    /// <summary>
    /// Per option, in the motion's order (consent: the four positions). Ranked choice: first preferences.
    /// Co-op by co-op: co-op voices.
    /// </summary>
    public required IReadOnlyList<OptionCount> Counts { get; init; }

    /// <summary>Ranked choice, pooled: the run-off rounds.</summary>
    public IReadOnlyList<RunoffRound> Rounds { get; init; } = [];

    /// <summary>Per co-op, in ordinal order of the co-op id.</summary>
    public IReadOnlyList<CoopResult> Coops { get; init; } = [];

    /// <summary>The counted ballots, in digest order (ascending leaf hash).</summary>
    public required IReadOnlyList<Ballot> Ballots { get; init; }

    /// <summary>Stances not counted, ordered by stance id, then reason.</summary>
    public IReadOnlyList<Rejection> Rejections { get; init; } = [];

    /// <summary>The Merkle root over <see cref="Ballots"/> (<see cref="TallyDigest"/>), lowercase hex.</summary>
    public required string Digest { get; init; }
}
