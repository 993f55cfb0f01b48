using System.Security.Claims;
using Dapper;
using Fellows.Server.Configuration;
using Fellows.Server.Features.Accounts;
using Fellows.Server.Features.Auth;
using Fellows.Server.Features.Mastodon;
using Fellows.Server.Features.Statuses;
using Fellows.Server.Features.Timelines;
using Npgsql;

namespace Fellows.Server.Features.Lists;

public sealed record ApiList(string Id, string Title, string RepliesPolicy, bool Exclusive);

/// <summary>Mastodon's lists: named sets of followed accounts, each a chronological timeline of its own.</summary>
public static class ListEndpoints
{
    public const int MaxLists = 50;
    public const int MaxTitle = 100;
    static readonly string[] RepliesPolicies = ["followed", "list", "none"];

    public static void MapListEndpoints(this IEndpointRouteBuilder app)
    {
        var group = app.MapGroup("/api/v1/lists").WithTags("Lists");
        group.MapGet("/", All).RequireScope("read:lists").WithName("Lists");
        group.MapPost("/", Create).RequireScope("write:lists").WithName("CreateList");
        group.MapGet("/{id}", Get).RequireScope("read:lists").WithName("GetList");
        group.MapPut("/{id}", Update).RequireScope("write:lists").WithName("UpdateList");
        group.MapDelete("/{id}", Delete).RequireScope("write:lists").WithName("DeleteList");
        group.MapGet("/{id}/accounts", Accounts).RequireScope("read:lists").WithName("ListAccounts");
        group.MapPost("/{id}/accounts", AddAccounts).RequireScope("write:lists").WithName("AddListAccounts");
        group.MapDelete("/{id}/accounts", RemoveAccounts).RequireScope("write:lists").WithName("RemoveListAccounts");
        app.MapGet("/api/v1/accounts/{id}/lists", ListsWith).RequireScope("read:lists").WithTags("Lists").WithName("AccountLists");
        app.MapGet("/api/v1/timelines/list/{id}", Timeline).RequireScope("read:lists").WithTags("Timelines").WithName("ListTimeline");
    }

    sealed record ListRow
    {
        public required long Id { get; init; }
        public required string Title { get; init; }
        public required string RepliesPolicy { get; init; }
        public required bool Exclusive { get; init; }
        public ApiList ToApi() => new(ApiResults.Id(Id), Title, RepliesPolicy, Exclusive);
    }

    const string Columns = "id, title, replies_policy, exclusive";

    static async Task<ListRow?> FindAsync(NpgsqlConnection conn, string id, long me, CancellationToken ct) =>
        ApiResults.ParseId(id) is { } listId
            ? await conn.QuerySingleOrDefaultAsync<ListRow>(new CommandDefinition($"SELECT {Columns} FROM lists WHERE id = @listId AND account_id = @me",
                new { listId, me }, cancellationToken: ct))
            : null;

    static IResult Invalid(string message) => Results.Json(new ApiError($"Validation failed: {message}"), statusCode: 422);

    public static async Task<IResult> All(ClaimsPrincipal user, NpgsqlDataSource db, CancellationToken ct)
    {
        await using var conn = await db.OpenConnectionAsync(ct);
        var rows = await conn.QueryAsync<ListRow>(new CommandDefinition($"SELECT {Columns} FROM lists WHERE account_id = @me ORDER BY lower(title), id",
            new { me = user.RequiredAccountId() }, cancellationToken: ct));
        return Results.Json(rows.Select(r => r.ToApi()).ToList());
    }

    public static async Task<IResult> Get(string id, ClaimsPrincipal user, NpgsqlDataSource db, CancellationToken ct)
    {
        await using var conn = await db.OpenConnectionAsync(ct);
        return await FindAsync(conn, id, user.RequiredAccountId(), ct) is { } list ? Results.Json(list.ToApi()) : ApiResults.NotFound();
    }

    public static async Task<IResult> Create(HttpRequest request, ClaimsPrincipal user, NpgsqlDataSource db, CancellationToken ct)
    {
        var p = await ApiParams.ReadAsync(request, ct);
        if (p.Error is not null) return Results.Json(new ApiError(p.Error), statusCode: p.ErrorStatus);
        var title = p.Get("title")?.Trim() ?? "";
        if (title.Length == 0) return Invalid("Title can't be blank");
        if (title.Length > MaxTitle) return Invalid($"Title is too long (maximum is {MaxTitle} characters)");
        var policy = p.Get("replies_policy") ?? "list";
        if (!RepliesPolicies.Contains(policy)) return Invalid("Replies policy is not included in the list");
        var me = user.RequiredAccountId();
        await using var conn = await db.OpenConnectionAsync(ct);
        var row = await conn.QuerySingleOrDefaultAsync<ListRow>(new CommandDefinition($"""
            INSERT INTO lists (account_id, title, replies_policy, exclusive)
            SELECT @me, @title, @policy, @exclusive WHERE (SELECT count(*) FROM lists WHERE account_id = @me) < @max
            RETURNING {Columns}
            """, new { me, title, policy, exclusive = p.GetBool("exclusive") ?? false, max = MaxLists }, cancellationToken: ct));
        return row is null ? Invalid($"at most {MaxLists} lists") : Results.Json(row.ToApi());
    }

    public static async Task<IResult> Update(string id, HttpRequest request, ClaimsPrincipal user, NpgsqlDataSource db, CancellationToken ct)
    {
        var p = await ApiParams.ReadAsync(request, ct);
        if (p.Error is not null) return Results.Json(new ApiError(p.Error), statusCode: p.ErrorStatus);
        var title = p.Get("title")?.Trim();
        if (title is { Length: 0 }) return Invalid("Title can't be blank");
        if (title is { Length: > MaxTitle }) return Invalid($"Title is too long (maximum is {MaxTitle} characters)");
        var policy = p.Get("replies_policy");
        if (policy is not null && !RepliesPolicies.Contains(policy)) return Invalid("Replies policy is not included in the list");
        await using var conn = await db.OpenConnectionAsync(ct);
        var row = ApiResults.ParseId(id) is { } listId
            ? await conn.QuerySingleOrDefaultAsync<ListRow>(new CommandDefinition($"""
                UPDATE lists SET title = coalesce(@title, title), replies_policy = coalesce(@policy, replies_policy), exclusive = coalesce(@exclusive, exclusive)
                WHERE id = @listId AND account_id = @me RETURNING {Columns}
                """, new { listId, me = user.RequiredAccountId(), title, policy, exclusive = p.GetBool("exclusive") }, cancellationToken: ct))
            : null;
        return row is null ? ApiResults.NotFound() : Results.Json(row.ToApi());
    }

    public static async Task<IResult> Delete(string id, ClaimsPrincipal user, NpgsqlDataSource db, CancellationToken ct)
    {
        await using var conn = await db.OpenConnectionAsync(ct);
        var deleted = ApiResults.ParseId(id) is { } listId && await conn.ExecuteAsync(new CommandDefinition(
            "DELETE FROM lists WHERE id = @listId AND account_id = @me", new { listId, me = user.RequiredAccountId() }, cancellationToken: ct)) > 0;
        return deleted ? Results.Json(new { }) : ApiResults.NotFound();
    }

    public static async Task<IResult> Accounts(string id, HttpContext context, ClaimsPrincipal user, NpgsqlDataSource db, AccountPresenter accounts,
        InstanceUrls urls, CancellationToken ct)
    {
        var me = user.RequiredAccountId();
        await using var conn = await db.OpenConnectionAsync(ct);
        if (await FindAsync(conn, id, me, ct) is not { } list) return ApiResults.NotFound();
        var page = PageRequest.From(context.Request, 40, 80);
        // limit=0 means all of them, as in Mastodon.
        var all = context.Request.Query["limit"] == "0";
        var ids = (await conn.QueryAsync<long>(new CommandDefinition("""
            SELECT account_id FROM list_accounts WHERE list_id = @listId
              AND (@maxId::bigint IS NULL OR account_id < @maxId) AND (@sinceId::bigint IS NULL OR account_id > @sinceId)
            ORDER BY account_id DESC LIMIT @limit
            """, new { listId = list.Id, page.MaxId, sinceId = page.SinceId ?? page.MinId, limit = all ? 10_000 : page.Limit }, cancellationToken: ct))).ToArray();
        var entities = await accounts.PresentManyAsync(conn, ids, me, ct);
        if (ids.Length > 0 && !all) page.AddLinkHeader(context, urls.Base, ids[0], ids[^1], ids.Length);
        return Results.Json(ids.Where(entities.ContainsKey).Select(a => entities[a]).ToList());
    }

    /// <summary>Adds accounts the member follows; anyone else is refused, as Mastodon does.</summary>
    public static async Task<IResult> AddAccounts(string id, HttpRequest request, ClaimsPrincipal user, NpgsqlDataSource db, CancellationToken ct)
    {
        var p = await ApiParams.ReadAsync(request, ct);
        if (p.Error is not null) return Results.Json(new ApiError(p.Error), statusCode: p.ErrorStatus);
        var me = user.RequiredAccountId();
        var accountIds = p.GetList("account_ids").Select(ApiResults.ParseId).OfType<long>().Distinct().Take(100).ToArray();
        await using var conn = await db.OpenConnectionAsync(ct);
        if (await FindAsync(conn, id, me, ct) is not { } list) return ApiResults.NotFound();
        if (accountIds.Length == 0) return Invalid("account_ids can't be blank");
        var followed = (await conn.QueryAsync<long>(new CommandDefinition(
            "SELECT target_account_id FROM follows WHERE account_id = @me AND target_account_id = ANY(@accountIds)",
            new { me, accountIds }, cancellationToken: ct))).ToHashSet();
        if (accountIds.FirstOrDefault(a => !followed.Contains(a)) is var missing and not 0)
            return ApiResults.Error(Common.Error.NotFound($"Account {missing} is not followed, so it cannot be added to a list"));
        await conn.ExecuteAsync(new CommandDefinition(
            "INSERT INTO list_accounts (list_id, account_id) SELECT @listId, unnest(@accountIds) ON CONFLICT DO NOTHING",
            new { listId = list.Id, accountIds }, cancellationToken: ct));
        return Results.Json(new { });
    }

    public static async Task<IResult> RemoveAccounts(string id, HttpRequest request, ClaimsPrincipal user, NpgsqlDataSource db, CancellationToken ct)
    {
        var p = await ApiParams.ReadAsync(request, ct);
        if (p.Error is not null) return Results.Json(new ApiError(p.Error), statusCode: p.ErrorStatus);
        var me = user.RequiredAccountId();
        await using var conn = await db.OpenConnectionAsync(ct);
        if (await FindAsync(conn, id, me, ct) is not { } list) return ApiResults.NotFound();
        var accountIds = p.GetList("account_ids").Select(ApiResults.ParseId).OfType<long>().Distinct().ToArray();
        await conn.ExecuteAsync(new CommandDefinition("DELETE FROM list_accounts WHERE list_id = @listId AND account_id = ANY(@accountIds)",
            new { listId = list.Id, accountIds }, cancellationToken: ct));
        return Results.Json(new { });
    }

    public static async Task<IResult> ListsWith(string id, ClaimsPrincipal user, NpgsqlDataSource db, CancellationToken ct)
    {
        if (ApiResults.ParseId(id) is not { } accountId) return ApiResults.NotFound();
        await using var conn = await db.OpenConnectionAsync(ct);
        var rows = await conn.QueryAsync<ListRow>(new CommandDefinition($"""
            SELECT l.{Columns.Replace(", ", ", l.", StringComparison.Ordinal)} FROM lists l JOIN list_accounts la ON la.list_id = l.id
            WHERE l.account_id = @me AND la.account_id = @accountId ORDER BY lower(l.title), l.id
            """, new { me = user.RequiredAccountId(), accountId }, cancellationToken: ct));
        return Results.Json(rows.Select(r => r.ToApi()).ToList());
    }

    public static async Task<IResult> Timeline(string id, HttpContext context, ClaimsPrincipal user, NpgsqlDataSource db, StatusPresenter presenter,
        InstanceUrls urls, CancellationToken ct)
    {
        var me = user.RequiredAccountId();
        ListRow? list;
        await using (var conn = await db.OpenConnectionAsync(ct))
            list = await FindAsync(conn, id, me, ct);
        if (list is null) return ApiResults.NotFound();
        return await StatusPage.RespondAsync(context, ListQueries.Timeline, me, new { listId = list.Id }, db, presenter, urls, ct);
    }
}

static class ListQueries
{
    /// <summary>
    /// Whether status <c>s</c> belongs on list <c>l</c> (visibility aside): a post or boost by one of the list's
    /// accounts. Replies follow the list's policy: to anyone its owner follows (followed), only to the list's
    /// accounts (list), or none. Shared by the list timeline and the list stream.
    /// </summary>
    public const string Includes = """
        s.account_id IN (SELECT account_id FROM list_accounts WHERE list_id = l.id)
          AND (s.in_reply_to_account_id IS NULL OR s.in_reply_to_account_id = s.account_id
               OR (l.replies_policy = 'followed' AND (s.in_reply_to_account_id = l.account_id
                   OR EXISTS (SELECT 1 FROM follows f WHERE f.account_id = l.account_id AND f.target_account_id = s.in_reply_to_account_id)))
               OR (l.replies_policy = 'list' AND EXISTS (SELECT 1 FROM list_accounts la WHERE la.list_id = l.id AND la.account_id = s.in_reply_to_account_id)))
        """;

    /// <summary>
    /// The list's posts that the member may see, newest first. The first line repeats what <see cref="Includes"/>
    /// says about the list's accounts without referring to <c>l</c>, so PostgreSQL can read those accounts once and
    /// use the statuses' indexes (a test that refers to the joined row is re-run for every status instead).
    /// </summary>
    public const string Timeline = $"""
        SELECT {StatusQueries.Columns} FROM statuses s JOIN lists l ON l.id = @listId
        WHERE s.account_id IN (SELECT account_id FROM list_accounts WHERE list_id = @listId)
          AND {Includes}
          AND {StatusQueries.VisibleTo}
          AND {Accounts.DomainBlockQueries.StatusNotBlocked}
          {StatusPage.Conditions}
        {StatusPage.OrderAndLimit}
        """;

    /// <summary>Of lists @lists, those status @id belongs on, with their owners (the list stream's test).</summary>
    public const string ListsIncluding = $"""
        SELECT l.account_id, l.id FROM lists l JOIN statuses s ON s.id = @id
        WHERE l.id = ANY(@lists) AND {Includes}
        """;

    /// <summary>Of lists @lists, those whose accounts include @author (a deleted post of theirs may be on screen).</summary>
    public const string ListsWithAccount = """
        SELECT DISTINCT list_id FROM list_accounts WHERE account_id = @author AND list_id = ANY(@lists)
        """;

    public const string Owns = "SELECT EXISTS (SELECT 1 FROM lists WHERE id = @id AND account_id = @viewer)";
}
