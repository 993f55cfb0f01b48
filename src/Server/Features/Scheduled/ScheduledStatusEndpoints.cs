using System.Security.Claims;
using Fellows.Server.Configuration;
using Fellows.Server.Features.Auth;
using Fellows.Server.Features.Mastodon;

namespace Fellows.Server.Features.Scheduled;

/// <summary><c>/api/v1/scheduled_statuses</c>: list, show, move and cancel posts scheduled with <c>scheduled_at</c>.</summary>
public static class ScheduledStatusEndpoints
{
    public static void MapScheduledStatusEndpoints(this IEndpointRouteBuilder app)
    {
        var group = app.MapGroup("/api/v1/scheduled_statuses").WithTags("Scheduled statuses");
        group.MapGet("/", List).RequireScope("read:statuses").WithName("ListScheduledStatuses");
        group.MapGet("/{id}", Get).RequireScope("read:statuses").WithName("GetScheduledStatus");
        group.MapPut("/{id}", Update).RequireScope("write:statuses").WithName("UpdateScheduledStatus");
        group.MapDelete("/{id}", Cancel).RequireScope("write:statuses").WithName("CancelScheduledStatus");
    }

    public static async Task<IResult> List(HttpContext context, ClaimsPrincipal user, ScheduledStatusService scheduled, InstanceUrls urls, CancellationToken ct)
    {
        var page = PageRequest.From(context.Request, 20, 40);
        var items = await scheduled.ListAsync(user.RequiredAccountId(), page, ct);
        if (items.Count > 0)
            page.AddLinkHeader(context, urls.Base, ApiResults.ParseId(items[0].Id), ApiResults.ParseId(items[^1].Id), items.Count);
        return Results.Json(items);
    }

    public static async Task<IResult> Get(string id, ClaimsPrincipal user, ScheduledStatusService scheduled, CancellationToken ct) =>
        ApiResults.ParseId(id) is { } sid && await scheduled.GetAsync(user.RequiredAccountId(), sid, ct) is { } item
            ? Results.Json(item)
            : ApiResults.NotFound();

    public static async Task<IResult> Update(string id, HttpRequest request, ClaimsPrincipal user, ScheduledStatusService scheduled, CancellationToken ct)
    {
        if (ApiResults.ParseId(id) is not { } sid) return ApiResults.NotFound();
        var p = await ApiParams.ReadAsync(request, ct);
        if (p.Error is not null) return Results.Json(new ApiError(p.Error), statusCode: p.ErrorStatus);
        if (!TryParseTime(p.Get("scheduled_at"), out var at))
            return Results.Json(new ApiError("Validation failed: scheduled_at must be an ISO 8601 time"), statusCode: StatusCodes.Status422UnprocessableEntity);
        return ApiResults.From(await scheduled.RescheduleAsync(user.RequiredAccountId(), sid, at, ct));
    }

    public static async Task<IResult> Cancel(string id, ClaimsPrincipal user, ScheduledStatusService scheduled, CancellationToken ct) =>
        ApiResults.ParseId(id) is { } sid && await scheduled.CancelAsync(user.RequiredAccountId(), sid, ct)
            ? Results.Json(new { })
            : ApiResults.NotFound();

    public static bool TryParseTime(string? text, out DateTimeOffset at)
    {
        at = default;
        return text is { Length: > 0 and <= 64 }
            && DateTimeOffset.TryParse(text, System.Globalization.CultureInfo.InvariantCulture, System.Globalization.DateTimeStyles.AssumeUniversal, out at);
    }
}
