namespace Fellows.Federation.Deliberation;

/// <summary>A score given to one option.</summary>
public sealed record OptionScore(string Option, int Score);

/// <summary>
/// A stance as received: one voter's position on one motion, after its signature and integrity proof were
/// checked. Counting decides whether it is counted (see <see cref="Tally.Count"/>).
/// </summary>
public sealed record Stance
{
    /// <summary>The stance object's id.</summary>
    public required string Id { get; init; }

    /// <summary>The voter's actor id (the stance's <c>attributedTo</c>).</summary>
    public required string Voter { get; init; }

    /// <summary>The motion it answers (<c>inReplyTo</c>).</summary>
    public required string InReplyTo { get; init; }

    /// <summary>
    /// When it was cast: its <c>published</c>, which the motion's home instance accepted only within a few
    /// minutes of its own clock on receipt. Late is at or after <see cref="MotionRules.ClosesAt"/>.
    /// </summary>
    public required DateTimeOffset Published { get; init; }

    /// <summary>
    /// Consent: one position. Majority: one option. Approval: the approved options. Ranked: options in order of
    /// preference, most preferred first. Score: empty.
    /// </summary>
    public IReadOnlyList<string> Choices { get; init; } = [];

    /// <summary>Score only: the scores given.</summary>
    public IReadOnlyList<OptionScore> Scores { get; init; } = [];

    /// <summary>An explicit abstention (no choices). For consent, the <c>abstain</c> position means the same.</summary>
    public bool Abstain { get; init; }

    /// <summary>The reason given, as plain text or HTML; a block needs one that is not blank.</summary>
    public string? Reason { get; init; }

    /// <summary>The <c>proofValue</c> of the stance's integrity proof, bound into the public digest.</summary>
    public string? ProofValue { get; init; }

    /// <summary>Secret ballots: the voter's receipt (see <see cref="TallyDigest.Receipt"/>).</summary>
    public string? Receipt { get; init; }
}

/// <summary>
/// A counted ballot: the normalised form of a counted stance, from which anyone can recount a tally and
/// recompute its digest. For public ballots it names the stance and voter; for secret ballots only the
/// receipt. <see cref="Coop"/> is the voter's co-op (for per-co-op quorum and co-op-by-co-op counting).
/// </summary>
public sealed record Ballot
{
    /// <summary>Public ballots: the stance id.</summary>
    public string? StanceId { get; init; }

    /// <summary>Public ballots: the voter.</summary>
    public string? Voter { get; init; }

    /// <summary>Secret ballots: the receipt.</summary>
    public string? Receipt { get; init; }

    public required string Coop { get; init; }

    /// <summary>
    /// As the stance gave them (<see cref="Stance.Choices"/>), so a secret-ballot receipt computed by the voter
    /// matches; consent abstentions as <c>["abstain"]</c> with <see cref="Abstain"/>.
    /// </summary>
    public IReadOnlyList<string> Choices { get; init; } = [];

    /// <summary>Score only, as the stance gave them; options left out score <see cref="MotionRules.ScoreMin"/>.</summary>
    public IReadOnlyList<OptionScore> Scores { get; init; } = [];

    /// <summary>An abstention (consent: together with the choice <c>abstain</c>).</summary>
    public bool Abstain { get; init; }

    /// <summary>Consent: a block that a facilitator recorded as resolved (it counts as disagree).</summary>
    public bool BlockResolved { get; init; }

    /// <summary>Public ballots: the stance's proof value.</summary>
    public string? ProofValue { get; init; }

    /// <summary>True when this ballot takes part without voting for or against.</summary>
    public bool IsAbstention => Abstain;
}

/// <summary>Why a stance was not counted.</summary>
public enum RejectionReason
{
    /// <summary>It answers another motion.</summary>
    WrongMotion,

    /// <summary>Cast at or after the close.</summary>
    AfterClose,

    /// <summary>The voter is not in the electorate.</summary>
    Ineligible,

    /// <summary>The choices do not fit the method (unknown option, repeated option, wrong count, score out of range, …).</summary>
    MalformedChoice,

    /// <summary>A consent block without a reason.</summary>
    BlockWithoutReason,

    /// <summary>A secret-ballot stance without a well-formed receipt.</summary>
    MissingReceipt,

    /// <summary>The same stance (same id and content) arrived more than once; one copy counts.</summary>
    Duplicate,

    /// <summary>Two different stances with the same id: none of them counts.</summary>
    ConflictingDuplicate,

    /// <summary>The voter took a later valid stance, which counts instead.</summary>
    Superseded,

    /// <summary>A secret ballot whose receipt an earlier counted ballot already uses.</summary>
    DuplicateReceipt,

    /// <summary>A Fellows stance whose integrity proof is missing or does not verify with the voter's key (forged).</summary>
    InvalidProof,

    /// <summary>The motion is not open for voting yet (still in discussion).</summary>
    NotOpen,
}

/// <summary>A stance that was not counted, and why.</summary>
/// <param name="StanceId">The stance's id.</param>
/// <param name="Voter">Who sent it.</param>
/// <param name="Reason">Machine-readable reason.</param>
/// <param name="Detail">A sentence for people.</param>
public sealed record Rejection(string StanceId, string Voter, RejectionReason Reason, string Detail)
{
    /// <summary>The reason as written in documents: kebab-case, e.g. <c>after-close</c>.</summary>
    public string Code => Codes.Of(Reason);

    /// <summary>The document spelling of each <see cref="RejectionReason"/>.</summary>
    public static class Codes
    {
        public static string Of(RejectionReason reason) => reason switch
        {
            RejectionReason.WrongMotion => "wrong-motion",
            RejectionReason.AfterClose => "after-close",
            RejectionReason.Ineligible => "ineligible",
            RejectionReason.MalformedChoice => "malformed-choice",
            RejectionReason.BlockWithoutReason => "block-without-reason",
            RejectionReason.MissingReceipt => "missing-receipt",
            RejectionReason.Duplicate => "duplicate",
            RejectionReason.ConflictingDuplicate => "conflicting-duplicate",
            RejectionReason.Superseded => "superseded",
            RejectionReason.DuplicateReceipt => "duplicate-receipt",
            RejectionReason.InvalidProof => "invalid-proof",
            RejectionReason.NotOpen => "not-open",
            _ => throw new ArgumentOutOfRangeException(nameof(reason)),
        };

        /// <summary>Reads a code back; null when unknown.</summary>
        public static RejectionReason? Parse(string? code)
        {
            foreach (var reason in Enum.GetValues<RejectionReason>())
            {
                if (Of(reason) == code)
                    return reason;
            }

            return null;
        }
    }
}
