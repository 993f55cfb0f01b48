using System.Globalization;
using System.Security.Claims;
using Dapper;
using Fellows.Server.Features.Auth;
using Fellows.Server.Features.Mastodon;
using Npgsql;

namespace Fellows.Server.Features.Accounts;

/// <summary>
/// The profile directory (<c>GET /api/v1/directory</c>): accounts that chose to be discoverable, the co-op's members
/// with <c>local=true</c>, ordered by recent activity (<c>order=active</c>, the default) or by arrival
/// (<c>order=new</c>), paged by <c>offset</c>. Public, like Mastodon's; a signed-in viewer does not see accounts they
/// block, mute or are blocked by, nor servers they blocked.
/// </summary>
public static class DirectoryEndpoints
{
    const int DefaultLimit = 40, MaxLimit = 80, MaxOffset = 10_000;

    public static void MapDirectoryEndpoints(this IEndpointRouteBuilder app) =>
        app.MapGet("/api/v1/directory", Directory).WithTags("Accounts").WithName("Directory");

    public static async Task<IResult> Directory(HttpRequest request, ClaimsPrincipal user, NpgsqlDataSource db, AccountPresenter presenter, CancellationToken ct)
    {
        var q = request.Query;
        var limit = int.TryParse(q["limit"], NumberStyles.None, CultureInfo.InvariantCulture, out var l) ? Math.Clamp(l, 1, MaxLimit) : DefaultLimit;
        var offset = int.TryParse(q["offset"], NumberStyles.None, CultureInfo.InvariantCulture, out var o) ? Math.Min(o, MaxOffset) : 0;
        var order = q["order"].ToString();
        if (order is not ("" or "active" or "new")) return Results.Json(new ApiError("Validation failed: order must be active or new"), statusCode: 422);
        var local = q["local"].ToString() is "true" or "1";
        var viewer = user.AccountId();
        await using var conn = await db.OpenConnectionAsync(ct);
        var ids = (await conn.QueryAsync<long>(new CommandDefinition(order == "new" ? DirectoryQueries.Newest : DirectoryQueries.Active,
            new { local, viewer, limit, offset }, cancellationToken: ct))).ToArray();
        var accounts = await presenter.PresentManyAsync(conn, ids, viewer, ct);
        return Results.Json(ids.Where(accounts.ContainsKey).Select(id => accounts[id]).ToList());
    }
}

static class DirectoryQueries
{
    /// <summary>
    /// Listed: discoverable people and groups that have not moved or left, from servers not suspended here; local ones
    /// only when they are co-op members (approved, enabled).
    /// </summary>
    const string Listed = $"""
        a.deleted_at IS NULL AND a.suspended_at IS NULL AND a.discoverable AND a.moved_to_account_id IS NULL AND a.actor_type IN ('Person', 'Group')
        AND (a.domain IS NOT NULL OR EXISTS (SELECT 1 FROM users u WHERE u.account_id = a.id AND u.approved AND u.disabled_at IS NULL)
             OR EXISTS (SELECT 1 FROM groups g WHERE g.account_id = a.id))
        AND (NOT @local OR a.domain IS NULL)
        AND {DomainBlockQueries.AccountServerNotBlocked}
        AND (@viewer::bigint IS NULL OR (
            NOT EXISTS (SELECT 1 FROM blocks b WHERE (b.account_id = @viewer AND b.target_account_id = a.id) OR (b.account_id = a.id AND b.target_account_id = @viewer))
            AND NOT EXISTS (SELECT 1 FROM mutes m WHERE m.account_id = @viewer AND m.target_account_id = a.id)))
        """;

    /// <summary>Those who posted lately first, then those who have not posted yet.</summary>
    public const string Active = $"""
        SELECT a.id FROM accounts a
        LEFT JOIN LATERAL (SELECT s.id FROM statuses s WHERE s.account_id = a.id AND s.deleted_at IS NULL ORDER BY s.id DESC LIMIT 1) latest ON true
        WHERE {Listed}
        ORDER BY latest.id DESC NULLS LAST, a.id DESC
        LIMIT @limit OFFSET @offset
        """;

    public const string Newest = $"""
        SELECT a.id FROM accounts a WHERE {Listed}
        ORDER BY a.id DESC
        LIMIT @limit OFFSET @offset
        """;
}
