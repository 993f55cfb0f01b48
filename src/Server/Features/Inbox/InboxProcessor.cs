using System.Text.Json;
using System.Text.Json.Nodes;
using Dapper;
using Fellows.Federation.Html;
using Fellows.Federation.Http;
using Fellows.Federation.Vocabulary;
using Fellows.Server.Configuration;
using Fellows.Server.Features.Accounts;
using Fellows.Server.Features.Federation;
using Fellows.Server.Features.Follows;
using Fellows.Server.Features.Instance;
using Fellows.Server.Features.Notifications;
using Fellows.Server.Features.Motions;
using Fellows.Server.Features.Statuses;
using Npgsql;

namespace Fellows.Server.Features.Inbox;

/// <summary>
/// Applies one verified inbound activity. The signature proved who the actor is; every rule below keeps that
/// actor to what is theirs: their own notes, likes, boosts and follows, never another's.
/// </summary>
public sealed class InboxProcessor(
    NpgsqlDataSource db, RemoteActors actors, ActivityPubClient client, InstanceActor instance,
    OutboundPublisher publisher, FollowMigration migration, MotionInbox motions, MotionLifecycleInbox lifecycle, Polls.PollService polls,
    Groups.GroupAnnouncer groups, TimeProvider clock, ILogger<InboxProcessor> logger)
{
    /// <summary>Null when applied (or deliberately ignored); an error message when it should be retried.</summary>
    public async Task<string?> ProcessAsync(InboxItem item, CancellationToken ct)
    {
        using var doc = JsonDocument.Parse(item.Body);
        if (!RemoteActivity.TryRead(doc.RootElement, out var activity, out var error)) return null;
        var actor = await actors.ResolveAsync(activity.Actor, forceRefresh: false, ct);
        if (actor is null) return "actor could not be resolved";
        if (actor.IsLocal) return null;

        switch (activity.Type)
        {
            case "Follow": await FollowAsync(actor, activity, ct); break;
            case "Accept": await AcceptAsync(actor, activity, ct); break;
            case "Reject": await RejectAsync(actor, activity, doc.RootElement, ct); break;
            case "Undo": await UndoAsync(actor, activity, ct); break;
            case "Create": return await CreateAsync(actor, activity, ct);
            case "Update": return await UpdateAsync(actor, activity, doc.RootElement, ct);
            case "Delete": await DeleteAsync(actor, activity, doc.RootElement, ct); break;
            case "Like": await LikeAsync(actor, activity, ct); break;
            case "Announce": return await AnnounceAsync(actor, activity, doc.RootElement, ct);
            case "Block": await BlockAsync(actor, activity, ct); break;
            case "Move": await MoveAsync(actor, activity, ct); break;
            default:
                logger.LogDebug("Ignoring {Type} from {Actor}", activity.Type, actor.Uri);
                break;
        }
        return null;
    }

    static async Task<Account?> LocalAsync(NpgsqlConnection conn, NpgsqlTransaction? tx, string? uri, CancellationToken ct) =>
        uri is null ? null : await conn.QuerySingleOrDefaultAsync<Account>(new CommandDefinition(
            AccountQueries.ByUri + " AND a.domain IS NULL AND a.deleted_at IS NULL", new { uri }, tx, cancellationToken: ct));

    async Task FollowAsync(Account actor, RemoteActivity activity, CancellationToken ct)
    {
        await using var conn = await db.OpenConnectionAsync(ct);
        await using var tx = await conn.BeginTransactionAsync(ct);
        var target = await LocalAsync(conn, tx, activity.ObjectId, ct);
        // Members and groups can be followed; following a workgroup is joining it (a request when it approves members).
        if (target is null || target.ActorType is not ("Person" or "Group")) return;
        // Refused when the member blocked the follower, or the follower's whole server (their own domain block).
        var blocked = await conn.ExecuteScalarAsync<bool>(new CommandDefinition("""
            SELECT EXISTS (SELECT 1 FROM blocks WHERE account_id = @t AND target_account_id = @a)
                OR EXISTS (SELECT 1 FROM account_domain_blocks WHERE account_id = @t AND domain = lower(@domain))
            """, new { t = target.Id, a = actor.Id, domain = actor.Domain ?? "" }, tx, cancellationToken: ct));
        var now = clock.GetUtcNow();
        if (blocked)
        {
            await publisher.RejectFollowAsync(conn, tx, target, actor, activity.Id, ct);
        }
        else if (target.Locked)
        {
            await conn.ExecuteAsync(new CommandDefinition(FollowQueries.InsertRequest,
                new { accountId = actor.Id, targetId = target.Id, uri = activity.Id, showReblogs = true, notify = false, now }, tx, cancellationToken: ct));
            await conn.NotifyAsync(tx, target.Id, actor.Id, NotificationType.FollowRequest, null, now, ct);
        }
        else
        {
            await conn.ExecuteAsync(new CommandDefinition(FollowQueries.InsertFollow,
                new { accountId = actor.Id, targetId = target.Id, uri = activity.Id, showReblogs = true, notify = false, now }, tx, cancellationToken: ct));
            await conn.NotifyAsync(tx, target.Id, actor.Id, NotificationType.Follow, null, now, ct);
            await publisher.AcceptFollowAsync(conn, tx, target, actor, activity.Id, ct);
        }
        await tx.CommitAsync(ct);
    }

    /// <summary>Accept of one of our Follows: only the followee can accept it.</summary>
    async Task AcceptAsync(Account actor, RemoteActivity activity, CancellationToken ct)
    {
        // An Accept of an amendment: the motion's author took it into the text.
        if (activity.InnerActivity is null && await lifecycle.TryReceiveDecisionAsync(actor, activity.ObjectId, accepted: true, null, ct)) return;
        var followId = activity.InnerActivity?.Id ?? activity.ObjectId;
        await using var conn = await db.OpenConnectionAsync(ct);
        await using var tx = await conn.BeginTransactionAsync(ct);
        var request = followId is null ? null : await conn.QuerySingleOrDefaultAsync<FollowRow>(new CommandDefinition(
            FollowQueries.RequestToByUri, new { targetId = actor.Id, uri = followId }, tx, cancellationToken: ct));
        // Some servers echo the Follow without its id; match on the (local follower, accepting actor) pair instead.
        if (request is null && await LocalAsync(conn, tx, activity.InnerActivity?.Actor, ct) is { } follower)
        {
            request = await conn.QuerySingleOrDefaultAsync<FollowRow>(new CommandDefinition(FollowQueries.FindRequest,
                new { accountId = follower.Id, targetId = actor.Id }, tx, cancellationToken: ct));
        }
        if (request is null) return;
        await conn.ExecuteAsync(new CommandDefinition(FollowQueries.PromoteRequest,
            new { accountId = request.AccountId, targetId = actor.Id, now = clock.GetUtcNow() }, tx, cancellationToken: ct));
        await tx.CommitAsync(ct);
    }

    async Task RejectAsync(Account actor, RemoteActivity activity, JsonElement raw, CancellationToken ct)
    {
        // A Reject of a member's stance on an allied instance's motion says why it was not counted.
        if (activity.InnerActivity is null && await motions.TryReceiveRejectionAsync(actor, activity.ObjectId, RejectionReasonOf(raw), activity.Content, ct))
            return;
        // A Reject of an amendment: the motion's author (or its members' consent) declined it.
        if (activity.InnerActivity is null && await lifecycle.TryReceiveDecisionAsync(actor, activity.ObjectId, accepted: false, null, ct)) return;
        var followId = activity.InnerActivity?.Id ?? activity.ObjectId;
        await using var conn = await db.OpenConnectionAsync(ct);
        await conn.ExecuteAsync(new CommandDefinition("""
            DELETE FROM follow_requests WHERE target_account_id = @actor AND uri = @followId;
            DELETE FROM follows WHERE target_account_id = @actor AND uri = @followId;
            """, new { actor = actor.Id, followId }, cancellationToken: ct));
    }

    async Task UndoAsync(Account actor, RemoteActivity activity, CancellationToken ct)
    {
        var inner = activity.InnerActivity;
        var innerId = inner?.Id ?? activity.ObjectId;
        // Only the actor who did something can undo it.
        if (inner is not null && inner.Actor != actor.Uri) return;
        await using var conn = await db.OpenConnectionAsync(ct);
        await using var tx = await conn.BeginTransactionAsync(ct);
        switch (inner?.Type)
        {
            case "Follow":
                var target = await LocalAsync(conn, tx, inner.ObjectId, ct);
                if (target is not null)
                {
                    await conn.ExecuteAsync(new CommandDefinition("""
                        DELETE FROM follows WHERE account_id = @a AND target_account_id = @t;
                        DELETE FROM follow_requests WHERE account_id = @a AND target_account_id = @t;
                        """, new { a = actor.Id, t = target.Id }, tx, cancellationToken: ct));
                    await conn.WithdrawAsync(tx, target.Id, actor.Id, NotificationType.Follow, null, ct);
                    await conn.WithdrawAsync(tx, target.Id, actor.Id, NotificationType.FollowRequest, null, ct);
                }
                break;
            case "Like":
                var statusId = await conn.ExecuteScalarAsync<long?>(new CommandDefinition(
                    "DELETE FROM favourites f WHERE f.account_id = @a AND (f.uri = @innerId OR f.status_id = (SELECT id FROM statuses WHERE uri = @objectId)) RETURNING f.status_id",
                    new { a = actor.Id, innerId, objectId = inner.ObjectId }, tx, cancellationToken: ct));
                if (statusId is not null)
                {
                    await conn.ExecuteAsync(new CommandDefinition("UPDATE statuses SET favourites_count = greatest(favourites_count - 1, 0) WHERE id = @statusId", new { statusId }, tx, cancellationToken: ct));
                    await WithdrawFromAuthorAsync(conn, tx, statusId.Value, actor.Id, NotificationType.Favourite, ct);
                }
                break;
            case "Announce":
                var original = await conn.ExecuteScalarAsync<long?>(new CommandDefinition(
                    "UPDATE statuses SET deleted_at = @now WHERE account_id = @a AND uri = @innerId AND reblog_of_id IS NOT NULL AND deleted_at IS NULL RETURNING reblog_of_id",
                    new { a = actor.Id, innerId, now = clock.GetUtcNow() }, tx, cancellationToken: ct));
                if (original is not null)
                {
                    await conn.ExecuteAsync(new CommandDefinition("UPDATE statuses SET reblogs_count = greatest(reblogs_count - 1, 0) WHERE id = @original", new { original }, tx, cancellationToken: ct));
                    await WithdrawFromAuthorAsync(conn, tx, original.Value, actor.Id, NotificationType.Reblog, ct);
                }
                break;
            case "Block":
                var blocked = await LocalAsync(conn, tx, inner.ObjectId, ct);
                if (blocked is not null)
                    await conn.ExecuteAsync(new CommandDefinition("DELETE FROM blocks WHERE account_id = @a AND target_account_id = @t",
                        new { a = actor.Id, t = blocked.Id }, tx, cancellationToken: ct));
                break;
            default:
                // An Undo referring to an activity by id only: try the ones we store by id.
                await conn.ExecuteAsync(new CommandDefinition("""
                    DELETE FROM follows WHERE account_id = @a AND uri = @innerId;
                    DELETE FROM follow_requests WHERE account_id = @a AND uri = @innerId;
                    DELETE FROM favourites WHERE account_id = @a AND uri = @innerId;
                    """, new { a = actor.Id, innerId }, tx, cancellationToken: ct));
                break;
        }
        await tx.CommitAsync(ct);
    }

    /// <summary>
    /// The note as its author's server has it: an embedded object from the actor's own origin is taken as
    /// sent; anything else is refetched from its id, never trusted (FEP-fe34).
    /// </summary>
    async Task<RemoteObject?> AuthenticNoteAsync(Account actor, RemoteActivity activity, CancellationToken ct)
    {
        if (activity.EmbeddedObject is { } embedded && RemoteObject.TryRead(embedded, out var note, out _)
            && RemoteActors.SameOrigin(note.Id, actor.Uri))
            return note;
        if (activity.ObjectId is null || !Uri.TryCreate(activity.ObjectId, UriKind.Absolute, out var objectUri)) return null;
        using var fetched = await client.FetchAsync(objectUri, instance.Signer, ct);
        return fetched.IsOk && RemoteObject.TryRead(fetched.Document!.RootElement, out var refetched, out _) ? refetched : null;
    }

    async Task<string?> CreateAsync(Account actor, RemoteActivity activity, CancellationToken ct)
    {
        if (await TryDeliberationObjectAsync(actor, activity, ct)) return null;
        // A stance (or a plain poll vote) in reply to one of our motions is counted or rejected, not stored as a post.
        // Only an embedded object from the voter's own origin is taken: its integrity proof is checked on it as sent.
        if (activity.EmbeddedObject is { } embedded && embedded.ValueKind == JsonValueKind.Object
            && embedded.TryGetProperty("id", out var embeddedId) && embeddedId.ValueKind == JsonValueKind.String
            && RemoteActors.SameOrigin(embeddedId.GetString()!, actor.Uri)
            && (await motions.TryReceiveStanceAsync(actor, embedded, ct) || await polls.TryReceiveVoteAsync(actor, embedded, ct)))
            return null;
        var note = await AuthenticNoteAsync(actor, activity, ct);
        if (note is null) return null;
        if (note.Type is not ("Note" or "Article" or "Page" or "Question" or "Video")) return null;
        if (note.AttributedTo != actor.Uri) return null;
        var status = await StoreNoteAsync(actor, note, wanted: false, ct);
        await MirrorMotionAsync(actor, activity, note, status, ct);
        // Addressed to a group here (to, cc or audience) by one of its members: the group announces it (FEP-1b12).
        if (status is not null)
            await groups.AnnounceAsync(actor, status, [.. note.To, .. note.Cc, .. note.Mentions.Select(m => m.Href), .. AudienceOf(note)], ct);
        return null;
    }

    /// <summary>An allied instance's motion (a Question that is also a fellows:Motion) is mirrored so members here can take a stance.</summary>
    async Task MirrorMotionAsync(Account actor, RemoteActivity activity, RemoteObject note, Status? status, CancellationToken ct)
    {
        if (note.Type != "Question" || activity.EmbeddedObject is not { } embedded || !RemoteActors.SameOrigin(note.Id, actor.Uri)) return;
        if (status is null)
        {
            await using var conn = await db.OpenConnectionAsync(ct);
            status = await conn.QuerySingleOrDefaultAsync<Status>(new CommandDefinition(StatusQueries.ByUri, new { uri = note.Id }, cancellationToken: ct));
        }
        await motions.ReceiveMotionAsync(actor, embedded, status?.Id, ct);
    }

    static IEnumerable<string> AudienceOf(RemoteObject note) => note.Audience is { } audience ? [audience] : [];

    /// <summary>
    /// An amendment, outcome or commitment (Create or Update): kept with the motion it belongs to, not stored as a
    /// post. Only an embedded object from the actor's own origin is taken (the signature vouches for it).
    /// </summary>
    async Task<bool> TryDeliberationObjectAsync(Account actor, RemoteActivity activity, CancellationToken ct) =>
        activity.EmbeddedObject is { ValueKind: JsonValueKind.Object } embedded
        && embedded.TryGetProperty("id", out var id) && id.ValueKind == JsonValueKind.String && RemoteActors.SameOrigin(id.GetString()!, actor.Uri)
        && await lifecycle.TryReceiveAsync(actor, embedded, ct);

    static string? RejectionReasonOf(JsonElement raw) =>
        raw.TryGetProperty("rejectionReason", out var reason) && reason.ValueKind == JsonValueKind.String ? reason.GetString() : null;

    /// <summary>
    /// Stores a remote note when it concerns someone here: it mentions or replies to a member, or a member follows
    /// its author (or, with <paramref name="wanted"/>, someone a member follows boosted it).
    /// </summary>
    async Task<Status?> StoreNoteAsync(Account author, RemoteObject note, bool wanted, CancellationToken ct)
    {
        await using var conn = await db.OpenConnectionAsync(ct);
        var existing = await conn.QuerySingleOrDefaultAsync<Status>(new CommandDefinition(StatusQueries.ByUri, new { uri = note.Id }, cancellationToken: ct));
        if (existing is not null) return existing;
        var tombstoned = await conn.ExecuteScalarAsync<bool>(new CommandDefinition("SELECT EXISTS (SELECT 1 FROM tombstones WHERE uri = @uri)", new { uri = note.Id }, cancellationToken: ct));
        if (tombstoned) return null;

        var recipients = note.To.Concat(note.Cc).ToList();
        var visibility = note.IsPublic
            ? (Addressing.IsPublic(note.To) ? Visibility.Public : Visibility.Unlisted)
            : author.FollowersUrl is { } followers && recipients.Contains(followers) ? Visibility.Private : Visibility.Direct;

        var mentionUris = note.Mentions.Select(m => m.Href).Concat(recipients).Concat(AudienceOf(note)).Distinct().ToArray();
        var mentionedLocal = (await conn.QueryAsync<long>(new CommandDefinition(
            "SELECT id FROM accounts WHERE uri = ANY(@uris) AND domain IS NULL", new { uris = mentionUris }, cancellationToken: ct))).ToList();
        Status? parent = null;
        if (note.InReplyTo is { } inReplyTo)
            parent = await conn.QuerySingleOrDefaultAsync<Status>(new CommandDefinition(StatusQueries.ByUri, new { uri = inReplyTo }, cancellationToken: ct));
        if (!wanted && mentionedLocal.Count == 0 && parent is null && !await HasLocalFollowersAsync(conn, author, ct)) return null;

        var now = clock.GetUtcNow();
        var published = note.Published is { } p && p < now.AddMinutes(5) ? p : now;
        // A reply comes after what it answers. Most servers write `published` in whole seconds, so a quick reply can
        // claim an earlier instant than its parent: its id, which orders timelines and conversations, would sort
        // before the parent's, and a conversation would keep the parent as its latest post.
        if (parent is not null && published <= parent.CreatedAt) published = parent.CreatedAt.AddMilliseconds(1);
        await using var tx = await conn.BeginTransactionAsync(ct);
        var status = new Status
        {
            Id = await conn.ExecuteScalarAsync<long>(new CommandDefinition(StatusQueries.NextId, new { at = published }, tx, cancellationToken: ct)),
            Uri = note.Id,
            Url = note.Url ?? note.Id,
            AccountId = author.Id,
            InReplyToId = parent?.Id,
            InReplyToUri = note.InReplyTo,
            InReplyToAccountId = parent?.AccountId,
            Content = RemoteHtml.Sanitize(note.Content ?? ""),
            SpoilerText = RemoteHtml.ToPlainText(note.Summary ?? ""),
            Sensitive = note.Sensitive,
            Visibility = (short)visibility,
            Language = note.Language,
            Local = false,
            CreatedAt = published,
            RepliesCount = 0,
            ReblogsCount = 0,
            FavouritesCount = 0,
        };
        if (!await conn.InsertStatusAsync(status, tx, ct)) return null;
        foreach (var accountId in mentionedLocal)
            await conn.ExecuteAsync(new CommandDefinition(StatusQueries.InsertMention, new { statusId = status.Id, accountId }, tx, cancellationToken: ct));
        await conn.AddTagsAsync(status.Id, note.Hashtags.Select(h => h.Name.TrimStart('#')).Where(t => t.Length is > 0 and <= 100).Distinct().Take(20), tx, ct);
        await conn.AddRemoteAttachmentsAsync(status, note.Attachments, tx, ct);
        if (note.Type == "Question" && note.Poll is { } poll)
            await Polls.PollService.InsertRemoteAsync(conn, tx, status, poll, now, ct);
        if (visibility == Visibility.Direct)
            await Conversations.ConversationWrites.RecordAsync(conn, tx, status, [author.Id, .. mentionedLocal], now, ct);
        if (parent is not null)
            await conn.ExecuteAsync(new CommandDefinition(StatusQueries.IncrementReplies, new { id = parent.Id }, tx, cancellationToken: ct));
        // Told at the time it arrives, whatever the note claims as its publication date.
        await conn.NotifyManyAsync(tx, mentionedLocal, author.Id, NotificationType.Mention, status.Id, now, ct);
        if (!wanted && visibility != Visibility.Direct && (parent is null || parent.AccountId == author.Id))
            await conn.NotifySubscribersAsync(tx, author.Id, status.Id, now, ct);
        await tx.CommitAsync(ct);
        return status;
    }

    async Task<string?> UpdateAsync(Account actor, RemoteActivity activity, JsonElement raw, CancellationToken ct)
    {
        if (activity.ObjectId == actor.Uri)
        {
            // The actor signed this Update of itself, so the embedded profile comes from its origin and is stored
            // as sent (a refetch could be skipped as too soon after the last one); a bare id is refetched.
            if (activity.EmbeddedObject is { } profile) await actors.StoreAsync(profile, ct);
            else await actors.ResolveAsync(actor.Uri, forceRefresh: true, ct);
            return null;
        }
        if (await TryDeliberationObjectAsync(actor, activity, ct)) return null;
        var note = await AuthenticNoteAsync(actor, activity, ct);
        if (note is null || note.AttributedTo != actor.Uri) return null;
        await MirrorMotionAsync(actor, activity, note, null, ct);
        await using var conn = await db.OpenConnectionAsync(ct);
        await using var tx = await conn.BeginTransactionAsync(ct);
        var existing = await conn.QuerySingleOrDefaultAsync<Status>(new CommandDefinition(StatusQueries.ByUri + " FOR UPDATE", new { uri = note.Id }, tx, cancellationToken: ct));
        // Only the owner can change a note; the version it replaces is kept for the history.
        if (existing is null || existing.AccountId != actor.Id || existing.DeletedAt is not null) return null;
        // Deliveries of a poll's Updates can overtake each other (one per vote, one per edit): an Update of an older
        // version than the one stored changes nothing, and one that names no version (a count Update of a poll never
        // edited, sent before an edit) may not change the options. Only for Questions: a plain note's edit without
        // `updated` was stored at our own time, which another server's clock need not agree with.
        var question = note.Type == "Question";
        if (question && existing.EditedAt is { } stored && note.Updated is { } sent && sent < stored) return null;
        var staleOptions = question && existing.EditedAt is not null && note.Updated is null;
        var optionsBefore = await conn.ExecuteScalarAsync<string[]?>(new CommandDefinition("SELECT options FROM polls WHERE status_id = @id",
            new { id = existing.Id }, tx, cancellationToken: ct));
        if (note.Type == "Question" && note.Poll is { } poll)
        {
            var pollEdited = !staleOptions && await Polls.PollService.RefreshRemoteAsync(conn, tx, existing.Id, poll, clock.GetUtcNow(), ct);
            if (staleOptions && poll.Options.Select(o => RemoteHtml.ToPlainText(o.Name)).SequenceEqual(optionsBefore ?? [], StringComparer.Ordinal))
                await Polls.PollService.RefreshRemoteAsync(conn, tx, existing.Id, poll, clock.GetUtcNow(), ct);
            // New counts with the same text and options are not an edit (Mastodon sends one after votes and at the close).
            if (!pollEdited && RemoteHtml.Sanitize(note.Content ?? "") == existing.Content && RemoteHtml.ToPlainText(note.Summary ?? "") == existing.SpoilerText)
            {
                await tx.CommitAsync(ct);
                return null;
            }
        }
        await StatusEdits.KeepVersionAsync(conn, tx, existing, [], ct, optionsBefore);
        var edited = await conn.ExecuteScalarAsync<long?>(new CommandDefinition("""
            UPDATE statuses SET content = @content, spoiler_text = @spoiler, sensitive = @sensitive, edited_at = @editedAt
            WHERE uri = @uri AND account_id = @accountId AND deleted_at IS NULL
            RETURNING id
            """, new
        {
            uri = note.Id, accountId = actor.Id, content = RemoteHtml.Sanitize(note.Content ?? ""),
            spoiler = RemoteHtml.ToPlainText(note.Summary ?? ""), sensitive = note.Sensitive, editedAt = note.Updated ?? clock.GetUtcNow(),
        }, tx, cancellationToken: ct));
        if (edited is { } statusId)
        {
            // Members who boosted it are told it changed, as in Mastodon: they passed it on.
            var boosters = (await conn.QueryAsync<long>(new CommandDefinition(
                "SELECT account_id FROM statuses WHERE reblog_of_id = @statusId AND local AND deleted_at IS NULL",
                new { statusId }, tx, cancellationToken: ct))).ToList();
            await conn.NotifyManyAsync(tx, boosters, actor.Id, NotificationType.Update, statusId, clock.GetUtcNow(), ct);
            // Groups here that announced it pass the author's Update on to their followers.
            if (JsonNode.Parse(raw.GetRawText()) is JsonObject update) await groups.ForwardAsync(conn, tx, statusId, update, ct);
        }
        await tx.CommitAsync(ct);
        return null;
    }

    async Task DeleteAsync(Account actor, RemoteActivity activity, JsonElement raw, CancellationToken ct)
    {
        var objectId = activity.ObjectId;
        await using var conn = await db.OpenConnectionAsync(ct);
        var now = clock.GetUtcNow();
        if (objectId == actor.Uri)
        {
            // The actor itself is gone: its follows and posts go with it.
            await using var tx = await conn.BeginTransactionAsync(ct);
            await conn.ExecuteAsync(new CommandDefinition("""
                UPDATE accounts SET deleted_at = @now WHERE id = @id;
                DELETE FROM follows WHERE account_id = @id OR target_account_id = @id;
                DELETE FROM follow_requests WHERE account_id = @id OR target_account_id = @id;
                UPDATE statuses SET deleted_at = @now WHERE account_id = @id AND deleted_at IS NULL;
                """, new { id = actor.Id, now }, tx, cancellationToken: ct));
            await tx.CommitAsync(ct);
            return;
        }
        // Only the owner can delete; remember the id so a late copy is not stored again.
        var deleted = await conn.ExecuteScalarAsync<long?>(new CommandDefinition("""
            UPDATE statuses SET deleted_at = @now WHERE uri = @objectId AND account_id = @accountId AND deleted_at IS NULL RETURNING in_reply_to_id
            """, new { objectId, accountId = actor.Id, now }, cancellationToken: ct));
        if (deleted is not null)
            await conn.ExecuteAsync(new CommandDefinition(StatusQueries.DecrementReplies, new { id = deleted }, cancellationToken: ct));
        // Groups here that announced it pass the author's Delete on to their followers.
        if (objectId is not null) await groups.ForwardAsync(actor, objectId, raw, ct);
        if (objectId is not null && RemoteActors.SameOrigin(objectId, actor.Uri))
            await conn.ExecuteAsync(new CommandDefinition(StatusQueries.InsertTombstone, new { uri = objectId, accountId = actor.Id, now }, cancellationToken: ct));
    }

    async Task LikeAsync(Account actor, RemoteActivity activity, CancellationToken ct)
    {
        await using var conn = await db.OpenConnectionAsync(ct);
        var status = await conn.QuerySingleOrDefaultAsync<Status>(new CommandDefinition(
            StatusQueries.ByUri + " AND s.local AND s.deleted_at IS NULL", new { uri = activity.ObjectId }, cancellationToken: ct));
        if (status is null || !await CanSeeAsync(conn, actor, status, ct)) return;
        var inserted = await conn.ExecuteScalarAsync<long?>(new CommandDefinition(StatusQueries.InsertFavourite,
            new { accountId = actor.Id, statusId = status.Id, uri = activity.Id, now = clock.GetUtcNow() }, cancellationToken: ct));
        if (inserted is not null)
        {
            await conn.ExecuteAsync(new CommandDefinition(StatusQueries.IncrementFavourites, new { id = status.Id }, cancellationToken: ct));
            await conn.NotifyAsync(null, status.AccountId, actor.Id, NotificationType.Favourite, status.Id, clock.GetUtcNow(), ct);
        }
    }

    /// <summary>
    /// Fetches a public or unlisted note from its own server and stores it (for a boost of something we don't have,
    /// or a member pasting its URL into search). Anything not public is refused: storing it would widen its audience.
    /// </summary>
    public async Task<Status?> FetchPublicNoteAsync(string uri, CancellationToken ct)
    {
        await using (var conn = await db.OpenConnectionAsync(ct))
        {
            var known = await conn.QuerySingleOrDefaultAsync<Status>(new CommandDefinition(StatusQueries.ByUri, new { uri }, cancellationToken: ct));
            if (known is not null) return known;
        }
        if (!Uri.TryCreate(uri, UriKind.Absolute, out var objectUri)) return null;
        using var fetched = await client.FetchAsync(objectUri, instance.Signer, ct);
        if (!fetched.IsOk || !RemoteObject.TryRead(fetched.Document!.RootElement, out var note, out _) || note.AttributedTo is null) return null;
        if (note.Type is not ("Note" or "Article" or "Page" or "Question" or "Video")) return null;
        var author = await actors.ResolveAsync(note.AttributedTo, forceRefresh: false, ct);
        if (author is null || author.IsLocal || !RemoteActors.SameOrigin(note.Id, author.Uri) || !note.IsPublic) return null;
        return await StoreNoteAsync(author, note, wanted: true, ct);
    }

    async Task<string?> AnnounceAsync(Account actor, RemoteActivity activity, JsonElement raw, CancellationToken ct)
    {
        // A group (FEP-1b12) announcing an activity rather than an object: a Create as Lemmy sends it, or the author's
        // Update or Delete. The wrapped activity is not signed by its author, so nothing in it is taken as sent.
        if (activity.InnerActivity is { Type: "Create" or "Update" or "Delete" } inner && inner.ObjectId is not null)
            return await AnnouncedActivityAsync(actor, activity, inner, ct);
        return await AnnounceObjectAsync(actor, activity, ct);
    }

    async Task<string?> AnnouncedActivityAsync(Account group, RemoteActivity announce, RemoteActivity inner, CancellationToken ct)
    {
        if (inner.Type == "Create")
            return await AnnounceObjectAsync(group, announce with { ObjectId = inner.ObjectId, EmbeddedObject = null, InnerActivity = null }, ct);
        var author = await actors.ResolveAsync(inner.Actor, forceRefresh: false, ct);
        if (author is null || author.IsLocal || !RemoteActors.SameOrigin(inner.ObjectId!, author.Uri)) return null;
        await using (var conn = await db.OpenConnectionAsync(ct))
        {
            // Only posts we already have, by that author, can be changed this way.
            var known = await conn.ExecuteScalarAsync<bool>(new CommandDefinition(
                "SELECT EXISTS (SELECT 1 FROM statuses WHERE uri = @uri AND account_id = @authorId AND deleted_at IS NULL)",
                new { uri = inner.ObjectId, authorId = author.Id }, cancellationToken: ct));
            if (!known) return null;
        }
        var bare = inner with { EmbeddedObject = null, InnerActivity = null };
        var wrapped = announce.EmbeddedObject!.Value;
        if (inner.Type == "Update") return await UpdateAsync(author, bare, wrapped, ct);
        // A Delete is believed when the post's own server no longer serves it.
        if (!Uri.TryCreate(inner.ObjectId, UriKind.Absolute, out var objectUri)) return null;
        using var fetched = await client.FetchAsync(objectUri, instance.Signer, ct);
        if (fetched.StatusCode is 404 or 410) await DeleteAsync(author, bare, wrapped, ct);
        return null;
    }

    async Task<string?> AnnounceObjectAsync(Account actor, RemoteActivity activity, CancellationToken ct)
    {
        if (activity.Id is null || activity.ObjectId is null) return null;
        await using var conn = await db.OpenConnectionAsync(ct);
        var original = await conn.QuerySingleOrDefaultAsync<Status>(new CommandDefinition(StatusQueries.ByUri, new { uri = activity.ObjectId }, cancellationToken: ct));
        // A boost matters here when it is of a member's post or when a member follows the booster.
        var followed = await HasLocalFollowersAsync(conn, actor, ct);
        if (original is null)
        {
            if (!followed) return null;
            // A boost of something we don't have: fetch it from its own server (never trust an embedded copy).
            original = await FetchPublicNoteAsync(activity.ObjectId, ct);
            if (original is null) return null;
        }
        if (original.DeletedAt is not null || original.VisibilityLevel > Visibility.Unlisted) return null;
        if (!followed && !original.Local) return null;
        var now = clock.GetUtcNow();
        var published = activity.Published is { } p && p < now ? p : now;
        await using var tx = await conn.BeginTransactionAsync(ct);
        var id = await conn.ExecuteScalarAsync<long>(new CommandDefinition(StatusQueries.NextId, new { at = published }, tx, cancellationToken: ct));
        await conn.InsertBoostAsync(Status.Boost(id, activity.Id, activity.Id, actor.Id, original.Id,
            activity.IsPublic ? Visibility.Public : Visibility.Private, local: false, published), original, now, tx, ct);
        await tx.CommitAsync(ct);
        return null;
    }

    async Task BlockAsync(Account actor, RemoteActivity activity, CancellationToken ct)
    {
        await using var conn = await db.OpenConnectionAsync(ct);
        await using var tx = await conn.BeginTransactionAsync(ct);
        var target = await LocalAsync(conn, tx, activity.ObjectId, ct);
        if (target is null) return;
        await conn.ExecuteAsync(new CommandDefinition("""
            INSERT INTO blocks (account_id, target_account_id, uri, created_at) VALUES (@a, @t, @uri, @now) ON CONFLICT (account_id, target_account_id) DO NOTHING;
            DELETE FROM follows WHERE (account_id = @a AND target_account_id = @t) OR (account_id = @t AND target_account_id = @a);
            DELETE FROM follow_requests WHERE (account_id = @a AND target_account_id = @t) OR (account_id = @t AND target_account_id = @a);
            """, new { a = actor.Id, t = target.Id, uri = activity.Id, now = clock.GetUtcNow() }, tx, cancellationToken: ct));
        await tx.CommitAsync(ct);
    }

    /// <summary>
    /// Move: the old account's local followers follow the new one, but only when the new account lists the old
    /// one in alsoKnownAs (freshly fetched), so nobody can redirect another's followers.
    /// </summary>
    async Task MoveAsync(Account actor, RemoteActivity activity, CancellationToken ct)
    {
        if (activity.ObjectId != actor.Uri || activity.Target is null) return;
        var target = await actors.ResolveAsync(activity.Target, forceRefresh: true, ct);
        if (target is null || !target.AlsoKnownAs.Contains(actor.Uri)) return;
        await using var conn = await db.OpenConnectionAsync(ct);
        await using var tx = await conn.BeginTransactionAsync(ct);
        await conn.ExecuteAsync(new CommandDefinition("UPDATE accounts SET moved_to_account_id = @t WHERE id = @a",
            new { a = actor.Id, t = target.Id }, tx, cancellationToken: ct));
        await migration.MoveLocalFollowersAsync(conn, tx, actor, target, ct);
        await tx.CommitAsync(ct);
    }

    static async Task WithdrawFromAuthorAsync(NpgsqlConnection conn, NpgsqlTransaction tx, long statusId, long actorId, string type, CancellationToken ct)
    {
        var author = await conn.ExecuteScalarAsync<long>(new CommandDefinition("SELECT account_id FROM statuses WHERE id = @statusId",
            new { statusId }, tx, cancellationToken: ct));
        await conn.WithdrawAsync(tx, author, actorId, type, statusId, ct);
    }

    /// <summary>Whether any member here follows <paramref name="account"/>: what makes its posts worth keeping.</summary>
    static Task<bool> HasLocalFollowersAsync(NpgsqlConnection conn, Account account, CancellationToken ct) =>
        conn.ExecuteScalarAsync<bool>(new CommandDefinition(
            "SELECT EXISTS (SELECT 1 FROM follows f JOIN accounts a ON a.id = f.account_id WHERE f.target_account_id = @id AND a.domain IS NULL)",
            new { id = account.Id }, cancellationToken: ct));

    static async Task<bool> CanSeeAsync(NpgsqlConnection conn, Account viewer, Status status, CancellationToken ct) =>
        await conn.ExecuteScalarAsync<bool>(new CommandDefinition(
            $"SELECT EXISTS (SELECT 1 FROM statuses s WHERE s.id = @id AND {StatusQueries.VisibleTo})",
            new { id = status.Id, viewer = viewer.Id }, cancellationToken: ct));
}
