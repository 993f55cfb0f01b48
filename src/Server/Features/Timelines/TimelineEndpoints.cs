using System.Security.Claims;
using Dapper;
using Fellows.Server.Configuration;
using Fellows.Server.Features.Auth;
using Fellows.Server.Features.Mastodon;
using Fellows.Server.Features.Statuses;
using Npgsql;

namespace Fellows.Server.Features.Timelines;

public static class TimelineEndpoints
{
    public static void MapTimelineEndpoints(this IEndpointRouteBuilder app)
    {
        var group = app.MapGroup("/api/v1/timelines").WithTags("Timelines");
        group.MapGet("/home", Home).RequireScope("read:statuses").WithName("HomeTimeline");
        group.MapGet("/public", Public).WithName("PublicTimeline");
    }

    public static Task<IResult> Home(HttpContext context, ClaimsPrincipal user, NpgsqlDataSource db, StatusPresenter presenter, InstanceUrls urls, CancellationToken ct) =>
        Page(context, TimelineQueries.Home, user.RequiredAccountId(), null, db, presenter, urls, ct);

    public static Task<IResult> Public(HttpContext context, ClaimsPrincipal user, NpgsqlDataSource db, StatusPresenter presenter, InstanceUrls urls, CancellationToken ct)
    {
        var q = context.Request.Query;
        bool? local = q["local"] is { Count: > 0 } l && l[0] is "true" or "1" ? true
            : q["remote"] is { Count: > 0 } r && r[0] is "true" or "1" ? false : null;
        return Page(context, TimelineQueries.Public, user.AccountId(), local, db, presenter, urls, ct);
    }

    static async Task<IResult> Page(HttpContext context, string sql, long? viewer, bool? local, NpgsqlDataSource db, StatusPresenter presenter,
        InstanceUrls urls, CancellationToken ct)
    {
        var page = PageRequest.From(context.Request);
        await using var conn = await db.OpenConnectionAsync(ct);
        var rows = (await conn.QueryAsync<Status>(new CommandDefinition(sql,
            new { viewer, page.MaxId, page.SinceId, page.MinId, page.Limit, local }, cancellationToken: ct))).ToList();
        await conn.CloseAsync();
        if (page.MinId is not null) rows.Reverse();
        if (rows.Count > 0) PageRequest.AddLinkHeader(context, urls.Base, rows[0].Id, rows[^1].Id);
        return Results.Json(await presenter.PresentManyAsync(rows, viewer, ct));
    }
}
