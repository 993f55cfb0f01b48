using System.Security.Claims;
using Dapper;
using Fellows.Server.Configuration;
using Fellows.Server.Features.Auth;
using Fellows.Server.Features.Mastodon;
using Npgsql;

namespace Fellows.Server.Features.Notifications;

public static class NotificationEndpoints
{
    public static void MapNotificationEndpoints(this IEndpointRouteBuilder app)
    {
        var group = app.MapGroup("/api/v1/notifications").WithTags("Notifications");
        group.MapGet("/", List).RequireScope("read:notifications").WithName("Notifications");
        group.MapGet("/unread_count", UnreadCount).RequireScope("read:notifications").WithName("NotificationsUnreadCount");
        group.MapPost("/clear", Clear).RequireScope("write:notifications").WithName("ClearNotifications");
        group.MapGet("/{id}", Get).RequireScope("read:notifications").WithName("Notification");
        group.MapPost("/{id}/dismiss", Dismiss).RequireScope("write:notifications").WithName("DismissNotification");
        // The form older clients use.
        group.MapPost("/dismiss", DismissByParam).RequireScope("write:notifications").WithName("DismissNotificationByParam");

        var markers = app.MapGroup("/api/v1/markers").WithTags("Markers");
        markers.MapGet("/", Markers.Get).RequireScope("read:statuses").WithName("Markers");
        markers.MapPost("/", Markers.Save).RequireScope("write:statuses").WithName("SaveMarkers");
    }

    public static async Task<IResult> List(HttpContext context, ClaimsPrincipal user, NpgsqlDataSource db, NotificationPresenter presenter,
        InstanceUrls urls, CancellationToken ct)
    {
        var me = user.RequiredAccountId();
        var q = context.Request.Query;
        var page = PageRequest.From(context.Request, defaultLimit: 40, maxLimit: 80);
        var types = FellowsNotifications.Expand(Values(q, "types"));
        var excludeTypes = FellowsNotifications.Expand(Values(q, "exclude_types"));
        long? fromAccount = null;
        if (q["account_id"].ToString() is { Length: > 0 } accountText)
        {
            // An id that can't be an account matches nothing rather than everything.
            fromAccount = ApiResults.ParseId(accountText) ?? -1;
        }
        List<NotificationRow> rows;
        await using (var conn = await db.OpenConnectionAsync(ct))
            rows = await page.QueryAsync<NotificationRow>(conn, NotificationQueries.Page, new { me, types, excludeTypes, fromAccount, id = (long?)null }, ct);
        page.AddLinkHeader(context, urls.Base, rows, r => r.Id);
        return Results.Json(await presenter.PresentManyAsync(rows, me, ct));
    }

    public static async Task<IResult> Get(string id, ClaimsPrincipal user, NpgsqlDataSource db, NotificationPresenter presenter, CancellationToken ct)
    {
        if (ApiResults.ParseId(id) is not { } nid) return ApiResults.NotFound();
        return await presenter.FindAsync(user.RequiredAccountId(), nid, ct) is { } entity ? Results.Json(entity) : ApiResults.NotFound();
    }

    public static async Task<IResult> Dismiss(string id, ClaimsPrincipal user, NpgsqlDataSource db, CancellationToken ct)
    {
        if (ApiResults.ParseId(id) is not { } nid) return ApiResults.NotFound();
        await using var conn = await db.OpenConnectionAsync(ct);
        var removed = await conn.ExecuteAsync(new CommandDefinition(NotificationQueries.Dismiss, new { me = user.RequiredAccountId(), id = nid }, cancellationToken: ct));
        return removed == 0 ? ApiResults.NotFound() : Results.Json(new { });
    }

    public static async Task<IResult> DismissByParam(HttpRequest request, ClaimsPrincipal user, NpgsqlDataSource db, CancellationToken ct)
    {
        var p = await ApiParams.ReadAsync(request, ct);
        if (p.Error is not null) return Results.Json(new ApiError(p.Error), statusCode: p.ErrorStatus);
        return await Dismiss(p.Get("id") ?? "", user, db, ct);
    }

    public static async Task<IResult> Clear(ClaimsPrincipal user, NpgsqlDataSource db, CancellationToken ct)
    {
        await using var conn = await db.OpenConnectionAsync(ct);
        await conn.ExecuteAsync(new CommandDefinition(NotificationQueries.Clear, new { me = user.RequiredAccountId() }, cancellationToken: ct));
        return Results.Json(new { });
    }

    /// <summary>Notifications after the member's notifications marker, capped like Mastodon's (default 100, at most 1000).</summary>
    public static async Task<IResult> UnreadCount(HttpRequest request, ClaimsPrincipal user, NpgsqlDataSource db, CancellationToken ct)
    {
        var me = user.RequiredAccountId();
        var limit = int.TryParse(request.Query["limit"], System.Globalization.NumberStyles.None, System.Globalization.CultureInfo.InvariantCulture, out var l)
            ? Math.Clamp(l, 1, 1000) : 100;
        await using var conn = await db.OpenConnectionAsync(ct);
        var lastReadId = await conn.ExecuteScalarAsync<long?>(new CommandDefinition(
            "SELECT last_read_id FROM markers WHERE account_id = @me AND timeline = 'notifications'", new { me }, cancellationToken: ct));
        var count = await conn.ExecuteScalarAsync<int>(new CommandDefinition(NotificationQueries.UnreadCount, new { me, lastReadId, limit }, cancellationToken: ct));
        return Results.Json(new { Count = count });
    }

    /// <summary><c>types[]=a&amp;types[]=b</c> or <c>types=a</c>; unknown names are kept (they match nothing).</summary>
    static string[]? Values(IQueryCollection q, string key)
    {
        var values = q[key + "[]"].Concat(q[key]).OfType<string>().Where(v => v.Length > 0).Distinct().ToArray();
        return values.Length == 0 ? null : values;
    }
}
