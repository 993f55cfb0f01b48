using System.Security.Claims;
using Dapper;
using Fellows.Server.Configuration;
using Fellows.Server.Features.Accounts;
using Fellows.Server.Features.Auth;
using Fellows.Server.Features.Federation;
using Fellows.Server.Features.Inbox;
using Fellows.Server.Features.Mastodon;
using Fellows.Server.Features.Statuses;
using Npgsql;

namespace Fellows.Server.Features.Search;

/// <summary>
/// Search v2, as Mastodon does it without a search engine: accounts by handle or name (and by WebFinger with
/// <c>resolve</c>), posts by URL (fetched from their server with <c>resolve</c>) or by words among posts the member
/// wrote, was mentioned in or favourited, and hashtags by prefix. Nothing is ranked by popularity.
/// </summary>
public static class SearchEndpoints
{
    public static void MapSearchEndpoints(this IEndpointRouteBuilder app)
    {
        app.MapGet("/api/v2/search", Search).RequireScope("read:search").WithTags("Search").WithName("SearchV2");
        app.MapGet("/api/v1/accounts/search", AccountSearch).RequireScope("read:accounts").WithTags("Search").WithName("AccountSearch");
    }

    sealed record SearchResults(IReadOnlyList<ApiAccount> Accounts, IReadOnlyList<ApiStatus> Statuses, IReadOnlyList<object> Hashtags);

    public static async Task<IResult> Search(HttpRequest request, ClaimsPrincipal user, NpgsqlDataSource db, AccountPresenter accounts,
        StatusPresenter statuses, RemoteActors remote, InboxProcessor notes, InstanceUrls urls, CancellationToken ct)
    {
        var q = (request.Query["q"].ToString() ?? "").Trim();
        if (q.Length == 0) return Results.Json(new SearchResults([], [], []));
        if (q.Length > 500) return Results.Json(new ApiError("Validation failed: query is too long"), statusCode: 422);
        var type = request.Query["type"].ToString();
        if (type is { Length: > 0 } && type is not ("accounts" or "statuses" or "hashtags"))
            return Results.Json(new ApiError("Validation failed: type must be accounts, statuses or hashtags"), statusCode: 422);
        var resolve = request.Query["resolve"].ToString() is "true" or "1";
        var limit = int.TryParse(request.Query["limit"], out var l) ? Math.Clamp(l, 1, 40) : 20;
        var offset = int.TryParse(request.Query["offset"], out var o) ? Math.Clamp(o, 0, 10_000) : 0;
        var viewer = user.RequiredAccountId();

        IReadOnlyList<ApiAccount> foundAccounts = [];
        IReadOnlyList<ApiStatus> foundStatuses = [];
        IReadOnlyList<object> foundTags = [];
        await using var conn = await db.OpenConnectionAsync(ct);
        if (type is "" or "accounts")
            foundAccounts = await FindAccountsAsync(conn, q, resolve, limit, offset, viewer, accounts, remote, urls, ct);
        if (type is "" or "statuses")
        {
            var rows = new List<Status>();
            if (Uri.TryCreate(q, UriKind.Absolute, out var url) && url.Scheme is "https" or "http")
            {
                var known = await conn.QuerySingleOrDefaultAsync<Status>(new CommandDefinition(
                    $"SELECT {StatusQueries.Columns} FROM statuses s WHERE (s.uri = @q OR s.url = @q) AND {StatusQueries.VisibleTo} LIMIT 1",
                    new { q, viewer }, cancellationToken: ct));
                // A post just fetched is shown only if the member may see it (its author may block them).
                if (known is null && resolve && offset == 0 && await notes.FetchPublicNoteAsync(q, ct) is { } fetched)
                    known = await conn.QuerySingleOrDefaultAsync<Status>(new CommandDefinition(StatusQueries.VisibleById,
                        new { id = fetched.Id, viewer }, cancellationToken: ct));
                if (known is not null) rows.Add(known);
            }
            else
            {
                rows.AddRange(await conn.QueryAsync<Status>(new CommandDefinition(SearchQueries.Statuses,
                    new { q, viewer, limit, offset }, cancellationToken: ct)));
            }
            foundStatuses = await statuses.PresentManyAsync(rows, viewer, ct);
        }
        if (type is "" or "hashtags" && !q.StartsWith("http", StringComparison.OrdinalIgnoreCase))
        {
            var prefix = q.TrimStart('#');
            var names = await conn.QueryAsync<string>(new CommandDefinition(
                "SELECT name FROM tags WHERE lower(name) LIKE lower(@prefix) || '%' ESCAPE '\\' ORDER BY length(name), name LIMIT @limit OFFSET @offset",
                new { prefix = EscapeLike(prefix), limit, offset }, cancellationToken: ct));
            foundTags = names.Select(n => (object)new { name = n.ToLowerInvariant(), url = urls.Tag(n), history = Array.Empty<object>(), following = false }).ToList();
        }
        return Results.Json(new SearchResults(foundAccounts, foundStatuses, foundTags));
    }

    public static async Task<IResult> AccountSearch(HttpRequest request, ClaimsPrincipal user, NpgsqlDataSource db, AccountPresenter accounts,
        RemoteActors remote, InstanceUrls urls, CancellationToken ct)
    {
        var q = (request.Query["q"].ToString() ?? "").Trim();
        if (q.Length == 0) return Results.Json(Array.Empty<ApiAccount>());
        var limit = int.TryParse(request.Query["limit"], out var l) ? Math.Clamp(l, 1, 80) : 40;
        var offset = int.TryParse(request.Query["offset"], out var o) ? Math.Clamp(o, 0, 10_000) : 0;
        await using var conn = await db.OpenConnectionAsync(ct);
        return Results.Json(await FindAccountsAsync(conn, q, request.Query["resolve"].ToString() is "true" or "1", limit, offset,
            user.RequiredAccountId(), accounts, remote, urls, ct));
    }

    static async Task<IReadOnlyList<ApiAccount>> FindAccountsAsync(NpgsqlConnection conn, string q, bool resolve, int limit, int offset, long viewer,
        AccountPresenter accounts, RemoteActors remote, InstanceUrls urls, CancellationToken ct)
    {
        var ids = new List<long>();
        // A full handle (user@domain) or actor URL finds exactly that account, asking its server when resolving.
        var handle = q.TrimStart('@');
        if (handle.Split('@') is [var user, var domain] && user.Length > 0
            && (domain.Contains('.', StringComparison.Ordinal) || domain.Contains(':', StringComparison.Ordinal)))
        {
            var remoteDomain = string.Equals(domain, urls.Domain, StringComparison.OrdinalIgnoreCase) ? null : domain;
            var found = resolve && offset == 0
                ? await remote.ResolveHandleAsync(user, remoteDomain, ct)
                : await conn.QuerySingleOrDefaultAsync<Account>(new CommandDefinition(AccountQueries.ByUsernameAndDomain,
                    new { username = user, domain = remoteDomain }, cancellationToken: ct));
            if (found is not null) ids.Add(found.Id);
        }
        else if (Uri.TryCreate(q, UriKind.Absolute, out var url) && url.Scheme is "https" or "http")
        {
            var found = await conn.QuerySingleOrDefaultAsync<Account>(new CommandDefinition(
                $"SELECT {AccountQueries.Columns} FROM accounts a WHERE a.uri = @q OR a.url = @q LIMIT 1", new { q }, cancellationToken: ct));
            if (found is null && resolve && offset == 0) found = await remote.ResolveAsync(q, forceRefresh: false, ct);
            if (found is not null) ids.Add(found.Id);
        }
        else
        {
            ids.AddRange(await conn.QueryAsync<long>(new CommandDefinition(SearchQueries.Accounts,
                new { prefix = EscapeLike(handle.Split('@')[0]), q = EscapeLike(q), viewer, limit, offset }, cancellationToken: ct)));
        }
        var entities = await accounts.PresentManyAsync(conn, ids.Distinct().ToArray(), viewer, ct);
        return ids.Distinct().Where(entities.ContainsKey).Select(id => entities[id]).ToList();
    }

    static string EscapeLike(string value) => value.Replace("\\", "\\\\", StringComparison.Ordinal)
        .Replace("%", "\\%", StringComparison.Ordinal).Replace("_", "\\_", StringComparison.Ordinal);
}

static class SearchQueries
{
    /// <summary>
    /// Accounts whose username starts with, or display name contains, the words; people the member follows first,
    /// then this co-op's members, then by name. Suspended, deleted and undiscoverable remote accounts are left out.
    /// </summary>
    public const string Accounts = """
        SELECT a.id FROM accounts a
        WHERE a.deleted_at IS NULL AND a.suspended_at IS NULL AND a.actor_type <> 'Application'
          AND (lower(a.username) LIKE lower(@prefix) || '%' ESCAPE '\' OR a.display_name ILIKE '%' || @q || '%' ESCAPE '\')
          AND (a.domain IS NULL OR a.discoverable OR EXISTS (SELECT 1 FROM follows f WHERE f.account_id = @viewer AND f.target_account_id = a.id))
          AND NOT EXISTS (SELECT 1 FROM blocks b WHERE (b.account_id = a.id AND b.target_account_id = @viewer) OR (b.account_id = @viewer AND b.target_account_id = a.id))
        ORDER BY EXISTS (SELECT 1 FROM follows f WHERE f.account_id = @viewer AND f.target_account_id = a.id) DESC,
                 (a.domain IS NULL) DESC, lower(a.username), a.id
        LIMIT @limit OFFSET @offset
        """;

    /// <summary>
    /// Full-text search over the posts a member wrote, was mentioned in, or favourited (Mastodon's own limits), those
    /// they may still see, newest first.
    /// </summary>
    public const string Statuses = $"""
        WITH candidates AS (
            SELECT id FROM statuses WHERE account_id = @viewer AND deleted_at IS NULL
            UNION SELECT status_id FROM mentions WHERE account_id = @viewer
            UNION SELECT status_id FROM favourites WHERE account_id = @viewer)
        SELECT {StatusQueries.Columns} FROM statuses s JOIN candidates c ON c.id = s.id
        WHERE s.reblog_of_id IS NULL AND {StatusQueries.VisibleTo}
          AND to_tsvector('simple', coalesce(s.source_text, s.content) || ' ' || s.spoiler_text) @@ plainto_tsquery('simple', @q)
        ORDER BY s.id DESC
        LIMIT @limit OFFSET @offset
        """;
}
