using System.Security.Claims;
using System.Text.Json.Nodes;
using Dapper;
using Fellows.Federation.Vocabulary;
using Fellows.Server.Common;
using Fellows.Server.Configuration;
using Fellows.Server.Features.Accounts;
using Fellows.Server.Features.ActivityPub;
using Fellows.Server.Features.Auth;
using Fellows.Server.Features.Federation;
using Fellows.Server.Features.Mastodon;
using Npgsql;

namespace Fellows.Server.Features.Tags;

/// <summary>Mastodon's FeaturedTag entity. <c>last_status_at</c> is a day, not a moment, as Mastodon gives it.</summary>
public sealed record ApiFeaturedTag(string Id, string Name, string Url, int StatusesCount, string? LastStatusAt);

/// <summary>
/// Hashtags a member features on their profile: <c>/api/v1/featured_tags</c> (list, add, remove, suggestions),
/// <c>/api/v1/accounts/:id/featured_tags</c>, and the actor's <c>featuredTags</c> collection other servers read.
/// </summary>
public static class FeaturedTagEndpoints
{
    public static void MapFeaturedTagEndpoints(this IEndpointRouteBuilder app)
    {
        var group = app.MapGroup("/api/v1/featured_tags").WithTags("Featured tags");
        group.MapGet("/", Mine).RequireScope("read:accounts").WithName("FeaturedTags");
        group.MapPost("/", Create).RequireScope("write:accounts").WithName("FeatureTag");
        group.MapGet("/suggestions", Suggestions).RequireScope("read:accounts").WithName("FeaturedTagSuggestions");
        group.MapDelete("/{id}", Delete).RequireScope("write:accounts").WithName("UnfeatureTag");
        app.MapGet("/api/v1/accounts/{id}/featured_tags", OfAccount).WithTags("Accounts").WithName("AccountFeaturedTags");
        app.MapGroup("").WithTags("ActivityPub").AddEndpointFilter<FetchAuthorization>()
            .MapGet("/users/{username}/collections/tags", Collection).WithName("FeaturedTagsCollection");
    }

    public static async Task<IResult> Mine(ClaimsPrincipal user, FeaturedTagService tags, CancellationToken ct) =>
        Results.Json(await tags.OfAsync(user.RequiredAccountId(), ct));

    public static async Task<IResult> OfAccount(string id, AccountService accounts, FeaturedTagService tags, CancellationToken ct)
    {
        if (ApiResults.ParseId(id) is not { } accountId || await accounts.FindAsync(accountId, ct) is not { DeletedAt: null, SuspendedAt: null })
            return ApiResults.NotFound();
        return Results.Json(await tags.OfAsync(accountId, ct));
    }

    public static async Task<IResult> Create(HttpRequest request, ClaimsPrincipal user, FeaturedTagService tags, CancellationToken ct)
    {
        var p = await ApiParams.ReadAsync(request, ct);
        if (p.Error is not null) return Results.Json(new ApiError(p.Error), statusCode: p.ErrorStatus);
        return ApiResults.From(await tags.FeatureAsync(user.RequiredAccountId(), p.Get("name"), ct));
    }

    public static async Task<IResult> Delete(string id, ClaimsPrincipal user, FeaturedTagService tags, CancellationToken ct)
    {
        if (ApiResults.ParseId(id) is not { } featuredId) return ApiResults.NotFound();
        var result = await tags.UnfeatureAsync(user.RequiredAccountId(), featuredId, ct);
        return result.IsOk ? Results.Json(new { }) : ApiResults.Error(result.Error!);
    }

    /// <summary>Up to ten hashtags the member used lately and does not feature yet, most recent first.</summary>
    public static async Task<IResult> Suggestions(ClaimsPrincipal user, NpgsqlDataSource db, InstanceUrls urls, CancellationToken ct)
    {
        await using var conn = await db.OpenConnectionAsync(ct);
        var rows = await conn.QueryAsync<TagRow>(new CommandDefinition(FeaturedTagQueries.Suggestions, new { me = user.RequiredAccountId() }, cancellationToken: ct));
        return Results.Json(rows.Select(r => TagEndpoints.Present(r, urls)).ToList());
    }

    /// <summary>
    /// The actor's featured hashtags as Mastodon publishes them (<c>toot:featuredTags</c>): a Collection of Hashtag
    /// objects, each linking to the member's posts with that tag.
    /// </summary>
    public static async Task<IResult> Collection(string username, AccountService accounts, FeaturedTagService tags, InstanceUrls urls, CancellationToken ct)
    {
        var account = await accounts.FindLocalAsync(username, ct);
        if (account is null || account.ActorType == "Application" || account.DeletedAt is not null || account.SuspendedAt is not null)
            return Results.NotFound();
        var items = (await tags.OfAsync(account.Id, ct))
            .Select(t => (JsonNode)new JsonObject { ["type"] = "Hashtag", ["href"] = t.Url, ["name"] = $"#{t.Name}" }).ToList();
        var collection = new JsonObject
        {
            ["@context"] = ActivityPubWriter.ObjectContext(),
            ["id"] = urls.FeaturedTags(account.Username),
            ["type"] = "Collection",
            ["totalItems"] = items.Count,
            ["items"] = new JsonArray([.. items]),
        };
        return ActivityPubEndpoints.Json(collection);
    }
}

public sealed class FeaturedTagService(NpgsqlDataSource db, InstanceUrls urls, OutboundPublisher publisher, TimeProvider clock)
{
    /// <summary>As many as Mastodon allows, and as the instance document says (<c>max_featured_tags</c>).</summary>
    public const int MaxFeaturedTags = 10;

    public async Task<IReadOnlyList<ApiFeaturedTag>> OfAsync(long accountId, CancellationToken ct)
    {
        await using var conn = await db.OpenConnectionAsync(ct);
        return (await conn.QueryAsync<FeaturedTagRow>(new CommandDefinition(FeaturedTagQueries.Of, new { accountId }, cancellationToken: ct)))
            .Select(Present).ToList();
    }

    ApiFeaturedTag Present(FeaturedTagRow r) => new(ApiResults.Id(r.Id), r.Name, FeaturedUrl(r), r.StatusesCount,
        r.LastStatusAt?.UtcDateTime.ToString("yyyy-MM-dd", System.Globalization.CultureInfo.InvariantCulture));

    /// <summary>The member's posts with the tag, as Mastodon links them (<c>/@user/tagged/tag</c>); remote accounts link to the tag.</summary>
    string FeaturedUrl(FeaturedTagRow r) => r.Domain is null ? $"{urls.Profile(r.Username)}/tagged/{Uri.EscapeDataString(r.Name)}" : urls.Tag(r.Name);

    /// <summary>Features a hashtag; featuring one already featured returns it unchanged. Followers' servers get Update(actor).</summary>
    public async Task<Result<ApiFeaturedTag>> FeatureAsync(long accountId, string? name, CancellationToken ct)
    {
        if (string.IsNullOrWhiteSpace(name)) return Error.Validation("Validation failed: Name can't be blank");
        if (TagEndpoints.NormalizeName(name) is not { } tag) return Error.Validation("Validation failed: Name is not a valid hashtag");
        var now = clock.GetUtcNow();
        await using var conn = await db.OpenConnectionAsync(ct);
        await using var tx = await conn.BeginTransactionAsync(ct);
        // One member's features are changed one at a time, so the limit holds under concurrent requests.
        var me = await conn.QuerySingleAsync<Account>(new CommandDefinition(AccountQueries.ById + " FOR UPDATE", new { id = accountId }, tx, cancellationToken: ct));
        var existing = await conn.QuerySingleOrDefaultAsync<long?>(new CommandDefinition(FeaturedTagQueries.FindByName,
            new { accountId, name = tag }, tx, cancellationToken: ct));
        long id;
        if (existing is { } found)
        {
            id = found;
        }
        else
        {
            var count = await conn.ExecuteScalarAsync<int>(new CommandDefinition("SELECT count(*)::int FROM featured_tags WHERE account_id = @accountId",
                new { accountId }, tx, cancellationToken: ct));
            if (count >= MaxFeaturedTags) return Error.Validation($"Validation failed: You can only feature up to {MaxFeaturedTags} hashtags");
            id = await conn.ExecuteScalarAsync<long>(new CommandDefinition(FeaturedTagQueries.Insert, new { accountId, name = tag, now }, tx, cancellationToken: ct));
            await publisher.ActorUpdatedAsync(conn, tx, me, ct);
        }
        await tx.CommitAsync(ct);
        return (await OfAsync(accountId, ct)).Single(t => t.Id == ApiResults.Id(id));
    }

    public async Task<Result<bool>> UnfeatureAsync(long accountId, long featuredId, CancellationToken ct)
    {
        await using var conn = await db.OpenConnectionAsync(ct);
        await using var tx = await conn.BeginTransactionAsync(ct);
        var removed = await conn.ExecuteAsync(new CommandDefinition("DELETE FROM featured_tags WHERE id = @featuredId AND account_id = @accountId",
            new { featuredId, accountId }, tx, cancellationToken: ct));
        if (removed == 0) return Error.NotFound();
        await publisher.ActorUpdatedAsync(conn, tx, await conn.AccountByIdAsync(accountId, tx, ct), ct);
        await tx.CommitAsync(ct);
        return true;
    }

    sealed record FeaturedTagRow
    {
        public required long Id { get; init; }
        public required string Name { get; init; }
        public required string Username { get; init; }
        public string? Domain { get; init; }
        public required int StatusesCount { get; init; }
        public DateTimeOffset? LastStatusAt { get; init; }
    }
}

static class FeaturedTagQueries
{
    /// <summary>The member's own public and unlisted posts (not boosts) with each featured tag, as Mastodon counts them.</summary>
    public const string Of = """
        SELECT ft.id, lower(t.name) AS name, a.username, a.domain, coalesce(c.n, 0)::int AS statuses_count, c.last AS last_status_at
        FROM featured_tags ft
        JOIN tags t ON t.id = ft.tag_id
        JOIN accounts a ON a.id = ft.account_id
        LEFT JOIN LATERAL (
            SELECT count(*) AS n, max(s.created_at) AS last
            FROM status_tags st JOIN statuses s ON s.id = st.status_id
            WHERE st.tag_id = ft.tag_id AND s.account_id = ft.account_id AND s.deleted_at IS NULL AND s.visibility <= 1 AND s.reblog_of_id IS NULL) c ON true
        WHERE ft.account_id = @accountId
        ORDER BY ft.id
        """;

    public const string FindByName = """
        SELECT ft.id FROM featured_tags ft JOIN tags t ON t.id = ft.tag_id WHERE ft.account_id = @accountId AND lower(t.name) = lower(@name)
        """;

    public const string Insert = $"""
        {TagQueries.UpsertTag}
        INSERT INTO featured_tags (id, account_id, tag_id, created_at) SELECT fellows_id(@now), @accountId, id, @now FROM tag
        RETURNING id
        """;

    public const string Suggestions = """
        SELECT t.id AS cursor, t.id, t.name,
               EXISTS (SELECT 1 FROM tag_follows f WHERE f.tag_id = t.id AND f.account_id = @me) AS following, false AS featuring
        FROM (SELECT st.tag_id, max(s.id) AS last
              FROM (SELECT id FROM statuses WHERE account_id = @me AND deleted_at IS NULL AND reblog_of_id IS NULL ORDER BY id DESC LIMIT 500) s
              JOIN status_tags st ON st.status_id = s.id
              GROUP BY st.tag_id) u
        JOIN tags t ON t.id = u.tag_id
        WHERE NOT EXISTS (SELECT 1 FROM featured_tags ft WHERE ft.account_id = @me AND ft.tag_id = t.id)
        ORDER BY u.last DESC
        LIMIT 10
        """;
}
