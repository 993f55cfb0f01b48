using System.Security.Claims;
using Dapper;
using Fellows.Server.Features.Auth;
using Fellows.Server.Features.Mastodon;
using Npgsql;

namespace Fellows.Server.Features.Notifications;

/// <summary>Read positions in the home timeline and notifications, so a member's apps agree where they stopped.</summary>
public static class Markers
{
    static readonly string[] Timelines = ["home", "notifications"];

    public static async Task<IResult> Get(HttpRequest request, ClaimsPrincipal user, NpgsqlDataSource db, CancellationToken ct)
    {
        var asked = request.Query["timeline[]"].Concat(request.Query["timeline"]).OfType<string>().Where(Timelines.Contains).Distinct().ToArray();
        await using var conn = await db.OpenConnectionAsync(ct);
        var rows = await conn.QueryAsync<MarkerRow>(new CommandDefinition(
            "SELECT timeline, last_read_id, version, updated_at FROM markers WHERE account_id = @me AND timeline = ANY(@asked)",
            new { me = user.RequiredAccountId(), asked }, cancellationToken: ct));
        return Results.Json(rows.ToDictionary(r => r.Timeline, Present));
    }

    public static async Task<IResult> Save(HttpRequest request, ClaimsPrincipal user, NpgsqlDataSource db, TimeProvider clock, CancellationToken ct)
    {
        var p = await ApiParams.ReadAsync(request, ct);
        if (p.Error is not null) return Results.Json(new ApiError(p.Error), statusCode: p.ErrorStatus);
        var me = user.RequiredAccountId();
        var saved = new Dictionary<string, object>();
        await using var conn = await db.OpenConnectionAsync(ct);
        foreach (var timeline in Timelines)
        {
            if (p.Get($"{timeline}[last_read_id]") is not { } text) continue;
            if (ApiResults.ParseId(text) is not { } lastReadId)
                return Results.Json(new ApiError("Validation failed: Last read id is invalid"), statusCode: 422);
            var row = await conn.QuerySingleAsync<MarkerRow>(new CommandDefinition("""
                INSERT INTO markers (account_id, timeline, last_read_id, version, updated_at) VALUES (@me, @timeline, @lastReadId, 1, @now)
                ON CONFLICT (account_id, timeline) DO UPDATE SET last_read_id = excluded.last_read_id, version = markers.version + 1, updated_at = excluded.updated_at
                RETURNING timeline, last_read_id, version, updated_at
                """, new { me, timeline, lastReadId, now = clock.GetUtcNow() }, cancellationToken: ct));
            saved[timeline] = Present(row);
        }
        return Results.Json(saved);
    }

    static object Present(MarkerRow r) => new
    {
        LastReadId = ApiResults.Id(r.LastReadId),
        Version = r.Version,
        UpdatedAt = ApiResults.Date(r.UpdatedAt),
    };

    sealed record MarkerRow
    {
        public required string Timeline { get; init; }
        public required long LastReadId { get; init; }
        public required int Version { get; init; }
        public required DateTimeOffset UpdatedAt { get; init; }
    }
}
