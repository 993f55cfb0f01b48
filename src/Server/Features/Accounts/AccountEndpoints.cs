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
        group.MapPatch("/update_credentials", UpdateCredentials).RequireScope("write:accounts").WithName("UpdateCredentials");
        group.MapGet("/relationships", Relationships).RequireScope("read:follows").WithName("Relationships");
        group.MapGet("/lookup", Lookup).WithName("LookupAccount");
        group.MapGet("/familiar_followers", FamiliarFollowers).RequireScope("read:follows").WithName("FamiliarFollowers");
        group.MapGet("/", Many).WithName("GetAccounts");
        group.MapGet("/{id}", Get).WithName("GetAccount");
        group.MapGet("/{id}/statuses", Statuses).WithName("AccountStatuses");
        group.MapPost("/{id}/follow", Follow).RequireScope("write:follows").WithName("FollowAccount");
        group.MapPost("/{id}/unfollow", Unfollow).RequireScope("write:follows").WithName("UnfollowAccount");
        group.MapPost("/{id}/remove_from_followers", RemoveFromFollowers).RequireScope("write:follows").WithName("RemoveFromFollowers");
        group.MapPost("/{id}/block", Block).RequireScope("write:blocks").WithName("BlockAccount");
        group.MapPost("/{id}/unblock", Unblock).RequireScope("write:blocks").WithName("UnblockAccount");

        var requests = app.MapGroup("/api/v1/follow_requests").WithTags("Follow requests");
        requests.MapGet("/", FollowRequests).RequireScope("read:follows").WithName("FollowRequests");
        requests.MapPost("/{id}/authorize", Authorize).RequireScope("write:follows").WithName("AuthorizeFollowRequest");
        requests.MapPost("/{id}/reject", Reject).RequireScope("write:follows").WithName("RejectFollowRequest");
    }

    public static async Task<IResult> VerifyCredentials(ClaimsPrincipal user, AccountPresenter presenter, ProfileService profiles, CancellationToken ct) =>
        await CredentialAccountAsync(user.RequiredAccountId(), presenter, profiles, ct);

    /// <summary>The member's own account with its editable <c>source</c>, as verify_credentials and update_credentials return it.</summary>
    static async Task<IResult> CredentialAccountAsync(long me, AccountPresenter presenter, ProfileService profiles, CancellationToken ct)
    {
        var entity = await presenter.PresentAsync(me, me, ct);
        if (entity is null) return ApiResults.NotFound();
        var source = await profiles.SourceAsync(me, ct);
        return Results.Json(entity with
        {
            Source = new ApiAccountSource(((Visibility)source.DefaultVisibility).ToApi(), source.DefaultSensitive, source.DefaultLanguage ?? "",
                source.NoteSource,
                source.FieldSources().Select(f => new ApiField(f.Name, f.Value, null)).ToList(), source.FollowRequestsCount),
        });
    }

    /// <summary>
    /// Mastodon's profile edit: display name, bio, fields, locked, bot, discoverable, indexable and posting defaults,
    /// from form, multipart or JSON bodies. Followers' servers get an Update of the actor.
    /// </summary>
    public static async Task<IResult> UpdateCredentials(HttpRequest request, ClaimsPrincipal user, AccountPresenter presenter, ProfileService profiles,
        CancellationToken ct)
    {
        var p = await ApiParams.ReadAsync(request, ct);
        if (p.Error is not null) return Results.Json(new ApiError(p.Error), statusCode: p.ErrorStatus);
        byte[]? avatar = null, header = null;
        if (request.HasFormContentType)
        {
            var files = (await request.ReadFormAsync(ct)).Files;
            foreach (var (name, assign) in new (string, Action<byte[]>)[] { ("avatar", b => avatar = b), ("header", b => header = b) })
            {
                if (files.GetFile(name) is not { } file) continue;
                if (file.Length > ProfileService.MaxImageBytes)
                    return Results.Json(new ApiError($"Validation failed: {name} is larger than {ProfileService.MaxImageBytes / 1024 / 1024} MB"), statusCode: 422);
                using var buffer = new MemoryStream();
                await file.CopyToAsync(buffer, ct);
                assign(buffer.ToArray());
            }
        }
        var privacyText = p.Get("source[privacy]");
        var privacy = VisibilityNames.Parse(privacyText);
        if (privacyText is { Length: > 0 } && privacy is null)
            return Results.Json(new ApiError("Validation failed: Privacy is not included in the list"), statusCode: 422);
        var update = new ProfileUpdate
        {
            DisplayName = p.Get("display_name"),
            Note = p.Get("note"),
            Locked = p.GetBool("locked"),
            Bot = p.GetBool("bot"),
            Discoverable = p.GetBool("discoverable"),
            Indexable = p.GetBool("indexable"),
            Fields = ReadFields(p),
            DefaultVisibility = privacy,
            DefaultSensitive = p.GetBool("source[sensitive]"),
            DefaultLanguage = p.Get("source[language]"),
            Avatar = avatar,
            Header = header,
        };
        var me = user.RequiredAccountId();
        var result = await profiles.UpdateAsync(me, update, ct);
        return result.IsOk ? await CredentialAccountAsync(me, presenter, profiles, ct) : ApiResults.Error(result.Error!);
    }

    /// <summary>
    /// Profile fields as clients send them: <c>fields_attributes[0][name]</c> (form, or a JSON object keyed by index) or
    /// a JSON array of <c>{name, value}</c>. Null when the request does not touch the fields.
    /// </summary>
    static List<(string Name, string Value)>? ReadFields(ApiParams p)
    {
        var fields = p.GetObjectList("fields_attributes", "name", "value")
            .Select(f => (f.GetValueOrDefault("name", ""), f.GetValueOrDefault("value", ""))).ToList();
        return fields.Count > 0 || p.Has("fields_attributes") ? fields : null;
    }

    /// <summary>Several accounts at once (<c>id[]</c>, Mastodon 4.3; the official Android app calls it), in the order asked.</summary>
    public static async Task<IResult> Many(HttpRequest request, ClaimsPrincipal user, NpgsqlDataSource db, AccountPresenter presenter, CancellationToken ct)
    {
        var ids = request.Query["id[]"].Concat(request.Query["id"]).Select(ApiResults.ParseId).OfType<long>().Distinct().ToArray();
        if (ids.Length > StatusEndpoints.MaxIdsPerRequest)
            return Results.Json(new ApiError($"Validation failed: at most {StatusEndpoints.MaxIdsPerRequest} ids"), statusCode: 422);
        await using var conn = await db.OpenConnectionAsync(ct);
        var accounts = await presenter.PresentManyAsync(conn, ids, user.AccountId(), ct);
        return Results.Json(ids.Where(accounts.ContainsKey).Select(id => accounts[id]).ToList());
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
            new
            {
                accountId = aid, excludeReplies, excludeReblogs,
                onlyMedia = q["only_media"] is { Count: > 0 } om && om[0] is "true" or "1",
                pinned = q["pinned"] is { Count: > 0 } pn && pn[0] is "true" or "1",
                tagged = q["tagged"] is { Count: > 0 } tg && tg[0] is { Length: > 0 } tag ? tag.TrimStart('#') : null,
            }, db, presenter, urls, ct);
    }

    public static async Task<IResult> Follow(string id, HttpRequest request, ClaimsPrincipal user, FollowService follows, CancellationToken ct)
    {
        if (ApiResults.ParseId(id) is not { } target) return ApiResults.NotFound();
        var p = await ApiParams.ReadAsync(request, ct);
        if (p.Error is not null) return Results.Json(new ApiError(p.Error), statusCode: p.ErrorStatus);
        // languages[]: only posts in these languages reach home; sent empty, every language again.
        IReadOnlyList<string>? languages = null;
        if (p.Has("languages"))
        {
            var given = p.GetList("languages").Where(l => l.Length > 0).Select(l => l.Trim().ToLowerInvariant()).Distinct().ToList();
            if (given.Any(l => l.Length is < 2 or > 3 || !l.All(char.IsAsciiLetterLower)) || given.Count > 20)
                return Results.Json(new ApiError("Validation failed: Languages must be ISO 639 codes"), statusCode: 422);
            languages = given;
        }
        return ApiResults.From(await follows.FollowAsync(user.RequiredAccountId(), target, p.GetBool("reblogs"), p.GetBool("notify"), languages, ct));
    }

    public static async Task<IResult> RemoveFromFollowers(string id, ClaimsPrincipal user, FollowService follows, CancellationToken ct) =>
        ApiResults.ParseId(id) is { } follower
            ? ApiResults.From(await follows.RemoveFromFollowersAsync(user.RequiredAccountId(), follower, ct))
            : ApiResults.NotFound();

    /// <summary>
    /// For each account asked about, the accounts the member follows who follow it too (Mastodon's familiar
    /// followers), in the order given; unknown ids answer with no accounts. Suspended and deleted accounts are left out.
    /// </summary>
    public static async Task<IResult> FamiliarFollowers(HttpRequest request, ClaimsPrincipal user, NpgsqlDataSource db, AccountPresenter presenter,
        CancellationToken ct)
    {
        var me = user.RequiredAccountId();
        var ids = request.Query["id[]"].Concat(request.Query["id"]).Select(ApiResults.ParseId).OfType<long>().Distinct().Take(40).ToArray();
        await using var conn = await db.OpenConnectionAsync(ct);
        var rows = (await conn.QueryAsync<(long Target, long Follower)>(new CommandDefinition(AccountSurfaceQueries.FamiliarFollowers,
            new { me, ids }, cancellationToken: ct))).ToList();
        var entities = await presenter.PresentManyAsync(conn, rows.Select(r => r.Follower).Distinct().ToArray(), me, ct);
        var byTarget = rows.ToLookup(r => r.Target, r => r.Follower);
        return Results.Json(ids.Select(target => new
        {
            Id = ApiResults.Id(target),
            Accounts = byTarget[target].Where(entities.ContainsKey).Select(f => entities[f]).ToList(),
        }).ToList());
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
