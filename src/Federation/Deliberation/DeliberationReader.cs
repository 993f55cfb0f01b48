using System.Diagnostics.CodeAnalysis;
using System.Text.Json;
using Fellows.Federation.Json;

namespace Fellows.Federation.Deliberation;

/// <summary>A motion as another instance published it, or a plain poll (<c>Question</c>) read as one.</summary>
public sealed record RemoteMotion
{
    public required string Id { get; init; }
    public string? AttributedTo { get; init; }

    /// <summary>True when typed <c>fellows:Motion</c> (in any spelling); false for a plain poll.</summary>
    public bool IsFellowsMotion { get; init; }

    public string? Name { get; init; }

    /// <summary>Untrusted HTML as sent.</summary>
    public string? Content { get; init; }

    public string? SourceMarkdown { get; init; }
    public DateTimeOffset? Published { get; init; }
    public IReadOnlyList<string> Options { get; init; } = [];

    /// <summary>True for <c>anyOf</c>.</summary>
    public bool Multiple { get; init; }

    /// <summary>The shown count per option, when shared (same order as <see cref="Options"/>).</summary>
    public IReadOnlyList<long?> OptionCounts { get; init; } = [];

    public DateTimeOffset? EndTime { get; init; }
    public bool Closed { get; init; }
    public DateTimeOffset? ClosedAt { get; init; }
    public long? VotersCount { get; init; }

    /// <summary>The method; for a plain poll, majority (<c>oneOf</c>) or approval (<c>anyOf</c>).</summary>
    public DecisionMethod Method { get; init; }

    public Threshold Threshold { get; init; } = Threshold.SimpleMajority;
    public Quorum? Quorum { get; init; }
    public Quorum? CoopQuorum { get; init; }
    public CountingMode Mode { get; init; }
    public MotionPhase? Phase { get; init; }
    public DateTimeOffset? DiscussionEndTime { get; init; }
    public bool SecretBallot { get; init; }
    public bool ResultsBeforeClose { get; init; }
    public int ScoreMin { get; init; }
    public int ScoreMax { get; init; } = 5;
    public IReadOnlyList<string> Electorate { get; init; } = [];
    public long? EligibleCount { get; init; }
    public string? Audience { get; init; }
    public string? Outcome { get; init; }

    /// <summary>The version of the text (<c>textVersion</c>); null when not given.</summary>
    public int? TextVersion { get; init; }

    /// <summary>The embedded tally, once closed.</summary>
    public RemoteTally? Tally { get; init; }

    /// <summary>
    /// The counting rules, to count stances or check a published tally. Null without an <c>endTime</c>
    /// (or <c>closed</c> time): a motion nobody can close cannot be counted.
    /// </summary>
    public MotionRules? ToRules()
    {
        var closes = EndTime ?? ClosedAt;
        if (closes is null)
            return null;
        return new MotionRules
        {
            MotionId = Id,
            Method = Method,
            Options = Options,
            Threshold = Threshold,
            Quorum = Quorum,
            CoopQuorum = CoopQuorum,
            Mode = Mode,
            ClosesAt = closes.Value,
            SecretBallot = SecretBallot,
            ScoreMin = ScoreMin,
            ScoreMax = ScoreMax,
        };
    }
}

/// <summary>A stance as received: a Fellows stance, or a plain poll vote (FEP-9967) read as one.</summary>
public sealed record RemoteStance
{
    public required string Id { get; init; }
    public required string AttributedTo { get; init; }
    public required string InReplyTo { get; init; }

    /// <summary>Absent from Mastodon's poll votes.</summary>
    public DateTimeOffset? Published { get; init; }

    public IReadOnlyList<string> Choices { get; init; } = [];
    public IReadOnlyList<OptionScore> Scores { get; init; } = [];
    public bool Abstain { get; init; }

    /// <summary>The <c>content</c>: untrusted HTML as sent.</summary>
    public string? Reason { get; init; }

    public string? Coop { get; init; }
    public string? Receipt { get; init; }

    /// <summary>The integrity proof's <c>proofValue</c>, when there is one (check it before counting).</summary>
    public string? ProofValue { get; init; }

    /// <summary>True when this is a plain poll vote: a Note with a <c>name</c> and no Fellows stance fields.</summary>
    public bool IsPollVote { get; init; }

    /// <summary>
    /// The stance to count. <paramref name="receivedAt"/> is when the motion's home instance received it; it
    /// stands in for <c>published</c> when that is missing (poll votes) or later than the receipt (a clock that
    /// runs ahead must not move a stance past the close).
    /// </summary>
    public Stance ToStance(DateTimeOffset receivedAt) => new()
    {
        Id = Id,
        Voter = AttributedTo,
        InReplyTo = InReplyTo,
        Published = Published is { } published && published < receivedAt ? published : receivedAt,
        Choices = Choices,
        Scores = Scores,
        Abstain = Abstain,
        Reason = Reason,
        ProofValue = ProofValue,
        Receipt = Receipt,
    };

    /// <summary>
    /// Mastodon sends one Note per option of a multiple-choice poll. This folds one voter's poll votes on one
    /// motion into a single stance with every option chosen, in option-name order, keeping the lowest id and the
    /// latest time so the result does not depend on arrival order.
    /// </summary>
    public static RemoteStance MergePollVotes(IReadOnlyList<RemoteStance> votes)
    {
        ArgumentNullException.ThrowIfNull(votes);
        if (votes.Count == 0)
            throw new ArgumentException("There are no votes to merge.", nameof(votes));
        var first = votes.MinBy(v => v.Id, StringComparer.Ordinal)!;
        if (votes.Any(v => v.AttributedTo != first.AttributedTo || v.InReplyTo != first.InReplyTo))
            throw new ArgumentException("Poll votes merge only per voter and motion.", nameof(votes));
        return first with
        {
            Choices = votes.SelectMany(v => v.Choices).Distinct(StringComparer.Ordinal).Order(StringComparer.Ordinal).ToArray(),
            Published = votes.Max(v => v.Published),
        };
    }
}

/// <summary>A published tally.</summary>
public sealed record RemoteTally
{
    public string? Id { get; init; }
    public string? Motion { get; init; }
    public DecisionMethod? Method { get; init; }
    public CountingMode? Mode { get; init; }
    public Threshold? Threshold { get; init; }
    public OutcomeState? State { get; init; }
    public string? Winner { get; init; }
    public long? EligibleCount { get; init; }
    public long? ParticipantCount { get; init; }
    public long? CastCount { get; init; }
    public long? AbstentionCount { get; init; }
    public long? BlockCount { get; init; }
    public long? RejectedCount { get; init; }
    public bool? QuorumMet { get; init; }
    public long? QuorumRequired { get; init; }
    public IReadOnlyList<OptionCount> Counts { get; init; } = [];
    public IReadOnlyList<RunoffRound> Rounds { get; init; } = [];
    public IReadOnlyList<CoopResult> Coops { get; init; } = [];
    public long? BallotCount { get; init; }
    public string? DigestMethod { get; init; }
    public string? Digest { get; init; }

    /// <summary>The ballots collection's address, when linked.</summary>
    public string? BallotsUrl { get; init; }

    /// <summary>The ballots, when embedded; entries that cannot be read are skipped (and the digest then fails).</summary>
    public IReadOnlyList<Ballot> Ballots { get; init; } = [];
}

/// <summary>A published outcome.</summary>
public sealed record RemoteOutcome(string Id, string? AttributedTo, string? InReplyTo, string? Content, OutcomeState? State, DateTimeOffset? ReviewDate, string? Tally, DateTimeOffset? Published)
{
    /// <summary>The digest of the tally the outcome reports.</summary>
    public string? Digest { get; init; }
}

/// <summary>A published amendment.</summary>
public sealed record RemoteAmendment(string Id, string? AttributedTo, string Amends, string? Content, string? ProposedText, AmendmentState? State, DateTimeOffset? Published)
{
    /// <summary>The proposed title, when it changes too.</summary>
    public string? ProposedName { get; init; }
}

/// <summary>A position on an amendment put to consent: one of <see cref="ConsentPositions.All"/>, with its reason.</summary>
public sealed record RemoteAmendmentPosition(string Id, string? AttributedTo, string Amendment, string Position, string? Content, DateTimeOffset? Published);

/// <summary>A published commitment (ValueFlows).</summary>
public sealed record RemoteCommitment(
    string Id,
    string? Provider,
    string? Receiver,
    string? Name,
    string? Content,
    string? ClauseOf,
    string? Satisfies,
    DateTimeOffset? Due,
    bool Finished,
    DateTimeOffset? Published);

/// <summary>
/// Tolerant readers for the deliberation vocabulary, in the manner of <see cref="Vocabulary.RemoteObject"/>:
/// every accessor treats a shape it does not understand as absent, types may be compact (<c>fellows:Motion</c>),
/// bare (<c>Motion</c>) or full IRIs, and a document that lacks what makes it usable fails with a reason.
/// </summary>
public static class DeliberationReader
{
    private const int MaxOptions = 64;
    private const int MaxChoices = 64;

    /// <summary>Reads a motion, or any <c>Question</c> with options as a plain poll.</summary>
    public static bool TryReadMotion(JsonElement json, [NotNullWhen(true)] out RemoteMotion? motion, [NotNullWhen(false)] out string? error)
    {
        motion = null;
        if (!TryStart(json, out var id, out error))
            return false;
        if (!json.HasType("Question"))
        {
            error = "a motion is a Question";
            return false;
        }

        var multiple = json.TryGetValue("anyOf", out _);
        var options = new List<string>();
        var counts = new List<long?>();
        foreach (var item in json.GetItems(multiple ? "anyOf" : "oneOf"))
        {
            if (item.ValueKind == JsonValueKind.Object && item.GetNaturalLanguage("name") is { Length: > 0 } name && !options.Contains(name))
            {
                options.Add(name);
                counts.Add(item.GetObject("replies") is { } replies ? replies.GetInt64("totalItems") : null);
            }
        }

        if (options.Count == 0 || options.Count > MaxOptions)
        {
            error = $"a motion needs between 1 and {MaxOptions} distinct named options";
            return false;
        }

        var method = DeliberationVocabulary.Parse<DecisionMethod>(json.GetString("decisionMethod"))
            ?? (multiple ? DecisionMethod.Approval : DecisionMethod.Majority);
        var closedAt = json.GetDateTime("closed");
        motion = new RemoteMotion
        {
            Id = id,
            AttributedTo = json.GetId("attributedTo"),
            IsFellowsMotion = IsType(json, "Motion"),
            Name = json.GetNaturalLanguage("name"),
            Content = json.GetNaturalLanguage("content"),
            SourceMarkdown = json.GetObject("source") is { } source && source.GetString("mediaType") == "text/markdown" ? source.GetString("content") : null,
            Published = json.GetDateTime("published"),
            Options = options,
            Multiple = multiple,
            OptionCounts = counts,
            EndTime = json.GetDateTime("endTime"),
            Closed = closedAt is not null || json.GetBoolean("closed") == true,
            ClosedAt = closedAt,
            VotersCount = json.GetInt64("votersCount"),
            Method = method,
            Threshold = DeliberationVocabulary.Parse<Threshold>(json.GetString("threshold")) ?? Threshold.SimpleMajority,
            Quorum = Quorum.Parse(json.GetString("quorum")),
            CoopQuorum = Quorum.Parse(json.GetString("coopQuorum")),
            Mode = DeliberationVocabulary.Parse<CountingMode>(json.GetString("countingMode")) ?? CountingMode.Pooled,
            Phase = DeliberationVocabulary.Parse<MotionPhase>(json.GetString("phase")),
            DiscussionEndTime = json.GetDateTime("discussionEndTime"),
            SecretBallot = json.GetBoolean("secretBallot") ?? false,
            ResultsBeforeClose = json.GetBoolean("resultsBeforeClose") ?? false,
            ScoreMin = ToInt(json.GetInt64("scoreMin")) ?? 0,
            ScoreMax = ToInt(json.GetInt64("scoreMax")) ?? 5,
            Electorate = json.GetIds("electorate").Where(e => JsonLd.HttpUrl(e) is not null).ToArray(),
            EligibleCount = json.GetInt64("eligibleCount"),
            Audience = json.GetId("audience"),
            Outcome = json.GetId("outcome"),
            TextVersion = PositiveInt(json, "textVersion"),
            Tally = json.GetObject("tally") is { } tally && TryReadTally(tally, out var remoteTally, out _) ? remoteTally : null,
        };
        return true;
    }

    /// <summary>
    /// Reads a stance: a Fellows stance (<c>choice</c>, <c>scores</c>, <c>abstain</c>), or a plain poll vote, a
    /// Note with a <c>name</c> in reply to the question, which becomes a stance choosing that option.
    /// </summary>
    public static bool TryReadStance(JsonElement json, [NotNullWhen(true)] out RemoteStance? stance, [NotNullWhen(false)] out string? error)
    {
        stance = null;
        if (!TryStart(json, out var id, out error))
            return false;
        var author = JsonLd.HttpUrl(json.GetId("attributedTo"));
        var inReplyTo = JsonLd.HttpUrl(json.GetId("inReplyTo"));
        if (author is null || inReplyTo is null)
        {
            error = "a stance needs an http(s) attributedTo and inReplyTo";
            return false;
        }

        var isStance = IsType(json, "Stance") || json.TryGetValue("choice", out _) || json.TryGetValue("scores", out _) || json.TryGetValue("abstain", out _);
        IReadOnlyList<string> choices;
        if (isStance)
        {
            var list = new List<string>();
            foreach (var item in json.GetItems("choice"))
            {
                // A JSON-LD list may arrive expanded as {"@list": [...]}.
                if (item.ValueKind == JsonValueKind.Object && item.TryGetValue("@list", out var inner) && inner.ValueKind == JsonValueKind.Array)
                {
                    foreach (var entry in inner.EnumerateArray())
                        AddChoice(list, entry);
                }
                else
                {
                    AddChoice(list, item);
                }
            }

            if (list.Count > MaxChoices)
            {
                error = $"a stance has at most {MaxChoices} choices";
                return false;
            }

            choices = list;
        }
        else if (json.HasType("Note") && json.GetNaturalLanguage("name") is { Length: > 0 } name)
        {
            choices = [name];
        }
        else
        {
            error = "neither a stance nor a poll vote (a Note with a name)";
            return false;
        }

        var scores = new List<OptionScore>();
        foreach (var item in json.GetItems("scores"))
        {
            if (item.ValueKind == JsonValueKind.Object && item.GetString("option") is { } option && item.GetInt64("score") is { } value && ToInt(value) is { } score)
                scores.Add(new OptionScore(option, score));
            else
            {
                // A score we cannot read must not silently become "the minimum": refuse the stance.
                error = "a score is not an {option, score} pair with a whole number";
                return false;
            }

            if (scores.Count > MaxChoices)
            {
                error = $"a stance has at most {MaxChoices} scores";
                return false;
            }
        }

        string? proofValue = null;
        foreach (var proof in json.GetItems("proof"))
        {
            if (proof.ValueKind == JsonValueKind.Object && proof.GetString("proofValue") is { } value)
            {
                proofValue = value;
                break;
            }
        }

        stance = new RemoteStance
        {
            Id = id,
            AttributedTo = author,
            InReplyTo = inReplyTo,
            Published = json.GetDateTime("published"),
            Choices = choices,
            Scores = scores,
            Abstain = json.GetBoolean("abstain") ?? false,
            Reason = json.GetNaturalLanguage("content"),
            Coop = json.GetId("coop"),
            Receipt = json.GetString("receipt"),
            ProofValue = proofValue,
            IsPollVote = !isStance,
        };
        return true;
    }

    /// <summary>Reads a tally (standing alone or embedded in a motion).</summary>
    public static bool TryReadTally(JsonElement json, [NotNullWhen(true)] out RemoteTally? tally, [NotNullWhen(false)] out string? error)
    {
        tally = null;
        if (json.ValueKind != JsonValueKind.Object || !IsType(json, "Tally"))
        {
            error = "not a Tally";
            return false;
        }

        var ballots = new List<Ballot>();
        string? ballotsUrl = null;
        if (json.TryGetValue("ballots", out var ballotsValue))
        {
            if (ballotsValue.ValueKind == JsonValueKind.Array)
            {
                foreach (var item in ballotsValue.EnumerateArray())
                {
                    if (TryReadBallot(item, out var ballot, out _))
                        ballots.Add(ballot);
                }
            }
            else
            {
                ballotsUrl = JsonLd.HttpUrl(ballotsValue.AsId());
            }
        }

        var coops = new List<CoopResult>();
        foreach (var item in json.GetItems("coopResults"))
        {
            if (item.ValueKind == JsonValueKind.Object && item.GetId("coop") is { } coop)
            {
                coops.Add(new CoopResult(
                    coop,
                    ToInt(item.GetInt64("eligibleCount")) ?? 0,
                    ToInt(item.GetInt64("participantCount")) ?? 0,
                    item.GetBoolean("quorumMet") ?? false,
                    DeliberationVocabulary.Parse<OutcomeState>(item.GetString("state")),
                    item.GetString("winner"),
                    item.GetString("voice"),
                    ReadCounts(item),
                    ReadRounds(item)));
            }
        }

        tally = new RemoteTally
        {
            Id = json.GetString("id"),
            Motion = json.GetId("inReplyTo"),
            Method = DeliberationVocabulary.Parse<DecisionMethod>(json.GetString("decisionMethod")),
            Mode = DeliberationVocabulary.Parse<CountingMode>(json.GetString("countingMode")),
            Threshold = DeliberationVocabulary.Parse<Threshold>(json.GetString("threshold")),
            State = DeliberationVocabulary.Parse<OutcomeState>(json.GetString("state")),
            Winner = json.GetString("winner"),
            EligibleCount = json.GetInt64("eligibleCount"),
            ParticipantCount = json.GetInt64("participantCount"),
            CastCount = json.GetInt64("castCount"),
            AbstentionCount = json.GetInt64("abstentionCount"),
            BlockCount = json.GetInt64("blockCount"),
            RejectedCount = json.GetInt64("rejectedCount"),
            QuorumMet = json.GetBoolean("quorumMet"),
            QuorumRequired = json.GetInt64("quorumRequired"),
            Counts = ReadCounts(json),
            Rounds = ReadRounds(json),
            Coops = coops,
            BallotCount = json.GetInt64("ballotCount"),
            DigestMethod = json.GetString("digestMethod"),
            Digest = json.GetString("digest"),
            BallotsUrl = ballotsUrl,
            Ballots = ballots,
        };
        error = null;
        return true;
    }

    /// <summary>
    /// Reads one published ballot (a digest leaf object). Strict, unlike the other readers: a ballot is hashed,
    /// so only the exact members of <see cref="TallyDigest.LeafObject"/> are accepted, and the ballot read back
    /// hashes to the same leaf only if nothing was lost.
    /// </summary>
    public static bool TryReadBallot(JsonElement json, [NotNullWhen(true)] out Ballot? ballot, [NotNullWhen(false)] out string? error)
    {
        ballot = null;
        error = "a ballot is an object with a coop and a choice array";
        if (json.ValueKind != JsonValueKind.Object
            || !json.TryGetProperty("coop", out var coop) || coop.ValueKind != JsonValueKind.String
            || !json.TryGetProperty("choice", out var choice) || choice.ValueKind != JsonValueKind.Array)
            return false;

        var choices = new List<string>();
        foreach (var item in choice.EnumerateArray())
        {
            if (item.ValueKind != JsonValueKind.String)
                return false;
            choices.Add(item.GetString()!);
        }

        var scores = new List<OptionScore>();
        string? stanceId = null, voter = null, receipt = null, proofValue = null;
        bool abstain = false, blockResolved = false;
        foreach (var member in json.EnumerateObject())
        {
            switch (member.Name)
            {
                case "coop" or "choice":
                    break;
                case "id" when member.Value.ValueKind == JsonValueKind.String:
                    stanceId = member.Value.GetString();
                    break;
                case "actor" when member.Value.ValueKind == JsonValueKind.String:
                    voter = member.Value.GetString();
                    break;
                case "receipt" when member.Value.ValueKind == JsonValueKind.String:
                    receipt = member.Value.GetString();
                    break;
                case "proofValue" when member.Value.ValueKind == JsonValueKind.String:
                    proofValue = member.Value.GetString();
                    break;
                case "abstain" when member.Value.ValueKind == JsonValueKind.True:
                    abstain = true;
                    break;
                case "blockResolved" when member.Value.ValueKind == JsonValueKind.True:
                    blockResolved = true;
                    break;
                case "scores" when member.Value.ValueKind == JsonValueKind.Array:
                    foreach (var item in member.Value.EnumerateArray())
                    {
                        if (item.ValueKind != JsonValueKind.Object
                            || !item.TryGetProperty("option", out var option) || option.ValueKind != JsonValueKind.String
                            || !item.TryGetProperty("score", out var score) || !score.TryGetInt32(out var value))
                            return false;
                        scores.Add(new OptionScore(option.GetString()!, value));
                    }

                    break;
                default:
                    error = $"a ballot cannot carry '{member.Name}' in that form";
                    return false;
            }
        }

        ballot = new Ballot
        {
            StanceId = stanceId,
            Voter = voter,
            Receipt = receipt,
            Coop = coop.GetString()!,
            Choices = choices,
            Scores = scores,
            Abstain = abstain,
            BlockResolved = blockResolved,
            ProofValue = proofValue,
        };
        error = null;
        return true;
    }

    /// <summary>Reads an outcome.</summary>
    public static bool TryReadOutcome(JsonElement json, [NotNullWhen(true)] out RemoteOutcome? outcome, [NotNullWhen(false)] out string? error)
    {
        outcome = null;
        if (!TryStart(json, out var id, out error))
            return false;
        if (!IsType(json, "Outcome"))
        {
            error = "not an Outcome";
            return false;
        }

        outcome = new RemoteOutcome(
            id,
            json.GetId("attributedTo"),
            json.GetId("inReplyTo"),
            json.GetNaturalLanguage("content"),
            DeliberationVocabulary.Parse<OutcomeState>(json.GetString("state")),
            json.GetDateTime("reviewDate"),
            json.GetId("tally"),
            json.GetDateTime("published"))
        {
            Digest = json.GetString("digest"),
        };
        return true;
    }

    /// <summary>Reads an amendment.</summary>
    public static bool TryReadAmendment(JsonElement json, [NotNullWhen(true)] out RemoteAmendment? amendment, [NotNullWhen(false)] out string? error)
    {
        amendment = null;
        if (!TryStart(json, out var id, out error))
            return false;
        var amends = JsonLd.HttpUrl(json.GetId("amends") ?? json.GetId("inReplyTo"));
        if (!IsType(json, "Amendment") || amends is null)
        {
            error = "not an Amendment of a motion";
            return false;
        }

        amendment = new RemoteAmendment(
            id,
            json.GetId("attributedTo"),
            amends,
            json.GetNaturalLanguage("content"),
            json.GetString("proposedText"),
            DeliberationVocabulary.Parse<AmendmentState>(json.GetString("amendmentState")),
            json.GetDateTime("published"))
        {
            ProposedName = json.GetNaturalLanguage("proposedName"),
        };
        return true;
    }

    /// <summary>Reads a position on an amendment; the position must be one of the four consent positions.</summary>
    public static bool TryReadAmendmentPosition(JsonElement json, [NotNullWhen(true)] out RemoteAmendmentPosition? position, [NotNullWhen(false)] out string? error)
    {
        position = null;
        if (!TryStart(json, out var id, out error))
            return false;
        var amendment = JsonLd.HttpUrl(json.GetId("inReplyTo"));
        if (!IsType(json, "AmendmentPosition") || amendment is null)
        {
            error = "not an AmendmentPosition in reply to an amendment";
            return false;
        }

        var value = json.GetString("position");
        if (value is null || !ConsentPositions.All.Contains(value, StringComparer.Ordinal))
        {
            error = "position must be one of agree, abstain, disagree, block";
            return false;
        }

        position = new RemoteAmendmentPosition(id, json.GetId("attributedTo"), amendment, value, json.GetNaturalLanguage("content"), json.GetDateTime("published"));
        return true;
    }

    /// <summary>Reads a commitment (typed <c>vf:Commitment</c> or <c>Commitment</c>).</summary>
    public static bool TryReadCommitment(JsonElement json, [NotNullWhen(true)] out RemoteCommitment? commitment, [NotNullWhen(false)] out string? error)
    {
        commitment = null;
        if (!TryStart(json, out var id, out error))
            return false;
        if (!json.GetTypes().Any(t => t is "Commitment" or DeliberationVocabulary.CommitmentType || t == DeliberationVocabulary.ValueFlowsNamespace + "Commitment"))
        {
            error = "not a Commitment";
            return false;
        }

        commitment = new RemoteCommitment(
            id,
            json.GetId("provider") ?? json.GetId("attributedTo"),
            json.GetId("receiver"),
            json.GetNaturalLanguage("name"),
            json.GetNaturalLanguage("content"),
            json.GetId("clauseOf"),
            json.GetId("satisfies"),
            json.GetDateTime("due"),
            json.GetBoolean("finished") ?? false,
            json.GetDateTime("published"));
        return true;
    }

    /// <summary>True when one of the types is the Fellows term <paramref name="term"/> in any spelling.</summary>
    private static bool IsType(JsonElement json, string term)
    {
        foreach (var type in json.GetTypes())
        {
            if (type == term || type == "fellows:" + term || type == DeliberationVocabulary.Namespace + term)
                return true;
        }

        return false;
    }

    private static bool TryStart(JsonElement json, [NotNullWhen(true)] out string? id, [NotNullWhen(false)] out string? error)
    {
        id = null;
        if (json.ValueKind != JsonValueKind.Object)
        {
            error = "not a JSON object";
            return false;
        }

        id = JsonLd.HttpUrl(json.GetString("id"));
        if (id is null)
        {
            error = "no http(s) id";
            return false;
        }

        error = null;
        return true;
    }

    private static void AddChoice(List<string> list, JsonElement item)
    {
        if (item.ValueKind == JsonValueKind.String && item.GetString() is { } text)
            list.Add(text);
        else if (item.ValueKind == JsonValueKind.Object && item.GetString("@value") is { } value)
            list.Add(value);
    }

    private static List<OptionCount> ReadCounts(JsonElement json)
    {
        var counts = new List<OptionCount>();
        foreach (var item in json.GetItems("counts"))
        {
            if (item.ValueKind == JsonValueKind.Object && item.GetString("option") is { } option && item.GetInt64("count") is { } count)
                counts.Add(new OptionCount(option, count));
        }

        return counts;
    }

    private static List<RunoffRound> ReadRounds(JsonElement json)
    {
        var rounds = new List<RunoffRound>();
        foreach (var item in json.GetItems("rounds"))
        {
            if (item.ValueKind != JsonValueKind.Object)
                continue;
            rounds.Add(new RunoffRound(
                rounds.Count + 1,
                ReadCounts(item),
                ToInt(item.GetInt64("exhausted")) ?? 0,
                item.GetString("eliminated"),
                DeliberationVocabulary.Parse<TieBreak>(item.GetString("tieBreak")) ?? TieBreak.None));
        }

        return rounds;
    }

    /// <summary>A version number: a JSON whole number above zero, or absent (strings and fractions are not versions).</summary>
    private static int? PositiveInt(JsonElement json, string name) =>
        json.TryGetProperty(name, out var value) && value.ValueKind == JsonValueKind.Number && value.TryGetInt32(out var number) && number > 0 ? number : null;

    private static int? ToInt(long? value) => value is >= int.MinValue and <= int.MaxValue ? (int)value : null;
}
