using System.Net;
using Dapper;
using System.Text.Json.Nodes;
using Fellows.Federation;
using Fellows.Federation.Deliberation;
using Fellows.Federation.Vocabulary;
using Fellows.Server.Configuration;
using Fellows.Server.Features.Accounts;
using Fellows.Server.Features.Delivery;
using Fellows.Server.Features.Federation;
using Fellows.Server.Features.Media;
using Npgsql;

namespace Fellows.Server.Features.Motions;

/// <summary>The documents of a local motion as Fellows publishes them.</summary>
public static class MotionDocuments
{
    /// <summary>Mastodon shows a Question's content, not its name: the content starts with the title.</summary>
    public static string ContentHtml(MotionRow motion) =>
        $"<p><strong>{WebUtility.HtmlEncode(motion.Title)}</strong></p>{motion.BodyHtml}";

    /// <summary>The published tally with its ballots embedded, so every instance can recount it and check the digest.</summary>
    public static JsonObject TallyDocument(MotionRow motion, TallyResult result) =>
        DeliberationWriter.Tally(result, motion.Uri + "#tally", ballotsUrl: null, contextUrl: null, embedBallots: true);
}

/// <summary>
/// Queues the activities of deliberation in the caller's transaction (transactional outbox): the motion itself and
/// its stances, then its later life (amendments, their decision, the outcome, commitments). Who hears of the later
/// life: every co-op in the motion's electorate and the motion's author, so all participating instances hold the
/// same record; for a motion of ours, also every remote voter.
/// </summary>
public sealed class MotionPublisher(InstanceUrls urls, OutboxWriter outbox, NoteBuilder notes)
{
    string ContextUrl => DeliberationVocabulary.ContextUrl(urls.Base);

    /// <summary>The other instances' actors to tell: the electorate (allied actors, or for a mirror the home's list) and the author.</summary>
    string[] Participants(MotionRow motion, Account motionAuthor, IEnumerable<string> extra) =>
        motion.AlliedActors.Append(motionAuthor.Uri).Concat(extra)
            .Where(u => !u.StartsWith(urls.Base + "/", StringComparison.Ordinal))
            .Distinct(StringComparer.Ordinal).ToArray();

    JsonObject Wrap(string type, string id, string actor, JsonObject obj, string[] to)
    {
        obj.Remove("@context");
        var recipients = new JsonArray();
        foreach (var uri in to) recipients.Add(uri);
        return new JsonObject
        {
            ["@context"] = DeliberationVocabulary.DocumentContext(ContextUrl),
            ["id"] = id,
            ["type"] = type,
            ["actor"] = actor,
            ["to"] = recipients,
            ["object"] = obj,
        };
    }

    Task EnqueueAsync(NpgsqlConnection conn, NpgsqlTransaction tx, Account actor, JsonObject activity, string[] to, long[] followersOf, CancellationToken ct) =>
        outbox.EnqueueAsync(conn, tx, new OutgoingActivity
        {
            ActivityId = activity["id"]!.GetValue<string>(),
            ActorAccountId = actor.Id,
            Body = ActivityPubWriter.Serialize(activity),
            ToFollowersOf = followersOf,
            ToActorUris = to,
            ToInboxes = [],
        }, ct);

    /// <summary>The motion's document with the files attached to its post.</summary>
    public async Task<LocalMotion> DocumentAsync(NpgsqlConnection conn, NpgsqlTransaction? tx, Account author, MotionRow motion, TallyResult? tally,
        CancellationToken ct)
    {
        var media = motion.StatusId is { } statusId
            ? await conn.QueryAsync<MediaRow>(new CommandDefinition(MediaQueries.OfStatuses, new { ids = new[] { statusId } }, tx, cancellationToken: ct))
            : [];
        return Document(author, motion, tally) with { Attachments = notes.Attachments(media) };
    }

    LocalMotion Document(Account author, MotionRow motion, TallyResult? tally) => new()
    {
        Rules = motion.Rules(),
        AttributedTo = author.Uri,
        Name = motion.Title,
        ContentHtml = MotionDocuments.ContentHtml(motion),
        SourceMarkdown = motion.BodySource,
        Published = motion.OpenedAt ?? motion.CreatedAt,
        Updated = motion.UpdatedAt,
        Url = urls.StatusPage(author.Username, motion.Id),
        To = [urls.Followers(author.Username), .. motion.AlliedActors],
        Cc = [ActivityStreams.Public],
        Electorate = [urls.InstanceActor, .. motion.AlliedActors],
        EligibleCount = tally?.Eligible,
        Phase = motion.Phase,
        DiscussionEndTime = motion.DiscussionEndsAt,
        ResultsBeforeClose = motion.ResultsBeforeClose,
        ClosedAt = motion.ClosedAt,
        Tally = tally,
        TallyId = motion.Uri + "#tally",
        Replies = urls.StatusReplies(author.Username, motion.Id),
        TextVersion = motion.TextVersion,
        Outcome = motion.OutcomeUri,
    };

    /// <summary>
    /// Create (first post) or Update of the Question to the author's followers, the allied actors and, at the
    /// close, every remote voter. A closed motion carries its tally with the ballots embedded.
    /// </summary>
    public async Task MotionChangedAsync(NpgsqlConnection conn, NpgsqlTransaction tx, Account author, MotionRow motion, TallyResult? tally,
        bool created, IReadOnlyList<string> voters, CancellationToken ct)
    {
        var document = await DocumentAsync(conn, tx, author, motion, tally, ct);
        JsonObject activity;
        var stamp = (motion.UpdatedAt).ToUnixTimeMilliseconds();
        if (created)
        {
            var question = DeliberationWriter.Motion(document, ContextUrl);
            activity = new JsonObject
            {
                ["@context"] = question["@context"]!.DeepClone(),
                ["id"] = urls.StatusActivity(author.Username, motion.Id),
                ["type"] = "Create",
                ["actor"] = author.Uri,
                ["published"] = ActivityPubWriter.Timestamp(document.Published),
                ["to"] = question["to"]!.DeepClone(),
                ["cc"] = question["cc"]!.DeepClone(),
            };
            question.Remove("@context");
            activity["object"] = question;
        }
        else
        {
            activity = DeliberationWriter.UpdateMotion($"{motion.Uri}#updates/{stamp}-{Guid.NewGuid():N}", document, ContextUrl);
        }
        if (motion.Phase == MotionPhase.Closed && tally is not null)
            activity["object"]!["tally"] = MotionDocuments.TallyDocument(motion, tally);
        await EnqueueAsync(conn, tx, author, activity, motion.AlliedActors.Concat(voters).Distinct(StringComparer.Ordinal).ToArray(), [author.Id], ct);
    }

    /// <summary>Create of a member's signed stance, to the motion's author on their instance.</summary>
    public Task StanceAsync(NpgsqlConnection conn, NpgsqlTransaction tx, Account voter, Account motionAuthor, JsonObject signedStance, CancellationToken ct)
    {
        var id = signedStance["id"]!.GetValue<string>();
        var activity = new JsonObject
        {
            ["@context"] = DeliberationVocabulary.DocumentContext(ContextUrl),
            ["id"] = id + "/activity",
            ["type"] = "Create",
            ["actor"] = voter.Uri,
            ["to"] = new JsonArray(motionAuthor.Uri),
            ["object"] = signedStance.DeepClone(),
        };
        return EnqueueAsync(conn, tx, voter, activity, [motionAuthor.Uri], [], ct);
    }

    /// <summary>Reject of a stance that will not be counted, with the reason, to its author.</summary>
    public Task RejectAsync(NpgsqlConnection conn, NpgsqlTransaction tx, Account motionAuthor, MotionRow motion, Rejection rejection, CancellationToken ct)
    {
        var activity = DeliberationWriter.RejectStance($"{motion.Uri}#rejections/{Guid.NewGuid():N}", motionAuthor.Uri, rejection, ContextUrl);
        return EnqueueAsync(conn, tx, motionAuthor, activity, [rejection.Voter], [], ct);
    }

    // ---- A motion's later life ----

    public static JsonObject AmendmentDocument(AmendmentRow a, MotionRow motion, string authorUri, string? contextUrl) =>
        DeliberationWriter.Amendment(new LocalAmendment
        {
            Id = a.Uri,
            AttributedTo = authorUri,
            Amends = motion.Uri,
            Published = a.CreatedAt,
            Updated = a.DecidedAt,
            ContentHtml = a.ReasonHtml,
            ProposedText = a.BodySource,
            ProposedName = a.Title,
            State = a.AmendmentState,
            TextVersion = a.TextVersion,
        }, contextUrl);

    /// <summary>Create of a member's amendment, from the member, to every participating instance.</summary>
    public Task AmendmentAsync(NpgsqlConnection conn, NpgsqlTransaction tx, Account member, Account motionAuthor, MotionRow motion, AmendmentRow amendment,
        IReadOnlyList<string> remoteVoters, CancellationToken ct)
    {
        var to = Participants(motion, motionAuthor, remoteVoters);
        var activity = Wrap("Create", amendment.Uri + "/activity", member.Uri, AmendmentDocument(amendment, motion, member.Uri, null), to);
        return EnqueueAsync(conn, tx, member, activity, to, [], ct);
    }

    /// <summary>
    /// An amendment put to the members' consent: <c>Update</c> of the amendment (<c>amendmentState: voting</c>) from the
    /// motion's author, to its author and every participating instance, so members there can take positions.
    /// </summary>
    public Task AmendmentPutToVoteAsync(NpgsqlConnection conn, NpgsqlTransaction tx, Account motionAuthor, MotionRow motion, AmendmentRow amendment,
        IReadOnlyList<string> remoteVoters, CancellationToken ct)
    {
        var to = Participants(motion, motionAuthor, remoteVoters.Append(amendment.AuthorUri));
        var activity = Wrap("Update", $"{motion.Uri}#amendments/{amendment.Id}/vote", motionAuthor.Uri,
            AmendmentDocument(amendment, motion, amendment.AuthorUri, null), to);
        return EnqueueAsync(conn, tx, motionAuthor, activity, to, [], ct);
    }

    /// <summary>A member's position on an amendment of another instance's motion: <c>Create</c>, to the motion's author, who counts it.</summary>
    public Task AmendmentPositionAsync(NpgsqlConnection conn, NpgsqlTransaction tx, Account member, Account motionAuthor, AmendmentRow amendment,
        string position, string? reasonHtml, DateTimeOffset now, CancellationToken ct)
    {
        // Each change of position is its own object (a later one replaces the earlier on the home instance).
        var id = $"{member.Uri}/amendment-positions/{amendment.Id}/{Guid.NewGuid():N}";
        var document = DeliberationWriter.AmendmentPosition(new LocalAmendmentPosition
        {
            Id = id, AttributedTo = member.Uri, Amendment = amendment.Uri, Position = position, ContentHtml = reasonHtml, Published = now,
            To = [motionAuthor.Uri],
        }, null);
        var activity = Wrap("Create", id + "/activity", member.Uri, document, [motionAuthor.Uri]);
        return EnqueueAsync(conn, tx, member, activity, [motionAuthor.Uri], [], ct);
    }

    /// <summary>
    /// The home instance's decision on an amendment: <c>Accept</c> (taken into the text; the motion's own Update
    /// carries the new text) or <c>Reject</c>, from the motion's author, to its author and every participating instance.
    /// </summary>
    public Task AmendmentDecisionAsync(NpgsqlConnection conn, NpgsqlTransaction tx, Account motionAuthor, MotionRow motion, AmendmentRow amendment,
        bool accepted, IReadOnlyList<string> remoteVoters, CancellationToken ct)
    {
        var to = Participants(motion, motionAuthor, remoteVoters.Append(amendment.AuthorUri));
        var activity = new JsonObject
        {
            ["@context"] = DeliberationVocabulary.DocumentContext(ContextUrl),
            ["id"] = $"{motion.Uri}#amendments/{amendment.Id}/{(accepted ? "accept" : "reject")}",
            ["type"] = accepted ? "Accept" : "Reject",
            ["actor"] = motionAuthor.Uri,
            ["to"] = new JsonArray(to.Select(u => (JsonNode?)u).ToArray()),
            ["object"] = amendment.Uri,
        };
        if (accepted && amendment.TextVersion is { } version) activity["textVersion"] = version;
        return EnqueueAsync(conn, tx, motionAuthor, activity, to, [], ct);
    }

    /// <summary>
    /// Create (first) or Update (rewritten) of the outcome, by the facilitator who wrote it, with the final
    /// tally's state and digest, to the motion author's followers, the allied instances and every remote voter.
    /// </summary>
    public Task OutcomeAsync(NpgsqlConnection conn, NpgsqlTransaction tx, Account facilitator, Account motionAuthor, MotionRow motion,
        bool first, IReadOnlyList<string> remoteVoters, CancellationToken ct)
    {
        var to = Participants(motion, motionAuthor, remoteVoters);
        var outcome = DeliberationWriter.Outcome(new LocalOutcome
        {
            Id = motion.OutcomeUri ?? MotionRow.OutcomeUriOf(motion.Uri),
            AttributedTo = facilitator.Uri,
            InReplyTo = motion.Uri,
            Published = motion.OutcomeAt ?? motion.UpdatedAt,
            To = [.. to],
            Cc = [ActivityStreams.Public],
            StatementHtml = motion.OutcomeHtml ?? "",
            State = DeliberationVocabulary.Parse<OutcomeState>(motion.TallyState) ?? OutcomeState.NoQuorum,
            ReviewDate = motion.ReviewAt,
            Tally = motion.Uri + "#tally",
            Digest = motion.TallyDigest,
        }, null);
        // The counts travel with the outcome (ballots stay in the Question's tally), so a reader sees what it reports.
        if (motion.Tally is { } tally && JsonNode.Parse(tally) is JsonObject tallyDoc)
        {
            tallyDoc.Remove("ballots");
            outcome["tally"] = tallyDoc;
        }
        var stamp = (motion.OutcomeAt ?? motion.UpdatedAt).ToUnixTimeMilliseconds();
        var activity = Wrap(first ? "Create" : "Update", $"{motion.Uri}#outcome/{stamp}", facilitator.Uri, outcome, to);
        return EnqueueAsync(conn, tx, facilitator, activity, to, [motionAuthor.Id], ct);
    }

    public static JsonObject CommitmentDocument(CommitmentRow c, MotionRow motion, string? contextUrl)
    {
        var forWhomIsActor = c.ForWhom is { } f && Uri.TryCreate(f, UriKind.Absolute, out var u) && u.Scheme is "http" or "https";
        var json = DeliberationWriter.Commitment(new LocalCommitment
        {
            Id = c.Uri,
            AttributedTo = c.AccountUri,
            Name = c.What,
            ClauseOf = motion.OutcomeUri ?? MotionRow.OutcomeUriOf(motion.Uri),
            Receiver = forWhomIsActor ? c.ForWhom : null,
            Due = c.DueAt,
            Finished = c.FulfilledAt is not null,
            Published = c.CreatedAt,
            Updated = c.UpdatedAt,
        }, contextUrl);
        // ValueFlows' receiver is an agent; "for whom" written in words goes in a Fellows term beside it.
        if (c.ForWhom is { Length: > 0 } words && !forWhomIsActor) json["forWhom"] = words;
        if (c.FulfilledAt is { } done) json["fulfilled"] = ActivityPubWriter.Timestamp(done);
        return json;
    }

    /// <summary>Create or Update (fulfilled) of a member's commitment, from the member, to every participating instance.</summary>
    public Task CommitmentAsync(NpgsqlConnection conn, NpgsqlTransaction tx, Account member, Account motionAuthor, MotionRow motion, CommitmentRow commitment,
        bool created, IReadOnlyList<string> remoteVoters, CancellationToken ct)
    {
        var to = Participants(motion, motionAuthor, remoteVoters);
        var stamp = (commitment.UpdatedAt ?? commitment.CreatedAt).ToUnixTimeMilliseconds();
        var activity = Wrap(created ? "Create" : "Update", $"{commitment.Uri}#{(created ? "create" : "update")}/{stamp}", member.Uri,
            CommitmentDocument(commitment, motion, null), to);
        return EnqueueAsync(conn, tx, member, activity, to, [], ct);
    }
}
