using System.Security.Claims;
using Dapper;
using Fellows.Server.Configuration;
using Fellows.Server.Features.Auth;
using Fellows.Server.Features.Mastodon;
using Fellows.Server.Features.Statuses;
using Fellows.Server.Features.Timelines;
using Npgsql;

namespace Fellows.Server.Features.Bookmarks;

/// <summary>
/// Bookmarks (private, nothing federates) and the member's own lists of bookmarked and favourited posts, newest
/// first by when they were saved. Only posts the member can still see are listed.
/// </summary>
public static class BookmarkEndpoints
{
    public static void MapBookmarkEndpoints(this IEndpointRouteBuilder app)
    {
        app.MapPost("/api/v1/statuses/{id}/bookmark", Bookmark).RequireScope("write:bookmarks").WithTags("Statuses").WithName("BookmarkStatus");
        app.MapPost("/api/v1/statuses/{id}/unbookmark", Unbookmark).RequireScope("write:bookmarks").WithTags("Statuses").WithName("UnbookmarkStatus");
        app.MapGet("/api/v1/bookmarks", Bookmarks).RequireScope("read:bookmarks").WithTags("Bookmarks").WithName("Bookmarks");
        app.MapGet("/api/v1/favourites", Favourites).RequireScope("read:favourites").WithTags("Favourites").WithName("Favourites");
    }

    public static async Task<IResult> Bookmark(string id, ClaimsPrincipal user, StatusService statuses, StatusPresenter presenter, NpgsqlDataSource db,
        TimeProvider clock, CancellationToken ct)
    {
        var me = user.RequiredAccountId();
        var status = ApiResults.ParseId(id) is { } sid ? await statuses.FindVisibleAsync(sid, me, ct) : null;
        if (status is null) return ApiResults.NotFound();
        // A boost is bookmarked as the post it carries, as Mastodon does.
        if (status.ReblogOfId is { } original && await statuses.FindVisibleAsync(original, me, ct) is { } inner) status = inner;
        var now = clock.GetUtcNow();
        await using (var conn = await db.OpenConnectionAsync(ct))
            await conn.ExecuteAsync(new CommandDefinition(BookmarkQueries.Insert, new { me, statusId = status.Id, now }, cancellationToken: ct));
        return Results.Json(await presenter.PresentAsync(status, me, ct));
    }

    public static async Task<IResult> Unbookmark(string id, ClaimsPrincipal user, StatusService statuses, StatusPresenter presenter, NpgsqlDataSource db,
        CancellationToken ct)
    {
        var me = user.RequiredAccountId();
        if (ApiResults.ParseId(id) is not { } sid) return ApiResults.NotFound();
        await using (var conn = await db.OpenConnectionAsync(ct))
            await conn.ExecuteAsync(new CommandDefinition(BookmarkQueries.Delete, new { me, statusId = sid }, cancellationToken: ct));
        var status = await statuses.FindVisibleAsync(sid, me, ct);
        return status is null ? ApiResults.NotFound() : Results.Json(await presenter.PresentAsync(status, me, ct));
    }

    public static Task<IResult> Bookmarks(HttpContext context, ClaimsPrincipal user, NpgsqlDataSource db, StatusPresenter presenter, InstanceUrls urls,
        CancellationToken ct) =>
        StatusPage.RespondByCursorAsync(context, BookmarkQueries.Bookmarked, user.RequiredAccountId(), null, db, presenter, urls, ct);

    public static Task<IResult> Favourites(HttpContext context, ClaimsPrincipal user, NpgsqlDataSource db, StatusPresenter presenter, InstanceUrls urls,
        CancellationToken ct) =>
        StatusPage.RespondByCursorAsync(context, BookmarkQueries.Favourited, user.RequiredAccountId(), null, db, presenter, urls, ct);
}

static class BookmarkQueries
{
    public const string Insert = """
        INSERT INTO bookmarks (id, account_id, status_id, created_at) VALUES (fellows_id(@now), @me, @statusId, @now)
        ON CONFLICT (account_id, status_id) DO NOTHING
        """;

    public const string Delete = "DELETE FROM bookmarks WHERE account_id = @me AND status_id = @statusId";

    public static readonly string Bookmarked = $"""
        SELECT b.id AS cursor_id, {StatusQueries.Columns}
        FROM bookmarks b JOIN statuses s ON s.id = b.status_id
        WHERE b.account_id = @viewer AND {StatusQueries.VisibleTo}
          {PageRequest.Conditions("b.id")}
        {PageRequest.OrderAndLimit("b.id")}
        """;

    public static readonly string Favourited = $"""
        SELECT f.id AS cursor_id, {StatusQueries.Columns}
        FROM favourites f JOIN statuses s ON s.id = f.status_id
        WHERE f.account_id = @viewer AND {StatusQueries.VisibleTo}
          {PageRequest.Conditions("f.id")}
        {PageRequest.OrderAndLimit("f.id")}
        """;
}
