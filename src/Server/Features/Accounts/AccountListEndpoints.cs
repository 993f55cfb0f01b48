using System.Security.Claims;
using Fellows.Server.Configuration;
using Fellows.Server.Features.Auth;
using Fellows.Server.Features.Follows;
using Fellows.Server.Features.Mastodon;
using Npgsql;

namespace Fellows.Server.Features.Accounts;

/// <summary>
/// Lists of accounts (an account's followers and following; the member's mutes and blocks) and muting. Lists page
/// by the id of the follow, mute or block, newest first, with a Link header as Mastodon's do.
/// </summary>
public static class AccountListEndpoints
{
    public static void MapAccountListEndpoints(this IEndpointRouteBuilder app)
    {
        var accounts = app.MapGroup("/api/v1/accounts").WithTags("Accounts");
        accounts.MapGet("/{id}/followers", Followers).WithName("AccountFollowers");
        accounts.MapGet("/{id}/following", Following).WithName("AccountFollowing");
        accounts.MapPost("/{id}/mute", Mute).RequireScope("write:mutes").WithName("MuteAccount");
        accounts.MapPost("/{id}/unmute", Unmute).RequireScope("write:mutes").WithName("UnmuteAccount");
        app.MapGet("/api/v1/mutes", Mutes).RequireScope("read:mutes").WithTags("Mutes").WithName("Mutes");
        app.MapGet("/api/v1/blocks", Blocks).RequireScope("read:blocks").WithTags("Blocks").WithName("Blocks");
    }

    public static Task<IResult> Followers(string id, HttpContext context, ClaimsPrincipal user, NpgsqlDataSource db, AccountPresenter presenter,
        InstanceUrls urls, CancellationToken ct) =>
        OfAccountAsync(id, AccountListQueries.Followers, context, user, db, presenter, urls, ct);

    public static Task<IResult> Following(string id, HttpContext context, ClaimsPrincipal user, NpgsqlDataSource db, AccountPresenter presenter,
        InstanceUrls urls, CancellationToken ct) =>
        OfAccountAsync(id, AccountListQueries.Following, context, user, db, presenter, urls, ct);

    static async Task<IResult> OfAccountAsync(string id, string sql, HttpContext context, ClaimsPrincipal user, NpgsqlDataSource db,
        AccountPresenter presenter, InstanceUrls urls, CancellationToken ct)
    {
        if (ApiResults.ParseId(id) is not { } accountId) return ApiResults.NotFound();
        await using (var conn = await db.OpenConnectionAsync(ct))
        {
            if (await conn.FindAccountByIdAsync(accountId, null, ct) is not { DeletedAt: null, SuspendedAt: null }) return ApiResults.NotFound();
        }
        return await RespondAsync(context, sql, new { accountId }, user.AccountId(), db, presenter, urls, ct);
    }

    public static Task<IResult> Mutes(HttpContext context, ClaimsPrincipal user, NpgsqlDataSource db, AccountPresenter presenter, InstanceUrls urls,
        CancellationToken ct) =>
        RespondAsync(context, AccountListQueries.Mutes, new { accountId = user.RequiredAccountId() }, user.AccountId(), db, presenter, urls, ct);

    public static Task<IResult> Blocks(HttpContext context, ClaimsPrincipal user, NpgsqlDataSource db, AccountPresenter presenter, InstanceUrls urls,
        CancellationToken ct) =>
        RespondAsync(context, AccountListQueries.Blocks, new { accountId = user.RequiredAccountId() }, user.AccountId(), db, presenter, urls, ct);

    public static async Task<IResult> Mute(string id, HttpRequest request, ClaimsPrincipal user, FollowService follows, CancellationToken ct)
    {
        if (ApiResults.ParseId(id) is not { } target) return ApiResults.NotFound();
        var p = await ApiParams.ReadAsync(request, ct);
        if (p.Error is not null) return Results.Json(new ApiError(p.Error), statusCode: p.ErrorStatus);
        var duration = p.Get("duration") is { Length: > 0 } text
            ? long.TryParse(text, System.Globalization.NumberStyles.AllowLeadingSign, System.Globalization.CultureInfo.InvariantCulture, out var d) ? d : -1
            : 0;
        return ApiResults.From(await follows.MuteAsync(user.RequiredAccountId(), target, p.GetBool("notifications") ?? true, duration, ct));
    }

    public static async Task<IResult> Unmute(string id, ClaimsPrincipal user, FollowService follows, CancellationToken ct) =>
        ApiResults.ParseId(id) is { } target ? ApiResults.From(await follows.UnmuteAsync(user.RequiredAccountId(), target, ct)) : ApiResults.NotFound();

    internal static async Task<IResult> RespondAsync(HttpContext context, string sql, object args, long? viewer, NpgsqlDataSource db, AccountPresenter presenter,
        InstanceUrls urls, CancellationToken ct)
    {
        var page = PageRequest.From(context.Request, defaultLimit: 40, maxLimit: 80);
        await using var conn = await db.OpenConnectionAsync(ct);
        var rows = await page.QueryAsync<(long Cursor, long AccountId)>(conn, sql, args, ct);
        page.AddLinkHeader(context, urls.Base, rows, r => r.Cursor);
        var entities = await presenter.PresentManyAsync(conn, rows.Select(r => r.AccountId).ToArray(), viewer, ct);
        return Results.Json(rows.Where(r => entities.ContainsKey(r.AccountId)).Select(r => entities[r.AccountId]).ToList());
    }
}

static class AccountListQueries
{
    /// <summary>By the id of the follow, mute, block or endorsement (<c>x</c>), newest first.</summary>
    public static readonly string Paging = PageRequest.Conditions("x.id") + PageRequest.OrderAndLimit("x.id");

    public const string Listed = "a.deleted_at IS NULL AND a.suspended_at IS NULL";

    public static readonly string Followers = $"""
        SELECT x.id, x.account_id FROM follows x JOIN accounts a ON a.id = x.account_id
        WHERE x.target_account_id = @accountId AND {Listed} {Paging}
        """;

    public static readonly string Following = $"""
        SELECT x.id, x.target_account_id FROM follows x JOIN accounts a ON a.id = x.target_account_id
        WHERE x.account_id = @accountId AND {Listed} {Paging}
        """;

    public static readonly string Mutes = $"""
        SELECT x.id, x.target_account_id FROM mutes x JOIN accounts a ON a.id = x.target_account_id
        WHERE x.account_id = @accountId AND (x.expires_at IS NULL OR x.expires_at > statement_timestamp()) AND {Listed} {Paging}
        """;

    public static readonly string Blocks = $"""
        SELECT x.id, x.target_account_id FROM blocks x JOIN accounts a ON a.id = x.target_account_id
        WHERE x.account_id = @accountId AND {Listed} {Paging}
        """;
}
