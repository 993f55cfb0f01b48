using System.Security.Claims;
using Dapper;
using Fellows.Server.Configuration;
using Fellows.Server.Features.Auth;
using Fellows.Server.Features.Follows;
using Fellows.Server.Features.Mastodon;
using Fellows.Server.Features.Statuses;
using Fellows.Server.Features.Timelines;
using Npgsql;

namespace Fellows.Server.Features.Accounts;

public static class AccountEndpoints
{
    public static void MapAccountEndpoints(this IEndpointRouteBuilder app)
    {
        var group = app.MapGroup("/api/v1/accounts").WithTags("Accounts");
        group.MapGet("/verify_credentials", VerifyCredentials).RequireScope(Scopes.Profile).WithName("VerifyCredentials");
        group.MapGet("/relationships", Relationships).RequireScope("read:follows").WithName("Relationships");
        group.MapGet("/lookup", Lookup).WithName("LookupAccount");
        group.MapGet("/{id}", Get).WithName("GetAccount");
        group.MapGet("/{id}/statuses", Statuses).WithName("AccountStatuses");
        group.MapPost("/{id}/follow", Follow).RequireScope("write:follows").WithName("FollowAccount");
        group.MapPost("/{id}/unfollow", Unfollow).RequireScope("write:follows").WithName("UnfollowAccount");
        group.MapPost("/{id}/block", Block).RequireScope("write:blocks").WithName("BlockAccount");
        group.MapPost("/{id}/unblock", Unblock).RequireScope("write:blocks").WithName("UnblockAccount");

        var requests = app.MapGroup("/api/v1/follow_requests").WithTags("Follow requests");
        requests.MapGet("/", FollowRequests).RequireScope("read:follows").WithName("FollowRequests");
        requests.MapPost("/{id}/authorize", Authorize).RequireScope("write:follows").WithName("AuthorizeFollowRequest");
        requests.MapPost("/{id}/reject", Reject).RequireScope("write:follows").WithName("RejectFollowRequest");
    }

    public static async Task<IResult> VerifyCredentials(ClaimsPrincipal user, AccountPresenter presenter, AccountService accounts, CancellationToken ct)
    {
        var me = user.RequiredAccountId();
        var entity = await presenter.PresentAsync(me, me, ct);
        var account = await accounts.FindAsync(me, ct);
        if (entity is null || account is null) return ApiResults.NotFound();
        return Results.Json(entity with
        {
            Source = new ApiAccountSource("public", false, "", Fellows.Federation.Html.RemoteHtml.ToPlainText(account.Note), entity.Fields, 0),
        });
    }

    public static async Task<IResult> Get(string id, ClaimsPrincipal user, AccountPresenter presenter, CancellationToken ct)
    {
        var entity = ApiResults.ParseId(id) is { } aid ? await presenter.PresentAsync(aid, user.AccountId(), ct) : null;
        return entity is null ? ApiResults.NotFound() : Results.Json(entity);
    }

    public static async Task<IResult> Lookup(string? acct, ClaimsPrincipal user, NpgsqlDataSource db, InstanceUrls urls, AccountPresenter presenter,
        Federation.RemoteActors remote, CancellationToken ct)
    {
        if (string.IsNullOrWhiteSpace(acct)) return ApiResults.NotFound();
        var parts = acct.TrimStart('@').Split('@', 2);
        var domain = parts.Length == 2 && !string.Equals(parts[1], urls.Domain, StringComparison.OrdinalIgnoreCase) ? parts[1] : null;
        await using var conn = await db.OpenConnectionAsync(ct);
        var account = await conn.QuerySingleOrDefaultAsync<Account>(new CommandDefinition(AccountQueries.ByUsernameAndDomain,
            new { username = parts[0], domain }, cancellationToken: ct));
        // A signed-in member may look up someone we have not met yet: ask their server (WebFinger).
        if (account is null && domain is not null && user.AccountId() is not null)
            account = await remote.ResolveHandleAsync(parts[0], domain, ct);
        if (account is null) return ApiResults.NotFound();
        var entity = await presenter.PresentAsync(account.Id, user.AccountId(), ct);
        return entity is null ? ApiResults.NotFound() : Results.Json(entity);
    }

    public static async Task<IResult> Statuses(string id, HttpContext context, ClaimsPrincipal user, NpgsqlDataSource db, StatusPresenter presenter,
        InstanceUrls urls, CancellationToken ct)
    {
        if (ApiResults.ParseId(id) is not { } aid) return ApiResults.NotFound();
        var q = context.Request.Query;
        var excludeReplies = q["exclude_replies"] is { Count: > 0 } er && er[0] is "true" or "1";
        var excludeReblogs = q["exclude_reblogs"] is { Count: > 0 } eb && eb[0] is "true" or "1";
        return await StatusPage.RespondAsync(context, TimelineQueries.Account, user.AccountId(),
            new { accountId = aid, excludeReplies, excludeReblogs }, db, presenter, urls, ct);
    }

    public static async Task<IResult> Follow(string id, HttpRequest request, ClaimsPrincipal user, FollowService follows, CancellationToken ct)
    {
        if (ApiResults.ParseId(id) is not { } target) return ApiResults.NotFound();
        var p = await ApiParams.ReadAsync(request, ct);
        if (p.Error is not null) return Results.Json(new ApiError(p.Error), statusCode: p.ErrorStatus);
        return ApiResults.From(await follows.FollowAsync(user.RequiredAccountId(), target, p.GetBool("reblogs"), p.GetBool("notify"), ct));
    }

    public static async Task<IResult> Unfollow(string id, ClaimsPrincipal user, FollowService follows, CancellationToken ct) =>
        ApiResults.ParseId(id) is { } target ? ApiResults.From(await follows.UnfollowAsync(user.RequiredAccountId(), target, ct)) : ApiResults.NotFound();

    public static async Task<IResult> Block(string id, ClaimsPrincipal user, FollowService follows, CancellationToken ct) =>
        ApiResults.ParseId(id) is { } target ? ApiResults.From(await follows.BlockAsync(user.RequiredAccountId(), target, ct)) : ApiResults.NotFound();

    public static async Task<IResult> Unblock(string id, ClaimsPrincipal user, FollowService follows, CancellationToken ct) =>
        ApiResults.ParseId(id) is { } target ? ApiResults.From(await follows.UnblockAsync(user.RequiredAccountId(), target, ct)) : ApiResults.NotFound();

    public static async Task<IResult> Relationships(HttpRequest request, ClaimsPrincipal user, FollowService follows, CancellationToken ct)
    {
        var ids = request.Query["id[]"].Concat(request.Query["id"]).Select(ApiResults.ParseId).OfType<long>().Distinct().Take(100).ToArray();
        return Results.Json(await follows.RelationshipsAsync(user.RequiredAccountId(), ids, ct));
    }

    /// <summary>Who is waiting for the member to accept them, oldest first (small lists: a co-op's members).</summary>
    public static async Task<IResult> FollowRequests(ClaimsPrincipal user, NpgsqlDataSource db, AccountPresenter presenter, CancellationToken ct)
    {
        var me = user.RequiredAccountId();
        await using var conn = await db.OpenConnectionAsync(ct);
        var ids = (await conn.QueryAsync<long>(new CommandDefinition(
            "SELECT account_id FROM follow_requests WHERE target_account_id = @me ORDER BY id LIMIT 80", new { me }, cancellationToken: ct))).ToArray();
        var entities = await presenter.PresentManyAsync(conn, ids, me, ct);
        return Results.Json(ids.Where(entities.ContainsKey).Select(id => entities[id]).ToList());
    }

    public static async Task<IResult> Authorize(string id, ClaimsPrincipal user, FollowService follows, CancellationToken ct) =>
        ApiResults.ParseId(id) is { } requester ? ApiResults.From(await follows.AuthorizeAsync(user.RequiredAccountId(), requester, ct)) : ApiResults.NotFound();

    public static async Task<IResult> Reject(string id, ClaimsPrincipal user, FollowService follows, CancellationToken ct) =>
        ApiResults.ParseId(id) is { } requester ? ApiResults.From(await follows.RejectAsync(user.RequiredAccountId(), requester, ct)) : ApiResults.NotFound();
}
