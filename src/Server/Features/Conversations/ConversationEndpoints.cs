using System.Security.Claims;
using Dapper;
using Fellows.Server.Configuration;
using Fellows.Server.Features.Auth;
using Fellows.Server.Features.Mastodon;
using Npgsql;

namespace Fellows.Server.Features.Conversations;

/// <summary>
/// <c>/api/v1/conversations</c>: a member's direct-message conversations, paged (as in Mastodon) by the id of each
/// conversation's latest message; mark one read, or remove it from the list (the messages stay).
/// </summary>
public static class ConversationEndpoints
{
    public static void MapConversationEndpoints(this IEndpointRouteBuilder app)
    {
        var group = app.MapGroup("/api/v1/conversations").WithTags("Conversations");
        group.MapGet("/", List).RequireScope("read:statuses").WithName("ListConversations");
        group.MapDelete("/{id}", Remove).RequireScope("write:conversations").WithName("RemoveConversation");
        group.MapPost("/{id}/read", Read).RequireScope("write:conversations").WithName("ReadConversation");
    }

    const string Page = $"""
        SELECT {ConversationPresenter.Columns} FROM conversations c
        WHERE c.account_id = @viewer
          AND (@maxId::bigint IS NULL OR c.last_status_id < @maxId)
          AND (@sinceId::bigint IS NULL OR c.last_status_id > @sinceId)
          AND {ConversationPresenter.Visible}
        ORDER BY CASE WHEN @minId::bigint IS NULL THEN c.last_status_id END DESC, c.last_status_id ASC
        LIMIT @limit
        """;

    public static async Task<IResult> List(HttpContext context, ClaimsPrincipal user, NpgsqlDataSource db, ConversationPresenter presenter,
        InstanceUrls urls, CancellationToken ct)
    {
        var viewer = user.RequiredAccountId();
        var page = PageRequest.From(context.Request, 20, 40);
        List<ConversationRow> rows;
        await using (var conn = await db.OpenConnectionAsync(ct))
        {
            rows = (await conn.QueryAsync<ConversationRow>(new CommandDefinition(Page, new
            {
                viewer, maxId = page.MaxId, sinceId = page.MinId ?? page.SinceId, minId = page.MinId, limit = page.Limit,
            }, cancellationToken: ct))).OrderByDescending(r => r.LastStatusId).ToList();
        }
        if (rows.Count > 0) page.AddLinkHeader(context, urls.Base, rows[0].LastStatusId, rows[^1].LastStatusId, rows.Count);
        return Results.Json(await presenter.PresentManyAsync(rows, viewer, ct));
    }

    public static async Task<IResult> Remove(string id, ClaimsPrincipal user, NpgsqlDataSource db, CancellationToken ct)
    {
        if (ApiResults.ParseId(id) is not { } cid) return ApiResults.NotFound();
        await using var conn = await db.OpenConnectionAsync(ct);
        var removed = await conn.ExecuteAsync(new CommandDefinition("DELETE FROM conversations WHERE id = @cid AND account_id = @me",
            new { cid, me = user.RequiredAccountId() }, cancellationToken: ct));
        return removed == 0 ? ApiResults.NotFound() : Results.Json(new { });
    }

    public static async Task<IResult> Read(string id, ClaimsPrincipal user, NpgsqlDataSource db, ConversationPresenter presenter, CancellationToken ct)
    {
        if (ApiResults.ParseId(id) is not { } cid) return ApiResults.NotFound();
        var me = user.RequiredAccountId();
        await using (var conn = await db.OpenConnectionAsync(ct))
            await conn.ExecuteAsync(new CommandDefinition("UPDATE conversations SET unread = false WHERE id = @cid AND account_id = @me",
                new { cid, me }, cancellationToken: ct));
        return await presenter.PresentAsync(cid, me, ct) is { } conversation ? Results.Json(conversation) : ApiResults.NotFound();
    }
}
