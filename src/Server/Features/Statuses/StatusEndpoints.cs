using Dapper;
using System.Security.Claims;
using Fellows.Server.Features.Accounts;
using Fellows.Server.Features.Auth;
using Fellows.Server.Features.Mastodon;
using Npgsql;

namespace Fellows.Server.Features.Statuses;

public static class StatusEndpoints
{
    public static void MapStatusEndpoints(this IEndpointRouteBuilder app)
    {
        var group = app.MapGroup("/api/v1/statuses").WithTags("Statuses");
        group.MapPost("/", Create).RequireScope("write:statuses").WithName("CreateStatus");
        group.MapGet("/", Many).WithName("GetStatuses");
        group.MapGet("/{id}", Get).WithName("GetStatus");
        group.MapDelete("/{id}", Delete).RequireScope("write:statuses").WithName("DeleteStatus");
        group.MapGet("/{id}/context", Context).WithName("GetStatusContext");
        group.MapPut("/{id}", Edit).RequireScope("write:statuses").WithName("EditStatus");
        group.MapGet("/{id}/history", History).WithName("StatusHistory");
        group.MapGet("/{id}/source", Source).RequireScope("read:statuses").WithName("StatusSource");
        group.MapGet("/{id}/favourited_by", FavouritedBy).WithName("FavouritedBy");
        group.MapGet("/{id}/reblogged_by", RebloggedBy).WithName("RebloggedBy");
        group.MapPost("/{id}/pin", Pin).RequireScope("write:accounts").WithName("PinStatus");
        group.MapPost("/{id}/unpin", Unpin).RequireScope("write:accounts").WithName("UnpinStatus");
        group.MapPost("/{id}/favourite", Favourite).RequireScope("write:favourites").WithName("FavouriteStatus");
        group.MapPost("/{id}/unfavourite", Unfavourite).RequireScope("write:favourites").WithName("UnfavouriteStatus");
        group.MapPost("/{id}/reblog", Reblog).RequireScope("write:statuses").WithName("ReblogStatus");
        group.MapPost("/{id}/unreblog", Unreblog).RequireScope("write:statuses").WithName("UnreblogStatus");
    }

    public static async Task<IResult> Create(HttpRequest request, ClaimsPrincipal user, StatusService statuses, StatusPresenter presenter,
        ProfileService profiles, Scheduled.ScheduledStatusService scheduled, CancellationToken ct)
    {
        var p = await ApiParams.ReadAsync(request, ct);
        if (p.Error is not null) return Results.Json(new ApiError(p.Error), statusCode: p.ErrorStatus);
        var visibilityText = p.Get("visibility");
        var visibility = VisibilityNames.Parse(visibilityText);
        if (visibilityText is { Length: > 0 } && visibility is null)
            return Results.Json(new ApiError("Validation failed: Visibility is not included in the list"), statusCode: 422);
        long? inReplyTo = null;
        if (p.Get("in_reply_to_id") is { Length: > 0 } replyText)
        {
            inReplyTo = ApiResults.ParseId(replyText);
            if (inReplyTo is null) return ApiResults.NotFound();
        }
        var (mediaIds, notAnId) = p.GetIds("media_ids");
        if (notAnId is not null) return Results.Json(new ApiError($"Validation failed: {notAnId} is not a media id"), statusCode: 422);
        var poll = Polls.NewPoll.FromParams(p);
        if (!poll.IsOk) return ApiResults.Error(poll.Error!);
        DateTimeOffset? scheduledAt = null;
        if (p.Get("scheduled_at") is { Length: > 0 } scheduledText)
        {
            if (!Scheduled.ScheduledStatusEndpoints.TryParseTime(scheduledText, out var at))
                return Results.Json(new ApiError("Validation failed: scheduled_at must be an ISO 8601 time"), statusCode: 422);
            scheduledAt = at;
        }
        var me = user.RequiredAccountId();
        // What the request leaves out comes from the member's posting defaults.
        var defaults = visibility is null || p.GetBool("sensitive") is null || p.Get("language") is not { Length: > 0 }
            ? await profiles.SourceAsync(me, ct)
            : null;
        var input = new NewStatus(
            p.Get("status") ?? "",
            visibility ?? (Visibility)(defaults?.DefaultVisibility ?? 0),
            p.Get("spoiler_text") ?? "",
            p.GetBool("sensitive") ?? defaults?.DefaultSensitive ?? false,
            p.Get("language") is { Length: > 0 and <= 16 } lang ? lang : defaults?.DefaultLanguage,
            inReplyTo)
        {
            MediaIds = mediaIds,
            IdempotencyKey = request.Headers["Idempotency-Key"].ToString() is { Length: > 0 and <= 200 } key ? key : null,
            Poll = poll.Value,
        };
        // With scheduled_at the answer is a ScheduledStatus, published later by its job.
        if (scheduledAt is { } when) return ApiResults.From(await scheduled.CreateAsync(me, input, when, ct));
        var result = await statuses.CreateAsync(me, input, ct);
        return result.IsOk ? Results.Json(await presenter.PresentAsync(result.Value, me, ct)) : ApiResults.Error(result.Error!);
    }

    /// <summary>The most ids one <c>GET /api/v1/statuses</c> or <c>GET /api/v1/accounts</c> answers for.</summary>
    public const int MaxIdsPerRequest = 40;

    /// <summary>
    /// Several statuses at once (<c>id[]</c>, Mastodon 4.3; the official Android app calls it for posts it lacks),
    /// in the order asked, leaving out those the viewer may not see or that do not exist.
    /// </summary>
    public static async Task<IResult> Many(HttpRequest request, ClaimsPrincipal user, NpgsqlDataSource db, StatusPresenter presenter, CancellationToken ct)
    {
        var ids = request.Query["id[]"].Concat(request.Query["id"]).Select(ApiResults.ParseId).OfType<long>().Distinct().ToArray();
        if (ids.Length > MaxIdsPerRequest) return Results.Json(new ApiError($"Validation failed: at most {MaxIdsPerRequest} ids"), statusCode: 422);
        var viewer = user.AccountId();
        await using var conn = await db.OpenConnectionAsync(ct);
        var found = (await conn.QueryAsync<Status>(new CommandDefinition($"{StatusQueries.ManyByIds} AND {StatusQueries.VisibleTo}", new { ids, viewer },
            cancellationToken: ct))).ToDictionary(s => s.Id);
        return Results.Json(await presenter.PresentManyAsync(conn, ids.Where(found.ContainsKey).Select(id => found[id]).ToList(), viewer, ct));
    }

    public static async Task<IResult> Get(string id, ClaimsPrincipal user, StatusService statuses, StatusPresenter presenter, CancellationToken ct)
    {
        var viewer = user.AccountId();
        var status = ApiResults.ParseId(id) is { } sid ? await statuses.FindVisibleAsync(sid, viewer, ct) : null;
        return status is null ? ApiResults.NotFound() : Results.Json(await presenter.PresentAsync(status, viewer, ct));
    }

    public static async Task<IResult> Delete(string id, ClaimsPrincipal user, StatusService statuses, StatusPresenter presenter, CancellationToken ct)
    {
        if (ApiResults.ParseId(id) is not { } sid) return ApiResults.NotFound();
        var me = user.RequiredAccountId();
        var result = await statuses.DeleteAsync(me, sid, ct);
        if (!result.IsOk) return ApiResults.Error(result.Error!);
        // Mastodon answers with the deleted status and its source text so clients can offer "delete and redraft".
        var entity = await presenter.PresentAsync(result.Value, me, ct);
        return Results.Json(entity with { Text = result.Value.SourceText ?? "" });
    }

    public static async Task<IResult> Context(string id, ClaimsPrincipal user, StatusService statuses, StatusPresenter presenter, CancellationToken ct)
    {
        var viewer = user.AccountId();
        if (ApiResults.ParseId(id) is not { } sid || await statuses.FindVisibleAsync(sid, viewer, ct) is null) return ApiResults.NotFound();
        var (ancestors, descendants) = await statuses.ContextAsync(sid, viewer, ct);
        return Results.Json(new
        {
            ancestors = await presenter.PresentManyAsync(ancestors, viewer, ct),
            descendants = await presenter.PresentManyAsync(descendants, viewer, ct),
        });
    }

    public static Task<IResult> Favourite(string id, ClaimsPrincipal user, StatusService statuses, StatusPresenter presenter, CancellationToken ct) =>
        Act(id, user, presenter, statuses.FavouriteAsync, ct);

    public static Task<IResult> Unfavourite(string id, ClaimsPrincipal user, StatusService statuses, StatusPresenter presenter, CancellationToken ct) =>
        Act(id, user, presenter, statuses.UnfavouriteAsync, ct);

    public static Task<IResult> Reblog(string id, ClaimsPrincipal user, StatusService statuses, StatusPresenter presenter, CancellationToken ct) =>
        Act(id, user, presenter, statuses.ReblogAsync, ct);

    public static Task<IResult> Unreblog(string id, ClaimsPrincipal user, StatusService statuses, StatusPresenter presenter, CancellationToken ct) =>
        Act(id, user, presenter, statuses.UnreblogAsync, ct);

    static async Task<IResult> Act(string id, ClaimsPrincipal user, StatusPresenter presenter,
        Func<long, long, CancellationToken, Task<Common.Result<Status>>> action, CancellationToken ct)
    {
        if (ApiResults.ParseId(id) is not { } sid) return ApiResults.NotFound();
        var me = user.RequiredAccountId();
        var result = await action(me, sid, ct);
        return result.IsOk ? Results.Json(await presenter.PresentAsync(result.Value, me, ct)) : ApiResults.Error(result.Error!);
    }

    /// <summary>Mastodon's edit: text, content warning, sensitivity, language and attachments; the audience stays.</summary>
    public static async Task<IResult> Edit(string id, HttpRequest request, ClaimsPrincipal user, StatusEdits edits, StatusPresenter presenter, CancellationToken ct)
    {
        if (ApiResults.ParseId(id) is not { } sid) return ApiResults.NotFound();
        var p = await ApiParams.ReadAsync(request, ct);
        if (p.Error is not null) return Results.Json(new ApiError(p.Error), statusCode: p.ErrorStatus);
        List<long>? mediaIds = null;
        if (p.Has("media_ids"))
        {
            (mediaIds, var notAnId) = p.GetIds("media_ids");
            if (notAnId is not null) return Results.Json(new ApiError($"Validation failed: {notAnId} is not a media id"), statusCode: 422);
        }
        var poll = Polls.NewPoll.FromParams(p);
        if (!poll.IsOk) return ApiResults.Error(poll.Error!);
        var me = user.RequiredAccountId();
        var result = await edits.EditAsync(me, sid, new StatusEdit(p.Get("status") ?? "", p.Get("spoiler_text") ?? "", p.GetBool("sensitive") ?? false,
            p.Get("language") is { Length: > 0 and <= 16 } lang ? lang : null, mediaIds) { Poll = poll.Value }, ct);
        return result.IsOk ? Results.Json(await presenter.PresentAsync(result.Value, me, ct)) : ApiResults.Error(result.Error!);
    }

    /// <summary>Every version, oldest first, as StatusEdit entities.</summary>
    public static async Task<IResult> History(string id, ClaimsPrincipal user, StatusEdits edits, StatusService statuses, StatusPresenter presenter,
        CancellationToken ct)
    {
        var viewer = user.AccountId();
        if (ApiResults.ParseId(id) is not { } sid || await statuses.FindVisibleAsync(sid, viewer, ct) is not { } status) return ApiResults.NotFound();
        var versions = await edits.HistoryAsync(sid, viewer, ct);
        if (versions is null) return ApiResults.NotFound();
        var current = await presenter.PresentAsync(status, viewer, ct);
        var media = await presenter.PresentMediaAsync(versions.SelectMany(v => v.MediaIds).Distinct().ToArray(), ct);
        return Results.Json(versions.Select(v => new
        {
            content = v.Content,
            spoiler_text = v.SpoilerText,
            sensitive = v.Sensitive,
            created_at = ApiResults.Date(v.CreatedAt),
            account = current.Account,
            // The options of that version's poll, as Mastodon's StatusEdit shows them (without counts).
            poll = v.PollOptions is { } options ? new { options = options.Select(o => new { title = o }).ToList() } : null,
            media_attachments = v.MediaIds.Where(media.ContainsKey).Select(m => media[m]).ToList(),
            emojis = Array.Empty<object>(),
        }).ToList());
    }

    /// <summary>The text as typed, for editing.</summary>
    public static async Task<IResult> Source(string id, ClaimsPrincipal user, StatusService statuses, CancellationToken ct)
    {
        var me = user.RequiredAccountId();
        if (ApiResults.ParseId(id) is not { } sid || await statuses.FindVisibleAsync(sid, me, ct) is not { } status || status.AccountId != me)
            return ApiResults.NotFound();
        return Results.Json(new { id = ApiResults.Id(status.Id), text = status.SourceText ?? Fellows.Federation.Html.RemoteHtml.ToPlainText(status.Content), spoiler_text = status.SpoilerText });
    }

    public static Task<IResult> FavouritedBy(string id, HttpContext context, ClaimsPrincipal user, StatusService statuses, AccountPresenter accounts,
        NpgsqlDataSource db, CancellationToken ct) =>
        WhoActedAsync(id, "SELECT account_id, id FROM favourites WHERE status_id = @sid", context, user, statuses, accounts, db, ct);

    public static Task<IResult> RebloggedBy(string id, HttpContext context, ClaimsPrincipal user, StatusService statuses, AccountPresenter accounts,
        NpgsqlDataSource db, CancellationToken ct) =>
        WhoActedAsync(id, "SELECT account_id, id FROM statuses WHERE reblog_of_id = @sid AND deleted_at IS NULL", context, user, statuses, accounts, db, ct);

    /// <summary>Accounts that favourited or boosted a visible post, newest first, paged by the action's id.</summary>
    static async Task<IResult> WhoActedAsync(string id, string sql, HttpContext context, ClaimsPrincipal user, StatusService statuses,
        AccountPresenter accounts, NpgsqlDataSource db, CancellationToken ct)
    {
        var urls = context.RequestServices.GetRequiredService<Configuration.InstanceUrls>();
        var viewer = user.AccountId();
        if (ApiResults.ParseId(id) is not { } sid || await statuses.FindVisibleAsync(sid, viewer, ct) is null) return ApiResults.NotFound();
        var page = PageRequest.From(context.Request, 40, 80);
        await using var conn = await db.OpenConnectionAsync(ct);
        var rows = (await conn.QueryAsync<(long AccountId, long Id)>(new CommandDefinition(
            $"SELECT * FROM ({sql}) x WHERE (@maxId::bigint IS NULL OR x.id < @maxId) AND (@sinceId::bigint IS NULL OR x.id > @sinceId) ORDER BY x.id DESC LIMIT @limit",
            new { sid, maxId = page.MaxId, sinceId = page.SinceId ?? page.MinId, limit = page.Limit }, cancellationToken: ct))).ToList();
        var entities = await accounts.PresentManyAsync(conn, rows.Select(r => r.AccountId).Distinct().ToArray(), viewer, ct);
        if (rows.Count > 0) page.AddLinkHeader(context, urls.Base, rows[0].Id, rows[^1].Id, rows.Count);
        return Results.Json(rows.Where(r => entities.ContainsKey(r.AccountId)).Select(r => entities[r.AccountId]).ToList());
    }

    public static Task<IResult> Pin(string id, ClaimsPrincipal user, StatusService statuses, StatusPresenter presenter, CancellationToken ct) =>
        Act(id, user, presenter, statuses.PinAsync, ct);

    public static Task<IResult> Unpin(string id, ClaimsPrincipal user, StatusService statuses, StatusPresenter presenter, CancellationToken ct) =>
        Act(id, user, presenter, statuses.UnpinAsync, ct);
}
