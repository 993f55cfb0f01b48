using System.Text.Json.Nodes;
using Dapper;
using Fellows.Federation;
using Fellows.Federation.Vocabulary;
using Fellows.Server.Configuration;
using Fellows.Server.Features.ActivityPub;
using Fellows.Server.Features.Accounts;
using Fellows.Server.Features.Delivery;
using Fellows.Server.Features.Media;
using Fellows.Server.Features.Statuses;
using Npgsql;

namespace Fellows.Server.Features.Federation;

/// <summary>
/// Writes the activity that federates a member's action into the outbox, inside the caller's transaction, so
/// the state change and its deliveries commit (or roll back) together. Local recipients need nothing here:
/// they read the same tables.
/// </summary>
public sealed class OutboundPublisher(InstanceUrls urls, NoteBuilder notes, OutboxWriter outbox, ActorDocuments actors)
{
    public async Task StatusCreatedAsync(NpgsqlConnection conn, NpgsqlTransaction tx, Account author, Status status, Status? parent,
        IReadOnlyList<Account> mentioned, IReadOnlyList<string> tags, IReadOnlyList<MediaRow> attachments, CancellationToken ct, LocalPoll? poll = null)
    {
        var note = notes.Build(author, status, parent?.Uri, mentioned, tags, attachments, poll);
        var activity = ActivityPubWriter.Create(urls.StatusActivity(author.Username, status.Id), note);
        var recipients = mentioned.Where(m => !m.IsLocal).Select(m => m.Uri).ToList();
        // The author of the post replied to hears of the reply even when the text does not mention them,
        // unless the reply is direct (then only those mentioned may see it).
        if (parent is not null && status.VisibilityLevel != Visibility.Direct)
        {
            var parentAuthor = await conn.AccountByIdAsync(parent.AccountId, tx, ct);
            if (!parentAuthor.IsLocal) recipients.Add(parentAuthor.Uri);
        }
        await EnqueueAsync(conn, tx, author, activity, toFollowers: status.VisibilityLevel != Visibility.Direct, recipients, ct);
    }

    /// <summary>Update of an edited note, to the same audience as its Create; returns the activity (groups announce it).</summary>
    public async Task<JsonObject> StatusUpdatedAsync(NpgsqlConnection conn, NpgsqlTransaction tx, Account author, Status status, CancellationToken ct)
    {
        var note = (await notes.BuildManyAsync(conn, author, [status], ct, tx))[0];
        var activity = ActivityPubWriter.Update($"{status.Uri}#updates/{status.EditedAt?.ToUnixTimeMilliseconds()}", note);
        var mentioned = (await conn.QueryAsync<string>(new CommandDefinition(
            "SELECT a.uri FROM mentions m JOIN accounts a ON a.id = m.account_id WHERE m.status_id = @id AND a.domain IS NOT NULL",
            new { id = status.Id }, tx, cancellationToken: ct))).ToList();
        if (status.InReplyToAccountId is { } parentAuthorId && status.VisibilityLevel != Visibility.Direct)
        {
            var parentAuthor = await conn.AccountByIdAsync(parentAuthorId, tx, ct);
            if (!parentAuthor.IsLocal) mentioned.Add(parentAuthor.Uri);
        }
        await EnqueueAsync(conn, tx, author, activity, toFollowers: status.VisibilityLevel != Visibility.Direct, mentioned, ct);
        return activity;
    }

    /// <summary>
    /// Update of a post's Question with its current counts (after a vote, and at the close), to its audience and to
    /// every remote voter, as Mastodon sends it. Not an edit: the post's text and history stay as they are.
    /// </summary>
    public async Task PollUpdatedAsync(NpgsqlConnection conn, NpgsqlTransaction tx, Account author, Status status, CancellationToken ct)
    {
        var note = (await notes.BuildManyAsync(conn, author, [status], ct, tx))[0];
        var activity = ActivityPubWriter.Update($"{status.Uri}#updates/poll-{Guid.NewGuid():N}", note);
        var recipients = (await conn.QueryAsync<string>(new CommandDefinition("""
            SELECT a.uri FROM mentions m JOIN accounts a ON a.id = m.account_id WHERE m.status_id = @id AND a.domain IS NOT NULL
            UNION
            SELECT a.uri FROM poll_votes v JOIN polls p ON p.id = v.poll_id JOIN accounts a ON a.id = v.account_id
            WHERE p.status_id = @id AND a.domain IS NOT NULL
            """, new { id = status.Id }, tx, cancellationToken: ct))).ToList();
        await EnqueueAsync(conn, tx, author, activity, toFollowers: status.VisibilityLevel != Visibility.Direct, recipients, ct);
    }

    /// <summary>A member's vote on another server's poll: one Create of a named Note per chosen option, to the poll's author only.</summary>
    public async Task PollVotesAsync(NpgsqlConnection conn, NpgsqlTransaction tx, Account voter, Status poll, Account pollAuthor,
        IReadOnlyList<(string Id, string Name)> votes, DateTimeOffset now, CancellationToken ct)
    {
        foreach (var (id, name) in votes)
            await EnqueueAsync(conn, tx, voter, ActivityPubWriter.PollVote(id, voter.Uri, poll.Uri, pollAuthor.Uri, name, now), toFollowers: false, [pollAuthor.Uri], ct);
    }

    /// <summary>Add or Remove of a pinned post in the member's featured collection, as Mastodon sends it.</summary>
    public Task FeaturedChangedAsync(NpgsqlConnection conn, NpgsqlTransaction tx, Account author, Status status, bool added, CancellationToken ct) =>
        EnqueueAsync(conn, tx, author, ActivityPubWriter.Activity(added ? "Add" : "Remove", urls.NewActivity(author.Username, added ? "pins" : "unpins"),
            author.Uri, status.Uri, [ActivityStreams.Public], target: urls.Featured(author.Username)), toFollowers: true, [], ct);

    /// <summary>Delete of a note, with a Tombstone; returns the activity (groups announce it).</summary>
    public async Task<JsonObject> StatusDeletedAsync(NpgsqlConnection conn, NpgsqlTransaction tx, Account author, Status status, CancellationToken ct)
    {
        var mentioned = (await conn.QueryAsync<string>(new CommandDefinition(
            "SELECT a.uri FROM mentions m JOIN accounts a ON a.id = m.account_id WHERE m.status_id = @id AND a.domain IS NOT NULL",
            new { id = status.Id }, tx, cancellationToken: ct))).ToList();
        var activity = ActivityPubWriter.Delete($"{status.Uri}#delete", author.Uri,
            status.Uri, [ActivityStreams.Public], [urls.Followers(author.Username), .. mentioned]);
        activity["object"] = ActivityPubWriter.Tombstone(status.Uri, "Note");
        await EnqueueAsync(conn, tx, author, activity, toFollowers: status.VisibilityLevel != Visibility.Direct, mentioned, ct);
        return activity;
    }

    public async Task LikeAsync(NpgsqlConnection conn, NpgsqlTransaction tx, Account actor, Status status, string likeId, CancellationToken ct)
    {
        var author = await conn.AccountByIdAsync(status.AccountId, tx, ct);
        if (author.IsLocal) return;
        await EnqueueAsync(conn, tx, actor, ActivityPubWriter.Like(likeId, actor.Uri, status.Uri, author.Uri), toFollowers: false, [author.Uri], ct);
    }

    public async Task UndoLikeAsync(NpgsqlConnection conn, NpgsqlTransaction tx, Account actor, Status status, string likeId, CancellationToken ct)
    {
        var author = await conn.AccountByIdAsync(status.AccountId, tx, ct);
        if (author.IsLocal) return;
        var like = ActivityPubWriter.Like(likeId, actor.Uri, status.Uri, author.Uri);
        await EnqueueAsync(conn, tx, actor, ActivityPubWriter.Undo($"{likeId}/undo", actor.Uri, like, [author.Uri]), toFollowers: false, [author.Uri], ct);
    }

    public async Task ReblogAsync(NpgsqlConnection conn, NpgsqlTransaction tx, Account actor, Status boost, Status original, CancellationToken ct)
    {
        var author = await conn.AccountByIdAsync(original.AccountId, tx, ct);
        var activity = Announce(actor, boost, original, author);
        await EnqueueAsync(conn, tx, actor, activity, toFollowers: true, author.IsLocal ? [] : [author.Uri], ct);
    }

    public async Task UnreblogAsync(NpgsqlConnection conn, NpgsqlTransaction tx, Account actor, Status boost, Status original, CancellationToken ct)
    {
        var author = await conn.AccountByIdAsync(original.AccountId, tx, ct);
        var announce = Announce(actor, boost, original, author);
        var undo = ActivityPubWriter.Undo($"{boost.Uri}/undo", actor.Uri, announce, [ActivityStreams.Public]);
        await EnqueueAsync(conn, tx, actor, undo, toFollowers: true, author.IsLocal ? [] : [author.Uri], ct);
    }

    JsonObject Announce(Account actor, Status boost, Status original, Account author) =>
        ActivityPubWriter.Announce(boost.Uri, actor.Uri, original.Uri, [ActivityStreams.Public],
            [author.Uri, urls.Followers(actor.Username)], boost.CreatedAt);

    public Task FollowAsync(NpgsqlConnection conn, NpgsqlTransaction tx, Account me, Account target, string followId, CancellationToken ct) =>
        EnqueueAsync(conn, tx, me, ActivityPubWriter.Follow(followId, me.Uri, target.Uri), toFollowers: false, [target.Uri], ct);

    public Task UndoFollowAsync(NpgsqlConnection conn, NpgsqlTransaction tx, Account me, Account target, string followId, CancellationToken ct)
    {
        var follow = ActivityPubWriter.Follow(followId, me.Uri, target.Uri);
        return EnqueueAsync(conn, tx, me, ActivityPubWriter.Undo($"{followId}/undo", me.Uri, follow, [target.Uri]), toFollowers: false, [target.Uri], ct);
    }

    public Task AcceptFollowAsync(NpgsqlConnection conn, NpgsqlTransaction tx, Account me, Account follower, string? followId, CancellationToken ct) =>
        EnqueueAsync(conn, tx, me, ActivityPubWriter.Accept(urls.NewActivity(me.Username, "accepts"), me.Uri,
            followId ?? urls.NewActivity(follower.Username, "follows"), follower.Uri), toFollowers: false, [follower.Uri], ct);

    public Task RejectFollowAsync(NpgsqlConnection conn, NpgsqlTransaction tx, Account me, Account follower, string? followId, CancellationToken ct) =>
        EnqueueAsync(conn, tx, me, ActivityPubWriter.Reject(urls.NewActivity(me.Username, "rejects"), me.Uri,
            followId ?? urls.NewActivity(follower.Username, "follows"), follower.Uri), toFollowers: false, [follower.Uri], ct);

    public Task BlockAsync(NpgsqlConnection conn, NpgsqlTransaction tx, Account me, Account target, string blockId, CancellationToken ct) =>
        EnqueueAsync(conn, tx, me, ActivityPubWriter.Block(blockId, me.Uri, target.Uri), toFollowers: false, [target.Uri], ct);

    public Task UndoBlockAsync(NpgsqlConnection conn, NpgsqlTransaction tx, Account me, Account target, string blockId, CancellationToken ct) =>
        EnqueueAsync(conn, tx, me, ActivityPubWriter.Undo($"{blockId}/undo", me.Uri, ActivityPubWriter.Block(blockId, me.Uri, target.Uri), [target.Uri]),
            toFollowers: false, [target.Uri], ct);

    /// <summary>
    /// Update of the member's actor (name, bio, fields, aliases, keys) to their followers' servers. When
    /// <paramref name="movedTo"/> is given it is written into the document, as the move is not committed yet.
    /// </summary>
    public async Task ActorUpdatedAsync(NpgsqlConnection conn, NpgsqlTransaction tx, Account account, CancellationToken ct, string? movedTo = null)
    {
        var doc = await actors.BuildAsync(account, ct);
        if (doc is null) return;
        if (movedTo is not null) doc = doc with { MovedTo = movedTo };
        var update = ActivityPubWriter.Update(urls.NewActivity(account.Username, "updates"), doc, [ActivityStreams.Public]);
        await EnqueueAsync(conn, tx, account, update, toFollowers: true, [], ct);
    }

    /// <summary>Move of the member's followers to <paramref name="target"/>, which must already name them in alsoKnownAs.</summary>
    public Task MovedAsync(NpgsqlConnection conn, NpgsqlTransaction tx, Account account, Account target, CancellationToken ct) =>
        EnqueueAsync(conn, tx, account, ActivityPubWriter.Move(urls.NewActivity(account.Username, "moves"), account.Uri, target.Uri,
            [urls.Followers(account.Username)]), toFollowers: true, [], ct);

    async Task EnqueueAsync(NpgsqlConnection conn, NpgsqlTransaction tx, Account actor, JsonObject activity, bool toFollowers,
        IReadOnlyList<string> actorUris, CancellationToken ct)
    {
        if (!toFollowers && actorUris.Count == 0) return;
        await outbox.EnqueueAsync(conn, tx, new OutgoingActivity
        {
            ActivityId = activity["id"]!.GetValue<string>(),
            ActorAccountId = actor.Id,
            Body = ActivityPubWriter.Serialize(activity),
            ToFollowersOf = toFollowers ? [actor.Id] : [],
            ToActorUris = actorUris.Distinct().ToArray(),
            ToInboxes = [],
        }, ct);
    }
}
