using System.Text.Json;
using Dapper;
using Fellows.Server.Common;
using Fellows.Server.Features.Mastodon;
using Fellows.Server.Features.Media;
using Fellows.Server.Features.Polls;
using Fellows.Server.Features.Statuses;
using Npgsql;

namespace Fellows.Server.Features.Scheduled;

/// <summary>The poll of a scheduled post, as Mastodon's ScheduledStatus shows it (<c>expires_in</c> as a string).</summary>
public sealed record ScheduledPoll(IReadOnlyList<string> Options, string ExpiresIn, bool Multiple, bool HideTotals);

/// <summary>
/// A scheduled post's parameters as stored and shown (Mastodon's ScheduledStatus <c>params</c>), with defaults
/// already applied, so publishing later does exactly what was asked.
/// </summary>
public sealed record ScheduledParams
{
    public required string Text { get; init; }
    public ScheduledPoll? Poll { get; init; }
    public IReadOnlyList<string>? MediaIds { get; init; }
    public required bool Sensitive { get; init; }
    public required string SpoilerText { get; init; }
    public required string Visibility { get; init; }
    public string? InReplyToId { get; init; }
    public string? Language { get; init; }
    public long? ApplicationId { get; init; }
    public string? ScheduledAt { get; init; }
    public string? Idempotency { get; init; }
    public bool WithRateLimit { get; init; }

    public static ScheduledParams From(NewStatus s) => new()
    {
        Text = s.Text,
        Poll = s.Poll is { } p ? new ScheduledPoll(p.Options, p.ExpiresIn.ToString(System.Globalization.CultureInfo.InvariantCulture), p.Multiple, p.HideTotals) : null,
        MediaIds = s.MediaIds.Count == 0 ? null : s.MediaIds.Select(ApiResults.Id).ToList(),
        Sensitive = s.Sensitive,
        SpoilerText = s.SpoilerText,
        Visibility = s.Visibility.ToApi(),
        InReplyToId = s.InReplyToId is { } r ? ApiResults.Id(r) : null,
        Language = s.Language,
        Idempotency = s.IdempotencyKey,
    };

    public NewStatus ToNewStatus(long scheduledId) => new(Text, VisibilityNames.Parse(Visibility) ?? Statuses.Visibility.Public, SpoilerText, Sensitive, Language,
        ApiResults.ParseId(InReplyToId))
    {
        MediaIds = (MediaIds ?? []).Select(m => ApiResults.ParseId(m)).OfType<long>().ToList(),
        Poll = Poll is { } p && int.TryParse(p.ExpiresIn, System.Globalization.CultureInfo.InvariantCulture, out var expires)
            ? new NewPoll(p.Options, expires, p.Multiple, p.HideTotals) : null,
        FromScheduledId = scheduledId,
    };
}

/// <summary>Mastodon's ScheduledStatus entity.</summary>
public sealed record ApiScheduledStatus(string Id, string ScheduledAt, ScheduledParams Params, IReadOnlyList<ApiMediaAttachment> MediaAttachments);

public sealed record ScheduledStatusRow
{
    public required long Id { get; init; }
    public required long AccountId { get; init; }
    public required DateTimeOffset ScheduledAt { get; init; }
    public required string Params { get; init; }
    public required DateTimeOffset CreatedAt { get; init; }
}

/// <summary>
/// Posts to publish later (Mastodon's <c>scheduled_at</c>): stored with their parameters, their attachments reserved,
/// and published by a durable Quartz job at the time through the same path as any post.
/// </summary>
public sealed class ScheduledStatusService(
    NpgsqlDataSource db, TimeProvider clock, StatusService statuses, MediaPresenter media, ScheduledStatusScheduler scheduler,
    ILogger<ScheduledStatusService> logger)
{
    /// <summary>Mastodon's rule: at least five minutes ahead.</summary>
    public static readonly TimeSpan MinimumLead = TimeSpan.FromMinutes(5);

    public const int MaxPerAccount = 300;

    public static readonly JsonSerializerOptions Json = new() { PropertyNamingPolicy = JsonNamingPolicy.SnakeCaseLower };

    const string Columns = "s.id, s.account_id, s.scheduled_at, s.params::text AS params, s.created_at";

    Error? CheckTime(DateTimeOffset at) =>
        at < clock.GetUtcNow() + MinimumLead ? Error.Validation("Validation failed: Scheduled at The scheduled date must be at least 5 minutes in the future") : null;

    public async Task<Result<ApiScheduledStatus>> CreateAsync(long accountId, NewStatus input, DateTimeOffset at, CancellationToken ct)
    {
        if (CheckTime(at) is { } tooSoon) return tooSoon;
        // The same checks as posting now, so a scheduled post does not fail silently later.
        if (StatusService.Validate(input) is { } invalid) return invalid;

        await using var conn = await db.OpenConnectionAsync(ct);
        await using var tx = await conn.BeginTransactionAsync(ct);
        if (input.IdempotencyKey is { } key && await EarlierAsync(conn, tx, accountId, key, ct) is { } earlier
            && await GetAsync(accountId, earlier, ct) is { } same)
            return same;
        var count = await conn.ExecuteScalarAsync<int>(new CommandDefinition("SELECT count(*)::int FROM scheduled_statuses WHERE account_id = @accountId",
            new { accountId }, tx, cancellationToken: ct));
        if (count >= MaxPerAccount) return Error.Validation($"Validation failed: You cannot schedule more than {MaxPerAccount} posts");
        if (input.InReplyToId is { } parentId && await conn.QuerySingleOrDefaultAsync<Status>(new CommandDefinition(StatusQueries.VisibleById,
                new { id = parentId, viewer = accountId }, tx, cancellationToken: ct)) is null)
            return Error.NotFound("The status you are trying to reply to does not exist or is not visible to you");
        var mediaIds = input.MediaIds.Distinct().ToArray();
        // Still processing is fine: it will have finished by the time the post is published.
        if (await MediaAttaching.CheckAsync(conn, tx, accountId, mediaIds, heldFor: null, requireReady: false, ct) is { IsOk: false } notAttachable)
            return notAttachable.Error!;
        var now = clock.GetUtcNow();
        var id = await conn.ExecuteScalarAsync<long>(new CommandDefinition(StatusQueries.NextId, new { at = now }, tx, cancellationToken: ct));
        var stored = ScheduledParams.From(input with { MediaIds = mediaIds });
        await conn.ExecuteAsync(new CommandDefinition("""
            INSERT INTO scheduled_statuses (id, account_id, scheduled_at, params, created_at) VALUES (@id, @accountId, @at, @params::jsonb, @now)
            """, new { id, accountId, at, @params = JsonSerializer.Serialize(stored, Json), now }, tx, cancellationToken: ct));
        // Reserved: the uploads cannot be posted or deleted elsewhere meanwhile.
        await conn.ExecuteAsync(new CommandDefinition("UPDATE media_attachments SET scheduled_status_id = @id WHERE id = ANY(@mediaIds)",
            new { id, mediaIds }, tx, cancellationToken: ct));
        if (input.IdempotencyKey is { } idempotencyKey)
        {
            // As for posting now: a concurrent twin with the same key waits on the key's row, and the one that loses
            // schedules nothing and answers with the winner's ScheduledStatus.
            var claimed = await conn.ExecuteAsync(new CommandDefinition("""
                INSERT INTO scheduled_status_idempotency (account_id, key, scheduled_status_id, created_at) VALUES (@accountId, @idempotencyKey, @id, @now)
                ON CONFLICT (account_id, key) DO UPDATE SET scheduled_status_id = excluded.scheduled_status_id, created_at = excluded.created_at
                WHERE scheduled_status_idempotency.created_at <= @since
                """, new { accountId, idempotencyKey, id, now, since = now - StatusService.IdempotencyWindow }, tx, cancellationToken: ct));
            if (claimed == 0)
            {
                await tx.RollbackAsync(ct);
                await using var again = await db.OpenConnectionAsync(ct);
                return await EarlierAsync(again, null, accountId, idempotencyKey, ct) is { } winner && await GetAsync(accountId, winner, ct) is { } won
                    ? won
                    : Error.NotFound("The scheduled status for this Idempotency-Key was published or cancelled meanwhile");
            }
        }
        await tx.CommitAsync(ct);
        await scheduler.ScheduleAsync(id, at, ct);
        return (await GetAsync(accountId, id, ct))!;
    }

    /// <summary>The still-scheduled post this key made within the window, if any.</summary>
    async Task<long?> EarlierAsync(NpgsqlConnection conn, NpgsqlTransaction? tx, long accountId, string key, CancellationToken ct) =>
        await conn.ExecuteScalarAsync<long?>(new CommandDefinition("""
            SELECT i.scheduled_status_id FROM scheduled_status_idempotency i
            WHERE i.account_id = @accountId AND i.key = @key AND i.created_at > @since
            """, new { accountId, key, since = clock.GetUtcNow() - StatusService.IdempotencyWindow }, tx, cancellationToken: ct));

    public async Task<ApiScheduledStatus?> GetAsync(long accountId, long id, CancellationToken ct)
    {
        await using var conn = await db.OpenConnectionAsync(ct);
        var row = await conn.QuerySingleOrDefaultAsync<ScheduledStatusRow>(new CommandDefinition(
            $"SELECT {Columns} FROM scheduled_statuses s WHERE s.id = @id AND s.account_id = @accountId", new { id, accountId }, cancellationToken: ct));
        return row is null ? null : (await PresentAsync(conn, [row], ct))[0];
    }

    public async Task<IReadOnlyList<ApiScheduledStatus>> ListAsync(long accountId, PageRequest page, CancellationToken ct)
    {
        await using var conn = await db.OpenConnectionAsync(ct);
        var rows = (await conn.QueryAsync<ScheduledStatusRow>(new CommandDefinition($"""
            SELECT {Columns} FROM scheduled_statuses s
            WHERE s.account_id = @accountId AND (@maxId::bigint IS NULL OR s.id < @maxId) AND (@sinceId::bigint IS NULL OR s.id > @sinceId)
            ORDER BY CASE WHEN @minId::bigint IS NULL THEN s.id END DESC, s.id ASC
            LIMIT @limit
            """, new { accountId, maxId = page.MaxId, sinceId = page.MinId ?? page.SinceId, minId = page.MinId, limit = page.Limit }, cancellationToken: ct)))
            .OrderByDescending(r => r.Id).ToList();
        return await PresentAsync(conn, rows, ct);
    }

    async Task<IReadOnlyList<ApiScheduledStatus>> PresentAsync(NpgsqlConnection conn, IReadOnlyList<ScheduledStatusRow> rows, CancellationToken ct)
    {
        var ids = rows.Select(r => r.Id).ToArray();
        var reserved = (await conn.QueryAsync<MediaRow>(new CommandDefinition(
            $"SELECT {MediaQueries.Columns} FROM media_attachments m WHERE m.scheduled_status_id = ANY(@ids) ORDER BY m.id", new { ids }, cancellationToken: ct)))
            .ToLookup(m => m.ScheduledStatusId!.Value);
        return rows.Select(r =>
        {
            var p = JsonSerializer.Deserialize<ScheduledParams>(r.Params, Json)!;
            var order = (p.MediaIds ?? []).ToList();
            var attached = reserved[r.Id].OrderBy(m => order.IndexOf(ApiResults.Id(m.Id))).Select(media.Present).ToList();
            return new ApiScheduledStatus(ApiResults.Id(r.Id), ApiResults.Date(r.ScheduledAt), p, attached);
        }).ToList();
    }

    /// <summary>Moves a scheduled post to another time (the same five-minute rule).</summary>
    public async Task<Result<ApiScheduledStatus>> RescheduleAsync(long accountId, long id, DateTimeOffset at, CancellationToken ct)
    {
        if (CheckTime(at) is { } tooSoon) return tooSoon;
        await using (var conn = await db.OpenConnectionAsync(ct))
        {
            var changed = await conn.ExecuteAsync(new CommandDefinition("UPDATE scheduled_statuses SET scheduled_at = @at WHERE id = @id AND account_id = @accountId",
                new { id, accountId, at }, cancellationToken: ct));
            if (changed == 0) return Error.NotFound();
        }
        await scheduler.ScheduleAsync(id, at, ct);
        return (await GetAsync(accountId, id, ct))!;
    }

    /// <summary>Cancels a scheduled post; its attachments are free again.</summary>
    public async Task<bool> CancelAsync(long accountId, long id, CancellationToken ct)
    {
        await using (var conn = await db.OpenConnectionAsync(ct))
        {
            var removed = await conn.ExecuteAsync(new CommandDefinition("DELETE FROM scheduled_statuses WHERE id = @id AND account_id = @accountId",
                new { id, accountId }, cancellationToken: ct));
            if (removed == 0) return false;
        }
        await scheduler.UnscheduleAsync(id, ct);
        return true;
    }

    /// <summary>Scheduled posts whose time has come (the safety net for a lost trigger).</summary>
    public async Task<IReadOnlyList<long>> DueAsync(CancellationToken ct)
    {
        await using var conn = await db.OpenConnectionAsync(ct);
        return (await conn.QueryAsync<long>(new CommandDefinition("SELECT id FROM scheduled_statuses WHERE scheduled_at <= @now ORDER BY scheduled_at LIMIT 100",
            new { now = clock.GetUtcNow() }, cancellationToken: ct))).ToList();
    }

    /// <summary>Publishes one scheduled post if its time has come; one that can no longer be posted is dropped.</summary>
    public async Task PublishAsync(long id, CancellationToken ct)
    {
        ScheduledStatusRow? row;
        await using (var conn = await db.OpenConnectionAsync(ct))
            row = await conn.QuerySingleOrDefaultAsync<ScheduledStatusRow>(new CommandDefinition(
                $"SELECT {Columns} FROM scheduled_statuses s WHERE s.id = @id", new { id }, cancellationToken: ct));
        if (row is null || row.ScheduledAt > clock.GetUtcNow()) return;
        var p = JsonSerializer.Deserialize<ScheduledParams>(row.Params, Json)!;
        var result = await statuses.CreateAsync(row.AccountId, p.ToNewStatus(id), ct);
        if (result.IsOk || result.Error!.Kind == ErrorKind.NotFound && result.Error.Message.StartsWith("The scheduled status", StringComparison.Ordinal)) return;
        logger.LogWarning("Scheduled status {Id} could not be published and was dropped: {Error}", id, result.Error.Message);
        await CancelAsync(row.AccountId, id, ct);
    }
}
