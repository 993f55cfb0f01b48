using System.Security.Claims;
using Dapper;
using Fellows.Server.Common;
using Fellows.Server.Configuration;
using Fellows.Server.Features.Auth;
using Fellows.Server.Features.Follows;
using Fellows.Server.Features.Mastodon;
using Npgsql;

namespace Fellows.Server.Features.Accounts;

/// <summary>
/// Endorsements (Mastodon's account pins: accounts a member recommends on their profile, only among those they
/// follow) and private notes about an account. Both show in the relationship (<c>endorsed</c>, <c>note</c>).
/// </summary>
public static class EndorsementEndpoints
{
    public const string NotFollowing = "Validation failed: You must be already following the person you want to endorse";

    public static void MapEndorsementEndpoints(this IEndpointRouteBuilder app)
    {
        var accounts = app.MapGroup("/api/v1/accounts").WithTags("Accounts");
        // pin/unpin are the long-standing names; endorse/unendorse the ones Mastodon 4.4 added for the same thing.
        foreach (var verb in new[] { "pin", "endorse" })
            accounts.MapPost($"/{{id}}/{verb}", Endorse).RequireScope("write:accounts").WithName($"Endorse_{verb}");
        foreach (var verb in new[] { "unpin", "unendorse" })
            accounts.MapPost($"/{{id}}/{verb}", Unendorse).RequireScope("write:accounts").WithName($"Unendorse_{verb}");
        accounts.MapGet("/{id}/endorsements", OfAccount).WithName("AccountEndorsements");
        accounts.MapPost("/{id}/note", Note).RequireScope("write:accounts").WithName("AccountNote");
        app.MapGet("/api/v1/endorsements", Mine).RequireScope("read:accounts").WithTags("Accounts").WithName("Endorsements");
    }

    public static async Task<IResult> Endorse(string id, ClaimsPrincipal user, NpgsqlDataSource db, FollowService follows, TimeProvider clock, CancellationToken ct)
    {
        var me = user.RequiredAccountId();
        if (ApiResults.ParseId(id) is not { } target) return ApiResults.NotFound();
        await using (var conn = await db.OpenConnectionAsync(ct))
        {
            if (await conn.FindAccountByIdAsync(target, null, ct) is not { DeletedAt: null, SuspendedAt: null }) return ApiResults.NotFound();
            // Inserted only while the follow exists, in one statement, so a concurrent unfollow can't leave an orphan.
            var inserted = await conn.ExecuteAsync(new CommandDefinition("""
                INSERT INTO account_pins (id, account_id, target_account_id, created_at)
                SELECT fellows_id(@now), @me, @target, @now
                WHERE EXISTS (SELECT 1 FROM follows WHERE account_id = @me AND target_account_id = @target)
                ON CONFLICT (account_id, target_account_id) DO NOTHING
                """, new { me, target, now = clock.GetUtcNow() }, cancellationToken: ct));
            if (inserted == 0 && !await conn.ExecuteScalarAsync<bool>(new CommandDefinition(
                    "SELECT EXISTS (SELECT 1 FROM account_pins WHERE account_id = @me AND target_account_id = @target)", new { me, target }, cancellationToken: ct)))
                return ApiResults.Error(Error.Validation(NotFollowing));
        }
        return Results.Json(await follows.RelationshipAsync(me, target, ct));
    }

    public static async Task<IResult> Unendorse(string id, ClaimsPrincipal user, NpgsqlDataSource db, FollowService follows, CancellationToken ct)
    {
        var me = user.RequiredAccountId();
        if (ApiResults.ParseId(id) is not { } target) return ApiResults.NotFound();
        await using (var conn = await db.OpenConnectionAsync(ct))
        {
            if (await conn.FindAccountByIdAsync(target, null, ct) is null) return ApiResults.NotFound();
            await conn.ExecuteAsync(new CommandDefinition("DELETE FROM account_pins WHERE account_id = @me AND target_account_id = @target",
                new { me, target }, cancellationToken: ct));
        }
        return Results.Json(await follows.RelationshipAsync(me, target, ct));
    }

    public static Task<IResult> Mine(HttpContext context, ClaimsPrincipal user, NpgsqlDataSource db, AccountPresenter presenter, InstanceUrls urls,
        CancellationToken ct) =>
        AccountListEndpoints.RespondAsync(context, EndorsementQueries.Page, new { accountId = user.RequiredAccountId() }, user.AccountId(), db, presenter, urls, ct);

    /// <summary>Whom an account endorses, as its profile shows; public like the profile.</summary>
    public static async Task<IResult> OfAccount(string id, HttpContext context, ClaimsPrincipal user, NpgsqlDataSource db, AccountPresenter presenter,
        InstanceUrls urls, CancellationToken ct)
    {
        if (ApiResults.ParseId(id) is not { } accountId) return ApiResults.NotFound();
        await using (var conn = await db.OpenConnectionAsync(ct))
            if (await conn.FindAccountByIdAsync(accountId, null, ct) is not { DeletedAt: null, SuspendedAt: null }) return ApiResults.NotFound();
        return await AccountListEndpoints.RespondAsync(context, EndorsementQueries.Page, new { accountId }, user.AccountId(), db, presenter, urls, ct);
    }

    /// <summary>Sets the member's private note on an account (<c>comment</c>); an empty comment removes it.</summary>
    public static async Task<IResult> Note(string id, HttpRequest request, ClaimsPrincipal user, NpgsqlDataSource db, FollowService follows,
        TimeProvider clock, CancellationToken ct)
    {
        var me = user.RequiredAccountId();
        if (ApiResults.ParseId(id) is not { } target) return ApiResults.NotFound();
        var p = await ApiParams.ReadAsync(request, ct);
        if (p.Error is not null) return Results.Json(new ApiError(p.Error), statusCode: p.ErrorStatus);
        var comment = p.Get("comment")?.Trim() ?? "";
        if (comment.Length > 2000) return ApiResults.Error(Error.Validation("Validation failed: Comment is too long (maximum is 2000 characters)"));
        await using (var conn = await db.OpenConnectionAsync(ct))
        {
            if (await conn.FindAccountByIdAsync(target, null, ct) is null) return ApiResults.NotFound();
            await conn.ExecuteAsync(new CommandDefinition(comment.Length == 0
                ? "DELETE FROM account_notes WHERE account_id = @me AND target_account_id = @target"
                : """
                  INSERT INTO account_notes (account_id, target_account_id, comment, updated_at) VALUES (@me, @target, @comment, @now)
                  ON CONFLICT (account_id, target_account_id) DO UPDATE SET comment = excluded.comment, updated_at = excluded.updated_at
                  """, new { me, target, comment, now = clock.GetUtcNow() }, cancellationToken: ct));
        }
        return Results.Json(await follows.RelationshipAsync(me, target, ct));
    }
}

static class EndorsementQueries
{
    public static readonly string Page = $"""
        SELECT x.id, x.target_account_id FROM account_pins x JOIN accounts a ON a.id = x.target_account_id
        WHERE x.account_id = @accountId AND {AccountListQueries.Listed} {AccountListQueries.Paging}
        """;
}

static class AccountSurfaceQueries
{
    /// <summary>
    /// For each account in @ids, who among those @me follows also follows it, most recent follow first; at most 40 each.
    /// </summary>
    public const string FamiliarFollowers = """
        SELECT x.target_account_id, x.account_id
        FROM unnest(@ids::bigint[]) AS t(id)
        CROSS JOIN LATERAL (
            SELECT f.target_account_id, f.account_id FROM follows f
            JOIN follows mine ON mine.account_id = @me AND mine.target_account_id = f.account_id
            JOIN accounts a ON a.id = f.account_id
            WHERE f.target_account_id = t.id AND a.deleted_at IS NULL AND a.suspended_at IS NULL
            ORDER BY f.id DESC
            LIMIT 40) x
        """;
}
