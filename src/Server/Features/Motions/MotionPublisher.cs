using System.Net;
using System.Text.Json.Nodes;
using Fellows.Federation;
using Fellows.Federation.Deliberation;
using Fellows.Federation.Vocabulary;
using Fellows.Server.Configuration;
using Fellows.Server.Features.Accounts;
using Fellows.Server.Features.Delivery;
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

/// <summary>Queues the activities of deliberation in the caller's transaction (transactional outbox).</summary>
public sealed class MotionPublisher(InstanceUrls urls, OutboxWriter outbox)
{
    string ContextUrl => DeliberationVocabulary.ContextUrl(urls.Base);

    public LocalMotion Document(Account author, MotionRow motion, TallyResult? tally) => new()
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
        var document = Document(author, motion, tally);
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
        await outbox.EnqueueAsync(conn, tx, new OutgoingActivity
        {
            ActivityId = activity["id"]!.GetValue<string>(),
            ActorAccountId = author.Id,
            Body = ActivityPubWriter.Serialize(activity),
            ToFollowersOf = [author.Id],
            ToActorUris = motion.AlliedActors.Concat(voters).Distinct(StringComparer.Ordinal).ToArray(),
            ToInboxes = [],
        }, ct);
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
        return outbox.EnqueueAsync(conn, tx, new OutgoingActivity
        {
            ActivityId = id + "/activity",
            ActorAccountId = voter.Id,
            Body = ActivityPubWriter.Serialize(activity),
            ToFollowersOf = [],
            ToActorUris = [motionAuthor.Uri],
            ToInboxes = [],
        }, ct);
    }

    /// <summary>Reject of a stance that will not be counted, with the reason, to its author.</summary>
    public Task RejectAsync(NpgsqlConnection conn, NpgsqlTransaction tx, Account motionAuthor, MotionRow motion, Rejection rejection, CancellationToken ct)
    {
        var activity = DeliberationWriter.RejectStance($"{motion.Uri}#rejections/{Guid.NewGuid():N}", motionAuthor.Uri, rejection, ContextUrl);
        return outbox.EnqueueAsync(conn, tx, new OutgoingActivity
        {
            ActivityId = activity["id"]!.GetValue<string>(),
            ActorAccountId = motionAuthor.Id,
            Body = ActivityPubWriter.Serialize(activity),
            ToFollowersOf = [],
            ToActorUris = [rejection.Voter],
            ToInboxes = [],
        }, ct);
    }
}
