using Dapper;
using Fellows.Server.Features.Accounts;
using Fellows.Server.Features.Mastodon;
using Fellows.Server.Features.Statuses;
using Npgsql;

namespace Fellows.Server.Features.Notifications;

public sealed record NotificationRow
{
    public required long Id { get; init; }
    public required string Type { get; init; }
    public required long FromAccountId { get; init; }
    public long? StatusId { get; init; }
    public required DateTimeOffset CreatedAt { get; init; }
}

public sealed record ApiNotification
{
    public required string Id { get; init; }
    public required string Type { get; init; }
    public required string CreatedAt { get; init; }
    public required string GroupKey { get; init; }
    public required ApiAccount Account { get; init; }

    /// <summary>The Fellows kind behind a notification shown as a Mastodon kind (see <see cref="FellowsNotifications"/>).</summary>
    [System.Text.Json.Serialization.JsonIgnore(Condition = System.Text.Json.Serialization.JsonIgnoreCondition.WhenWritingNull)]
    public string? FellowsType { get; init; }

    /// <summary>Left out for kinds without a status (follow, follow_request), as Mastodon does.</summary>
    [System.Text.Json.Serialization.JsonIgnore(Condition = System.Text.Json.Serialization.JsonIgnoreCondition.WhenWritingNull)]
    public ApiStatus? Status { get; init; }
}

/// <summary>Notification rows as API entities, accounts and statuses loaded in batches.</summary>
public sealed class NotificationPresenter(NpgsqlDataSource db, AccountPresenter accounts, StatusPresenter statuses)
{
    /// <summary>One of the member's notifications as they may see it now (hidden ones, as in the list, are null).</summary>
    public async Task<ApiNotification?> FindAsync(long me, long id, CancellationToken ct)
    {
        List<NotificationRow> rows;
        await using (var conn = await db.OpenConnectionAsync(ct))
            rows = (await conn.QueryAsync<NotificationRow>(new CommandDefinition(NotificationQueries.Page, new
            {
                me, types = (string[]?)null, excludeTypes = (string[]?)null, fromAccount = (long?)null, id = (long?)id,
                maxId = (long?)null, sinceId = (long?)null, minId = (long?)null, limit = 1,
            }, cancellationToken: ct))).ToList();
        var entities = await PresentManyAsync(rows, me, ct);
        return entities.Count == 0 ? null : entities[0];
    }

    public async Task<IReadOnlyList<ApiNotification>> PresentManyAsync(IReadOnlyList<NotificationRow> rows, long viewer, CancellationToken ct)
    {
        if (rows.Count == 0) return [];
        await using var conn = await db.OpenConnectionAsync(ct);
        var accountEntities = await accounts.PresentManyAsync(conn, rows.Select(r => r.FromAccountId).Distinct().ToArray(), viewer, ct);
        var statusIds = rows.Where(r => r.StatusId is not null).Select(r => r.StatusId!.Value).Distinct().ToArray();
        var statusRows = statusIds.Length == 0 ? [] :
            (await conn.QueryAsync<Status>(new CommandDefinition(StatusQueries.ManyByIds, new { ids = statusIds }, cancellationToken: ct))).ToList();
        var statusEntities = (await statuses.PresentManyAsync(statusRows, viewer, ct)).ToDictionary(s => s.Id);
        return rows
            .Where(r => accountEntities.ContainsKey(r.FromAccountId))
            .Where(r => r.StatusId is null || statusEntities.ContainsKey(ApiResults.Id(r.StatusId.Value)))
            .Select(r => new ApiNotification
            {
                Id = ApiResults.Id(r.Id),
                Type = FellowsNotifications.ClientType(r.Type),
                FellowsType = FellowsNotifications.IsFellows(r.Type) ? r.Type : null,
                CreatedAt = ApiResults.Date(r.CreatedAt),
                // Not grouped: every notification is its own group.
                GroupKey = $"ungrouped-{ApiResults.Id(r.Id)}",
                Account = accountEntities[r.FromAccountId],
                Status = r.StatusId is { } sid ? statusEntities[ApiResults.Id(sid)] : null,
            })
            .ToList();
    }
}

/// <summary>Notification events on the streaming API, rendered as the list endpoint would show them.</summary>
public sealed class StreamingNotificationRenderer(NotificationPresenter presenter, Microsoft.Extensions.Options.IOptions<Microsoft.AspNetCore.Http.Json.JsonOptions> json)
    : Streaming.INotificationRenderer
{
    public async Task<string?> RenderAsync(long accountId, long notificationId, CancellationToken ct) =>
        await presenter.FindAsync(accountId, notificationId, ct) is { } entity
            ? System.Text.Json.JsonSerializer.Serialize(entity, json.Value.SerializerOptions)
            : null;
}
