using Dapper;
using Fellows.Server.Common;
using Fellows.Server.Configuration;
using Fellows.Server.Features.Accounts;
using Fellows.Server.Features.Federation;
using Fellows.Server.Features.Media;
using Fellows.Server.Features.Notifications;
using Npgsql;

namespace Fellows.Server.Features.Statuses;

public sealed record NewStatus(
    string Text,
    Visibility Visibility,
    string SpoilerText,
    bool Sensitive,
    string? Language,
    long? InReplyToId)
{
    /// <summary>Uploaded attachments to post with the text, in order.</summary>
    public IReadOnlyList<long> MediaIds { get; init; } = [];

    /// <summary>The client's Idempotency-Key: the same key within an hour gives back the same status.</summary>
    public string? IdempotencyKey { get; init; }

    /// <summary>A poll to post with the text (not with attachments).</summary>
    public Polls.NewPoll? Poll { get; init; }

    /// <summary>
    /// Set when a scheduled post is published: its attachments are reserved for it, and its row goes in the same
    /// transaction, so it is published once.
    /// </summary>
    public long? FromScheduledId { get; init; }
}

/// <summary>What members do with statuses: post, reply, delete, favourite, boost. Each state change and the
/// activity that federates it commit in one transaction.</summary>
public sealed class StatusService(
    NpgsqlDataSource db, InstanceUrls urls, TimeProvider clock, OutboundPublisher publisher, MentionResolver mentions,
    Polls.PollScheduler pollScheduler, Groups.GroupAnnouncer groups)
{
    public const int MaxCharacters = 5000;
    public const int MaxAttachments = 4;

    /// <summary>How long an Idempotency-Key names the post it made (or scheduled): an hour, as in Mastodon.</summary>
    public static readonly TimeSpan IdempotencyWindow = TimeSpan.FromHours(1);

    /// <summary>The checks on a post's own fields, before anything is looked up: for posting now and for scheduling.</summary>
    public static Error? Validate(NewStatus input)
    {
        var text = input.Text.Trim();
        if (text.Length == 0 && input.MediaIds.Count == 0) return Error.Validation("Validation failed: Text can't be blank");
        if (input.MediaIds.Count > MaxAttachments) return Error.Validation($"Validation failed: at most {MaxAttachments} attachments");
        if (text.Length > MaxCharacters) return Error.Validation($"Validation failed: Text character limit of {MaxCharacters} exceeded");
        if (input.SpoilerText.Length > 1000) return Error.Validation("Validation failed: Spoiler text is too long");
        if (input.Poll is not null && input.MediaIds.Count > 0) return Error.Validation("Validation failed: a post cannot have both a poll and attachments");
        return null;
    }

    public async Task<Result<Status>> CreateAsync(long accountId, NewStatus input, CancellationToken ct)
    {
        if (Validate(input) is { } invalid) return invalid;
        var text = input.Text.Trim();

        var parsed = StatusFormatter.Parse(text);
        // Resolving remote mentions may need WebFinger; do it before the transaction.
        var mentioned = await mentions.ResolveAsync(parsed.Mentions, ct);

        await using var conn = await db.OpenConnectionAsync(ct);
        await using var tx = await conn.BeginTransactionAsync(ct);
        var author = await conn.AccountByIdAsync(accountId, tx, ct);
        if (input.IdempotencyKey is { } key)
        {
            // A retry of a post already made (within the hour) gets that post back; a concurrent twin waits here
            // on the key's row until the first commits.
            var earlier = await conn.QuerySingleOrDefaultAsync<Status>(new CommandDefinition($"""
                SELECT {StatusQueries.Columns} FROM status_idempotency i JOIN statuses s ON s.id = i.status_id
                WHERE i.account_id = @accountId AND i.key = @key AND i.created_at > @since AND s.deleted_at IS NULL
                """, new { accountId, key, since = clock.GetUtcNow() - IdempotencyWindow }, tx, cancellationToken: ct));
            if (earlier is not null) return earlier;
        }

        Status? parent = null;
        if (input.InReplyToId is { } parentId)
        {
            parent = await conn.QuerySingleOrDefaultAsync<Status>(new CommandDefinition(StatusQueries.VisibleById,
                new { id = parentId, viewer = accountId }, tx, cancellationToken: ct));
            if (parent is null) return Error.NotFound("The status you are trying to reply to does not exist or is not visible to you");
        }

        var visibility = input.Visibility;
        // A reply can't widen its parent's audience: replying to a followers-only post stays at least that private.
        if (parent is not null && parent.VisibilityLevel > visibility && parent.AccountId != accountId)
            visibility = parent.VisibilityLevel;

        // Attachments must be the author's own, finished, and not posted before.
        var mediaIds = input.MediaIds.Distinct().ToArray();
        var attachable = await MediaAttaching.CheckAsync(conn, tx, accountId, mediaIds, input.FromScheduledId, requireReady: true, ct);
        if (!attachable.IsOk) return attachable.Error!;
        var attachments = attachable.Value;

        var now = clock.GetUtcNow();
        var id = await conn.ExecuteScalarAsync<long>(new CommandDefinition(StatusQueries.NextId, new { at = now }, tx, cancellationToken: ct));
        var html = StatusFormatter.ToHtml(text,
            m => mentioned.TryGetValue(m.Acct.ToLowerInvariant(), out var a) ? a.Url ?? a.Uri : null,
            urls.Tag);
        var status = new Status
        {
            Id = id,
            Uri = urls.Status(author.Username, id),
            Url = urls.StatusPage(author.Username, id),
            AccountId = accountId,
            InReplyToId = parent?.Id,
            InReplyToUri = parent?.Uri,
            InReplyToAccountId = parent?.AccountId,
            Content = html,
            SourceText = text,
            SpoilerText = input.SpoilerText.Trim(),
            Sensitive = input.Sensitive || input.SpoilerText.Trim().Length > 0,
            Visibility = (short)visibility,
            Language = input.Language,
            Local = true,
            CreatedAt = now,
            RepliesCount = 0,
            ReblogsCount = 0,
            FavouritesCount = 0,
        };
        await conn.InsertStatusAsync(status, tx, ct);
        if (input.IdempotencyKey is { } idempotencyKey)
        {
            var claimed = await conn.ExecuteAsync(new CommandDefinition("""
                INSERT INTO status_idempotency (account_id, key, status_id, created_at) VALUES (@accountId, @idempotencyKey, @id, @now)
                ON CONFLICT (account_id, key) DO UPDATE SET status_id = excluded.status_id, created_at = excluded.created_at
                WHERE status_idempotency.created_at <= @since
                """, new { accountId, idempotencyKey, id, now, since = now - IdempotencyWindow }, tx, cancellationToken: ct));
            if (claimed == 0)
            {
                // Another request with the same key committed first: answer with its post, and make none here.
                await tx.RollbackAsync(ct);
                await using var again = await db.OpenConnectionAsync(ct);
                return await again.QuerySingleAsync<Status>(new CommandDefinition($"""
                    SELECT {StatusQueries.Columns} FROM status_idempotency i JOIN statuses s ON s.id = i.status_id
                    WHERE i.account_id = @accountId AND i.key = @idempotencyKey
                    """, new { accountId, idempotencyKey }, cancellationToken: ct));
            }
        }
        if (input.FromScheduledId is { } scheduledId)
        {
            // Published once: a second firing (or a cancel that won the race) finds the row gone.
            var claimed = await conn.ExecuteAsync(new CommandDefinition("DELETE FROM scheduled_statuses WHERE id = @scheduledId AND account_id = @accountId",
                new { scheduledId, accountId }, tx, cancellationToken: ct));
            if (claimed == 0) return Error.NotFound("The scheduled status was already published or cancelled");
        }
        for (var position = 0; position < mediaIds.Length; position++)
            await conn.ExecuteAsync(new CommandDefinition("UPDATE media_attachments SET status_id = @id, position = @position, scheduled_status_id = NULL WHERE id = @mediaId",
                new { id, position, mediaId = mediaIds[position] }, tx, cancellationToken: ct));
        Polls.PollRow? poll = null;
        if (input.Poll is { } newPoll)
            poll = await Polls.PollService.InsertLocalAsync(conn, tx, id, accountId, newPoll, now, ct);

        var mentionedAccounts = await conn.AddMentionsAsync(id, accountId, mentioned.Values, tx, ct);
        var tagNames = parsed.Hashtags;
        await conn.AddTagsAsync(id, tagNames, tx, ct);
        if (parent is not null)
            await conn.ExecuteAsync(new CommandDefinition(StatusQueries.IncrementReplies, new { id = parent.Id }, tx, cancellationToken: ct));
        await conn.NotifyManyAsync(tx, mentionedAccounts.Select(a => a.Id).ToList(), accountId, NotificationType.Mention, id, now, ct);
        // Followers who asked to hear of new posts: not of replies to others, nor of direct messages.
        if (visibility != Visibility.Direct && (parent is null || parent.AccountId == accountId))
            await conn.NotifySubscribersAsync(tx, accountId, id, now, ct);

        if (visibility == Visibility.Direct)
            await Conversations.ConversationWrites.RecordAsync(conn, tx, status, [accountId, .. mentionedAccounts.Select(a => a.Id)], now, ct);

        await publisher.StatusCreatedAsync(conn, tx, author, status, parent, mentionedAccounts, tagNames,
            mediaIds.Select(m => attachments[m]).ToList(), ct,
            poll is null ? null : new Fellows.Federation.Vocabulary.LocalPoll(
                poll.Options.Select(o => new Fellows.Federation.Vocabulary.PollOption(o, poll.HideTotals ? null : 0)).ToList(), poll.Multiple, poll.ExpiresAt, null, 0));
        // A post that mentions a group the author belongs to is announced by the group to its followers (FEP-1b12).
        await groups.AnnounceAsync(conn, tx, author, status, mentionedAccounts.Select(a => a.Uri).ToList(), ct);
        await tx.CommitAsync(ct);
        if (poll?.ExpiresAt is { } ends) await pollScheduler.ScheduleAsync(poll.Id, ends, ct);
        return status;
    }

    public async Task<Result<Status>> DeleteAsync(long accountId, long statusId, CancellationToken ct)
    {
        await using var conn = await db.OpenConnectionAsync(ct);
        await using var tx = await conn.BeginTransactionAsync(ct);
        var status = await conn.QuerySingleOrDefaultAsync<Status>(new CommandDefinition(StatusQueries.ById + " FOR UPDATE", new { id = statusId }, tx, cancellationToken: ct));
        if (status is null || status.DeletedAt is not null || status.AccountId != accountId) return Error.NotFound();
        await RemoveAsync(conn, tx, await conn.AccountByIdAsync(accountId, tx, ct), status, ct);
        await tx.CommitAsync(ct);
        return status;
    }

    /// <summary>Deletes a post (leaving a tombstone) or takes back a boost, and federates it.</summary>
    async Task RemoveAsync(NpgsqlConnection conn, NpgsqlTransaction tx, Account author, Status status, CancellationToken ct)
    {
        var now = clock.GetUtcNow();
        await conn.ExecuteAsync(new CommandDefinition(StatusQueries.SoftDelete, new { id = status.Id, now }, tx, cancellationToken: ct));
        if (status.ReblogOfId is { } original)
        {
            await conn.ExecuteAsync(new CommandDefinition(StatusQueries.DecrementReblogs, new { id = original }, tx, cancellationToken: ct));
            var boosted = await conn.QuerySingleAsync<Status>(new CommandDefinition(StatusQueries.ById, new { id = original }, tx, cancellationToken: ct));
            await conn.WithdrawAsync(tx, boosted.AccountId, author.Id, NotificationType.Reblog, boosted.Id, ct);
            await publisher.UnreblogAsync(conn, tx, author, status, boosted, ct);
            return;
        }
        await conn.ExecuteAsync(new CommandDefinition(StatusQueries.InsertTombstone, new { uri = status.Uri, accountId = author.Id, now }, tx, cancellationToken: ct));
        if (status.InReplyToId is { } parentId)
            await conn.ExecuteAsync(new CommandDefinition(StatusQueries.DecrementReplies, new { id = parentId }, tx, cancellationToken: ct));
        var delete = await publisher.StatusDeletedAsync(conn, tx, author, status, ct);
        // Followers of a group that announced the post hear of its deletion from the group.
        await groups.ForwardAsync(conn, tx, status.Id, delete, ct);
    }

    public const int MaxPins = 5;

    /// <summary>Pins the member's own post to their profile (featured collection), telling followers' servers with Add.</summary>
    public async Task<Result<Status>> PinAsync(long accountId, long statusId, CancellationToken ct)
    {
        await using var conn = await db.OpenConnectionAsync(ct);
        await using var tx = await conn.BeginTransactionAsync(ct);
        var status = await conn.QuerySingleOrDefaultAsync<Status>(new CommandDefinition(StatusQueries.ById + " FOR UPDATE", new { id = statusId }, tx, cancellationToken: ct));
        if (status is null || status.DeletedAt is not null) return Error.NotFound();
        if (status.AccountId != accountId || status.ReblogOfId is not null || status.VisibilityLevel == Visibility.Direct)
            return Error.Validation("Validation failed: only your own posts, not boosts or direct messages, can be pinned");
        var pins = await conn.ExecuteScalarAsync<int>(new CommandDefinition("SELECT count(*)::int FROM status_pins WHERE account_id = @accountId",
            new { accountId }, tx, cancellationToken: ct));
        var inserted = await conn.ExecuteAsync(new CommandDefinition("""
            INSERT INTO status_pins (account_id, status_id, created_at) SELECT @accountId, @statusId, @now WHERE @pins < @max
            ON CONFLICT DO NOTHING
            """, new { accountId, statusId, now = clock.GetUtcNow(), pins, max = MaxPins }, tx, cancellationToken: ct));
        var already = await conn.ExecuteScalarAsync<bool>(new CommandDefinition("SELECT EXISTS (SELECT 1 FROM status_pins WHERE account_id = @accountId AND status_id = @statusId)",
            new { accountId, statusId }, tx, cancellationToken: ct));
        if (!already) return Error.Validation($"Validation failed: you can pin at most {MaxPins} posts");
        if (inserted > 0) await publisher.FeaturedChangedAsync(conn, tx, await conn.AccountByIdAsync(accountId, tx, ct), status, added: true, ct);
        await tx.CommitAsync(ct);
        return status;
    }

    public async Task<Result<Status>> UnpinAsync(long accountId, long statusId, CancellationToken ct)
    {
        await using var conn = await db.OpenConnectionAsync(ct);
        await using var tx = await conn.BeginTransactionAsync(ct);
        var status = await conn.QuerySingleOrDefaultAsync<Status>(new CommandDefinition(StatusQueries.ById, new { id = statusId }, tx, cancellationToken: ct));
        if (status is null || status.AccountId != accountId) return Error.NotFound();
        var removed = await conn.ExecuteAsync(new CommandDefinition("DELETE FROM status_pins WHERE account_id = @accountId AND status_id = @statusId",
            new { accountId, statusId }, tx, cancellationToken: ct));
        if (removed > 0) await publisher.FeaturedChangedAsync(conn, tx, await conn.AccountByIdAsync(accountId, tx, ct), status, added: false, ct);
        await tx.CommitAsync(ct);
        return status;
    }

    public async Task<Result<Status>> FavouriteAsync(long accountId, long statusId, CancellationToken ct)
    {
        await using var conn = await db.OpenConnectionAsync(ct);
        await using var tx = await conn.BeginTransactionAsync(ct);
        var status = await conn.QuerySingleOrDefaultAsync<Status>(new CommandDefinition(StatusQueries.VisibleById, new { id = statusId, viewer = accountId }, tx, cancellationToken: ct));
        if (status is null || status.ReblogOfId is not null) return Error.NotFound();
        var actor = await conn.AccountByIdAsync(accountId, tx, ct);
        var likeId = urls.NewActivity(actor.Username, "likes");
        var inserted = await conn.ExecuteScalarAsync<long?>(new CommandDefinition(StatusQueries.InsertFavourite,
            new { accountId, statusId, uri = likeId, now = clock.GetUtcNow() }, tx, cancellationToken: ct));
        if (inserted is not null)
        {
            await conn.ExecuteAsync(new CommandDefinition(StatusQueries.IncrementFavourites, new { id = statusId }, tx, cancellationToken: ct));
            await conn.NotifyAsync(tx, status.AccountId, accountId, NotificationType.Favourite, statusId, clock.GetUtcNow(), ct);
            await publisher.LikeAsync(conn, tx, actor, status, likeId, ct);
        }
        await tx.CommitAsync(ct);
        return status;
    }

    public async Task<Result<Status>> UnfavouriteAsync(long accountId, long statusId, CancellationToken ct)
    {
        await using var conn = await db.OpenConnectionAsync(ct);
        await using var tx = await conn.BeginTransactionAsync(ct);
        var status = await conn.QuerySingleOrDefaultAsync<Status>(new CommandDefinition(StatusQueries.ById, new { id = statusId }, tx, cancellationToken: ct));
        if (status is null) return Error.NotFound();
        var actor = await conn.AccountByIdAsync(accountId, tx, ct);
        var likeUris = (await conn.QueryAsync<string?>(new CommandDefinition(StatusQueries.DeleteFavourite, new { accountId, statusId }, tx, cancellationToken: ct))).ToList();
        if (likeUris.Count > 0)
        {
            await conn.ExecuteAsync(new CommandDefinition(StatusQueries.DecrementFavourites, new { id = statusId }, tx, cancellationToken: ct));
            await conn.WithdrawAsync(tx, status.AccountId, accountId, NotificationType.Favourite, statusId, ct);
            await publisher.UndoLikeAsync(conn, tx, actor, status, likeUris[0] ?? urls.NewActivity(actor.Username, "likes"), ct);
        }
        await tx.CommitAsync(ct);
        return status;
    }

    /// <summary>Boosts a status; returns the boost (a status whose reblog is the original).</summary>
    public async Task<Result<Status>> ReblogAsync(long accountId, long statusId, CancellationToken ct)
    {
        await using var conn = await db.OpenConnectionAsync(ct);
        await using var tx = await conn.BeginTransactionAsync(ct);
        var original = await conn.QuerySingleOrDefaultAsync<Status>(new CommandDefinition(StatusQueries.VisibleById, new { id = statusId, viewer = accountId }, tx, cancellationToken: ct));
        if (original is null) return Error.NotFound();
        if (original.ReblogOfId is { } inner)
        {
            original = await conn.QuerySingleOrDefaultAsync<Status>(new CommandDefinition(StatusQueries.VisibleById, new { id = inner, viewer = accountId }, tx, cancellationToken: ct));
            if (original is null) return Error.NotFound();
        }
        // Only public and unlisted posts can be boosted: boosting would widen a followers-only or direct audience.
        if (original.VisibilityLevel > Visibility.Unlisted)
            return Error.Forbidden("This status cannot be boosted");
        var existing = await conn.QuerySingleOrDefaultAsync<Status>(new CommandDefinition(StatusQueries.ReblogBy, new { accountId, statusId = original.Id }, tx, cancellationToken: ct));
        if (existing is not null) return existing;

        var actor = await conn.AccountByIdAsync(accountId, tx, ct);
        var boost = await conn.InsertLocalBoostAsync(urls, actor, original, clock.GetUtcNow(), tx, ct);
        await publisher.ReblogAsync(conn, tx, actor, boost, original, ct);
        await tx.CommitAsync(ct);
        return boost;
    }

    /// <summary>Takes back a boost; returns the original status.</summary>
    public async Task<Result<Status>> UnreblogAsync(long accountId, long statusId, CancellationToken ct)
    {
        await using var conn = await db.OpenConnectionAsync(ct);
        await using var tx = await conn.BeginTransactionAsync(ct);
        var boost = await conn.QuerySingleOrDefaultAsync<Status>(new CommandDefinition(StatusQueries.ReblogBy, new { accountId, statusId }, tx, cancellationToken: ct));
        if (boost is not null)
            await RemoveAsync(conn, tx, await conn.AccountByIdAsync(accountId, tx, ct), boost, ct);
        var original = await conn.QuerySingleOrDefaultAsync<Status>(new CommandDefinition(StatusQueries.ById, new { id = statusId }, tx, cancellationToken: ct));
        if (original is null) return Error.NotFound();
        await tx.CommitAsync(ct);
        return original;
    }

    public async Task<Status?> FindVisibleAsync(long statusId, long? viewer, CancellationToken ct)
    {
        await using var conn = await db.OpenConnectionAsync(ct);
        return await conn.QuerySingleOrDefaultAsync<Status>(new CommandDefinition(StatusQueries.VisibleById, new { id = statusId, viewer }, cancellationToken: ct));
    }

    public async Task<(IReadOnlyList<Status> Ancestors, IReadOnlyList<Status> Descendants)> ContextAsync(long statusId, long? viewer, CancellationToken ct)
    {
        await using var conn = await db.OpenConnectionAsync(ct);
        var thread = (await conn.QueryAsync<(long Id, bool IsAncestor)>(new CommandDefinition(StatusQueries.Context,
            new { id = statusId, viewer }, cancellationToken: ct))).ToList();
        var statuses = (await conn.QueryAsync<Status>(new CommandDefinition(StatusQueries.ManyByIds,
            new { ids = thread.Select(t => t.Id).ToArray() }, cancellationToken: ct))).ToDictionary(s => s.Id);
        var ancestors = thread.Where(t => t.IsAncestor).Select(t => statuses[t.Id]).OrderBy(s => s.Id).ToList();
        var descendants = thread.Where(t => !t.IsAncestor).Select(t => statuses[t.Id]).OrderBy(s => s.Id).ToList();
        return (ancestors, descendants);
    }
}
