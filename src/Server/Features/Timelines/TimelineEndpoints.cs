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

    /// <summary>
    /// The member's home, read from their feed (<see cref="TimelineQueries.HomeFeed"/>). Where the feed does not reach
    /// back far enough (a bounded backfill: an old page, or a short feed), the older part is computed as before
    /// (<see cref="TimelineQueries.Home"/>) below the id from which the feed is complete, so the page is the same.
    /// </summary>
    public static async Task<IResult> Home(HttpContext context, ClaimsPrincipal user, NpgsqlDataSource db, StatusPresenter presenter, InstanceUrls urls,
        CancellationToken ct)
    {
        var viewer = user.RequiredAccountId();
        var page = PageRequest.From(context.Request);
        List<Status> rows;
        // One connection for the page and its presentation, in a read transaction whose statements may keep their
        // plans: the feed query and the presenter's have one shape whatever the page, and planning them on every
        // request (the connection's force_custom_plan, which the computed timelines need) was half of PostgreSQL's
        // time per page. The computed query below the feed is planned for its parameters as before.
        await using var conn = await db.OpenConnectionAsync(ct);
        await using var tx = await conn.BeginTransactionAsync(ct);
        await conn.ExecuteAsync(new CommandDefinition("SET LOCAL plan_cache_mode = auto", transaction: tx, cancellationToken: ct));
        // Where the feed begins is read again only when it matters: from min_id (oldest first), or after a short page.
        async Task<long> CompleteFromAsync() =>
            await conn.ExecuteScalarAsync<long>(new CommandDefinition(TimelineQueries.HomeFeedCompleteFrom, new { viewer }, tx, cancellationToken: ct));
        if (page.MinId is { } minId && minId < await CompleteFromAsync() - 1)
            // Oldest first from before the feed begins: the computed query answers the whole page.
            rows = await ComputedHomeAsync(conn, tx, page, viewer, ct);
        else
        {
            var feedPage = new
            {
                viewer,
                upper = page.MaxId ?? long.MaxValue,
                lower = Math.Max(page.SinceId ?? 0, page.MinId ?? 0),
                limit = page.Limit,
            };
            rows = (await conn.QueryAsync<Status>(new CommandDefinition(
                page.MinId is null ? TimelineQueries.HomeFeed : TimelineQueries.HomeFeedOldestFirst, feedPage, tx, cancellationToken: ct))).ToList();
            if (page.MinId is not null) rows.Reverse();
            if (page.MinId is null && rows.Count < page.Limit && await CompleteFromAsync() is var completeFrom && (page.SinceId ?? 0) < completeFrom - 1)
            {
                var older = page with { MaxId = Math.Min(page.MaxId ?? long.MaxValue, completeFrom), Limit = page.Limit - rows.Count };
                rows.AddRange(await ComputedHomeAsync(conn, tx, older, viewer, ct));
            }
        }
        page.AddLinkHeader(context, urls.Base, rows, r => r.Id);
        var presented = await presenter.RespondAsync(conn, rows, viewer, ct);
        await tx.CommitAsync(ct);
        return presented;
    }

    /// <summary>The computed home (below where the feed is complete), planned for its parameters (see above).</summary>
    static async Task<List<Status>> ComputedHomeAsync(NpgsqlConnection conn, NpgsqlTransaction tx, PageRequest page, long viewer, CancellationToken ct)
    {
        await conn.ExecuteAsync(new CommandDefinition("SET LOCAL plan_cache_mode = force_custom_plan", transaction: tx, cancellationToken: ct));
        var sql = await conn.ExecuteScalarAsync<bool>(new CommandDefinition(TimelineQueries.FollowsTags, new { viewer }, tx, cancellationToken: ct))
            ? TimelineQueries.HomeWithTags
            : TimelineQueries.Home;
        var rows = await page.QueryAsync<Status>(conn, sql, new { viewer }, ct);
        await conn.ExecuteAsync(new CommandDefinition("SET LOCAL plan_cache_mode = auto", transaction: tx, cancellationToken: ct));
        return rows;
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
