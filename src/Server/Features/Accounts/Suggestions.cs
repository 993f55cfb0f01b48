using System.Globalization;
using System.Security.Claims;
using Dapper;
using Fellows.Server.Features.Auth;
using Fellows.Server.Features.Mastodon;
using Npgsql;

namespace Fellows.Server.Features.Accounts;

/// <summary>
/// Follow suggestions (<c>/api/v1/suggestions</c>, <c>/api/v2/suggestions</c>), which the explore and onboarding
/// screens of Ice Cubes, Elk and the official apps load and fail without. Fellows ranks no one by reach: it suggests
/// the member's own co-op first (the people they share decisions with), then people those they follow also follow,
/// most recently active first. Never themselves, anyone they follow, asked to follow, block, are blocked by or mute,
/// a server they blocked, an undiscoverable or moved account, or someone they dismissed.
/// </summary>
public static class SuggestionEndpoints
{
    const int DefaultLimit = 40, MaxLimit = 80;

    public static void MapSuggestionEndpoints(this IEndpointRouteBuilder app)
    {
        app.MapGet("/api/v1/suggestions", V1).RequireScope("read").WithTags("Accounts").WithName("SuggestionsV1");
        app.MapGet("/api/v2/suggestions", V2).RequireScope("read").WithTags("Accounts").WithName("SuggestionsV2");
        app.MapDelete("/api/v1/suggestions/{accountId}", Dismiss).RequireScope("write").WithTags("Accounts").WithName("DismissSuggestion");
    }

    /// <summary>Mastodon's v2 Suggestion: why (<c>sources</c>, and the older single <c>source</c> clients still read) and whom.</summary>
    public sealed record ApiSuggestion(string Source, IReadOnlyList<string> Sources, ApiAccount Account);

    sealed record Candidate(long Id, string Source);

    static int Limit(HttpRequest request) =>
        int.TryParse(request.Query["limit"], NumberStyles.None, CultureInfo.InvariantCulture, out var l) ? Math.Clamp(l, 1, MaxLimit) : DefaultLimit;

    static async Task<IReadOnlyList<(ApiAccount Account, string Source)>> SuggestAsync(NpgsqlDataSource db, AccountPresenter presenter, long me, int limit,
        CancellationToken ct)
    {
        await using var conn = await db.OpenConnectionAsync(ct);
        var candidates = (await conn.QueryAsync<Candidate>(new CommandDefinition(SuggestionQueries.Candidates, new { viewer = me, limit }, cancellationToken: ct))).ToList();
        var accounts = await presenter.PresentManyAsync(conn, candidates.Select(c => c.Id).ToArray(), me, ct);
        return candidates.Where(c => accounts.ContainsKey(c.Id)).Select(c => (accounts[c.Id], c.Source)).ToList();
    }

    public static async Task<IResult> V1(HttpRequest request, ClaimsPrincipal user, NpgsqlDataSource db, AccountPresenter presenter, CancellationToken ct) =>
        Results.Json((await SuggestAsync(db, presenter, user.RequiredAccountId(), Limit(request), ct)).Select(s => s.Account).ToList());

    public static async Task<IResult> V2(HttpRequest request, ClaimsPrincipal user, NpgsqlDataSource db, AccountPresenter presenter, CancellationToken ct) =>
        Results.Json((await SuggestAsync(db, presenter, user.RequiredAccountId(), Limit(request), ct))
            // "featured" reads as "staff" in the older field; friends of friends has no exact older name, as in Mastodon.
            .Select(s => new ApiSuggestion(s.Source == "featured" ? "staff" : "past_interactions", [s.Source], s.Account)).ToList());

    /// <summary>Not suggested again. Answers <c>{}</c> for any existing account, as Mastodon does.</summary>
    public static async Task<IResult> Dismiss(string accountId, ClaimsPrincipal user, NpgsqlDataSource db, TimeProvider clock, CancellationToken ct)
    {
        if (ApiResults.ParseId(accountId) is not { } target) return ApiResults.NotFound();
        await using var conn = await db.OpenConnectionAsync(ct);
        var stored = await conn.ExecuteAsync(new CommandDefinition("""
            INSERT INTO suggestion_dismissals (account_id, target_account_id, created_at)
            SELECT @me, a.id, @now FROM accounts a WHERE a.id = @target AND a.deleted_at IS NULL
            ON CONFLICT (account_id, target_account_id) DO NOTHING
            """, new { me = user.RequiredAccountId(), target, now = clock.GetUtcNow() }, cancellationToken: ct));
        if (stored == 0 && await conn.FindAccountByIdAsync(target, null, ct) is not { DeletedAt: null }) return ApiResults.NotFound();
        return Results.Json(new { });
    }
}

static class SuggestionQueries
{
    /// <summary>Who may be suggested to <c>@viewer</c> at all (the account is <c>a</c>).</summary>
    const string Suggestible = $"""
        a.id <> @viewer AND a.deleted_at IS NULL AND a.suspended_at IS NULL AND a.discoverable AND a.moved_to_account_id IS NULL
        AND a.actor_type IN ('Person', 'Group')
        AND NOT EXISTS (SELECT 1 FROM follows f WHERE f.account_id = @viewer AND f.target_account_id = a.id)
        AND NOT EXISTS (SELECT 1 FROM follow_requests r WHERE r.account_id = @viewer AND r.target_account_id = a.id)
        AND NOT EXISTS (SELECT 1 FROM blocks b WHERE (b.account_id = @viewer AND b.target_account_id = a.id) OR (b.account_id = a.id AND b.target_account_id = @viewer))
        AND NOT EXISTS (SELECT 1 FROM mutes m WHERE m.account_id = @viewer AND m.target_account_id = a.id)
        AND NOT EXISTS (SELECT 1 FROM suggestion_dismissals d WHERE d.account_id = @viewer AND d.target_account_id = a.id)
        AND {DomainBlockQueries.AccountServerNotBlocked}
        """;

    /// <summary>
    /// The co-op's members (source <c>featured</c>), then accounts followed by two or more of those the member follows
    /// (<c>friends_of_friends</c>); each group most recently active first.
    /// </summary>
    public const string Candidates = $"""
        WITH coop AS (
            SELECT a.id, 'featured' AS source, 0 AS rank FROM accounts a
            WHERE {Groups.GroupQueries.CoopMemberCondition} AND {Suggestible}
        ), friends AS (
            SELECT f2.target_account_id AS id FROM follows f1 JOIN follows f2 ON f2.account_id = f1.target_account_id
            WHERE f1.account_id = @viewer
            GROUP BY f2.target_account_id HAVING count(*) >= 2
        ), fof AS (
            SELECT a.id, 'friends_of_friends' AS source, 1 AS rank FROM friends x JOIN accounts a ON a.id = x.id
            WHERE {Suggestible} AND NOT EXISTS (SELECT 1 FROM coop c WHERE c.id = a.id)
        )
        SELECT c.id, c.source FROM (SELECT * FROM coop UNION ALL SELECT * FROM fof) c
        LEFT JOIN LATERAL (SELECT s.id FROM statuses s WHERE s.account_id = c.id AND s.deleted_at IS NULL ORDER BY s.id DESC LIMIT 1) latest ON true
        ORDER BY c.rank, latest.id DESC NULLS LAST, c.id DESC
        LIMIT @limit
        """;
}
