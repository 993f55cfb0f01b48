using System.Text.RegularExpressions;
using Dapper;
using Fellows.Server.Features.Mastodon;
using Npgsql;

namespace Fellows.Server.Features.Filters;

public sealed record ApiFilterKeyword(string Id, string Keyword, bool WholeWord);

public sealed record ApiFilterStatus(string Id, string StatusId);

public sealed record ApiFilter
{
    public required string Id { get; init; }
    public required string Title { get; init; }
    public required IReadOnlyList<string> Context { get; init; }
    public required string? ExpiresAt { get; init; }
    public required string FilterAction { get; init; }
    public required IReadOnlyList<ApiFilterKeyword> Keywords { get; init; }
    public required IReadOnlyList<ApiFilterStatus> Statuses { get; init; }
}

/// <summary>What a status entity carries when one of the viewer's filters matches it.</summary>
public sealed record ApiFilterResult(ApiFilter Filter, IReadOnlyList<string>? KeywordMatches, IReadOnlyList<string>? StatusMatches);

/// <summary>A member's active filters, loaded once per page of statuses and matched against each.</summary>
public sealed class ActiveFilters
{
    public static readonly ActiveFilters None = new([]);

    /// <summary>One filter: its entity (what a match reports), its keyword patterns and the statuses it names.</summary>
    sealed record Compiled(ApiFilter Filter, IReadOnlyList<(Regex Pattern, string Keyword)> Patterns, IReadOnlySet<long> StatusIds);

    readonly IReadOnlyList<Compiled> _filters;

    ActiveFilters(IReadOnlyList<Compiled> filters) => _filters = filters;

    public bool IsEmpty => _filters.Count == 0;

    public static async Task<ActiveFilters> LoadAsync(NpgsqlConnection conn, long viewer, DateTimeOffset now, CancellationToken ct)
    {
        var active = (await FilterStore.LoadStoredAsync(conn, viewer, null, ct)).Where(f => f.ExpiresAt is null || f.ExpiresAt > now).ToList();
        if (active.Count == 0) return None;
        return new ActiveFilters(active.Select(f => new Compiled(
            f.Filter,
            f.Filter.Keywords.Select(k => (Pattern(k), k.Keyword)).ToList(),
            f.StatusIds.ToHashSet())).ToList());
    }

    static Regex Pattern(ApiFilterKeyword keyword)
    {
        var escaped = Regex.Escape(keyword.Keyword);
        var pattern = keyword.WholeWord ? $@"(?<![\p{{L}}\p{{N}}_]){escaped}(?![\p{{L}}\p{{N}}_])" : escaped;
        return new Regex(pattern, RegexOptions.IgnoreCase | RegexOptions.CultureInvariant, TimeSpan.FromMilliseconds(50));
    }

    /// <summary>The filters that match a status's text (plain text of content and content warning) or the status itself.</summary>
    public IReadOnlyList<ApiFilterResult> Match(long statusId, string plainText)
    {
        var results = new List<ApiFilterResult>();
        foreach (var f in _filters)
        {
            var keywords = f.Patterns
                .Where(p => { try { return p.Pattern.IsMatch(plainText); } catch (RegexMatchTimeoutException) { return false; } })
                .Select(p => p.Keyword).ToList();
            var statuses = f.StatusIds.Contains(statusId) ? new List<string> { ApiResults.Id(statusId) } : null;
            if (keywords.Count > 0 || statuses is not null)
                results.Add(new ApiFilterResult(f.Filter, keywords.Count > 0 ? keywords : null, statuses));
        }
        return results;
    }
}

static class FilterStore
{
    sealed record FilterRow
    {
        public required long Id { get; init; }
        public required string Title { get; init; }
        public required string[] Context { get; init; }
        public required string FilterAction { get; init; }
        public DateTimeOffset? ExpiresAt { get; init; }
    }

    sealed record KeywordRow
    {
        public required long Id { get; init; }
        public required long FilterId { get; init; }
        public required string Keyword { get; init; }
        public required bool WholeWord { get; init; }
    }

    sealed record StatusRow
    {
        public required long Id { get; init; }
        public required long FilterId { get; init; }
        public required long StatusId { get; init; }
    }

    /// <summary>A filter as stored: its API entity, and the expiry and status ids in their own types.</summary>
    public sealed record StoredFilter(ApiFilter Filter, DateTimeOffset? ExpiresAt, IReadOnlyList<long> StatusIds);

    public static async Task<IReadOnlyList<ApiFilter>> LoadAsync(NpgsqlConnection conn, long accountId, long? filterId, CancellationToken ct) =>
        (await LoadStoredAsync(conn, accountId, filterId, ct)).Select(f => f.Filter).ToList();

    public static async Task<IReadOnlyList<StoredFilter>> LoadStoredAsync(NpgsqlConnection conn, long accountId, long? filterId, CancellationToken ct)
    {
        var filters = (await conn.QueryAsync<FilterRow>(new CommandDefinition("""
            SELECT id, title, context, filter_action, expires_at FROM filters
            WHERE account_id = @accountId AND (@filterId::bigint IS NULL OR id = @filterId) ORDER BY id
            """, new { accountId, filterId }, cancellationToken: ct))).ToList();
        if (filters.Count == 0) return [];
        var ids = filters.Select(f => f.Id).ToArray();
        var keywords = (await conn.QueryAsync<KeywordRow>(new CommandDefinition(
            "SELECT id, filter_id, keyword, whole_word FROM filter_keywords WHERE filter_id = ANY(@ids) ORDER BY id", new { ids }, cancellationToken: ct)))
            .ToLookup(k => k.FilterId);
        var statuses = (await conn.QueryAsync<StatusRow>(new CommandDefinition(
            "SELECT id, filter_id, status_id FROM filter_statuses WHERE filter_id = ANY(@ids) ORDER BY id", new { ids }, cancellationToken: ct)))
            .ToLookup(s => s.FilterId);
        return filters.Select(f => new StoredFilter(new ApiFilter
        {
            Id = ApiResults.Id(f.Id),
            Title = f.Title,
            Context = f.Context,
            ExpiresAt = ApiResults.Date(f.ExpiresAt),
            FilterAction = f.FilterAction,
            Keywords = keywords[f.Id].Select(k => new ApiFilterKeyword(ApiResults.Id(k.Id), k.Keyword, k.WholeWord)).ToList(),
            Statuses = statuses[f.Id].Select(s => new ApiFilterStatus(ApiResults.Id(s.Id), ApiResults.Id(s.StatusId))).ToList(),
        }, f.ExpiresAt, statuses[f.Id].Select(s => s.StatusId).ToList())).ToList();
    }
}
