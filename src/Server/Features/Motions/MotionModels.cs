using Fellows.Federation.Deliberation;

namespace Fellows.Server.Features.Motions;

/// <summary>A motion as stored: local ones are ours to run; remote ones mirror an allied instance's Question.</summary>
public sealed record MotionRow
{
    public required long Id { get; init; }
    public required string Uri { get; init; }
    public required bool Local { get; init; }
    public long? StatusId { get; init; }
    public required long AuthorAccountId { get; init; }
    public required string Title { get; init; }
    public required string BodySource { get; init; }
    public required string BodyHtml { get; init; }
    public required string Method { get; init; }
    public required string[] Options { get; init; }
    public required string Threshold { get; init; }
    public string? Quorum { get; init; }
    public string? CoopQuorum { get; init; }
    public required string CountingMode { get; init; }
    public required int ScoreMin { get; init; }
    public required int ScoreMax { get; init; }
    public required bool SecretBallot { get; init; }
    public required bool ResultsBeforeClose { get; init; }
    public required string[] AlliedActors { get; init; }

    /// <summary>The allied actor on the same server as <paramref name="actorUri"/>: the co-op through which they take part, if any.</summary>
    public string? AllyOf(string actorUri) => AlliedActors.FirstOrDefault(a => Features.Federation.RemoteActors.SameOrigin(a, actorUri));
    public required string State { get; init; }
    public DateTimeOffset? DiscussionEndsAt { get; init; }
    public required DateTimeOffset VotingEndsAt { get; init; }
    public required TimeSpan RemindBefore { get; init; }
    public DateTimeOffset? OpenedAt { get; init; }
    public DateTimeOffset? VotingOpenedAt { get; init; }
    public DateTimeOffset? ClosedAt { get; init; }
    public DateTimeOffset? WithdrawnAt { get; init; }
    public string? Tally { get; init; }
    public string? TallyDigest { get; init; }
    public string? TallyState { get; init; }
    public bool? TallyVerified { get; init; }
    public string? OutcomeStatement { get; init; }
    public string? OutcomeHtml { get; init; }
    public long? OutcomeAccountId { get; init; }
    public DateTimeOffset? OutcomeAt { get; init; }
    public DateTimeOffset? ReviewAt { get; init; }
    public required DateTimeOffset CreatedAt { get; init; }
    public required DateTimeOffset UpdatedAt { get; init; }

    /// <summary>Which version of the text is current: 1 as drafted, one more for each accepted amendment.</summary>
    public int TextVersion { get; init; } = 1;

    /// <summary>The fellows:Outcome's id once written (ours for local motions, the home instance's for mirrors).</summary>
    public string? OutcomeUri { get; init; }

    public DateTimeOffset? ReviewedAt { get; init; }

    /// <summary>The id of the outcome object of a local motion.</summary>
    public static string OutcomeUriOf(string motionUri) => motionUri + "#outcome";

    public MotionPhase Phase => DeliberationVocabulary.Parse<MotionPhase>(State) ?? MotionPhase.Draft;
    public DecisionMethod DecisionMethod => DeliberationVocabulary.Parse<DecisionMethod>(Method) ?? DecisionMethod.Consent;

    /// <summary>The counting rules every instance applies to this motion.</summary>
    public MotionRules Rules(IReadOnlySet<string>? resolvedBlocks = null) => new()
    {
        MotionId = Uri,
        Method = DecisionMethod,
        Options = DecisionMethod == DecisionMethod.Consent ? [] : Options,
        Threshold = DeliberationVocabulary.Parse<Threshold>(Threshold) ?? Fellows.Federation.Deliberation.Threshold.SimpleMajority,
        Quorum = Fellows.Federation.Deliberation.Quorum.Parse(Quorum),
        CoopQuorum = Fellows.Federation.Deliberation.Quorum.Parse(CoopQuorum),
        Mode = DeliberationVocabulary.Parse<CountingMode>(CountingMode) ?? Fellows.Federation.Deliberation.CountingMode.Pooled,
        ClosesAt = VotingEndsAt,
        SecretBallot = SecretBallot,
        ScoreMin = ScoreMin,
        ScoreMax = ScoreMax,
        ResolvedBlocks = resolvedBlocks ?? new HashSet<string>(StringComparer.Ordinal),
    };
}

/// <summary>One stance as stored; <see cref="Current"/> marks the one that counts, earlier ones are history.</summary>
public sealed record StanceRow
{
    public required long Id { get; init; }
    public required long MotionId { get; init; }
    public required long VoterAccountId { get; init; }
    public required string Uri { get; init; }
    public required string Coop { get; init; }
    public required string[] Choices { get; init; }
    public required string Scores { get; init; }
    public required bool Abstain { get; init; }
    public string? Reason { get; init; }
    public string? Receipt { get; init; }
    public string? ProofValue { get; init; }
    public required bool PollVote { get; init; }
    public required DateTimeOffset Published { get; init; }
    public required DateTimeOffset ReceivedAt { get; init; }
    public required bool Current { get; init; }

    /// <summary>The version of the motion's text the stance was taken on.</summary>
    public int TextVersion { get; init; } = 1;

    // Joined from accounts for presenting and counting.
    public string VoterUri { get; init; } = "";
    public string VoterAcct { get; init; } = "";

    public IReadOnlyList<OptionScore> ScoreList =>
        System.Text.Json.JsonSerializer.Deserialize<List<ScoreJson>>(Scores)?.Select(s => new OptionScore(s.Option, s.Score)).ToList() ?? [];

    public Stance ToStance(string motionUri) => new()
    {
        Id = Uri,
        Voter = VoterUri,
        InReplyTo = motionUri,
        Published = Published,
        Choices = Choices,
        Scores = ScoreList,
        Abstain = Abstain,
        Reason = Reason,
        ProofValue = ProofValue,
        Receipt = Receipt,
    };

    internal sealed record ScoreJson(
        [property: System.Text.Json.Serialization.JsonPropertyName("option")] string Option,
        [property: System.Text.Json.Serialization.JsonPropertyName("score")] int Score);

    internal static string ScoresJson(IReadOnlyList<OptionScore> scores) =>
        System.Text.Json.JsonSerializer.Serialize(scores.Select(s => new ScoreJson(s.Option, s.Score)));
}

public sealed record CommitmentRow
{
    public required long Id { get; init; }
    public required long MotionId { get; init; }
    public required long AccountId { get; init; }
    public required string Uri { get; init; }
    public required string What { get; init; }
    public string? ForWhom { get; init; }
    public DateTimeOffset? DueAt { get; init; }
    public DateTimeOffset? FulfilledAt { get; init; }
    public required DateTimeOffset CreatedAt { get; init; }
    public bool Local { get; init; } = true;
    public DateTimeOffset? UpdatedAt { get; init; }
    public string Acct { get; init; } = "";
    public string AccountUri { get; init; } = "";

    public bool IsOverdue(DateTimeOffset now) => FulfilledAt is null && DueAt is { } due && due <= now;
}

/// <summary>What a member asks for when drafting a motion.</summary>
public sealed record NewMotion
{
    public required string Title { get; init; }
    public string Body { get; init; } = "";
    public DecisionMethod Method { get; init; }
    public IReadOnlyList<string> Options { get; init; } = [];
    public Threshold Threshold { get; init; } = Threshold.SimpleMajority;
    public Quorum? Quorum { get; init; }
    public Quorum? CoopQuorum { get; init; }
    public CountingMode Mode { get; init; } = CountingMode.Pooled;
    public int ScoreMin { get; init; }
    public int ScoreMax { get; init; } = 5;
    public bool SecretBallot { get; init; }
    public bool ResultsBeforeClose { get; init; }
    public IReadOnlyList<string> AlliedActors { get; init; } = [];
    public DateTimeOffset? DiscussionEndsAt { get; init; }
    public required DateTimeOffset VotingEndsAt { get; init; }
    public TimeSpan RemindBefore { get; init; } = TimeSpan.FromDays(1);

    /// <summary>Uploads (media v2) to attach to the motion's post, in order: plans, quotes, minutes.</summary>
    public IReadOnlyList<long> MediaIds { get; init; } = [];
}

/// <summary>A stance a member takes through the API.</summary>
public sealed record StanceInput
{
    public IReadOnlyList<string> Choices { get; init; } = [];
    public IReadOnlyList<OptionScore> Scores { get; init; } = [];
    public bool Abstain { get; init; }
    public string? Reason { get; init; }

    /// <summary>Secret ballots: the voter's nonce (base64url); generated and returned once when absent.</summary>
    public byte[]? Nonce { get; init; }
}

/// <summary>A stance as the voter sees it after casting: with the nonce they keep for checking their receipt.</summary>
public sealed record CastStance(StanceRow Stance, string? Nonce);
