using Dapper;
using Fellows.Server.Configuration;
using Fellows.Server.Features.Mastodon;
using Npgsql;

namespace Fellows.Server.Features.Accounts;

/// <summary>Account rows as Mastodon API entities, in batches.</summary>
public sealed class AccountPresenter(NpgsqlDataSource db, InstanceUrls urls)
{
    const string Counts = $"""
        SELECT {AccountQueries.Columns},
               coalesce(st.followers_count, 0) AS followers_count,
               coalesce(st.following_count, 0) AS following_count,
               coalesce(st.statuses_count, 0) AS statuses_count,
               (SELECT s.created_at FROM statuses s WHERE s.account_id = a.id AND s.deleted_at IS NULL ORDER BY s.id DESC LIMIT 1) AS last_status_at,
               coalesce(mc.kept_count, 0) AS commitments_kept,
               coalesce(mc.open_count, 0) AS commitments_open
        -- Looked up by key for the batch's accounts: a plain join let the planner hash all of account_stats (1 ms at
        -- 10,000 accounts for a page of 40); OFFSET 0 keeps the subquery from being flattened back into that join.
        FROM accounts a LEFT JOIN LATERAL (SELECT * FROM account_stats x WHERE x.account_id = a.id OFFSET 0) st ON true
        -- Both counts for the whole batch in one pass over the commitments (not two lookups per account).
        LEFT JOIN (SELECT account_id, count(*) FILTER (WHERE fulfilled_at IS NOT NULL)::int AS kept_count,
                          count(*) FILTER (WHERE fulfilled_at IS NULL)::int AS open_count
                   FROM motion_commitments WHERE account_id = ANY(@ids) GROUP BY account_id) mc ON mc.account_id = a.id
        WHERE a.id = ANY(@ids)
        """;

    public async Task<ApiAccount?> PresentAsync(long id, long? viewer, CancellationToken ct)
    {
        await using var conn = await db.OpenConnectionAsync(ct);
        var map = await PresentManyAsync(conn, [id], viewer, ct);
        return map.GetValueOrDefault(id);
    }

    public async Task<IReadOnlyDictionary<long, ApiAccount>> PresentManyAsync(NpgsqlConnection conn, long[] ids, long? viewer, CancellationToken ct)
    {
        var rows = await conn.QueryAsync<Account, AccountCounts, (Account Account, AccountCounts Counts)>(
            new CommandDefinition(Counts, new { ids }, cancellationToken: ct), (a, c) => (a, c), splitOn: "followers_count");
        var map = rows.ToDictionary(r => r.Account.Id, r => Build(r.Account, r.Counts, viewer));
        // An account that moved shows where it went (one level deep, as Mastodon does).
        var movedTo = rows.Where(r => r.Account.MovedToAccountId is not null).ToDictionary(r => r.Account.Id, r => r.Account.MovedToAccountId!.Value);
        if (movedTo.Count == 0) return map;
        var targets = (await conn.QueryAsync<Account, AccountCounts, (Account Account, AccountCounts Counts)>(
                new CommandDefinition(Counts, new { ids = movedTo.Values.Distinct().ToArray() }, cancellationToken: ct), (a, c) => (a, c), splitOn: "followers_count"))
            .ToDictionary(r => r.Account.Id, r => Build(r.Account, r.Counts, viewer));
        foreach (var (id, targetId) in movedTo)
            if (targets.TryGetValue(targetId, out var target)) map[id] = map[id] with { Moved = target };
        return map;
    }

    ApiAccount Build(Account a, AccountCounts counts, long? viewer)
    {
        var avatar = a.AvatarUrl ?? $"{urls.Base}/avatars/original/missing.png";
        var header = a.HeaderUrl ?? $"{urls.Base}/headers/original/missing.png";
        var self = viewer == a.Id;
        return new ApiAccount
        {
            Id = ApiResults.Id(a.Id),
            Username = a.Username,
            Acct = a.Acct,
            DisplayName = a.DisplayName,
            Locked = a.Locked,
            Bot = a.Bot,
            Discoverable = a.Discoverable,
            Indexable = a.Indexable,
            Group = a.ActorType == "Group",
            // Mastodon reports the day an account was created, at midnight.
            CreatedAt = ApiResults.Date(new DateTimeOffset(a.CreatedAt.UtcDateTime.Date, TimeSpan.Zero)),
            Note = a.Note,
            Url = a.Url ?? a.Uri,
            Uri = a.Uri,
            Avatar = avatar,
            AvatarStatic = avatar,
            Header = header,
            HeaderStatic = header,
            // Fellows, not followers: follower counts are shown to the member themselves only.
            FollowersCount = self ? counts.FollowersCount : 0,
            FollowingCount = counts.FollowingCount,
            StatusesCount = counts.StatusesCount,
            LastStatusAt = counts.LastStatusAt?.UtcDateTime.ToString("yyyy-MM-dd", System.Globalization.CultureInfo.InvariantCulture),
            HideCollections = false,
            Noindex = !a.Indexable,
            Emojis = [],
            Fields = Account.ParseFields(a.Fields).Select(f => new ApiField(f.Name, f.Value, null)).ToList(),
            Fellows = new ApiAccountFellows(counts.CommitmentsKept, counts.CommitmentsOpen),
        };
    }

    sealed record AccountCounts
    {
        public required int FollowersCount { get; init; }
        public required int FollowingCount { get; init; }
        public required int StatusesCount { get; init; }
        public DateTimeOffset? LastStatusAt { get; init; }
        public required int CommitmentsKept { get; init; }
        public required int CommitmentsOpen { get; init; }
    }
}
