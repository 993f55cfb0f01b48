using System.Security.Claims;
using System.Text.RegularExpressions;
using Dapper;
using Fellows.Server.Configuration;
using Fellows.Server.Features.Auth;
using Fellows.Server.Features.Mastodon;
using Npgsql;

namespace Fellows.Server.Features.Tags;

/// <summary>Mastodon's Tag entity. <c>history</c> is empty: Fellows counts no usage (nothing trends here).</summary>
public sealed record ApiTagInfo(string Id, string Name, string Url, IReadOnlyList<object> History, bool? Following, bool? Featuring);

/// <summary>
/// Hashtags: one tag's page (<c>GET /api/v1/tags/:name</c>), following and unfollowing it (its public posts then join
/// the member's home timeline), and the tags a member follows.
/// </summary>
public static partial class TagEndpoints
{
    [GeneratedRegex(@"^[\p{L}\p{N}_]*[\p{L}_][\p{L}\p{N}_]*$", RegexOptions.CultureInvariant)]
    private static partial Regex NamePattern();

    /// <summary>A hashtag name as posts carry it (the same letters, digits and underscores, at least one not a digit).</summary>
    public static string? NormalizeName(string? input)
    {
        var name = input?.Trim().TrimStart('#') ?? "";
        return name.Length is > 0 and <= 100 && NamePattern().IsMatch(name) ? name : null;
    }

    public static void MapTagEndpoints(this IEndpointRouteBuilder app)
    {
        var tags = app.MapGroup("/api/v1/tags").WithTags("Tags");
        tags.MapGet("/{name}", Get).WithName("GetTag");
        tags.MapPost("/{name}/follow", Follow).RequireScope("write:follows").WithName("FollowTag");
        tags.MapPost("/{name}/unfollow", Unfollow).RequireScope("write:follows").WithName("UnfollowTag");
        app.MapGet("/api/v1/followed_tags", Followed).RequireScope("read:follows").WithTags("Tags").WithName("FollowedTags");
    }

    /// <summary>Any well-formed name answers, as in Mastodon, even one nobody has used yet; a malformed one is 404.</summary>
    public static async Task<IResult> Get(string name, ClaimsPrincipal user, NpgsqlDataSource db, InstanceUrls urls, CancellationToken ct)
    {
        if (NormalizeName(name) is not { } tag) return ApiResults.NotFound();
        await using var conn = await db.OpenConnectionAsync(ct);
        return Results.Json(await PresentAsync(conn, tag, user.AccountId(), urls, ct));
    }

    public static Task<IResult> Follow(string name, ClaimsPrincipal user, NpgsqlDataSource db, InstanceUrls urls, TimeProvider clock, CancellationToken ct) =>
        ChangeAsync(name, user, db, urls, TagQueries.Follow, clock.GetUtcNow(), ct);

    public static Task<IResult> Unfollow(string name, ClaimsPrincipal user, NpgsqlDataSource db, InstanceUrls urls, TimeProvider clock, CancellationToken ct) =>
        ChangeAsync(name, user, db, urls, TagQueries.Unfollow, clock.GetUtcNow(), ct);

    static async Task<IResult> ChangeAsync(string name, ClaimsPrincipal user, NpgsqlDataSource db, InstanceUrls urls, string sql, DateTimeOffset now,
        CancellationToken ct)
    {
        if (NormalizeName(name) is not { } tag) return ApiResults.NotFound();
        var me = user.RequiredAccountId();
        await using var conn = await db.OpenConnectionAsync(ct);
        await conn.ExecuteAsync(new CommandDefinition(sql, new { me, name = tag, now }, cancellationToken: ct));
        return Results.Json(await PresentAsync(conn, tag, me, urls, ct));
    }

    /// <summary>The member's followed tags, most recently followed first, paged by the follow's id.</summary>
    public static async Task<IResult> Followed(HttpContext context, ClaimsPrincipal user, NpgsqlDataSource db, InstanceUrls urls, CancellationToken ct)
    {
        var me = user.RequiredAccountId();
        var page = PageRequest.From(context.Request, defaultLimit: 100, maxLimit: 200);
        await using var conn = await db.OpenConnectionAsync(ct);
        var rows = await page.QueryAsync<TagRow>(conn, TagQueries.FollowedPage, new { me }, ct);
        page.AddLinkHeader(context, urls.Base, rows, r => r.Cursor);
        return Results.Json(rows.Select(r => Present(r, urls)).ToList());
    }

    /// <summary>The Tag entity for a name, whether or not a post has used it yet.</summary>
    internal static async Task<ApiTagInfo> PresentAsync(NpgsqlConnection conn, string name, long? viewer, InstanceUrls urls, CancellationToken ct)
    {
        var row = await conn.QuerySingleOrDefaultAsync<TagRow>(new CommandDefinition(TagQueries.ByName, new { name, viewer }, cancellationToken: ct));
        return row is null
            ? new ApiTagInfo("0", name.ToLowerInvariant(), urls.Tag(name), [], viewer is null ? null : false, viewer is null ? null : false)
            : Present(row, urls) with { Following = viewer is null ? null : row.Following, Featuring = viewer is null ? null : row.Featuring };
    }

    internal static ApiTagInfo Present(TagRow row, InstanceUrls urls) =>
        new(ApiResults.Id(row.Id), row.Name.ToLowerInvariant(), urls.Tag(row.Name), [], row.Following, row.Featuring);
}

public sealed record TagRow
{
    public long Cursor { get; init; }
    public required long Id { get; init; }
    public required string Name { get; init; }
    public bool Following { get; init; }
    public bool Featuring { get; init; }
}

static class TagQueries
{
    /// <summary>The tag named @name as CTE <c>tag</c>, created when new.</summary>
    public const string UpsertTag = """
        WITH ins AS (INSERT INTO tags (name) VALUES (@name) ON CONFLICT (lower(name)) DO NOTHING RETURNING id),
             tag AS (SELECT id FROM ins UNION ALL SELECT id FROM tags WHERE lower(name) = lower(@name) LIMIT 1)
        """;

    public const string ByName = """
        SELECT t.id AS cursor, t.id, t.name,
               EXISTS (SELECT 1 FROM tag_follows f WHERE f.tag_id = t.id AND f.account_id = @viewer) AS following,
               EXISTS (SELECT 1 FROM featured_tags x WHERE x.tag_id = t.id AND x.account_id = @viewer) AS featuring
        FROM tags t WHERE lower(t.name) = lower(@name)
        """;

    /// <summary>Following a tag nobody has used yet creates it, so its posts are recognised when they come.</summary>
    public const string Follow = $"""
        {UpsertTag}
        INSERT INTO tag_follows (id, account_id, tag_id, created_at) SELECT fellows_id(@now), @me, id, @now FROM tag
        ON CONFLICT (account_id, tag_id) DO NOTHING
        """;

    public const string Unfollow = """
        DELETE FROM tag_follows WHERE account_id = @me AND tag_id IN (SELECT id FROM tags WHERE lower(name) = lower(@name))
        """;

    public static readonly string FollowedPage = $"""
        SELECT f.id AS cursor, t.id, t.name, true AS following,
               EXISTS (SELECT 1 FROM featured_tags x WHERE x.tag_id = t.id AND x.account_id = @me) AS featuring
        FROM tag_follows f JOIN tags t ON t.id = f.tag_id
        WHERE f.account_id = @me {PageRequest.Conditions("f.id")}
        {PageRequest.OrderAndLimit("f.id")}
        """;
}
