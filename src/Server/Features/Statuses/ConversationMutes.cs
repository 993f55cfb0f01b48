using System.Security.Claims;
using Dapper;
using Fellows.Server.Features.Auth;
using Fellows.Server.Features.Mastodon;
using Npgsql;

namespace Fellows.Server.Features.Statuses;

/// <summary>
/// Muting a conversation (<c>POST /api/v1/statuses/:id/mute</c>): the member hears nothing more from the thread the
/// post belongs to (no mention, reply, favourite or boost notifications), and its posts show <c>muted: true</c>.
/// A thread is known by its first post; muting any post mutes the whole thread, as in Mastodon.
/// </summary>
public static class ConversationMuteEndpoints
{
    public static void MapConversationMuteEndpoints(this IEndpointRouteBuilder app)
    {
        var group = app.MapGroup("/api/v1/statuses").WithTags("Statuses");
        group.MapPost("/{id}/mute", Mute).RequireScope("write:mutes").WithName("MuteConversation");
        group.MapPost("/{id}/unmute", Unmute).RequireScope("write:mutes").WithName("UnmuteConversation");
    }

    public static Task<IResult> Mute(string id, ClaimsPrincipal user, NpgsqlDataSource db, StatusService statuses, StatusPresenter presenter,
        TimeProvider clock, CancellationToken ct) =>
        ChangeAsync(id, user, db, statuses, presenter, ConversationMuteQueries.Mute, clock.GetUtcNow(), ct);

    public static Task<IResult> Unmute(string id, ClaimsPrincipal user, NpgsqlDataSource db, StatusService statuses, StatusPresenter presenter,
        TimeProvider clock, CancellationToken ct) =>
        ChangeAsync(id, user, db, statuses, presenter, ConversationMuteQueries.Unmute, clock.GetUtcNow(), ct);

    static async Task<IResult> ChangeAsync(string id, ClaimsPrincipal user, NpgsqlDataSource db, StatusService statuses, StatusPresenter presenter,
        string sql, DateTimeOffset now, CancellationToken ct)
    {
        var me = user.RequiredAccountId();
        // Only a post the member can see: muting must not confirm that a hidden post exists.
        if (ApiResults.ParseId(id) is not { } sid || await statuses.FindVisibleAsync(sid, me, ct) is not { } status) return ApiResults.NotFound();
        await using (var conn = await db.OpenConnectionAsync(ct))
            await conn.ExecuteAsync(new CommandDefinition(sql, new { me, id = status.ReblogOfId ?? status.Id, now }, cancellationToken: ct));
        return Results.Json(await presenter.PresentAsync(status, me, ct));
    }
}

static class ConversationMuteQueries
{
    const string RootOf = """
        WITH RECURSIVE up(id, parent, depth) AS (
            SELECT id, in_reply_to_id, 0 FROM statuses WHERE id = @id
            UNION ALL
            SELECT p.id, p.in_reply_to_id, u.depth + 1 FROM statuses p JOIN up u ON p.id = u.parent WHERE u.depth < 500)
        """;

    public const string Mute = $"""
        {RootOf}
        INSERT INTO conversation_mutes (account_id, root_status_id, created_at)
        SELECT @me, id, @now FROM up ORDER BY depth DESC LIMIT 1
        ON CONFLICT DO NOTHING
        """;

    /// <summary>Unmuting any post of the thread lifts a mute set on any post above it.</summary>
    public const string Unmute = $"""
        {RootOf}
        DELETE FROM conversation_mutes WHERE account_id = @me AND root_status_id IN (SELECT id FROM up)
        """;

    /// <summary>
    /// Which of @ids lie in a thread @viewer muted: the chain from each up to its thread's first post, bounded so a
    /// cycle can't run away. Most members mute none: then the walk starts from nothing.
    /// </summary>
    public const string MutedAmong = """
        WITH RECURSIVE up(start, id, parent, depth) AS (
            SELECT s.id, s.id, s.in_reply_to_id, 0 FROM statuses s
            WHERE s.id = ANY(@ids) AND EXISTS (SELECT 1 FROM conversation_mutes c0 WHERE c0.account_id = @viewer)
            UNION ALL
            SELECT u.start, p.id, p.in_reply_to_id, u.depth + 1 FROM statuses p JOIN up u ON p.id = u.parent WHERE u.depth < 500)
        SELECT DISTINCT u.start FROM up u JOIN conversation_mutes cm ON cm.root_status_id = u.id AND cm.account_id = @viewer
        """;
}
