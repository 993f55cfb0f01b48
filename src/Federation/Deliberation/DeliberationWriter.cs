using System.Text.Json.Nodes;
using Fellows.Federation.Vocabulary;

namespace Fellows.Federation.Deliberation;

/// <summary>
/// Builds the deliberation documents we publish. Like <see cref="ActivityPubWriter"/>, properties are written in
/// a fixed order so the output is byte-stable. Top-level documents carry
/// <see cref="DeliberationVocabulary.DocumentContext"/>; pass <c>contextUrl: null</c> to embed one in another.
/// </summary>
/// <remarks>
/// Every object is also something a server that knows nothing of Fellows can show: a motion is a
/// <c>Question</c> (a poll), a stance, outcome and amendment are <c>Note</c>s in reply to it, a commitment is a
/// <c>Note</c> in reply to the outcome. Extra types are compact IRIs (<c>fellows:Motion</c>) so readers that pick
/// the first type without a colon keep seeing the ActivityStreams one.
/// </remarks>
public static class DeliberationWriter
{
    /// <summary>
    /// A motion: <c>["Question", "fellows:Motion"]</c> with its options as <c>oneOf</c> (or <c>anyOf</c> for
    /// approval), counts as <c>replies.totalItems</c> when <see cref="LocalMotion.Tally"/> is given and results are
    /// visible (closed, or <see cref="LocalMotion.ResultsBeforeClose"/>), and the full tally once closed.
    /// </summary>
    public static JsonObject Motion(LocalMotion motion, string? contextUrl)
    {
        ArgumentNullException.ThrowIfNull(motion);
        var rules = motion.Rules;
        var json = Start(contextUrl, rules.MotionId, "Question", DeliberationVocabulary.MotionType);
        json["attributedTo"] = motion.AttributedTo;
        json["name"] = motion.Name;
        json["content"] = motion.ContentHtml;
        if (motion.SourceMarkdown is not null)
            json["source"] = new JsonObject { ["content"] = motion.SourceMarkdown, ["mediaType"] = "text/markdown" };
        json["published"] = ActivityPubWriter.Timestamp(motion.Published);
        AddIf(json, "updated", motion.Updated);
        AddIf(json, "url", motion.Url);
        json["to"] = Strings(motion.To);
        json["cc"] = Strings(motion.Cc);
        AddIf(json, "audience", motion.Audience);
        AddIf(json, "context", motion.Context);
        // Only when there are some, so a motion without files reads as before.
        if (motion.Attachments.Count > 0)
            json["attachment"] = ActivityPubWriter.Attachments(motion.Attachments);

        // Running counts sway votes: they are published only after the close, or when the motion allows it.
        var visible = motion.Tally is not null && (motion.Phase == MotionPhase.Closed || motion.ClosedAt is not null || motion.ResultsBeforeClose);
        var counts = visible ? motion.Tally!.Counts.ToDictionary(c => c.Option, c => c.Count, StringComparer.Ordinal) : null;
        var options = new JsonArray();
        foreach (var option in rules.EffectiveOptions)
        {
            var item = new JsonObject { ["type"] = "Note", ["name"] = option };
            if (counts is not null)
                item["replies"] = new JsonObject { ["type"] = "Collection", ["totalItems"] = counts.GetValueOrDefault(option) };
            options.Add(item);
        }

        // Mastodon shows anyOf as checkboxes: right for approval only. Ranked and score motions show as a
        // single-choice poll, so a vote from Mastodon is one first preference (ranked) or is refused (score).
        json[rules.Method == DecisionMethod.Approval ? "anyOf" : "oneOf"] = options;
        json["endTime"] = ActivityPubWriter.Timestamp(rules.ClosesAt);
        AddIf(json, "closed", motion.ClosedAt);
        if (visible && motion.Tally is { } tally)
        {
            // Mastodon's votersCount is people who picked an option: consent's "abstain" is an option, other
            // methods' abstentions are not.
            json["votersCount"] = rules.Method == DecisionMethod.Consent ? tally.Participants : tally.Participants - tally.Abstentions;
        }

        json["decisionMethod"] = DeliberationVocabulary.Name(rules.Method);
        json["threshold"] = DeliberationVocabulary.Name(rules.Threshold);
        AddIf(json, "quorum", rules.Quorum?.ToString());
        AddIf(json, "coopQuorum", rules.CoopQuorum?.ToString());
        json["countingMode"] = DeliberationVocabulary.Name(rules.Mode);
        if (rules.Method == DecisionMethod.Score)
        {
            json["scoreMin"] = rules.ScoreMin;
            json["scoreMax"] = rules.ScoreMax;
        }

        json["secretBallot"] = rules.SecretBallot;
        json["resultsBeforeClose"] = motion.ResultsBeforeClose;
        json["phase"] = DeliberationVocabulary.Name(motion.Phase);
        AddIf(json, "discussionEndTime", motion.DiscussionEndTime);
        if (motion.Electorate.Count > 0)
            json["electorate"] = Strings(motion.Electorate);
        if (motion.EligibleCount is { } eligible)
            json["eligibleCount"] = eligible;
        if (motion.Tally is { } final && motion.Phase == MotionPhase.Closed)
            json["tally"] = Tally(final, motion.TallyId, motion.BallotsUrl, contextUrl: null);
        AddIf(json, "outcome", motion.Outcome);
        if (motion.TextVersion is { } version)
            json["textVersion"] = version;
        AddIf(json, "replies", motion.Replies);
        return json;
    }

    /// <summary>
    /// A stance: <c>["Note", "fellows:Stance"]</c> in reply to the motion. <c>name</c> repeats the first choice,
    /// as a poll vote would (FEP-9967); the reason is the <c>content</c>. Sign the result with
    /// <see cref="Proofs.IntegrityProof.Sign"/> before sending: counted stances carry an integrity proof.
    /// </summary>
    public static JsonObject Stance(LocalStance stance, string? contextUrl)
    {
        ArgumentNullException.ThrowIfNull(stance);
        var json = Start(contextUrl, stance.Id, "Note", DeliberationVocabulary.StanceType);
        json["attributedTo"] = stance.AttributedTo;
        json["inReplyTo"] = stance.InReplyTo;
        json["published"] = ActivityPubWriter.Timestamp(stance.Published);
        json["to"] = Strings(stance.To);
        json["cc"] = Strings(stance.Cc);
        if (stance.Choices.Count > 0)
            json["name"] = stance.Choices[0];
        AddIf(json, "content", stance.ReasonHtml);
        json["choice"] = Strings(stance.Choices);
        if (stance.Scores.Count > 0)
            json["scores"] = TallyDigest.ScoreObject(stance.Scores);
        if (stance.Abstain)
            json["abstain"] = true;
        AddIf(json, "coop", stance.Coop);
        AddIf(json, "receipt", stance.Receipt);
        return json;
    }

    /// <summary>
    /// A tally: counts, quorum, rounds, per-co-op results and the digest. With <paramref name="ballotsUrl"/> the
    /// ballots are linked; with <paramref name="embedBallots"/> they are listed inline (small motions).
    /// </summary>
    public static JsonObject Tally(TallyResult tally, string? id, string? ballotsUrl, string? contextUrl, bool embedBallots = false)
    {
        ArgumentNullException.ThrowIfNull(tally);
        var json = new JsonObject();
        if (contextUrl is not null)
            json["@context"] = DeliberationVocabulary.DocumentContext(contextUrl);
        AddIf(json, "id", id);
        json["type"] = DeliberationVocabulary.TallyType;
        json["inReplyTo"] = tally.MotionId;
        json["decisionMethod"] = DeliberationVocabulary.Name(tally.Method);
        json["countingMode"] = DeliberationVocabulary.Name(tally.Mode);
        json["threshold"] = DeliberationVocabulary.Name(tally.Threshold);
        json["state"] = DeliberationVocabulary.Name(tally.State);
        AddIf(json, "winner", tally.Winner);
        json["eligibleCount"] = tally.Eligible;
        json["participantCount"] = tally.Participants;
        json["castCount"] = tally.Cast;
        json["abstentionCount"] = tally.Abstentions;
        json["blockCount"] = tally.Blocks;
        json["rejectedCount"] = tally.Rejections.Count;
        json["quorumMet"] = tally.QuorumMet;
        json["quorumRequired"] = tally.QuorumRequired;
        if (tally.Mode == CountingMode.CoopByCoop)
            json["coopVoices"] = tally.CoopVoices;
        json["counts"] = Counts(tally.Counts);
        if (tally.Rounds.Count > 0)
            json["rounds"] = Rounds(tally.Rounds);
        if (tally.Coops.Count > 0)
        {
            var coops = new JsonArray();
            foreach (var coop in tally.Coops)
            {
                var item = new JsonObject
                {
                    ["coop"] = coop.Coop,
                    ["eligibleCount"] = coop.Eligible,
                    ["participantCount"] = coop.Participants,
                    ["quorumMet"] = coop.QuorumMet,
                };
                if (coop.State is { } state)
                    item["state"] = DeliberationVocabulary.Name(state);
                AddIf(item, "winner", coop.Winner);
                AddIf(item, "voice", coop.Voice);
                if (coop.Counts.Count > 0)
                    item["counts"] = Counts(coop.Counts);
                if (coop.Rounds.Count > 0)
                    item["rounds"] = Rounds(coop.Rounds);
                coops.Add(item);
            }

            json["coopResults"] = coops;
        }

        json["ballotCount"] = tally.Ballots.Count;
        json["digestMethod"] = TallyDigest.Method;
        json["digest"] = tally.Digest;
        if (embedBallots)
        {
            var ballots = new JsonArray();
            foreach (var ballot in tally.Ballots)
                ballots.Add(Ballot(ballot));
            json["ballots"] = ballots;
        }
        else
        {
            AddIf(json, "ballots", ballotsUrl);
        }

        return json;
    }

    /// <summary>A counted ballot as published: exactly its digest leaf (<see cref="TallyDigest.LeafObject"/>).</summary>
    public static JsonObject Ballot(Ballot ballot) => TallyDigest.LeafObject(ballot);

    /// <summary>
    /// <c>Update</c> of the motion, sent to every participating instance when counts change and at the close,
    /// so Mastodon updates the poll and Fellows instances get the tally.
    /// </summary>
    public static JsonObject UpdateMotion(string id, LocalMotion motion, string contextUrl)
    {
        ArgumentNullException.ThrowIfNull(motion);
        var activity = new JsonObject
        {
            ["@context"] = DeliberationVocabulary.DocumentContext(contextUrl),
            ["id"] = id,
            ["type"] = "Update",
            ["actor"] = motion.AttributedTo,
            ["published"] = ActivityPubWriter.Timestamp(motion.Updated ?? motion.ClosedAt ?? motion.Published),
            ["to"] = Strings(motion.To),
            ["cc"] = Strings(motion.Cc),
            ["object"] = Motion(motion, contextUrl: null),
        };
        return activity;
    }

    /// <summary>
    /// <c>Reject</c> of a stance that was not counted, sent to its author so they know why (a poll vote from
    /// Mastodon included). <c>content</c> says it for people, <c>rejectionReason</c> for machines.
    /// </summary>
    public static JsonObject RejectStance(string id, string actor, Rejection rejection, string contextUrl)
    {
        ArgumentNullException.ThrowIfNull(rejection);
        return new JsonObject
        {
            ["@context"] = DeliberationVocabulary.DocumentContext(contextUrl),
            ["id"] = id,
            ["type"] = "Reject",
            ["actor"] = actor,
            ["to"] = new JsonArray(rejection.Voter),
            ["object"] = rejection.StanceId,
            ["content"] = rejection.Detail,
            ["rejectionReason"] = rejection.Code,
        };
    }

    /// <summary>The outcome: <c>["Note", "fellows:Outcome"]</c> in reply to the motion.</summary>
    public static JsonObject Outcome(LocalOutcome outcome, string? contextUrl)
    {
        ArgumentNullException.ThrowIfNull(outcome);
        var json = Start(contextUrl, outcome.Id, "Note", DeliberationVocabulary.OutcomeType);
        json["attributedTo"] = outcome.AttributedTo;
        json["inReplyTo"] = outcome.InReplyTo;
        json["published"] = ActivityPubWriter.Timestamp(outcome.Published);
        json["to"] = Strings(outcome.To);
        json["cc"] = Strings(outcome.Cc);
        AddIf(json, "audience", outcome.Audience);
        AddIf(json, "context", outcome.Context);
        json["content"] = outcome.StatementHtml;
        json["state"] = DeliberationVocabulary.Name(outcome.State);
        AddIf(json, "reviewDate", outcome.ReviewDate);
        AddIf(json, "tally", outcome.Tally);
        AddIf(json, "digest", outcome.Digest);
        return json;
    }

    /// <summary>An amendment: <c>["Note", "fellows:Amendment"]</c> in reply to the motion it amends.</summary>
    public static JsonObject Amendment(LocalAmendment amendment, string? contextUrl)
    {
        ArgumentNullException.ThrowIfNull(amendment);
        var json = Start(contextUrl, amendment.Id, "Note", DeliberationVocabulary.AmendmentType);
        json["attributedTo"] = amendment.AttributedTo;
        json["inReplyTo"] = amendment.Amends;
        json["amends"] = amendment.Amends;
        json["published"] = ActivityPubWriter.Timestamp(amendment.Published);
        AddIf(json, "updated", amendment.Updated);
        json["to"] = Strings(amendment.To);
        json["cc"] = Strings(amendment.Cc);
        AddIf(json, "audience", amendment.Audience);
        AddIf(json, "context", amendment.Context);
        json["content"] = amendment.ContentHtml;
        AddIf(json, "proposedName", amendment.ProposedName);
        json["proposedText"] = amendment.ProposedText;
        json["amendmentState"] = DeliberationVocabulary.Name(amendment.State);
        if (amendment.TextVersion is { } version)
            json["textVersion"] = version;
        return json;
    }

    /// <summary>A position on an amendment: <c>["Note", "fellows:AmendmentPosition"]</c> in reply to the amendment.</summary>
    public static JsonObject AmendmentPosition(LocalAmendmentPosition position, string? contextUrl)
    {
        ArgumentNullException.ThrowIfNull(position);
        var json = Start(contextUrl, position.Id, "Note", DeliberationVocabulary.AmendmentPositionType);
        json["attributedTo"] = position.AttributedTo;
        json["inReplyTo"] = position.Amendment;
        json["position"] = position.Position;
        json["published"] = ActivityPubWriter.Timestamp(position.Published);
        json["to"] = Strings(position.To);
        json["content"] = position.ContentHtml ?? "";
        return json;
    }

    /// <summary>
    /// A commitment: <c>["Note", "vf:Commitment"]</c> by its provider, <c>clauseOf</c> (and in reply to) the
    /// outcome, with ValueFlows <c>provider</c>, <c>receiver</c>, <c>satisfies</c>, <c>due</c> and <c>finished</c>.
    /// </summary>
    public static JsonObject Commitment(LocalCommitment commitment, string? contextUrl)
    {
        ArgumentNullException.ThrowIfNull(commitment);
        var json = Start(contextUrl, commitment.Id, "Note", DeliberationVocabulary.CommitmentType);
        json["attributedTo"] = commitment.AttributedTo;
        json["inReplyTo"] = commitment.ClauseOf;
        json["name"] = commitment.Name;
        AddIf(json, "content", commitment.ContentHtml);
        json["published"] = ActivityPubWriter.Timestamp(commitment.Published);
        AddIf(json, "updated", commitment.Updated);
        json["to"] = Strings(commitment.To);
        json["cc"] = Strings(commitment.Cc);
        AddIf(json, "audience", commitment.Audience);
        json["provider"] = commitment.AttributedTo;
        AddIf(json, "receiver", commitment.Receiver);
        json["clauseOf"] = commitment.ClauseOf;
        AddIf(json, "satisfies", commitment.Satisfies);
        AddIf(json, "due", commitment.Due);
        json["finished"] = commitment.Finished;
        return json;
    }

    private static JsonObject Start(string? contextUrl, string id, string asType, string fellowsType)
    {
        var json = new JsonObject();
        if (contextUrl is not null)
            json["@context"] = DeliberationVocabulary.DocumentContext(contextUrl);
        json["id"] = id;
        json["type"] = new JsonArray(asType, fellowsType);
        return json;
    }

    private static JsonArray Counts(IReadOnlyList<OptionCount> counts)
    {
        var array = new JsonArray();
        foreach (var count in counts)
            array.Add(new JsonObject { ["option"] = count.Option, ["count"] = count.Count });
        return array;
    }

    private static JsonArray Rounds(IReadOnlyList<RunoffRound> rounds)
    {
        var array = new JsonArray();
        foreach (var round in rounds)
        {
            var item = new JsonObject
            {
                ["counts"] = Counts(round.Counts),
                ["exhausted"] = round.Exhausted,
            };
            AddIf(item, "eliminated", round.Eliminated);
            if (round.TieBreak != TieBreak.None)
                item["tieBreak"] = DeliberationVocabulary.Name(round.TieBreak);
            array.Add(item);
        }

        return array;
    }

    private static JsonArray Strings(IReadOnlyList<string> values)
    {
        var array = new JsonArray();
        foreach (var value in values)
            array.Add(value);
        return array;
    }

    private static void AddIf(JsonObject json, string name, string? value)
    {
        if (value is not null)
            json[name] = value;
    }

    private static void AddIf(JsonObject json, string name, DateTimeOffset? value)
    {
        if (value is { } timestamp)
            json[name] = ActivityPubWriter.Timestamp(timestamp);
    }
}
