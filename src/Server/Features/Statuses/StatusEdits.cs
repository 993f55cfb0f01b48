using Dapper;
using Fellows.Server.Common;
using Fellows.Server.Configuration;
using Fellows.Server.Features.Accounts;
using Fellows.Server.Features.Federation;
using Fellows.Server.Features.Media;
using Npgsql;

namespace Fellows.Server.Features.Statuses;

/// <summary>A new version of a post: text, content warning, sensitivity, language, attachments and poll.</summary>
public sealed record StatusEdit(string Text, string SpoilerText, bool Sensitive, string? Language, IReadOnlyList<long>? MediaIds)
{
    /// <summary>
    /// The poll the post has after the edit; null removes it, as in Mastodon (apps send the poll again with every
    /// edit). A motion's post keeps its ballot: that changes through the motion, never here.
    /// </summary>
    public Polls.NewPoll? Poll { get; init; }
}

/// <summary>One version of a post, for its history.</summary>
public sealed record StatusVersion
{
    public required string Content { get; init; }
    public string? SourceText { get; init; }
    public required string SpoilerText { get; init; }
    public required bool Sensitive { get; init; }
    public required long[] MediaIds { get; init; }
    public string[]? PollOptions { get; init; }
    public required DateTimeOffset CreatedAt { get; init; }
}

/// <summary>
/// Editing posts, as Mastodon does: the version being replaced is kept for the history, the post changes in
/// place, and followers' servers get an Update of the note. The audience (visibility, reply) never changes.
/// </summary>
public sealed class StatusEdits(NpgsqlDataSource db, InstanceUrls urls, TimeProvider clock, OutboundPublisher publisher, MentionResolver mentions,
    Groups.GroupAnnouncer groups, Polls.PollScheduler pollScheduler)
{
    public async Task<Result<Status>> EditAsync(long accountId, long statusId, StatusEdit edit, CancellationToken ct)
    {
        var text = edit.Text.Trim();
        if (text.Length > StatusService.MaxCharacters) return Error.Validation($"Validation failed: Text character limit of {StatusService.MaxCharacters} exceeded");
        if (edit.SpoilerText.Length > 1000) return Error.Validation("Validation failed: Spoiler text is too long");
        if (edit.MediaIds is { Count: > StatusService.MaxAttachments }) return Error.Validation($"Validation failed: at most {StatusService.MaxAttachments} attachments");
        var parsed = StatusFormatter.Parse(text);
        var mentioned = await mentions.ResolveAsync(parsed.Mentions, ct);

        await using var conn = await db.OpenConnectionAsync(ct);
        await using var tx = await conn.BeginTransactionAsync(ct);
        var status = await conn.QuerySingleOrDefaultAsync<Status>(new CommandDefinition(StatusQueries.ById + " FOR UPDATE", new { id = statusId }, tx, cancellationToken: ct));
        if (status is null || status.AccountId != accountId || status.DeletedAt is not null || status.ReblogOfId is not null) return Error.NotFound();

        var current = (await conn.QueryAsync<MediaRow>(new CommandDefinition(MediaQueries.OfStatuses, new { ids = new[] { statusId } }, tx, cancellationToken: ct))).ToList();
        var mediaIds = edit.MediaIds?.Distinct().ToArray() ?? current.Select(m => m.Id).ToArray();
        if (text.Length == 0 && mediaIds.Length == 0) return Error.Validation("Validation failed: Text can't be blank");
        var isMotion = await conn.ExecuteScalarAsync<bool>(new CommandDefinition("SELECT EXISTS (SELECT 1 FROM motions WHERE status_id = @statusId)",
            new { statusId }, tx, cancellationToken: ct));
        var newPoll = isMotion ? null : edit.Poll;
        if (newPoll is not null && mediaIds.Length > 0) return Error.Validation("Validation failed: a post cannot have both a poll and attachments");
        var poll = await conn.QuerySingleOrDefaultAsync<Polls.PollRow>(new CommandDefinition(Polls.PollQueries.ByStatus + " FOR UPDATE",
            new { statusId }, tx, cancellationToken: ct));
        var added = mediaIds.Except(current.Select(m => m.Id)).ToArray();
        if (added.Length > 0)
        {
            var rows = (await conn.QueryAsync<MediaRow>(new CommandDefinition($"{MediaQueries.ByIds} FOR UPDATE", new { ids = added }, tx, cancellationToken: ct))).ToDictionary(m => m.Id);
            foreach (var id in added)
                if (!rows.TryGetValue(id, out var m) || m.AccountId != accountId || m.StatusId is not null || m.RemoteUrl is not null || m.State != MediaRow.Ready)
                    return Error.Validation($"Validation failed: media {id} is not yours to attach, is already posted, or is still processing");
        }

        var author = await conn.AccountByIdAsync(accountId, tx, ct);
        // Keep the version being replaced, dated when it was written.
        await KeepVersionAsync(conn, tx, status, current.Select(m => m.Id).ToArray(), ct, poll?.Options);

        var now = clock.GetUtcNow();
        var pollEnds = isMotion ? null : await EditPollAsync(conn, tx, statusId, accountId, poll, newPoll, now, ct);
        var html = StatusFormatter.ToHtml(text, m => mentioned.TryGetValue(m.Acct.ToLowerInvariant(), out var a) ? a.Url ?? a.Uri : null, urls.Tag);
        var spoiler = edit.SpoilerText.Trim();
        await conn.ExecuteAsync(new CommandDefinition("""
            UPDATE statuses SET content = @html, source_text = @text, spoiler_text = @spoiler, sensitive = @sensitive,
                language = coalesce(@language, language), edited_at = @now
            WHERE id = @id
            """, new { id = statusId, html, text, spoiler, sensitive = edit.Sensitive || spoiler.Length > 0, language = edit.Language, now }, tx, cancellationToken: ct));
        // Removed attachments stay stored (the history shows them) but leave the post; new ones join it.
        await conn.ExecuteAsync(new CommandDefinition("""
            UPDATE media_attachments SET status_id = NULL WHERE status_id = @id AND NOT (id = ANY(@mediaIds));
            UPDATE media_attachments SET position = array_position(@mediaIds, id) - 1, status_id = @id WHERE id = ANY(@mediaIds);
            """, new { id = statusId, mediaIds }, tx, cancellationToken: ct));

        await conn.AddMentionsAsync(statusId, accountId, mentioned.Values, tx, ct);
        await conn.ExecuteAsync(new CommandDefinition("DELETE FROM status_tags WHERE status_id = @statusId", new { statusId }, tx, cancellationToken: ct));
        await conn.AddTagsAsync(statusId, parsed.Hashtags, tx, ct);

        var updated = await conn.QuerySingleAsync<Status>(new CommandDefinition(StatusQueries.ById, new { id = statusId }, tx, cancellationToken: ct));
        var update = await publisher.StatusUpdatedAsync(conn, tx, author, updated, ct);
        await groups.ForwardAsync(conn, tx, updated.Id, update, ct);
        await tx.CommitAsync(ct);
        if (pollEnds is { } ends) await pollScheduler.ScheduleAsync(ends.PollId, ends.At, ct);
        return updated;
    }

    /// <summary>
    /// The poll part of an edit, as Mastodon does it: new options (or a switch between one and several choices)
    /// void the votes cast, since they were for other options; the same options keep them. The end is counted
    /// again from now, and a poll that had ended opens again. Returns the poll whose end must be (re)scheduled.
    /// </summary>
    static async Task<(long PollId, DateTimeOffset At)?> EditPollAsync(NpgsqlConnection conn, NpgsqlTransaction tx, long statusId, long accountId,
        Polls.PollRow? poll, Polls.NewPoll? edit, DateTimeOffset now, CancellationToken ct)
    {
        if (edit is null)
        {
            if (poll is not null)
                await conn.ExecuteAsync(new CommandDefinition("DELETE FROM polls WHERE id = @id", new { id = poll.Id }, tx, cancellationToken: ct));
            return null;
        }
        if (poll is null)
        {
            var added = await Polls.PollService.InsertLocalAsync(conn, tx, statusId, accountId, edit, now, ct);
            return added.ExpiresAt is { } end ? (added.Id, end) : null;
        }
        var changed = !poll.Options.SequenceEqual(edit.Options, StringComparer.Ordinal) || poll.Multiple != edit.Multiple;
        var ends = now.AddSeconds(edit.ExpiresIn);
        await conn.ExecuteAsync(new CommandDefinition("""
            UPDATE polls SET options = @options, multiple = @multiple, hide_totals = @hideTotals, expires_at = @ends, closed_at = NULL, updated_at = @now
            WHERE id = @id
            """, new { id = poll.Id, options = edit.Options.ToArray(), multiple = edit.Multiple, hideTotals = edit.HideTotals, ends, now }, tx, cancellationToken: ct));
        if (changed)
            await conn.ExecuteAsync(new CommandDefinition("DELETE FROM poll_votes WHERE poll_id = @id", new { id = poll.Id }, tx, cancellationToken: ct));
        return (poll.Id, ends);
    }

    /// <summary>Every version of a visible post, oldest first, ending with the current one.</summary>
    public async Task<IReadOnlyList<StatusVersion>?> HistoryAsync(long statusId, long? viewer, CancellationToken ct)
    {
        await using var conn = await db.OpenConnectionAsync(ct);
        var status = await conn.QuerySingleOrDefaultAsync<Status>(new CommandDefinition(StatusQueries.VisibleById, new { id = statusId, viewer }, cancellationToken: ct));
        if (status is null || status.ReblogOfId is not null) return null;
        var versions = (await conn.QueryAsync<StatusVersion>(new CommandDefinition("""
            SELECT content, source_text, spoiler_text, sensitive, media_ids, poll_options, created_at FROM status_edits WHERE status_id = @statusId ORDER BY created_at, id
            """, new { statusId }, cancellationToken: ct))).ToList();
        var currentMedia = (await conn.QueryAsync<long>(new CommandDefinition(
            "SELECT id FROM media_attachments WHERE status_id = @statusId ORDER BY position, id", new { statusId }, cancellationToken: ct))).ToArray();
        var pollOptions = await conn.ExecuteScalarAsync<string[]?>(new CommandDefinition(
            "SELECT options FROM polls WHERE status_id = @statusId", new { statusId }, cancellationToken: ct));
        versions.Add(new StatusVersion
        {
            Content = status.Content, SourceText = status.SourceText, SpoilerText = status.SpoilerText, Sensitive = status.Sensitive,
            MediaIds = currentMedia, PollOptions = pollOptions, CreatedAt = status.EditedAt ?? status.CreatedAt,
        });
        return versions;
    }

    /// <summary>Records the version of <paramref name="status"/> about to be replaced (by a member's edit or a remote Update).</summary>
    public static Task KeepVersionAsync(NpgsqlConnection conn, NpgsqlTransaction tx, Status status, long[] mediaIds, CancellationToken ct,
        string[]? pollOptions = null) =>
        conn.ExecuteAsync(new CommandDefinition("""
            INSERT INTO status_edits (status_id, content, source_text, spoiler_text, sensitive, media_ids, poll_options, created_at)
            VALUES (@Id, @Content, @SourceText, @SpoilerText, @Sensitive, @mediaIds, @pollOptions, @writtenAt)
            """, new
        {
            status.Id, status.Content, status.SourceText, status.SpoilerText, status.Sensitive, mediaIds, pollOptions,
            writtenAt = status.EditedAt ?? status.CreatedAt,
        }, tx, cancellationToken: ct));
}
