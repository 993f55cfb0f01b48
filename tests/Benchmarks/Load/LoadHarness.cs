using System.Diagnostics;
using System.Globalization;
using System.Net;
using System.Net.Http.Headers;
using System.Net.Http.Json;
using System.Text;
using System.Text.Json;
using System.Text.Json.Nodes;
using Dapper;
using Fellows.Federation.Signatures;
using Fellows.Server.Database;
using Npgsql;

namespace Fellows.Benchmarks.Load;

/// <summary>
/// <c>load</c>: starts a real Fellows server (child process, embedded PostgreSQL in a temporary folder) and a crowd of
/// remote hosts on loopback, then measures over HTTP: /health as the baseline, WebFinger and actor GETs, signed inbox
/// POSTs accepted and persisted, fan-out of one post to followers on many hosts, and the server's memory at idle and
/// under load. Rates are reported against the /health baseline of the same run because the machine is shared.
/// </summary>
static class LoadHarness
{
    const string Member = "alice";
    const string ActivityJson = "application/activity+json";

    /// <summary>
    /// <c>FELLOWS_BENCH_INBOX_ONLY=1</c>: /health twice, then the inbox POSTs, and a one-line summary; no GET phases,
    /// no waiting for the worker, no fan-out. With <c>Inbox__WorkerEnabled=false</c> it measures receiving alone.
    /// <c>FELLOWS_BENCH_INBOX_WARMUP=N</c> POSTs N more activities before the measured ones, unmeasured.
    /// </summary>
    static bool InboxOnly => Environment.GetEnvironmentVariable("FELLOWS_BENCH_INBOX_ONLY") == "1";

    sealed record Options(int Seconds, int Concurrency, int InboxActivities, int Followers, int Rounds, int SettleSeconds);

    static readonly string Usage = """
        usage: Fellows.Benchmarks load [--seconds N] [--concurrency N] [--inbox N] [--followers N] [--rounds N] [--settle N]
          --seconds      length of each GET phase (default 10)
          --concurrency  requests in flight (default 64)
          --inbox        signed activities POSTed to the inboxes (default 10000)
          --followers    remote hosts following the member, each with its own shared inbox (default 500)
          --rounds       fan-out rounds (posts) to time (default 3)
          --settle       seconds to let the server settle before the idle memory reading (default 10)
        """;

    public static async Task<int> RunAsync(string[] args)
    {
        if (!TryParse(args, out var options))
        {
            await Console.Error.WriteLineAsync(Usage);
            return 2;
        }
        // Hundreds of remote hosts answer at once during fan-out; don't let thread-pool ramp-up be what we measure.
        ThreadPool.SetMinThreads(Math.Max(64, options.Concurrency), Math.Max(64, options.Concurrency));
        var ct = CancellationToken.None;
        var runId = Guid.NewGuid().ToString("N")[..8];
        var report = new Report(options);

        Step($"starting {Math.Max(options.Followers, 10)} remote hosts on loopback");
        await using var world = await RemoteWorld.StartAsync(Math.Max(options.Followers, 10));

        Step("starting the Fellows server (child process, embedded PostgreSQL in a temporary folder)");
        var startClock = Stopwatch.StartNew();
        await using var server = await ServerProcess.StartAsync(ct);
        report.StartUp = startClock.Elapsed;
        Step($"server up at {server.BaseUrl} after {startClock.Elapsed.TotalSeconds:F1} s (pid {server.ProcessId})");

        var token = await server.CreateMemberAsync(Member, ct);
        // The command line finds the running cluster the same way; so do we, to confirm what was persisted.
        var embedded = await EmbeddedPostgres.StartAsync(server.DataDirectory, _ => { }, ct);
        await using var db = NpgsqlDataSource.Create(embedded.ConnectionString);
        var memberId = $"{server.BaseUrl}/users/{Member}";

        Step($"letting the server settle for {options.SettleSeconds} s");
        await Task.Delay(TimeSpan.FromSeconds(options.SettleSeconds), ct);
        report.IdleRss = server.Memory().Rss;
        report.IdlePostgresPss = server.PostgresPss();

        using var sampler = new PeakSampler(server);
        using var client = HttpLoad.CreateClient(server.BaseUrl, options.Concurrency);
        var duration = TimeSpan.FromSeconds(options.Seconds);

        Step("GET /health (baseline)");
        report.HealthBefore = await HealthAsync(server, client, duration, options.Concurrency, ct);
        if (InboxOnly)
        {
            // Diagnostic: the receiving side alone, quickly (no GET phases, no drain, no fan-out).
            Step("GET /health (baseline again)");
            report.HealthAfter = await HealthAsync(server, client, duration, options.Concurrency, ct);
            await InboxPhaseAsync(options, world, server, client, db, memberId, runId, report, ct);
            await embedded.DisposeAsync();
            Console.WriteLine(report.InboxOnlySummary());
            return 0;
        }
        Step("GET /.well-known/webfinger");
        var resource = Uri.EscapeDataString($"acct:{Member}@{server.Domain}");
        report.WebFinger = await Metered(server, () => HttpLoad.RunForAsync("WebFinger", client,
            () => new HttpRequestMessage(HttpMethod.Get, $"/.well-known/webfinger?resource={resource}"), HttpStatusCode.OK, duration, options.Concurrency, ct));
        Step("GET /users/alice (actor document)");
        report.Actor = await Metered(server, () => HttpLoad.RunForAsync("actor document", client, () =>
        {
            var request = new HttpRequestMessage(HttpMethod.Get, $"/users/{Member}");
            request.Headers.Accept.Add(new MediaTypeWithQualityHeaderValue(ActivityJson));
            return request;
        }, HttpStatusCode.OK, duration, options.Concurrency, ct));
        Step("GET /health (baseline again)");
        report.HealthAfter = await HealthAsync(server, client, duration, options.Concurrency, ct);

        await InboxPhaseAsync(options, world, server, client, db, memberId, runId, report, ct);
        await FanOutPhaseAsync(options, world, server, client, db, token, memberId, runId, report, ct);

        var (rss, peak) = server.Memory();
        report.PeakRssSampled = Math.Max(sampler.Stop(), rss);
        report.PeakRssHighWater = peak;
        report.FinalPostgresPss = server.PostgresPss();
        report.Received = world.ReceivedByType;
        await embedded.DisposeAsync(); // attached, not started by us: leaves the cluster to the server

        Console.WriteLine();
        Console.WriteLine(report.ToMarkdown());
        return 0;
    }

    static async Task InboxPhaseAsync(Options options, RemoteWorld world, ServerProcess server, HttpClient client, NpgsqlDataSource db,
        string memberId, string runId, Report report, CancellationToken ct)
    {
        // 100 remote actors on 10 hosts; a quarter sign RFC 9421 with RSA, a quarter RFC 9421 with Ed25519, half
        // draft-cavage with RSA as Mastodon does. Half the activities go to the shared inbox, half to the member's.
        var actors = (from h in Enumerable.Range(0, 10) from u in Enumerable.Range(0, 10) select (Port: world.Ports[h], Name: $"u{u}")).ToArray();
        var warmUp = int.TryParse(Environment.GetEnvironmentVariable("FELLOWS_BENCH_INBOX_WARMUP"), CultureInfo.InvariantCulture, out var w) ? Math.Max(0, w) : 0;
        Step($"pre-signing {options.InboxActivities + warmUp} distinct Create(Note) activities from {actors.Length} remote actors");
        var requests = new HttpRequestMessage[options.InboxActivities + warmUp];
        var signClock = Stopwatch.StartNew();
        var now = DateTimeOffset.UtcNow.ToString("yyyy-MM-dd'T'HH:mm:ss'Z'", CultureInfo.InvariantCulture);
        Parallel.For(0, requests.Length, i =>
        {
            var (port, name) = actors[i % actors.Length];
            var actor = RemoteWorld.ActorId(port, name);
            var target = new Uri(i % 2 == 0 ? $"{server.BaseUrl}/inbox" : $"{server.BaseUrl}/users/{Member}/inbox");
            // The warm-up's activities (the last ones) are told apart from the measured ones by their serial.
            var body = CreateNote(actor, memberId, server.Domain, i < options.InboxActivities ? $"{runId}-{i}" : $"warm{runId}-{i}", now);
            var (key, scheme) = (i % actors.Length % 4) switch
            {
                0 => (world.RsaKey(port, name), SignatureScheme.Rfc9421),
                1 => (world.Ed25519Key(port, name), SignatureScheme.Rfc9421),
                _ => (world.RsaKey(port, name), SignatureScheme.Cavage),
            };
            requests[i] = Signed(target, body, key, scheme);
        });
        Step($"signed in {signClock.Elapsed.TotalSeconds:F1} s; POSTing with {options.Concurrency} in flight (keys fetched on first use)");

        if (Environment.GetEnvironmentVariable("FELLOWS_BENCH_WITHOUT_NOTIFY_TRIGGERS") == "1")
        {
            // Diagnostic only: what the per-row NOTIFY triggers (streaming, push) cost the inbox worker. A transaction
            // that NOTIFYs holds PostgreSQL's notify lock through its commit, so such commits cannot share a flush.
            Step("diagnostic: statuses_stream and notifications_announce triggers disabled");
            await using var conn = await db.OpenConnectionAsync(ct);
            await conn.ExecuteAsync(new CommandDefinition(
                "ALTER TABLE statuses DISABLE TRIGGER statuses_stream; ALTER TABLE notifications DISABLE TRIGGER notifications_announce", cancellationToken: ct));
        }
        if (warmUp > 0)
        {
            // Diagnostic: a fresh server spends its first seconds compiling (tiered JIT) and fetching keys; this
            // measures the inbox once that has settled, as it is on a server that has been up a while.
            Step($"warm-up: {warmUp} POSTs, not measured");
            var warm = await HttpLoad.SendAllAsync("inbox warm-up", client, requests[options.InboxActivities..], HttpStatusCode.Accepted, options.Concurrency, ct);
            Step($"warm-up: {warm.Ok} accepted at {warm.PerSecond:F0}/s; letting the server settle for 2 s");
            await Task.Delay(TimeSpan.FromSeconds(2), ct);
            requests = requests[..options.InboxActivities];
        }
        var statsBefore = InboxOnly ? await DatabaseStatsAsync(db, ct) : null;
        var inboxClock = Stopwatch.StartNew();
        var (serverAtStart, postgresAtStart) = (server.ServerCpu(), server.PostgresCpu());
        report.Inbox = await Metered(server, () => HttpLoad.SendAllAsync("inbox POST", client, requests, HttpStatusCode.Accepted, options.Concurrency, ct));
        await using (var conn = await db.OpenConnectionAsync(ct))
        {
            report.InboxPersisted = await conn.ExecuteScalarAsync<long>(new CommandDefinition(
                "SELECT count(*) FROM inbox_activities WHERE activity_id LIKE @pattern", new { pattern = $"%/statuses/{runId}-%" }, cancellationToken: ct));
            report.AppliedDuringPosts = await conn.ExecuteScalarAsync<long>(new CommandDefinition(
                "SELECT count(*) FROM inbox_activities WHERE state <> 0 AND activity_id LIKE @pattern", new { pattern = $"%/statuses/{runId}-%" }, cancellationToken: ct));
        }
        if (report.Inbox.FirstFailure is { } failure) Step($"first refusal: {failure}");
        var baseline = (report.HealthBefore!.PerSecond + report.HealthAfter!.PerSecond) / 2;
        Step(string.Create(CultureInfo.InvariantCulture,
            $"{report.Inbox.Ok} accepted ({report.Inbox.PerSecond:F0}/s, {report.Inbox.PerSecond / baseline:F3} of /health), {report.InboxPersisted} rows in inbox_activities, {report.AppliedDuringPosts} applied meanwhile; waiting for the inbox worker to apply them"));

        if (InboxOnly)
        {
            // What the database did per POST: transactions and the tables read, from PostgreSQL's own counters
            // (flushed by the backends within a second or so of going idle).
            await Task.Delay(TimeSpan.FromSeconds(2), ct);
            var statsAfter = await DatabaseStatsAsync(db, ct);
            var n = Math.Max(1.0, report.Inbox.Ok + report.Inbox.Failed);
            Step("database per POST: " + string.Join(", ", statsAfter
                .Select(kv => (kv.Key, Delta: kv.Value - statsBefore!.GetValueOrDefault(kv.Key)))
                .Where(d => d.Delta > 0).OrderByDescending(d => d.Delta).Take(12)
                .Select(d => d.Key + " " + (d.Delta / n).ToString("F2", CultureInfo.InvariantCulture))));
            return;
        }
        // The worker applies what the inbox stored; how fast it keeps up is worth knowing, but it is not the inbox figure.
        var pattern = $"%/statuses/{runId}-%";
        while (true)
        {
            await using var conn = await db.OpenConnectionAsync(ct);
            var pending = await conn.ExecuteScalarAsync<long>(new CommandDefinition(
                "SELECT count(*) FROM inbox_activities WHERE state = 0 AND activity_id LIKE @pattern", new { pattern }, cancellationToken: ct));
            if (pending == 0 || inboxClock.Elapsed > TimeSpan.FromMinutes(3))
            {
                report.InboxApplied = inboxClock.Elapsed;
                report.InboxEndToEndCpu = (server.ServerCpu() - serverAtStart, server.PostgresCpu() - postgresAtStart);
                report.InboxStates = (await conn.QueryAsync<(short State, long Count)>(new CommandDefinition(
                    "SELECT state, count(*) FROM inbox_activities WHERE activity_id LIKE @pattern GROUP BY state ORDER BY state",
                    new { pattern }, cancellationToken: ct))).ToDictionary(r => r.State, r => r.Count);
                report.StatusesStored = await conn.ExecuteScalarAsync<long>(new CommandDefinition(
                    "SELECT count(*) FROM statuses WHERE uri LIKE @pattern", new { pattern }, cancellationToken: ct));
                break;
            }
            await Task.Delay(200, ct);
        }
    }

    static async Task FanOutPhaseAsync(Options options, RemoteWorld world, ServerProcess server, HttpClient client, NpgsqlDataSource db,
        string token, string memberId, string runId, Report report, CancellationToken ct)
    {
        var followers = world.Ports.Take(options.Followers).ToArray();
        Step($"{followers.Length} remote actors, each on its own host, follow {Member} through the inbox (signed Follow, fetch, Accept)");
        var follows = followers.Select(port =>
        {
            var actor = RemoteWorld.ActorId(port, "f");
            var body = new JsonObject
            {
                ["@context"] = "https://www.w3.org/ns/activitystreams",
                ["id"] = $"{actor}/follows/{runId}",
                ["type"] = "Follow",
                ["actor"] = actor,
                ["object"] = memberId,
            };
            return Signed(new Uri($"{server.BaseUrl}/users/{Member}/inbox"), Encoding.UTF8.GetBytes(body.ToJsonString()),
                world.RsaKey(port, "f"), SignatureScheme.Cavage);
        }).ToList();
        var followClock = Stopwatch.StartNew();
        report.FollowPosts = await HttpLoad.SendAllAsync("Follow POST", client, follows, HttpStatusCode.Accepted, 32, ct);
        if (report.FollowPosts.FirstFailure is { } failure)
            throw new InvalidOperationException($"{report.FollowPosts.Failed} Follows were refused; the first: {failure}\nServer log:\n{server.Log}");
        await WaitForAsync(db, """
            SELECT count(*) = @n FROM follows f JOIN accounts a ON a.id = f.account_id JOIN accounts t ON t.id = f.target_account_id
            WHERE t.username = @member AND t.domain IS NULL AND a.domain IS NOT NULL
            """, new { n = (long)followers.Length, member = Member }, TimeSpan.FromMinutes(5), ct);
        await WaitForQuietQueueAsync(db, ct);
        report.FollowSetUp = followClock.Elapsed;
        Step($"{followers.Length} follows recorded and accepted after {followClock.Elapsed.TotalSeconds:F1} s");

        // The member's key as published, to verify each delivery the way the receiving servers would.
        using var actorRequest = new HttpRequestMessage(HttpMethod.Get, $"/users/{Member}");
        actorRequest.Headers.Accept.Add(new MediaTypeWithQualityHeaderValue(ActivityJson));
        using var actorResponse = await client.SendAsync(actorRequest, ct);
        var actorDoc = JsonNode.Parse(await actorResponse.Content.ReadAsStringAsync(ct))!;
        using var memberKey = VerificationKey.FromPem(actorDoc["publicKey"]!["id"]!.GetValue<string>(), memberId,
            actorDoc["publicKey"]!["publicKeyPem"]!.GetValue<string>());

        using var api = HttpLoad.CreateClient(server.BaseUrl, 4);
        api.DefaultRequestHeaders.Authorization = new AuthenticationHeaderValue("Bearer", token);
        for (var round = 1; round <= options.Rounds; round++)
        {
            var marker = $"fanout{runId}r{round}";
            var watch = world.Watch(marker, memberKey, followers.Length);
            var start = Stopwatch.GetTimestamp();
            using var response = await api.PostAsJsonAsync("/api/v1/statuses", new { status = $"Fan-out round {round} {marker}", visibility = "public" }, ct);
            var posted = Stopwatch.GetElapsedTime(start);
            if (response.StatusCode != HttpStatusCode.OK)
                throw new InvalidOperationException($"POST /api/v1/statuses answered {(int)response.StatusCode}: {await response.Content.ReadAsStringAsync(ct)}");
            var finished = await Task.WhenAny(watch.Done, Task.Delay(TimeSpan.FromMinutes(2), ct)) == watch.Done;
            var all = Stopwatch.GetElapsedTime(start, watch.LastArrival);
            report.FanOut.Add(new FanOutRound(round, posted, finished ? all : null, watch.Hosts, watch.Rejected, new Dictionary<string, int>(watch.Schemes)));
            Step($"round {round}: POST answered in {posted.TotalMilliseconds:F0} ms; {watch.Hosts}/{followers.Length} hosts received a verified Create"
                 + (finished ? $" after {all.TotalMilliseconds:F0} ms" : " (timed out)"));
            await WaitForQuietQueueAsync(db, ct);
        }
    }

    static byte[] CreateNote(string actor, string memberId, string domain, string serial, string published)
    {
        var note = $"{actor}/statuses/{serial}";
        var document = new JsonObject
        {
            ["@context"] = "https://www.w3.org/ns/activitystreams",
            ["id"] = note + "/activity",
            ["type"] = "Create",
            ["actor"] = actor,
            ["published"] = published,
            ["to"] = new JsonArray(memberId),
            ["cc"] = new JsonArray(),
            ["object"] = new JsonObject
            {
                ["id"] = note,
                ["type"] = "Note",
                ["attributedTo"] = actor,
                ["published"] = published,
                ["url"] = note,
                ["to"] = new JsonArray(memberId),
                ["cc"] = new JsonArray(),
                ["sensitive"] = false,
                ["content"] = $"<p><span class=\"h-card\"><a href=\"{memberId}\" class=\"u-url mention\">@<span>{Member}</span></a></span> "
                              + $"Benchmark note {serial}: a sentence or two of ordinary text, about as long as a typical reply.</p>",
                ["tag"] = new JsonArray(new JsonObject { ["type"] = "Mention", ["href"] = memberId, ["name"] = $"@{Member}@{domain}" }),
            },
        };
        return Encoding.UTF8.GetBytes(document.ToJsonString());
    }

    internal static HttpRequestMessage Signed(Uri target, byte[] body, SigningKey key, SignatureScheme scheme)
    {
        var request = new HttpRequestMessage(HttpMethod.Post, target) { Content = new ByteArrayContent(body) };
        request.Content.Headers.ContentType = new MediaTypeHeaderValue(ActivityJson);
        new HttpMessageSigner(key, TimeProvider.System).Sign(request, body, scheme);
        return request;
    }

    /// <summary>Waits until nothing is left to fan out or deliver, so one phase's deliveries don't run into the next.</summary>
    static Task WaitForQuietQueueAsync(NpgsqlDataSource db, CancellationToken ct) =>
        WaitForAsync(db, """
            SELECT NOT EXISTS (SELECT 1 FROM outbox_activities WHERE fanned_out_at IS NULL)
               AND NOT EXISTS (SELECT 1 FROM deliveries WHERE state = 0)
            """, null, TimeSpan.FromMinutes(5), ct);

    internal static async Task WaitForAsync(NpgsqlDataSource db, string sql, object? args, TimeSpan timeout, CancellationToken ct)
    {
        var clock = Stopwatch.StartNew();
        while (true)
        {
            await using (var conn = await db.OpenConnectionAsync(ct))
            {
                if (await conn.ExecuteScalarAsync<bool>(new CommandDefinition(sql, args, cancellationToken: ct))) return;
            }
            if (clock.Elapsed > timeout) throw new TimeoutException($"Timed out waiting for: {sql}");
            await Task.Delay(100, ct);
        }
    }

    /// <summary>Runs a phase and records the CPU time the server and its PostgreSQL spent on it.</summary>
    /// <summary>Like <see cref="Metered(ServerProcess, Func{Task{LoadResult}})"/>, with the meters started by the phase
    /// itself when its warm-up ends (the callback it is given), so warm-up and JIT time are not charged to its requests.</summary>
    internal static async Task<LoadResult> Metered(ServerProcess server, Func<Action, Task<LoadResult>> phase)
    {
        var (serverBefore, postgresBefore, harnessBefore) = (server.ServerCpu(), server.PostgresCpu(), HarnessCpu());
        var result = await phase(() => (serverBefore, postgresBefore, harnessBefore) = (server.ServerCpu(), server.PostgresCpu(), HarnessCpu()));
        return result with
        {
            ServerCpu = server.ServerCpu() - serverBefore,
            PostgresCpu = server.PostgresCpu() - postgresBefore,
            HarnessCpu = HarnessCpu() - harnessBefore,
        };
    }

    internal static async Task<LoadResult> Metered(ServerProcess server, Func<Task<LoadResult>> phase)
    {
        var (serverBefore, postgresBefore, harnessBefore) = (server.ServerCpu(), server.PostgresCpu(), HarnessCpu());
        var result = await phase();
        return result with
        {
            ServerCpu = server.ServerCpu() - serverBefore,
            PostgresCpu = server.PostgresCpu() - postgresBefore,
            HarnessCpu = HarnessCpu() - harnessBefore,
        };
    }

    /// <summary>PostgreSQL's counters for the server's database: commits, and scans and inserts by table.</summary>
    static async Task<Dictionary<string, long>> DatabaseStatsAsync(NpgsqlDataSource db, CancellationToken ct)
    {
        await using var conn = await db.OpenConnectionAsync(ct);
        var rows = await conn.QueryAsync<(string Name, long Value)>(new CommandDefinition("""
            SELECT 'commits', xact_commit FROM pg_stat_database WHERE datname = current_database()
            UNION ALL SELECT relname || ' scans', coalesce(seq_scan, 0) + coalesce(idx_scan, 0) FROM pg_stat_user_tables
            UNION ALL SELECT relname || ' inserts', n_tup_ins FROM pg_stat_user_tables
            """, cancellationToken: ct));
        return rows.ToDictionary(r => r.Name, r => r.Value);
    }

    static TimeSpan HarnessCpu()
    {
        using var self = Process.GetCurrentProcess();
        return self.TotalProcessorTime;
    }

    /// <summary>The baseline every rate is compared with: <c>GET /health</c>, metered.</summary>
    internal static Task<LoadResult> HealthAsync(ServerProcess server, HttpClient client, TimeSpan duration, int concurrency, CancellationToken ct) =>
        Metered(server, () => HttpLoad.RunForAsync("GET /health", client, () => new HttpRequestMessage(HttpMethod.Get, "/health"),
            HttpStatusCode.OK, duration, concurrency, ct));

    internal static void Step(string message) =>
        Console.WriteLine($"[{DateTime.UtcNow:HH:mm:ss}] {message}");

    static bool TryParse(string[] args, out Options options)
    {
        options = new Options(10, 64, 10_000, 500, 3, 10);
        for (var i = 0; i < args.Length; i++)
        {
            if (i + 1 >= args.Length || !int.TryParse(args[i + 1], NumberStyles.None, CultureInfo.InvariantCulture, out var value) || value < 1)
                return false;
            switch (args[i])
            {
                case "--seconds": options = options with { Seconds = value }; break;
                case "--concurrency": options = options with { Concurrency = value }; break;
                case "--inbox": options = options with { InboxActivities = value }; break;
                case "--followers": options = options with { Followers = value }; break;
                case "--rounds": options = options with { Rounds = value }; break;
                case "--settle": options = options with { SettleSeconds = value }; break;
                default: return false;
            }
            i++;
        }
        return true;
    }

    sealed record FanOutRound(int Round, TimeSpan PostAnswered, TimeSpan? AllDelivered, int Hosts, int Rejected, IReadOnlyDictionary<string, int> Schemes);

    /// <summary>Samples the server's resident memory every 100 ms while the load runs.</summary>
    sealed class PeakSampler : IDisposable
    {
        readonly CancellationTokenSource _stop = new();
        readonly Task<long> _task;

        public PeakSampler(ServerProcess server) => _task = Task.Run(async () =>
        {
            long peak = 0;
            while (!_stop.IsCancellationRequested)
            {
                peak = Math.Max(peak, server.Memory().Rss);
                try { await Task.Delay(100, _stop.Token); }
                catch (OperationCanceledException) { }
            }
            return peak;
        });

        public long Stop()
        {
            _stop.Cancel();
            return _task.GetAwaiter().GetResult();
        }

        public void Dispose()
        {
            _stop.Cancel();
            _stop.Dispose();
        }
    }

    sealed class Report(Options options)
    {
        public TimeSpan StartUp { get; set; }
        public long IdleRss { get; set; }
        public long IdlePostgresPss { get; set; }
        public long PeakRssSampled { get; set; }
        public long PeakRssHighWater { get; set; }
        public long FinalPostgresPss { get; set; }
        public LoadResult? HealthBefore { get; set; }
        public LoadResult? HealthAfter { get; set; }
        public LoadResult? WebFinger { get; set; }
        public LoadResult? Actor { get; set; }
        public LoadResult? Inbox { get; set; }
        public long InboxPersisted { get; set; }
        public TimeSpan InboxApplied { get; set; }
        public (TimeSpan Server, TimeSpan Postgres) InboxEndToEndCpu { get; set; }
        public long AppliedDuringPosts { get; set; }
        public IReadOnlyDictionary<short, long> InboxStates { get; set; } = new Dictionary<short, long>();
        public long StatusesStored { get; set; }
        public LoadResult? FollowPosts { get; set; }
        public TimeSpan FollowSetUp { get; set; }
        public List<FanOutRound> FanOut { get; } = [];
        public IReadOnlyDictionary<string, int> Received { get; set; } = new Dictionary<string, int>();

        double Baseline => (HealthBefore!.PerSecond + HealthAfter!.PerSecond) / 2;

        static string Cpu(LoadResult r) => Cpu(r.ServerCpu, r.PostgresCpu, r.Ok + r.Failed);

        static string Cpu(TimeSpan server, TimeSpan postgres, long requests) => requests == 0 ? "" : string.Create(CultureInfo.InvariantCulture,
            $"{server.TotalMicroseconds / requests:F0} + {postgres.TotalMicroseconds / requests:F0} µs");

        static string Capacity(LoadResult r) => Capacity(r.ServerCpu + r.PostgresCpu, r.Ok + r.Failed);

        static string Capacity(TimeSpan cpu, long requests) =>
            cpu <= TimeSpan.Zero ? "n/a" : Rate(Environment.ProcessorCount * requests / cpu.TotalSeconds);

        static string Rate(double perSecond) => perSecond.ToString("N0", CultureInfo.InvariantCulture) + "/s";

        static string Mb(long bytes) => (bytes / 1024.0 / 1024.0).ToString("F0", CultureInfo.InvariantCulture) + " MB";

        string Ratio(double perSecond) => (perSecond / Baseline).ToString("F3", CultureInfo.InvariantCulture);

        static string Failures(LoadResult r) =>
            r.Failed == 0 ? "" : " (" + string.Join(", ", r.Statuses.Where(s => s.Key is < 200 or >= 300).Select(s => $"{s.Value}× {(s.Key <= 0 ? "no answer" : s.Key)}")) + ")";

        public string InboxOnlySummary() => string.Create(CultureInfo.InvariantCulture,
            $"inbox-only: /health {Rate(HealthBefore!.PerSecond)} and {Rate(HealthAfter!.PerSecond)} ({Cpu(HealthBefore)} per GET); " +
            $"inbox {Rate(Inbox!.PerSecond)} ({Inbox.Ok} of {Inbox.Ok + Inbox.Failed}{Failures(Inbox)}, {InboxPersisted} rows, {AppliedDuringPosts} applied meanwhile), " +
            $"ratio {Ratio(Inbox.PerSecond)}; {Cpu(Inbox)} per POST (server + PostgreSQL), CPU-bound {Capacity(Inbox)}; " +
            $"load generator {Inbox.HarnessCpu.TotalMicroseconds / Math.Max(1, Inbox.Ok + Inbox.Failed):F0} µs per POST, {HealthBefore.HarnessCpu.TotalMicroseconds / Math.Max(1, HealthBefore.Ok + HealthBefore.Failed):F0} µs per GET /health");

        public string ToMarkdown()
        {
            var inv = CultureInfo.InvariantCulture;
            var sb = new StringBuilder();
            sb.AppendLine(inv, $"## Fellows load run, {DateTime.UtcNow:yyyy-MM-dd HH:mm} UTC");
            sb.AppendLine();
            sb.Append(inv, $"Machine: {Environment.ProcessorCount} cores ({CpuModel()}), {Environment.OSVersion}, .NET {Environment.Version}. ")
              .AppendLine("The load generator, the simulated remote hosts, the server and its PostgreSQL all share these cores, " +
                               "so every rate here is a floor for the server alone. Ratios to /health are the comparable figures; CPU time per request " +
                          "(from /proc, 10 ms resolution) is less disturbed by other work than the rates are, though contention inflates it too.");
            sb.Append(inv, $"Settings: {options.Concurrency} requests in flight, {options.Seconds} s per GET phase, {options.InboxActivities} inbox POSTs, ")
              .AppendLine(inv, $"{options.Followers} followers on distinct hosts, {options.Rounds} fan-out rounds. Server start-up (with initdb): {StartUp.TotalSeconds:F1} s.");
            sb.AppendLine();
            sb.AppendLine("| metric | value | ratio to /health | server + PostgreSQL CPU per request | target |");
            sb.AppendLine("|---|---|---|---|---|");
            sb.AppendLine(inv, $"| GET /health (baseline: mean of before {Rate(HealthBefore!.PerSecond)} and after {Rate(HealthAfter!.PerSecond)}) | {Rate(Baseline)} | 1.000 | {Cpu(HealthBefore)} | |");
            sb.AppendLine(inv, $"| WebFinger GET | {Rate(WebFinger!.PerSecond)}{Failures(WebFinger)} | {Ratio(WebFinger.PerSecond)} | {Cpu(WebFinger)} | ≥ 20,000/s: {(WebFinger.PerSecond >= 20_000 ? "met" : "missed")} |");
            sb.AppendLine(inv, $"| actor document GET | {Rate(Actor!.PerSecond)}{Failures(Actor)} | {Ratio(Actor.PerSecond)} | {Cpu(Actor)} | |");
            sb.AppendLine(inv, $"| signed inbox POSTs accepted (202) and persisted | {Rate(Inbox!.PerSecond)} ({Inbox.Ok} of {Inbox.Ok + Inbox.Failed} in {Inbox.Elapsed.TotalSeconds:F2} s, {InboxPersisted} rows){Failures(Inbox)} | {Ratio(Inbox.PerSecond)} | {Cpu(Inbox)} (the worker applying meanwhile included) | ≥ 5,000/s: {(Inbox.PerSecond >= 5_000 && InboxPersisted == Inbox.Ok ? "met" : "missed")} |");
            var applied = InboxStates.Where(s => s.Key != 0).Sum(s => s.Value);
            var appliedRate = applied / InboxApplied.TotalSeconds;
            sb.AppendLine(inv, $"| inbox worker: the same activities applied (first POST → last applied) | {Rate(appliedRate)} ({applied} of {Inbox.Ok} applied after {InboxApplied.TotalSeconds:F1} s; states {string.Join(", ", InboxStates.Select(s => $"{s.Key}: {s.Value}"))}; {StatusesStored} statuses stored) | {Ratio(appliedRate)} | {Cpu(InboxEndToEndCpu.Server, InboxEndToEndCpu.Postgres, Inbox.Ok)} received and applied | |");
            foreach (var round in FanOut)
            {
                var time = round.AllDelivered is { } t ? $"{t.TotalSeconds:F2} s" : "timed out";
                sb.AppendLine(inv, $"| fan-out round {round.Round}: POST /api/v1/statuses → verified Create at all {options.Followers} shared inboxes | {time} (POST answered in {round.PostAnswered.TotalMilliseconds:F0} ms; {round.Hosts} hosts; signatures {string.Join(", ", round.Schemes.Select(s => $"{s.Key} {s.Value}"))}; {round.Rejected} refused) | | | about 1 s{(round.AllDelivered is { } d ? (d.TotalSeconds <= 1.5 ? ": met" : ": missed") : ": missed")} |");
            }
            sb.AppendLine(inv, $"| memory: server RSS after start-up and {options.SettleSeconds} s idle | {Mb(IdleRss)} | | | < 150 MB: {(IdleRss < 150L * 1024 * 1024 ? "met" : "missed")} |");
            sb.AppendLine(inv, $"| memory: server peak RSS during the load (sampled every 100 ms; kernel high-water mark {Mb(PeakRssHighWater)}) | {Mb(PeakRssSampled)} | | | |");
            sb.AppendLine(inv, $"| memory: embedded PostgreSQL, summed PSS, idle → after the load | {Mb(IdlePostgresPss)} → {Mb(FinalPostgresPss)} | | | |");
            sb.AppendLine();
            sb.Append(inv, $"CPU-bound estimate if the server and its PostgreSQL had the {Environment.ProcessorCount} cores to themselves (cores ÷ CPU per request): ")
              .AppendLine(inv, $"/health {Capacity(HealthBefore)}, WebFinger {Capacity(WebFinger)}, actor {Capacity(Actor)}, inbox POST {Capacity(Inbox)}, inbox POST received and applied {Capacity(InboxEndToEndCpu.Server + InboxEndToEndCpu.Postgres, Inbox.Ok)}.");
            var harnessPerPost = Inbox.HarnessCpu.TotalMicroseconds / Math.Max(1, Inbox.Ok + Inbox.Failed);
            sb.AppendLine();
            sb.Append(inv, $"The load generator and the simulated hosts (this program, on the same cores) used {HealthBefore.HarnessCpu.TotalMicroseconds / Math.Max(1, HealthBefore.Ok + HealthBefore.Failed):F0} µs of CPU per GET /health ")
              .Append(inv, $"and {harnessPerPost:F0} µs per inbox POST; with its share counted, the {Environment.ProcessorCount} cores could carry at most ")
              .AppendLine(inv, $"{Rate(Environment.ProcessorCount * 1e6 / ((Inbox.ServerCpu + Inbox.PostgresCpu).TotalMicroseconds / Math.Max(1, Inbox.Ok + Inbox.Failed) + harnessPerPost))} inbox POSTs at this phase's cost per POST.");
            // The worker applies activities while they are still being POSTed, so the POST phase's CPU holds some of its
            // work. Its cost per activity over the whole run (received and applied, minus the POST phase) separates the two.
            var n = (double)Inbox.Ok;
            var a = (double)AppliedDuringPosts;
            if (n > a && n > 0)
            {
                var ws = (InboxEndToEndCpu.Server - Inbox.ServerCpu).TotalMicroseconds / (n - a);
                var wp = (InboxEndToEndCpu.Postgres - Inbox.PostgresCpu).TotalMicroseconds / (n - a);
                var ps = Math.Max(0, (Inbox.ServerCpu.TotalMicroseconds - a * ws) / n);
                var pp = Math.Max(0, (Inbox.PostgresCpu.TotalMicroseconds - a * wp) / n);
                sb.AppendLine();
                sb.Append(inv, $"Inbox split ({AppliedDuringPosts} activities were applied by the worker during the POST phase): receiving one activity costs about ")
                  .Append(inv, $"{ps:F0} + {pp:F0} µs (server + PostgreSQL), CPU-bound {Rate(Environment.ProcessorCount * 1e6 / (ps + pp))} on these cores; ")
                  .AppendLine(inv, $"applying one costs about {ws:F0} + {wp:F0} µs, CPU-bound {Rate(Environment.ProcessorCount * 1e6 / (ws + wp))}.");
            }
            sb.AppendLine();
            sb.Append(inv, $"Follow set-up: {FollowPosts!.Ok} signed Follows accepted; all recorded and their Accepts delivered in {FollowSetUp.TotalSeconds:F1} s. ")
              .AppendLine(inv, $"Deliveries received by the remote hosts over the run: {string.Join(", ", Received.OrderBy(r => r.Key, StringComparer.Ordinal).Select(r => $"{r.Key} {r.Value}"))}.");
            return sb.ToString();
        }

        static string CpuModel()
        {
            try
            {
                return File.ReadLines("/proc/cpuinfo").FirstOrDefault(l => l.StartsWith("model name", StringComparison.Ordinal))?.Split(':', 2)[1].Trim() ?? "unknown CPU";
            }
            catch (IOException)
            {
                return "unknown CPU";
            }
        }
    }
}
