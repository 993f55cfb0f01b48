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

    /// <summary>Left out for kinds without a status (follow, follow_request), as Mastodon does.</summary>
    [System.Text.Json.Serialization.JsonIgnore(Condition = System.Text.Json.Serialization.JsonIgnoreCondition.WhenWritingNull)]
    public ApiStatus? Status { get; init; }
}

/// <summary>Notification rows as API entities, accounts and statuses loaded in batches.</summary>
public sealed class NotificationPresenter(NpgsqlDataSource db, AccountPresenter accounts, StatusPresenter statuses)
{
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
                Type = r.Type,
                CreatedAt = ApiResults.Date(r.CreatedAt),
                // Not grouped: every notification is its own group.
                GroupKey = $"ungrouped-{ApiResults.Id(r.Id)}",
                Account = accountEntities[r.FromAccountId],
                Status = r.StatusId is { } sid ? statusEntities[ApiResults.Id(sid)] : null,
            })
            .ToList();
    }
}
