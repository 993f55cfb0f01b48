using Fellows.Federation.Deliberation;

namespace Fellows.Federation.Tests.Deliberation;

/// <summary>The documents pinned in Fixtures/fellows: a consent motion on co-op A addressed to co-ops A and B.</summary>
internal static class Samples
{
    public const string ContextUrl = "https://a.example/ns/fellows";
    public const string Author = "https://a.example/users/alice";
    public const string Workgroup = "https://a.example/groups/kitchen";
    public const string MotionId = "https://a.example/motions/42";
    public const string Bob = "https://b.example/users/bob";
    public const string Carol = "https://a.example/users/carol";

    public static readonly DateTimeOffset Published = new(2026, 3, 1, 9, 0, 0, TimeSpan.Zero);
    public static readonly DateTimeOffset Closes = new(2026, 3, 8, 9, 0, 0, TimeSpan.Zero);

    public static MotionRules ConsentRules => new()
    {
        MotionId = MotionId,
        Method = DecisionMethod.Consent,
        Threshold = Threshold.SimpleMajority,
        Quorum = Quorum.Fraction(1, 2),
        ClosesAt = Closes,
    };

    public static Electorate Electorate => Fellows.Federation.Deliberation.Electorate.FromMembers(
    [
        (Author, "https://a.example/coop"),
        (Carol, "https://a.example/coop"),
        (Bob, "https://b.example/coop"),
    ]);

    public static Stance[] Stances =>
    [
        new() { Id = Author + "/stances/1", Voter = Author, InReplyTo = MotionId, Published = Published.AddHours(1), Choices = ["agree"], ProofValue = "z3Fb1" },
        new() { Id = Bob + "/stances/7", Voter = Bob, InReplyTo = MotionId, Published = Published.AddHours(2), Choices = ["disagree"], Reason = "<p>Too soon.</p>", ProofValue = "z9Qk2" },
        new() { Id = Carol + "/stances/3", Voter = Carol, InReplyTo = MotionId, Published = Published.AddHours(3), Choices = ["agree"], ProofValue = "z7Hn4" },
        new() { Id = Bob + "/stances/8", Voter = Bob, InReplyTo = MotionId, Published = Closes.AddMinutes(5), Choices = ["agree"], ProofValue = "z1Lt8" },
    ];

    public static TallyResult Tally => Fellows.Federation.Deliberation.Tally.Count(ConsentRules, Electorate, Stances);

    public static LocalMotion Motion(bool closed) => new()
    {
        Rules = ConsentRules,
        AttributedTo = Author,
        Name = "Buy a second oven",
        ContentHtml = "<p><strong>Buy a second oven</strong></p><p>The kitchen needs one before winter.</p>",
        SourceMarkdown = "**Buy a second oven**\n\nThe kitchen needs one before winter.",
        Published = Published,
        Updated = closed ? Closes : null,
        Url = "https://a.example/@alice/motions/42",
        To = [Workgroup, "https://b.example/coop"],
        Cc = [Workgroup + "/followers"],
        Audience = Workgroup,
        Electorate = ["https://a.example/coop", "https://b.example/coop"],
        EligibleCount = 3,
        Phase = closed ? MotionPhase.Closed : MotionPhase.Voting,
        DiscussionEndTime = Published.AddDays(3),
        ClosedAt = closed ? Closes : null,
        Tally = closed ? Tally : null,
        TallyId = closed ? MotionId + "/tally" : null,
        BallotsUrl = closed ? MotionId + "/ballots" : null,
        Context = MotionId + "/thread",
        Replies = MotionId + "/replies",
    };

    public static LocalStance BobsStance => new()
    {
        Id = Bob + "/stances/7",
        AttributedTo = Bob,
        InReplyTo = MotionId,
        Published = Published.AddHours(2),
        To = [Author],
        Cc = [Workgroup],
        Choices = ["disagree"],
        ReasonHtml = "<p>Too soon.</p>",
        Coop = "https://b.example/coop",
    };

    public static LocalOutcome Outcome => new()
    {
        Id = MotionId + "/outcome",
        AttributedTo = Author,
        InReplyTo = MotionId,
        Published = Closes.AddHours(1),
        To = [Workgroup],
        Cc = [Workgroup + "/followers"],
        StatementHtml = "<p>Agreed: we buy the oven in October.</p>",
        State = OutcomeState.Passed,
        ReviewDate = new DateTimeOffset(2026, 9, 1, 0, 0, 0, TimeSpan.Zero),
        Tally = MotionId + "/tally",
        Audience = Workgroup,
        Context = MotionId + "/thread",
    };

    public static LocalAmendment Amendment => new()
    {
        Id = Carol + "/amendments/5",
        AttributedTo = Carol,
        Amends = MotionId,
        Published = Published.AddDays(1),
        To = [Author, Workgroup],
        ContentHtml = "<p>Say which oven.</p>",
        ProposedText = "**Buy a second oven** (the convection one)",
        State = AmendmentState.Accepted,
        Audience = Workgroup,
        Context = MotionId + "/thread",
    };

    /// <summary>Bob, a member of co-op B, blocks Carol's amendment put to consent.</summary>
    public static LocalAmendmentPosition AmendmentPosition => new()
    {
        Id = Bob + "/amendment-positions/5/1",
        AttributedTo = Bob,
        Amendment = Carol + "/amendments/5",
        Position = ConsentPositions.Block,
        ContentHtml = "<p>Not before the chimney is swept.</p>",
        Published = Published.AddDays(2),
        To = [Author],
    };

    public static LocalCommitment Commitment => new()
    {
        Id = Carol + "/commitments/2",
        AttributedTo = Carol,
        Name = "Get three quotes for the oven",
        ContentHtml = "<p>From local suppliers.</p>",
        ClauseOf = MotionId + "/outcome",
        Receiver = Workgroup,
        Due = new DateTimeOffset(2026, 4, 1, 17, 0, 0, TimeSpan.Zero),
        Finished = false,
        Published = Closes.AddHours(2),
        To = [Workgroup],
        Audience = Workgroup,
    };
}
