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
        group.MapGet("/tag/{hashtag}", Tag).WithName("TagTimeline");
    }

    public static async Task<IResult> Home(HttpContext context, ClaimsPrincipal user, NpgsqlDataSource db, StatusPresenter presenter, InstanceUrls urls,
        CancellationToken ct)
    {
        var viewer = user.RequiredAccountId();
        bool followsTags;
        await using (var conn = await db.OpenConnectionAsync(ct))
            followsTags = await conn.ExecuteScalarAsync<bool>(new CommandDefinition(TimelineQueries.FollowsTags, new { viewer }, cancellationToken: ct));
        return await StatusPage.RespondAsync(context, followsTags ? TimelineQueries.HomeWithTags : TimelineQueries.Home, viewer, null, db, presenter, urls, ct);
    }

    public static Task<IResult> Public(HttpContext context, ClaimsPrincipal user, NpgsqlDataSource db, StatusPresenter presenter, InstanceUrls urls, CancellationToken ct)
    {
        var q = context.Request.Query;
        return StatusPage.RespondAsync(context, TimelineQueries.Public, user.AccountId(), new { local = Local(q), onlyMedia = IsTrue(q["only_media"]) },
            db, presenter, urls, ct);
    }

    /// <summary>Public posts with a hashtag, with Mastodon's any[]/all[]/none[], local, remote and only_media.</summary>
    public static Task<IResult> Tag(string hashtag, HttpContext context, ClaimsPrincipal user, NpgsqlDataSource db, StatusPresenter presenter, InstanceUrls urls,
        CancellationToken ct)
    {
        var q = context.Request.Query;
        static string[] Names(IEnumerable<string?> values) =>
            values.Where(v => !string.IsNullOrWhiteSpace(v)).Select(v => v!.Trim().TrimStart('#').ToLowerInvariant()).Distinct().Take(10).ToArray();
        var any = Names(q["any[]"].Concat(q["any"]).Prepend(hashtag));
        return StatusPage.RespondAsync(context, TimelineQueries.Tag, user.AccountId(),
            new { any, all = Names(q["all[]"].Concat(q["all"])), none = Names(q["none[]"].Concat(q["none"])), local = Local(q), onlyMedia = IsTrue(q["only_media"]) },
            db, presenter, urls, ct);
    }

    /// <summary>Only local posts (<c>local</c>), only remote ones (<c>remote</c>), or both.</summary>
    static bool? Local(IQueryCollection q) => IsTrue(q["local"]) ? true : IsTrue(q["remote"]) ? false : null;

    static bool IsTrue(Microsoft.Extensions.Primitives.StringValues value) => value.Count > 0 && value[0] is "true" or "1";
}
