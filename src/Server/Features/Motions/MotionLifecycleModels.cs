using Fellows.Federation.Deliberation;

namespace Fellows.Server.Features.Motions;

/// <summary>A proposed change to a motion's text, as stored on every instance that knows the motion.</summary>
public sealed record AmendmentRow
{
    public required long Id { get; init; }
    public required long MotionId { get; init; }
    public required string Uri { get; init; }
    public required long AuthorAccountId { get; init; }
    public required string Title { get; init; }
    public required string BodySource { get; init; }
    public required string ReasonHtml { get; init; }
    public required string State { get; init; }
    public int? TextVersion { get; init; }
    public DateTimeOffset? DecidedAt { get; init; }
    public required DateTimeOffset CreatedAt { get; init; }

    // Joined from accounts.
    public string AuthorUri { get; init; } = "";
    public string AuthorAcct { get; init; } = "";

    public AmendmentState AmendmentState => DeliberationVocabulary.Parse<AmendmentState>(State) ?? Fellows.Federation.Deliberation.AmendmentState.Proposed;
}

/// <summary>One version of a motion's text.</summary>
public sealed record MotionVersionRow
{
    public required long MotionId { get; init; }
    public required int Version { get; init; }
    public required string Title { get; init; }
    public required string BodySource { get; init; }
    public required string BodyHtml { get; init; }
    public long? AmendmentId { get; init; }
    public required DateTimeOffset CreatedAt { get; init; }
}

/// <summary>A member's position in an amendment's consent sub-decision.</summary>
public sealed record AmendmentPositionRow(long AmendmentId, long AccountId, string Position, string? Reason, DateTimeOffset CreatedAt, string Acct);

/// <summary>What a consent sub-decision on an amendment came to.</summary>
public sealed record AmendmentDecision(int Agree, int Abstain, int Disagree, int Block, bool Passed);

/// <summary>An amendment as the API shows it, with the consent sub-decision's running counts while it is open.</summary>
public sealed record AmendmentView(
    string Id, string Uri, string MotionId, string Author, string Title, string Body, string BodyHtml, string Reason, string State,
    int? TextVersion, string? DecidedAt, string CreatedAt, AmendmentDecision? Positions);

public sealed record MotionVersionView(int Version, string Title, string Body, string BodyHtml, string? AmendmentId, bool Current, string CreatedAt);

/// <summary>A member's record of commitments: what the profile shows instead of follower counts.</summary>
public sealed record CommitmentRecordView(int Kept, int Open, int Overdue, IReadOnlyList<object> Commitments);
