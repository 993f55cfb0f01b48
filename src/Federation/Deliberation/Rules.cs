namespace Fellows.Federation.Deliberation;

/// <summary>How the stances on a motion are counted. The rules of each are in <c>docs/fep/deliberation.md</c>.</summary>
public enum DecisionMethod
{
    /// <summary>Each voter agrees, abstains, disagrees or blocks; an unresolved block stops the motion; a block needs a reason.</summary>
    Consent,

    /// <summary>Each voter picks exactly one option; the option with most votes leads.</summary>
    Majority,

    /// <summary>Each voter approves one or more options; the option approved by most voters leads.</summary>
    Approval,

    /// <summary>Each voter ranks one or more options; instant run-off with the tie-breaks of <see cref="InstantRunoff"/>.</summary>
    RankedChoice,

    /// <summary>Each voter gives options a whole-number score in the motion's range; the option with the highest total leads.</summary>
    Score,
}

/// <summary>
/// What share of the votes cast the leading option (for consent: <c>agree</c>) needs. Votes cast are the
/// counted ballots that are not abstentions, so abstaining never helps nor hurts a motion, it only counts
/// towards quorum.
/// </summary>
public enum Threshold
{
    /// <summary>The leading option passes whatever its share (there must still be one clear leader).</summary>
    Plurality,

    /// <summary>More than half: <c>2 × votes &gt; cast</c>.</summary>
    SimpleMajority,

    /// <summary>At least two thirds: <c>3 × votes ≥ 2 × cast</c>.</summary>
    TwoThirds,

    /// <summary>Every vote cast: <c>votes = cast</c>.</summary>
    Unanimity,
}

/// <summary>The result of counting a motion.</summary>
public enum OutcomeState
{
    /// <summary>Quorum met, a unique leader meeting the threshold, no unresolved block.</summary>
    Passed,

    /// <summary>Quorum met but the leader misses the threshold, or nobody voted other than to abstain.</summary>
    Rejected,

    /// <summary>Consent only: at least one unresolved block (checked after quorum).</summary>
    Blocked,

    /// <summary>Too few eligible voters took a stance; checked first, so nothing else is decided.</summary>
    NoQuorum,

    /// <summary>Two or more options share the highest count (consent: as many disagree as agree).</summary>
    Tie,
}

/// <summary>Whether the motion is counted over all voters at once or one co-op at a time.</summary>
public enum CountingMode
{
    /// <summary>Every counted ballot goes into one count.</summary>
    Pooled,

    /// <summary>
    /// Each co-op's members are counted on their own; each co-op's result is then one voice in an overall
    /// count of the same method over co-ops (see <see cref="Tally"/>).
    /// </summary>
    CoopByCoop,
}

/// <summary>The four positions of a consent motion; also its option names.</summary>
public static class ConsentPositions
{
    public const string Agree = "agree";
    public const string Abstain = "abstain";
    public const string Disagree = "disagree";
    public const string Block = "block";

    /// <summary>The positions in the order they are shown and counted.</summary>
    public static IReadOnlyList<string> All { get; } = [Agree, Abstain, Disagree, Block];
}

/// <summary>
/// How many must take part. A count needs at least that many participants; a fraction needs
/// <c>participants × Denominator ≥ eligible × Numerator</c> (whole numbers, so every server agrees exactly).
/// </summary>
public sealed record Quorum
{
    private Quorum(int count, int numerator, int denominator)
    {
        Count = count;
        Numerator = numerator;
        Denominator = denominator;
    }

    /// <summary>The absolute count, or 0 for a fraction.</summary>
    public int Count { get; }

    /// <summary>The fraction's numerator, or 0 for a count.</summary>
    public int Numerator { get; }

    /// <summary>The fraction's denominator, or 0 for a count.</summary>
    public int Denominator { get; }

    /// <summary>True for a fraction of the eligible, false for an absolute count.</summary>
    public bool IsFraction => Denominator > 0;

    /// <summary>At least <paramref name="count"/> participants.</summary>
    public static Quorum AtLeast(int count)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(count);
        return new Quorum(count, 0, 0);
    }

    /// <summary>At least <paramref name="numerator"/>/<paramref name="denominator"/> of the eligible.</summary>
    public static Quorum Fraction(int numerator, int denominator)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(numerator);
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(denominator);
        ArgumentOutOfRangeException.ThrowIfGreaterThan(numerator, denominator);
        return new Quorum(0, numerator, denominator);
    }

    /// <summary>The smallest number of participants that meets this quorum out of <paramref name="eligible"/>.</summary>
    public int Required(int eligible) =>
        IsFraction ? (int)(((long)eligible * Numerator + Denominator - 1) / Denominator) : Count;

    /// <summary>True when <paramref name="participants"/> out of <paramref name="eligible"/> meet this quorum.</summary>
    public bool IsMet(int participants, int eligible) =>
        IsFraction ? (long)participants * Denominator >= (long)eligible * Numerator : participants >= Count;

    /// <summary>The written form used in documents: a whole number, or <c>n/d</c>.</summary>
    public override string ToString() =>
        IsFraction ? $"{Numerator}/{Denominator}" : Count.ToString(System.Globalization.CultureInfo.InvariantCulture);

    /// <summary>Reads the written form (<c>"12"</c> or <c>"1/2"</c>); null when malformed.</summary>
    public static Quorum? Parse(string? text)
    {
        if (string.IsNullOrWhiteSpace(text))
            return null;
        var slash = text.IndexOf('/', StringComparison.Ordinal);
        var style = System.Globalization.NumberStyles.None;
        var culture = System.Globalization.CultureInfo.InvariantCulture;
        if (slash < 0)
            return int.TryParse(text, style, culture, out var count) ? AtLeast(count) : null;
        return int.TryParse(text.AsSpan(0, slash), style, culture, out var n)
            && int.TryParse(text.AsSpan(slash + 1), style, culture, out var d)
            && d > 0 && n <= d
                ? Fraction(n, d)
                : null;
    }
}

/// <summary>
/// Everything that decides how a motion's stances are counted. Every instance that counts the same stances
/// under the same rules gets the same <see cref="TallyResult"/>, byte for byte.
/// </summary>
public sealed record MotionRules
{
    /// <summary>The motion's id; stances must be in reply to it. It also seeds the last-resort tie-break.</summary>
    public required string MotionId { get; init; }

    public required DecisionMethod Method { get; init; }

    /// <summary>
    /// The option names, in order. For <see cref="DecisionMethod.Consent"/> they are always
    /// <see cref="ConsentPositions.All"/> and this value is ignored.
    /// </summary>
    public IReadOnlyList<string> Options { get; init; } = [];

    public Threshold Threshold { get; init; } = Threshold.SimpleMajority;

    /// <summary>
    /// Pooled: the quorum over all eligible voters. Co-op by co-op: how many co-ops must have a counted
    /// result (a co-op without its own quorum gives no voice). Null: no quorum.
    /// </summary>
    public Quorum? Quorum { get; init; }

    /// <summary>
    /// The quorum within each co-op. Pooled: every co-op with eligible members must meet it too. Co-op by
    /// co-op: a co-op's internal result counts only when it meets it. Null: no per-co-op quorum.
    /// </summary>
    public Quorum? CoopQuorum { get; init; }

    public CountingMode Mode { get; init; } = CountingMode.Pooled;

    /// <summary>Voting closes at this instant; a stance cast at or after it is late.</summary>
    public required DateTimeOffset ClosesAt { get; init; }

    /// <summary>Secret ballots: stances carry receipts and the digest is over receipts, not voters.</summary>
    public bool SecretBallot { get; init; }

    /// <summary>Lowest score for <see cref="DecisionMethod.Score"/> (default 0).</summary>
    public int ScoreMin { get; init; }

    /// <summary>Highest score for <see cref="DecisionMethod.Score"/> (default 5).</summary>
    public int ScoreMax { get; init; } = 5;

    /// <summary>Consent: ids of block stances a facilitator recorded as resolved; they count as disagree.</summary>
    public IReadOnlySet<string> ResolvedBlocks { get; init; } = new HashSet<string>(StringComparer.Ordinal);

    /// <summary>The options actually in play: the consent positions or <see cref="Options"/>.</summary>
    public IReadOnlyList<string> EffectiveOptions => Method == DecisionMethod.Consent ? ConsentPositions.All : Options;

    /// <summary>Throws when the rules cannot be counted (no options, duplicate options, an empty range).</summary>
    public void Validate()
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(MotionId);
        if (Method != DecisionMethod.Consent)
        {
            if (Options.Count == 0)
                throw new ArgumentException("A motion needs at least one option.", nameof(Options));
            var seen = new HashSet<string>(StringComparer.Ordinal);
            foreach (var option in Options)
            {
                if (string.IsNullOrWhiteSpace(option))
                    throw new ArgumentException("Option names must not be blank.", nameof(Options));
                if (!seen.Add(option))
                    throw new ArgumentException($"Option '{option}' appears twice.", nameof(Options));
            }
        }

        if (Method == DecisionMethod.Score && ScoreMin >= ScoreMax)
            throw new ArgumentException("The score range needs ScoreMin < ScoreMax.", nameof(ScoreMin));
    }
}

/// <summary>Who may take a stance: each eligible voter (actor id) and the co-op (group actor id) that vouches for them.</summary>
public sealed class Electorate
{
    private readonly Dictionary<string, string> _coopOf;

    private Electorate(Dictionary<string, string> coopOf)
    {
        _coopOf = coopOf;
        Coops = coopOf.Values.Distinct(StringComparer.Ordinal).Order(StringComparer.Ordinal).ToArray();
        EligibleByCoop = coopOf.Values.GroupBy(c => c, StringComparer.Ordinal)
            .ToDictionary(g => g.Key, g => g.Count(), StringComparer.Ordinal);
    }

    /// <summary>Every voter of one co-op.</summary>
    public static Electorate Single(string coop, IEnumerable<string> voters) =>
        FromMembers(voters.Select(v => (v, coop)));

    /// <summary>Voters with their co-ops. A voter listed twice keeps the first co-op.</summary>
    public static Electorate FromMembers(IEnumerable<(string Voter, string Coop)> members)
    {
        var map = new Dictionary<string, string>(StringComparer.Ordinal);
        foreach (var (voter, coop) in members)
        {
            ArgumentException.ThrowIfNullOrWhiteSpace(voter);
            ArgumentException.ThrowIfNullOrWhiteSpace(coop);
            map.TryAdd(voter, coop);
        }

        return new Electorate(map);
    }

    /// <summary>How many may vote.</summary>
    public int Count => _coopOf.Count;

    /// <summary>The co-ops with eligible members, in ordinal order.</summary>
    public IReadOnlyList<string> Coops { get; }

    /// <summary>Eligible voters per co-op.</summary>
    public IReadOnlyDictionary<string, int> EligibleByCoop { get; }

    /// <summary>The co-op of <paramref name="voter"/>, or null when they are not eligible.</summary>
    public string? CoopOf(string voter) => _coopOf.GetValueOrDefault(voter);
}
