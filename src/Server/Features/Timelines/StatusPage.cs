using Dapper;
using Fellows.Server.Configuration;
using Fellows.Server.Features.Mastodon;
using Fellows.Server.Features.Statuses;
using Npgsql;

namespace Fellows.Server.Features.Timelines;

/// <summary>
/// Every list of statuses in the client API pages the same way: max_id / since_id / min_id / limit, newest first
/// (oldest first from min_id, then reversed), a Link header to the next and previous pages.
/// </summary>
public static class StatusPage
{
    /// <summary>The paging conditions on the status's id (<see cref="PageRequest.Conditions"/>, as a constant).</summary>
    public const string Conditions = """
        AND (@maxId::bigint IS NULL OR s.id < @maxId)
        AND (@sinceId::bigint IS NULL OR s.id > @sinceId)
        AND (@minId::bigint IS NULL OR s.id > @minId)
        """;

    /// <summary>The paging order and limit on the status's id (<see cref="PageRequest.OrderAndLimit"/>, as a constant).</summary>
    public const string OrderAndLimit = """
        ORDER BY CASE WHEN @minId::bigint IS NULL THEN s.id END DESC, CASE WHEN @minId::bigint IS NOT NULL THEN s.id END
        LIMIT @limit
        """;

    /// <summary>
    /// Like <see cref="RespondAsync"/> for a query whose first column is <c>cursor_id</c> followed by the status columns.
    /// </summary>
    public static async Task<IResult> RespondByCursorAsync(HttpContext context, string sql, long viewer, object? args, NpgsqlDataSource db,
        StatusPresenter presenter, InstanceUrls urls, CancellationToken ct)
    {
        var page = PageRequest.From(context.Request);
        var parameters = new DynamicParameters(args);
        parameters.AddDynamicParams(new { viewer, page.MaxId, page.SinceId, page.MinId, page.Limit });
        await using var conn = await db.OpenConnectionAsync(ct);
        var rows = (await conn.QueryAsync<long, Status, (long Cursor, Status Status)>(new CommandDefinition(sql, parameters, cancellationToken: ct),
            (cursor, status) => (cursor, status), splitOn: "id")).ToList();
        if (page.MinId is not null) rows.Reverse();
        page.AddLinkHeader(context, urls.Base, rows, r => r.Cursor);
        return await presenter.RespondAsync(conn, rows.Select(r => r.Status).ToList(), viewer, ct);
    }

    /// <summary>Runs <paramref name="sql"/> (with @viewer, the paging parameters and <paramref name="args"/>) and answers the page.</summary>
    public static async Task<IResult> RespondAsync(HttpContext context, string sql, long? viewer, object? args, NpgsqlDataSource db,
        StatusPresenter presenter, InstanceUrls urls, CancellationToken ct)
    {
        var page = PageRequest.From(context.Request);
        var parameters = new DynamicParameters(args);
        parameters.AddDynamicParams(new { viewer });
        await using var conn = await db.OpenConnectionAsync(ct);
        var rows = await page.QueryAsync<Status>(conn, sql, parameters, ct);
        page.AddLinkHeader(context, urls.Base, rows, r => r.Id);
        return await presenter.RespondAsync(conn, rows, viewer, ct);
    }
}
