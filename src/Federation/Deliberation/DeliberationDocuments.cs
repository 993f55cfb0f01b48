using Fellows.Federation.Vocabulary;

namespace Fellows.Federation.Deliberation;

/// <summary>A motion we publish, as plain values, for <see cref="DeliberationWriter.Motion"/>.</summary>
public sealed record LocalMotion
{
    /// <summary>How it is counted; <see cref="MotionRules.MotionId"/> is the document's id.</summary>
    public required MotionRules Rules { get; init; }

    public required string AttributedTo { get; init; }

    /// <summary>The title.</summary>
    public required string Name { get; init; }

    /// <summary>
    /// The body, rendered and sanitised. Mastodon shows only <c>content</c> of a Question, not its
    /// <c>name</c>, so this should begin with the title.
    /// </summary>
    public required string ContentHtml { get; init; }

    /// <summary>The Markdown the body was written in, published as <c>source</c>.</summary>
    public string? SourceMarkdown { get; init; }

    public required DateTimeOffset Published { get; init; }
    public DateTimeOffset? Updated { get; init; }
    public string? Url { get; init; }
    public IReadOnlyList<string> To { get; init; } = [];
    public IReadOnlyList<string> Cc { get; init; } = [];

    /// <summary>FEP-1b12 <c>audience</c>: the group (workgroup or co-op) it belongs to.</summary>
    public string? Audience { get; init; }

    /// <summary>The co-ops (group actors) whose members may take a stance.</summary>
    public IReadOnlyList<string> Electorate { get; init; } = [];

    /// <summary>How many may take a stance, when known.</summary>
    public int? EligibleCount { get; init; }

    public MotionPhase Phase { get; init; } = MotionPhase.Voting;
    public DateTimeOffset? DiscussionEndTime { get; init; }

    /// <summary>Whether counts are shown while voting is open.</summary>
    public bool ResultsBeforeClose { get; init; }

    /// <summary>When voting actually closed (<c>closed</c>); null while open.</summary>
    public DateTimeOffset? ClosedAt { get; init; }

    /// <summary>
    /// The counts: the final tally once closed, or a running count. The writer shows a running count only when
    /// <see cref="ResultsBeforeClose"/> allows; null hides counts.
    /// </summary>
    public TallyResult? Tally { get; init; }

    /// <summary>The tally's id, when it is published at its own address.</summary>
    public string? TallyId { get; init; }

    /// <summary>The collection of counted ballots (their leaf objects), for recounting.</summary>
    public string? BallotsUrl { get; init; }

    /// <summary>The outcome, once written.</summary>
    public string? Outcome { get; init; }

    /// <summary>Files attached to the proposal (plans, quotes, minutes), written as a note's <c>attachment</c>.</summary>
    public IReadOnlyList<MediaAttachment> Attachments { get; init; } = [];

    /// <summary>Which version of the text this is: 1 as first written, one more for each accepted amendment.</summary>
    public int? TextVersion { get; init; }

    /// <summary>The discussion thread (<c>context</c>).</summary>
    public string? Context { get; init; }

    /// <summary>The replies collection.</summary>
    public string? Replies { get; init; }
}

/// <summary>A stance one of our members takes, for <see cref="DeliberationWriter.Stance"/>.</summary>
public sealed record LocalStance
{
    public required string Id { get; init; }
    public required string AttributedTo { get; init; }

    /// <summary>The motion.</summary>
    public required string InReplyTo { get; init; }

    public required DateTimeOffset Published { get; init; }

    /// <summary>Usually the motion's author (and for public stances the audience group).</summary>
    public IReadOnlyList<string> To { get; init; } = [];

    public IReadOnlyList<string> Cc { get; init; } = [];
    public IReadOnlyList<string> Choices { get; init; } = [];
    public IReadOnlyList<OptionScore> Scores { get; init; } = [];
    public bool Abstain { get; init; }

    /// <summary>The reason, rendered and sanitised HTML.</summary>
    public string? ReasonHtml { get; init; }

    /// <summary>The member's co-op, which vouches for their eligibility.</summary>
    public string? Coop { get; init; }

    /// <summary>Secret ballots: the receipt.</summary>
    public string? Receipt { get; init; }
}

/// <summary>The outcome of a motion, for <see cref="DeliberationWriter.Outcome"/>.</summary>
public sealed record LocalOutcome
{
    public required string Id { get; init; }

    /// <summary>The facilitator who wrote the statement.</summary>
    public required string AttributedTo { get; init; }

    /// <summary>The motion.</summary>
    public required string InReplyTo { get; init; }

    public required DateTimeOffset Published { get; init; }
    public IReadOnlyList<string> To { get; init; } = [];
    public IReadOnlyList<string> Cc { get; init; } = [];

    /// <summary>The outcome statement, rendered and sanitised HTML.</summary>
    public required string StatementHtml { get; init; }

    public required OutcomeState State { get; init; }

    /// <summary>After this the group is asked whether the outcome still stands.</summary>
    public DateTimeOffset? ReviewDate { get; init; }

    /// <summary>The tally's id or the motion's, where the counts are.</summary>
    public string? Tally { get; init; }

    /// <summary>The digest of the counted stances (<see cref="TallyResult.Digest"/>), so the outcome names the count it reports.</summary>
    public string? Digest { get; init; }

    public string? Audience { get; init; }
    public string? Context { get; init; }
}

/// <summary>
/// A member's position on an amendment put to consent, for <see cref="DeliberationWriter.AmendmentPosition"/>: sent
/// from the member's own server to the motion's home instance, which counts it.
/// </summary>
public sealed record LocalAmendmentPosition
{
    public required string Id { get; init; }
    public required string AttributedTo { get; init; }

    /// <summary>The amendment it answers (<c>inReplyTo</c>).</summary>
    public required string Amendment { get; init; }

    /// <summary>One of <see cref="ConsentPositions.All"/>.</summary>
    public required string Position { get; init; }

    /// <summary>The reason, rendered and sanitised HTML, if one was given (a block needs one).</summary>
    public string? ContentHtml { get; init; }

    public required DateTimeOffset Published { get; init; }
    public IReadOnlyList<string> To { get; init; } = [];
}

/// <summary>A proposed change to a motion's text, for <see cref="DeliberationWriter.Amendment"/>.</summary>
public sealed record LocalAmendment
{
    public required string Id { get; init; }
    public required string AttributedTo { get; init; }

    /// <summary>The motion it amends (also <c>inReplyTo</c>, so it reads as part of the discussion).</summary>
    public required string Amends { get; init; }

    public required DateTimeOffset Published { get; init; }
    public DateTimeOffset? Updated { get; init; }
    public IReadOnlyList<string> To { get; init; } = [];
    public IReadOnlyList<string> Cc { get; init; } = [];

    /// <summary>Why, rendered and sanitised HTML.</summary>
    public required string ContentHtml { get; init; }

    /// <summary>The proposed text, in Markdown.</summary>
    public required string ProposedText { get; init; }

    /// <summary>The proposed title, when it changes too.</summary>
    public string? ProposedName { get; init; }

    /// <summary>Accepted: the version of the motion's text it made.</summary>
    public int? TextVersion { get; init; }

    public AmendmentState State { get; init; } = AmendmentState.Proposed;
    public string? Audience { get; init; }
    public string? Context { get; init; }
}

/// <summary>A commitment a member makes from an outcome, for <see cref="DeliberationWriter.Commitment"/>.</summary>
public sealed record LocalCommitment
{
    public required string Id { get; init; }

    /// <summary>Who commits (also <c>vf:provider</c>).</summary>
    public required string AttributedTo { get; init; }

    /// <summary>What, in a line.</summary>
    public required string Name { get; init; }

    /// <summary>Details, rendered and sanitised HTML.</summary>
    public string? ContentHtml { get; init; }

    /// <summary>The outcome it carries out (<c>vf:clauseOf</c>, and <c>inReplyTo</c> so it threads).</summary>
    public required string ClauseOf { get; init; }

    /// <summary>For whom (<c>vf:receiver</c>): a member, a group, or a co-op.</summary>
    public string? Receiver { get; init; }

    /// <summary>An intent it satisfies (<c>vf:satisfies</c>), when there is one.</summary>
    public string? Satisfies { get; init; }

    public DateTimeOffset? Due { get; init; }
    public bool Finished { get; init; }
    public required DateTimeOffset Published { get; init; }
    public DateTimeOffset? Updated { get; init; }
    public IReadOnlyList<string> To { get; init; } = [];
    public IReadOnlyList<string> Cc { get; init; } = [];
    public string? Audience { get; init; }
}
