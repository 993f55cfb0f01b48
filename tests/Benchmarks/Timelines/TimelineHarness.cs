using System.Diagnostics;
using System.Globalization;
using System.Net;
using System.Net.Http.Headers;
using System.Text;
using Dapper;
using Fellows.Benchmarks.Load;
using Fellows.Server.Database;
using Npgsql;

namespace Fellows.Benchmarks.Timelines;

/// <summary>
/// <c>timelines</c>: starts a real Fellows server (child process, embedded PostgreSQL in a temporary folder), seeds about
/// a million statuses from ten thousand accounts with set-based SQL, then measures the client API's read endpoints with
/// concurrent HTTP requests: requests per second, p50 and p99 latency, each rate as a ratio to /health in the same run.
/// </summary>
static class TimelineHarness
{
    const string Member = "alice";

    sealed record Options(int Seconds, int Concurrency, int Statuses, int Accounts, int Following, int HoldSeconds, bool Explain, int FeedBound, int FanOut);

    static readonly string Usage = """
        usage: Fellows.Benchmarks timelines [--seconds N] [--concurrency N] [--statuses N] [--accounts N] [--following N] [--hold N] [--explain 1] [--feed-bound N] [--fan-out N]
          --seconds      length of each measured phase (default 5)
          --concurrency  requests in flight (default 32)
          --statuses     statuses to seed (default 1000000)
          --accounts     accounts to seed (default 10000)
          --following    accounts the member follows (default 300)
          --hold         keep the server up this many seconds at the end, printing how to reach its database (default off)
          --explain      print EXPLAIN (ANALYZE, BUFFERS) of the timeline queries with the member's parameters (default off)
          --feed-bound   the member's home feed holds only her newest N candidates, as the migration leaves an existing
                         server (older pages are computed); default 0: her whole history, as fan-out on write leaves it
          --fan-out      local followers of the poster in the fan-out phase (default 10000; 0 skips the phase)
        """;

    public static async Task<int> RunAsync(string[] args)
    {
        if (!TryParse(args, out var o))
        {
            await Console.Error.WriteLineAsync(Usage);
            return 2;
        }
        ThreadPool.SetMinThreads(Math.Max(64, o.Concurrency), Math.Max(64, o.Concurrency));
        var ct = CancellationToken.None;
        LoadHarness.Step("starting the Fellows server (child process, embedded PostgreSQL in a temporary folder)");
        // One token sends thousands of requests a second here: lift the per-token API limit (Mastodon's 300 per 5 minutes).
        await using var server = await ServerProcess.StartAsync(ct, new Dictionary<string, string> { ["RateLimits__PermitLimit"] = "1000000000" });
        var token = await server.CreateMemberAsync(Member, ct);
        var embedded = await EmbeddedPostgres.StartAsync(server.DataDirectory, _ => { }, ct);
        await using var db = NpgsqlDataSource.Create(embedded.ConnectionString);
        long member;
        await using (var conn = await db.OpenConnectionAsync(ct))
            member = await conn.ExecuteScalarAsync<long>("SELECT id FROM accounts WHERE username = @u AND domain IS NULL", new { u = Member });

        var seedClock = Stopwatch.StartNew();
        await using (var conn = await db.OpenConnectionAsync(ct))
        {
            foreach (var (label, sql) in TimelineSeed.Statements(server.BaseUrl, o.Accounts, o.Statuses, o.Following))
            {
                var clock = Stopwatch.StartNew();
                await conn.ExecuteAsync(new CommandDefinition(sql, new { member }, commandTimeout: 3600, cancellationToken: ct));
                LoadHarness.Step($"seeded {label} in {clock.Elapsed.TotalSeconds:F1} s");
            }
        }
        // The seed wrote with triggers off, so no home feed was kept: build them as the migration does for existing
        // data (every local member's newest candidates, bounded), then the member's own as fan-out on write would have
        // left it (her whole history) unless --feed-bound asks for the migration's shape.
        await using (var conn = await db.OpenConnectionAsync(ct))
        {
            var clock = Stopwatch.StartNew();
            var rows = await conn.ExecuteScalarAsync<long>(new CommandDefinition(
                "SELECT fellows_home_feed_rebuild(NULL, fellows_home_feed_bound())", commandTimeout: 3600, cancellationToken: ct));
            var own = await conn.ExecuteScalarAsync<long>(new CommandDefinition(
                "SELECT fellows_home_feed_rebuild(@member, @bound)", new { member, bound = o.FeedBound > 0 ? o.FeedBound : int.MaxValue },
                commandTimeout: 3600, cancellationToken: ct));
            await conn.ExecuteAsync(new CommandDefinition("VACUUM (ANALYZE) home_feed, home_feed_bounds", commandTimeout: 3600, cancellationToken: ct));
            LoadHarness.Step($"home feeds built in {clock.Elapsed.TotalSeconds:F1} s: {rows:N0} rows for every local member, then {own:N0} for {Member}");
        }
        var seedTime = seedClock.Elapsed;
        string shape;
        await using (var conn = await db.OpenConnectionAsync(ct))
        {
            var counts = (await conn.QueryAsync<(string, long)>("""
                SELECT 'accounts', count(*) FROM accounts UNION ALL SELECT 'statuses', count(*) FROM statuses
                UNION ALL SELECT 'boosts', count(*) FROM statuses WHERE reblog_of_id IS NOT NULL
                UNION ALL SELECT 'replies', count(*) FROM statuses WHERE in_reply_to_id IS NOT NULL
                UNION ALL SELECT 'status_tags', count(*) FROM status_tags UNION ALL SELECT 'follows', count(*) FROM follows
                UNION ALL SELECT 'member follows', count(*) FROM follows WHERE account_id = @member
                UNION ALL SELECT 'favourites', count(*) FROM favourites UNION ALL SELECT 'mentions', count(*) FROM mentions
                UNION ALL SELECT 'member notifications', count(*) FROM notifications WHERE account_id = @member
                UNION ALL SELECT 'lists', count(*) FROM lists UNION ALL SELECT 'list_accounts', count(*) FROM list_accounts
                UNION ALL SELECT 'blocks', count(*) FROM blocks UNION ALL SELECT 'mutes', count(*) FROM mutes
                UNION ALL SELECT 'home_feed', count(*) FROM home_feed UNION ALL SELECT 'member home_feed', count(*) FROM home_feed WHERE account_id = @member
                UNION ALL SELECT 'database size MB', pg_database_size(current_database()) / 1048576
                """, new { member })).ToList();
            shape = string.Join(", ", counts.Select(c => $"{c.Item1} {c.Item2:N0}"));
        }
        LoadHarness.Step($"seeded in {seedTime.TotalSeconds:F0} s: {shape}");

        // Ids to page from, spread through the member's home history; a list, a thread and an account to read.
        long[] deep, listIds, threadCandidates;
        long accountId;
        await using (var conn = await db.OpenConnectionAsync(ct))
        {
            deep = (await conn.QueryAsync<long>("""
                SELECT s.id FROM statuses s JOIN follows f ON f.target_account_id = s.account_id AND f.account_id = @member
                WHERE s.id % 97 = 0 ORDER BY random() LIMIT 200
                """, new { member })).ToArray();
            listIds = (await conn.QueryAsync<long>("SELECT id FROM lists WHERE account_id = @member AND NOT exclusive", new { member })).ToArray();
            threadCandidates = (await conn.QueryAsync<long>("""
                SELECT s.id FROM statuses s
                WHERE s.in_reply_to_id IS NOT NULL AND s.visibility = 0 AND s.deleted_at IS NULL ORDER BY s.id DESC LIMIT 50 OFFSET 10
                """)).ToArray();
            accountId = await conn.ExecuteScalarAsync<long>("SELECT target_account_id FROM follows WHERE account_id = @member ORDER BY target_account_id LIMIT 1 OFFSET 100", new { member });
        }

        if (o.Explain) await ExplainAsync(db, member, deep, listIds, ct);

        using var client = HttpLoad.CreateClient(server.BaseUrl, o.Concurrency);
        client.DefaultRequestHeaders.Authorization = new AuthenticationHeaderValue("Bearer", token);
        // The baseline is sent without the member's token, so it measures the same no-op whatever the server does with
        // tokens (with the token, it had also measured the token's lookup, which a token cache then took away).
        using var anonymous = HttpLoad.CreateClient(server.BaseUrl, o.Concurrency);
        HttpClient ClientFor(string name) => name.StartsWith("GET /health", StringComparison.Ordinal) ? anonymous : client;
        var duration = TimeSpan.FromSeconds(o.Seconds);
        var phases = new List<LoadResult>();
        var random = new ThreadLocal<Random>(() => new Random(Environment.CurrentManagedThreadId));
        long Pick(long[] ids) => ids[random.Value!.Next(ids.Length)];

        // A public reply the member can read (the seed's replies all come from accounts whose index ends in 7, which the
        // member may not follow; blocks hide some): the first candidate the API shows.
        long threadId = 0;
        foreach (var candidate in threadCandidates)
        {
            using var probe = await client.GetAsync(new Uri($"/api/v1/statuses/{candidate}/context", UriKind.Relative), ct);
            if (probe.StatusCode == HttpStatusCode.OK) { threadId = candidate; break; }
        }
        if (threadId == 0) LoadHarness.Step($"no readable reply among {threadCandidates.Length} candidates: the status context phase will fail (404)");

        var targets = new (string Name, Func<string> Url)[]
        {
            ("GET /health (baseline)", () => "/health"),
            ("verify_credentials (the token and one account)", () => "/api/v1/accounts/verify_credentials"),
            ("home, first page (limit=40)", () => "/api/v1/timelines/home?limit=40"),
            ("home, deep page (max_id in history, limit=40)", () => $"/api/v1/timelines/home?limit=40&max_id={Pick(deep)}"),
            ("public (limit=40)", () => "/api/v1/timelines/public?limit=40"),
            ("public, local only (limit=40)", () => "/api/v1/timelines/public?local=true&limit=40"),
            ("public, deep page (max_id)", () => $"/api/v1/timelines/public?limit=40&max_id={Pick(deep)}"),
            ("tag #tag5 (limit=40)", () => "/api/v1/timelines/tag/tag5?limit=40"),
            ("list (limit=40)", () => $"/api/v1/timelines/list/{Pick(listIds)}?limit=40"),
            ("account statuses (limit=40)", () => $"/api/v1/accounts/{accountId}/statuses?limit=40"),
            ("notifications (limit=40)", () => "/api/v1/notifications?limit=40"),
            ("status context (a reply)", () => $"/api/v1/statuses/{threadId}/context"),
            ("search statuses (q=bicycles)", () => "/api/v2/search?q=bicycles&type=statuses&limit=20"),
            ("search accounts (q=user42)", () => "/api/v2/search?q=user42&type=accounts&limit=20"),
            ("GET /health (baseline again)", () => "/health"),
        };
        var load = Load();
        // Every endpoint once before any is measured, so the first measured phases do not carry the JIT compilation of
        // the code they share with the rest (the presenter, serialisation), and each phase's meters start after its
        // own one-second warm-up.
        LoadHarness.Step("warming up every endpoint");
        foreach (var (name, url) in targets)
            await HttpLoad.RunForAsync(name, ClientFor(name), () => new HttpRequestMessage(HttpMethod.Get, url()), HttpStatusCode.OK, TimeSpan.FromSeconds(1), o.Concurrency, ct);
        foreach (var (name, url) in targets)
        {
            LoadHarness.Step(name);
            var p = await LoadHarness.Metered(server, measuring => HttpLoad.RunForAsync(name, ClientFor(name), () => new HttpRequestMessage(HttpMethod.Get, url()),
                HttpStatusCode.OK, duration, o.Concurrency, ct, measuring));
            phases.Add(p);
            LoadHarness.Step($"  {p.PerSecond:F0}/s, p50 {p.P50:F1} ms, p99 {p.P99:F1} ms, {p.Failed} failed {p.FirstFailure}");
        }
        var loadAfter = Load();
        var fanOut = o.FanOut > 0 ? await FanOutAsync(server, db, o.FanOut, ct) : [];

        var baseline = (phases[0].PerSecond + phases[^1].PerSecond) / 2;
        var report = new StringBuilder();
        report.AppendLine(CultureInfo.InvariantCulture, $"Seed: {shape}; seeded in {seedTime.TotalSeconds:F0} s.");
        report.AppendLine(CultureInfo.InvariantCulture, $"Concurrency {o.Concurrency}, {o.Seconds} s per phase; load average before {load}, after {loadAfter}; /health baseline {baseline:F0}/s (mean of {phases[0].PerSecond:F0} and {phases[^1].PerSecond:F0}).");
        report.AppendLine();
        report.AppendLine("| endpoint | requests/s | ratio to /health | p50 ms | p99 ms | server + PostgreSQL CPU per request | failed |");
        report.AppendLine("|---|---|---|---|---|---|---|");
        foreach (var p in phases)
            report.AppendLine(CultureInfo.InvariantCulture,
                $"| {p.Name} | {p.PerSecond:N0} | {p.PerSecond / baseline:F3} | {p.P50:F1} | {p.P99:F1} | {Micro(p.ServerCpu, p.Ok)} + {Micro(p.PostgresCpu, p.Ok)} µs | {p.Failed} |");
        if (fanOut.Count > 0)
        {
            report.AppendLine();
            report.AppendLine(CultureInfo.InvariantCulture, $"Fan-out: POST /api/v1/statuses by an account with {o.FanOut:N0} local followers, timed until the status is in every follower's home feed (and the poster's), and until it is on one follower's home timeline through the API.");
            report.AppendLine();
            report.AppendLine("| round | POST answered ms | in every home feed ms | on a follower's home ms | feed rows |");
            report.AppendLine("|---|---|---|---|---|");
            foreach (var r in fanOut)
                report.AppendLine(CultureInfo.InvariantCulture, $"| {r.Round} | {r.Posted.TotalMilliseconds:F0} | {r.InFeeds.TotalMilliseconds:F0} | {r.OnHome.TotalMilliseconds:F0} | {r.Rows:N0} |");
        }
        Console.WriteLine();
        Console.WriteLine(report);

        if (o.HoldSeconds > 0)
        {
            Console.WriteLine($"holding for {o.HoldSeconds} s; database: {embedded.ConnectionString}; member id {member}; token {token}; base {server.BaseUrl}");
            await Task.Delay(TimeSpan.FromSeconds(o.HoldSeconds), ct);
        }
        await embedded.DisposeAsync();
        return phases.Any(p => p.Failed > 0) ? 1 : 0;
    }

    sealed record FanOutRound(int Round, TimeSpan Posted, TimeSpan InFeeds, TimeSpan OnHome, long Rows);

    /// <summary>
    /// Issue 3's "a post reaching 10,000 local home timelines": a poster with <paramref name="followers"/> local
    /// members following her (all but one seeded with SQL, triggers off; the last one a member with a token), five
    /// public posts through the API, each timed from sending the POST until its row is in every follower's feed (the
    /// fan-out commits with the post, so the first check normally finds them all) and until it is on that member's
    /// home timeline through the API.
    /// </summary>
    static async Task<List<FanOutRound>> FanOutAsync(ServerProcess server, NpgsqlDataSource db, int followers, CancellationToken ct)
    {
        LoadHarness.Step($"fan-out: a poster with {followers:N0} local followers");
        var posterToken = await server.CreateMemberAsync("poster", ct);
        var readerToken = await server.CreateMemberAsync("reader", ct);
        long poster, reader;
        await using (var conn = await db.OpenConnectionAsync(ct))
        {
            poster = await conn.ExecuteScalarAsync<long>("SELECT id FROM accounts WHERE username = 'poster' AND domain IS NULL");
            reader = await conn.ExecuteScalarAsync<long>("SELECT id FROM accounts WHERE username = 'reader' AND domain IS NULL");
            await conn.ExecuteAsync(new CommandDefinition($"""
                SET session_replication_role = replica;
                INSERT INTO accounts (id, username, uri, url, display_name)
                SELECT fellows_id(now() - interval '400 days' + g * interval '1 second'), 'fan' || g, '{server.BaseUrl}/users/fan' || g,
                       '{server.BaseUrl}/@fan' || g, 'Fan ' || g
                FROM generate_series(1, @n) g;
                INSERT INTO users (account_id, email, password_hash)
                SELECT id, username || '@bench.test', 'not-a-hash' FROM accounts WHERE username LIKE 'fan%' AND domain IS NULL;
                INSERT INTO follows (id, account_id, target_account_id, created_at)
                SELECT fellows_id(now()), id, @poster, now() FROM accounts WHERE username LIKE 'fan%' AND domain IS NULL;
                SET session_replication_role = origin;
                INSERT INTO follows (id, account_id, target_account_id, created_at) VALUES (fellows_id(now()), @reader, @poster, now());
                ANALYZE accounts; ANALYZE users; ANALYZE follows;
                """, new { n = followers - 1, poster, reader }, commandTimeout: 600, cancellationToken: ct));
        }
        using var client = HttpLoad.CreateClient(server.BaseUrl, 4);
        var rounds = new List<FanOutRound>();
        for (var round = 1; round <= 5; round++)
        {
            var clock = Stopwatch.StartNew();
            using var post = new HttpRequestMessage(HttpMethod.Post, "/api/v1/statuses")
            {
                Content = new StringContent($$"""{"status":"Fan-out round {{round}}","visibility":"public"}""", Encoding.UTF8, "application/json"),
            };
            post.Headers.Authorization = new AuthenticationHeaderValue("Bearer", posterToken);
            using var response = await client.SendAsync(post, ct);
            response.EnsureSuccessStatusCode();
            var posted = clock.Elapsed;
            using var json = System.Text.Json.JsonDocument.Parse(await response.Content.ReadAsStringAsync(ct));
            var id = json.RootElement.GetProperty("id").GetString()!;
            long rows;
            await using (var conn = await db.OpenConnectionAsync(ct))
                while ((rows = await conn.ExecuteScalarAsync<long>("SELECT count(*) FROM home_feed WHERE status_id = @id",
                           new { id = long.Parse(id, CultureInfo.InvariantCulture) })) < followers + 1)
                    await Task.Delay(5, ct);
            var inFeeds = clock.Elapsed;
            while (true)
            {
                using var home = new HttpRequestMessage(HttpMethod.Get, "/api/v1/timelines/home?limit=1");
                home.Headers.Authorization = new AuthenticationHeaderValue("Bearer", readerToken);
                using var answer = await client.SendAsync(home, ct);
                if ((await answer.Content.ReadAsStringAsync(ct)).Contains($"\"id\":\"{id}\"", StringComparison.Ordinal)) break;
                await Task.Delay(5, ct);
            }
            rounds.Add(new FanOutRound(round, posted, inFeeds, clock.Elapsed, rows));
            LoadHarness.Step($"  round {round}: POST {posted.TotalMilliseconds:F0} ms, in {rows:N0} feeds at {inFeeds.TotalMilliseconds:F0} ms, on a follower's home at {clock.Elapsed.TotalMilliseconds:F0} ms");
        }
        return rounds;
    }

    static string Micro(TimeSpan cpu, long requests) => requests == 0 ? "-" : (cpu.TotalMicroseconds / requests).ToString("F0", CultureInfo.InvariantCulture);

    static string Load()
    {
        try { return string.Join(' ', File.ReadAllText("/proc/loadavg").Split(' ').Take(3)); }
        catch (IOException) { return "?"; }
    }

    /// <summary>EXPLAIN (ANALYZE, BUFFERS) of the server's own timeline SQL with the member's parameters, warm.</summary>
    static async Task ExplainAsync(NpgsqlDataSource db, long member, long[] deep, long[] listIds, CancellationToken ct)
    {
        var plans = new (string Name, string Sql, object Args)[]
        {
            ("home feed, first page", Server.Features.Timelines.TimelineQueries.HomeFeed, new { viewer = member, upper = long.MaxValue, lower = 0L, limit = 40 }),
            ("home feed, deep page", Server.Features.Timelines.TimelineQueries.HomeFeed, new { viewer = member, upper = deep[0], lower = 0L, limit = 40 }),
            ("home (computed), first page", Server.Features.Timelines.TimelineQueries.Home, new { viewer = member, maxId = (long?)null, sinceId = (long?)null, minId = (long?)null, limit = 40 }),
            ("home (computed), deep page", Server.Features.Timelines.TimelineQueries.Home, new { viewer = member, maxId = (long?)deep[0], sinceId = (long?)null, minId = (long?)null, limit = 40 }),
            ("public", Server.Features.Timelines.TimelineQueries.Public, new { viewer = member, local = (bool?)null, onlyMedia = false, maxId = (long?)null, sinceId = (long?)null, minId = (long?)null, limit = 40 }),
            ("public local", Server.Features.Timelines.TimelineQueries.Public, new { viewer = member, local = (bool?)true, onlyMedia = false, maxId = (long?)null, sinceId = (long?)null, minId = (long?)null, limit = 40 }),
            ("tag", Server.Features.Timelines.TimelineQueries.Tag, new { viewer = member, any = new[] { "tag5" }, all = Array.Empty<string>(), none = Array.Empty<string>(), local = (bool?)null, onlyMedia = false, maxId = (long?)null, sinceId = (long?)null, minId = (long?)null, limit = 40 }),
        };
        await using var conn = await db.OpenConnectionAsync(ct);
        foreach (var (name, sql, args) in plans)
        {
            // The third run: the first reads from disk and plans cold, which the load never sees.
            IEnumerable<string> lines = [];
            for (var run = 0; run < 3; run++)
                lines = await conn.QueryAsync<string>(new CommandDefinition("EXPLAIN (ANALYZE, BUFFERS) " + sql, args, commandTimeout: 600, cancellationToken: ct));
            Console.WriteLine($"---- EXPLAIN {name} (third run)");
            foreach (var line in lines) Console.WriteLine(line);
        }
    }

    static bool TryParse(string[] args, out Options options)
    {
        options = new Options(5, 32, 1_000_000, 10_000, 300, 0, false, 0, 10_000);
        for (var i = 0; i < args.Length; i += 2)
        {
            if (i + 1 >= args.Length || !int.TryParse(args[i + 1], NumberStyles.None, CultureInfo.InvariantCulture, out var value))
                return false;
            switch (args[i])
            {
                case "--seconds" when value > 0: options = options with { Seconds = value }; break;
                case "--concurrency" when value > 0: options = options with { Concurrency = value }; break;
                case "--statuses" when value >= 1000: options = options with { Statuses = value }; break;
                case "--accounts" when value >= 1000: options = options with { Accounts = value }; break;
                case "--following" when value > 0: options = options with { Following = value }; break;
                case "--hold": options = options with { HoldSeconds = value }; break;
                case "--explain": options = options with { Explain = value != 0 }; break;
                case "--feed-bound": options = options with { FeedBound = value }; break;
                case "--fan-out": options = options with { FanOut = value }; break;
                default: return false;
            }
        }
        return true;
    }
}
