using Dapper;
using Fellows.Server.Common;
using Fellows.Server.Configuration;
using Fellows.Server.Features.Accounts;
using Fellows.Server.Features.Federation;
using Fellows.Server.Features.Media;
using Npgsql;

namespace Fellows.Server.Features.Statuses;

/// <summary>A new version of a post: text, content warning, sensitivity, language and attachments.</summary>
public sealed record StatusEdit(string Text, string SpoilerText, bool Sensitive, string? Language, IReadOnlyList<long>? MediaIds);

/// <summary>One version of a post, for its history.</summary>
public sealed record StatusVersion
{
    public required string Content { get; init; }
    public string? SourceText { get; init; }
    public required string SpoilerText { get; init; }
    public required bool Sensitive { get; init; }
    public required long[] MediaIds { get; init; }
    public required DateTimeOffset CreatedAt { get; init; }
}

/// <summary>
/// Editing posts, as Mastodon does: the version being replaced is kept for the history, the post changes in
/// place, and followers' servers get an Update of the note. The audience (visibility, reply) never changes.
/// </summary>
public sealed class StatusEdits(NpgsqlDataSource db, InstanceUrls urls, TimeProvider clock, OutboundPublisher publisher, MentionResolver mentions,
    Groups.GroupAnnouncer groups)
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
        await KeepVersionAsync(conn, tx, status, current.Select(m => m.Id).ToArray(), ct);

        var now = clock.GetUtcNow();
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
        return updated;
    }

    /// <summary>Every version of a visible post, oldest first, ending with the current one.</summary>
    public async Task<IReadOnlyList<StatusVersion>?> HistoryAsync(long statusId, long? viewer, CancellationToken ct)
    {
        await using var conn = await db.OpenConnectionAsync(ct);
        var status = await conn.QuerySingleOrDefaultAsync<Status>(new CommandDefinition(StatusQueries.VisibleById, new { id = statusId, viewer }, cancellationToken: ct));
        if (status is null || status.ReblogOfId is not null) return null;
        var versions = (await conn.QueryAsync<StatusVersion>(new CommandDefinition("""
            SELECT content, source_text, spoiler_text, sensitive, media_ids, created_at FROM status_edits WHERE status_id = @statusId ORDER BY created_at, id
            """, new { statusId }, cancellationToken: ct))).ToList();
        var currentMedia = (await conn.QueryAsync<long>(new CommandDefinition(
            "SELECT id FROM media_attachments WHERE status_id = @statusId ORDER BY position, id", new { statusId }, cancellationToken: ct))).ToArray();
        versions.Add(new StatusVersion
        {
            Content = status.Content, SourceText = status.SourceText, SpoilerText = status.SpoilerText, Sensitive = status.Sensitive,
            MediaIds = currentMedia, CreatedAt = status.EditedAt ?? status.CreatedAt,
        });
        return versions;
    }

    /// <summary>Records the version of <paramref name="status"/> about to be replaced (by a member's edit or a remote Update).</summary>
    public static Task KeepVersionAsync(NpgsqlConnection conn, NpgsqlTransaction tx, Status status, long[] mediaIds, CancellationToken ct) =>
        conn.ExecuteAsync(new CommandDefinition("""
            INSERT INTO status_edits (status_id, content, source_text, spoiler_text, sensitive, media_ids, created_at)
            VALUES (@Id, @Content, @SourceText, @SpoilerText, @Sensitive, @mediaIds, @writtenAt)
            """, new { status.Id, status.Content, status.SourceText, status.SpoilerText, status.Sensitive, mediaIds, writtenAt = status.EditedAt ?? status.CreatedAt },
            tx, cancellationToken: ct));
}
