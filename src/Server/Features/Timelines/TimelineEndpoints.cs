using System.Security.Claims;
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
        StatusPage.RespondAsync(context, TimelineQueries.Home, user.RequiredAccountId(), null, db, presenter, urls, ct);

    public static Task<IResult> Public(HttpContext context, ClaimsPrincipal user, NpgsqlDataSource db, StatusPresenter presenter, InstanceUrls urls, CancellationToken ct)
    {
        var q = context.Request.Query;
        bool? local = q["local"] is { Count: > 0 } l && l[0] is "true" or "1" ? true
            : q["remote"] is { Count: > 0 } r && r[0] is "true" or "1" ? false : null;
        return StatusPage.RespondAsync(context, TimelineQueries.Public, user.AccountId(), new { local }, db, presenter, urls, ct);
    }
}
