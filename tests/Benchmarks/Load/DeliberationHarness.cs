using System.Collections.Concurrent;
using System.Diagnostics;
using System.Globalization;
using System.Net;
using System.Net.Http.Headers;
using System.Net.Http.Json;
using System.Text;
using System.Text.Json;
using System.Text.Json.Nodes;
using Dapper;
using Fellows.Federation.Deliberation;
using Fellows.Federation.Proofs;
using Fellows.Federation.Signatures;
using Fellows.Server.Database;
using Npgsql;

namespace Fellows.Benchmarks.Load;

/// <summary>
/// Issue 4's benchmark, end to end: a motion on a real Fellows server addressed to 20 allied instances (simulated
/// hosts of <see cref="RemoteWorld"/>), 500 members on each sending a signed stance (HTTP signature on delivery and an
/// eddsa-jcs-2022 proof with the member's Ed25519 key), then the close, the count, and the Update of the Question
/// with the tally delivered to the 20 hosts, whose ballots the harness recounts. Rates are reported against
/// <c>GET /health</c> measured in the same run.
/// </summary>
/// <remarks>
/// The simulated allies are not Fellows instances: their actors name no co-op group, so the server takes their
/// members on the strength of their origin (the documented path in <c>CoopVouching</c>) and no attestation is asked.
/// </remarks>
static class DeliberationHarness
{
    const string Author = "facilitator";
    const string ActivityJson = "application/activity+json";
    static readonly string[] Options = ["alpha", "beta", "gamma"];

    public static async Task<int> RunAsync(string[] args)
    {
        var hosts = Arg(args, "--hosts", 20);
        var perHost = Arg(args, "--members", 500);
        var concurrency = Arg(args, "--concurrency", 64);
        var seconds = Arg(args, "--seconds", 5);
        ThreadPool.SetMinThreads(Math.Max(64, concurrency), Math.Max(64, concurrency));
        var ct = CancellationToken.None;
        var total = hosts * perHost;

        LoadHarness.Step($"starting {hosts} allied hosts on loopback");
        await using var world = await RemoteWorld.StartAsync(hosts);
        var published = new ConcurrentDictionary<int, (long At, byte[] Body)>();
        var closeMarker = 0L;
        world.Received = (port, type, body) =>
        {
            if (type == "Update" && Volatile.Read(ref closeMarker) != 0 && Encoding.UTF8.GetString(body).Contains("\"tally\"", StringComparison.Ordinal))
                published.TryAdd(port, (Stopwatch.GetTimestamp(), body));
        };

        LoadHarness.Step("starting the Fellows server (child process, embedded PostgreSQL in a temporary folder)");
        await using var server = await ServerProcess.StartAsync(ct);
        var token = await server.CreateMemberAsync(Author, ct);
        var embedded = await EmbeddedPostgres.StartAsync(server.DataDirectory, _ => { }, ct);
        await using var db = NpgsqlDataSource.Create(embedded.ConnectionString);
        using var client = HttpLoad.CreateClient(server.BaseUrl, concurrency);
        using var api = new HttpClient { BaseAddress = new Uri(server.BaseUrl), Timeout = TimeSpan.FromMinutes(5) };
        api.DefaultRequestHeaders.Authorization = new AuthenticationHeaderValue("Bearer", token);

        LoadHarness.Step("GET /health (baseline)");
        var healthBefore = await LoadHarness.HealthAsync(server, client, TimeSpan.FromSeconds(seconds), concurrency, ct);

        var allies = world.Ports.Take(hosts).Select(p => RemoteWorld.ActorId(p, "coop")).ToArray();
        using var created = await api.PostAsJsonAsync("/api/fellows/v1/motions", new
        {
            title = "Benchmark motion",
            body = "Which option should the alliance take?",
            method = "majority",
            options = Options,
            threshold = "simple-majority",
            quorum = "1/2",
            voting_ends_at = DateTimeOffset.UtcNow.AddHours(2).ToString("O", CultureInfo.InvariantCulture),
            allied_actors = allies,
        }, ct);
        var createdText = await created.Content.ReadAsStringAsync(ct);
        if (!created.IsSuccessStatusCode) throw new InvalidOperationException($"creating the motion: {(int)created.StatusCode} {createdText}");
        var motion = JsonNode.Parse(createdText)!;
        var motionId = motion["id"]!.GetValue<string>();
        var motionUri = motion["uri"]!.GetValue<string>();
        using (var voting = await api.PostAsync($"/api/fellows/v1/motions/{motionId}/voting", null, ct))
            if (!voting.IsSuccessStatusCode)
                throw new InvalidOperationException($"opening voting: {(int)voting.StatusCode} {await voting.Content.ReadAsStringAsync(ct)}");
        LoadHarness.Step($"motion {motionUri} in voting, addressed to {allies.Length} allies");

        LoadHarness.Step($"pre-signing {total} stances ({perHost} members on each of {hosts} hosts): eddsa-jcs-2022 proof + draft-cavage RSA HTTP signature");
        var signClock = Stopwatch.StartNew();
        var now = DateTimeOffset.UtcNow;
        var requests = new HttpRequestMessage[total];
        var expected = new int[Options.Length];
        Parallel.For(0, total, i =>
        {
            var port = world.Ports[i / perHost];
            var name = $"m{i % perHost}";
            var actor = RemoteWorld.ActorId(port, name);
            // 60 % alpha, 20 % each of the others, spread over every host: a clear pass under simple majority.
            var choice = Options[(i % 5) switch { < 3 => 0, 3 => 1, _ => 2 }];
            Interlocked.Increment(ref expected[Array.IndexOf(Options, choice)]);
            var stance = DeliberationWriter.Stance(new LocalStance
            {
                Id = $"{actor}/stances/{motionId}",
                AttributedTo = actor,
                InReplyTo = motionUri,
                Published = now,
                To = [$"{server.BaseUrl}/users/{Author}"],
                Choices = [choice],
                Coop = allies[i / perHost],
                ReasonHtml = "<p>A short reason, as members give.</p>",
            }, contextUrl: null);
            var signed = IntegrityProof.Sign(stance, world.Ed25519Key(port, name), actor + "#ed25519-key", now);
            var create = new JsonObject
            {
                ["@context"] = "https://www.w3.org/ns/activitystreams",
                ["id"] = $"{actor}/stances/{motionId}/activity",
                ["type"] = "Create",
                ["actor"] = actor,
                ["to"] = new JsonArray($"{server.BaseUrl}/users/{Author}"),
                ["object"] = signed,
            };
            requests[i] = LoadHarness.Signed(new Uri($"{server.BaseUrl}/inbox"), Encoding.UTF8.GetBytes(create.ToJsonString()),
                world.RsaKey(port, name), SignatureScheme.Cavage);
        });
        LoadHarness.Step($"signed in {signClock.Elapsed.TotalSeconds:F1} s; POSTing with {concurrency} in flight (each voter's actor and keys fetched on first use)");

        var cpuAtStart = (Server: server.ServerCpu(), Postgres: server.PostgresCpu());
        var clock = Stopwatch.StartNew();
        var posts = await LoadHarness.Metered(server, () => HttpLoad.SendAllAsync("stance POST", client, requests, HttpStatusCode.Accepted, concurrency, ct));
        LoadHarness.Step(string.Create(CultureInfo.InvariantCulture, $"{posts.Ok} of {total} accepted in {posts.Elapsed.TotalSeconds:F1} s ({posts.PerSecond:F0}/s){(posts.FirstFailure is { } f ? "; first refusal: " + f : "")}"));

        long counted = 0, rejected = 0;
        // What PostgreSQL's client backends wait on while the stances are applied, sampled every 250 ms.
        var waits = new Dictionary<string, long>(StringComparer.Ordinal);
        while (clock.Elapsed < TimeSpan.FromMinutes(15))
        {
            await using var conn = await db.OpenConnectionAsync(ct);
            counted = await conn.ExecuteScalarAsync<long>(new CommandDefinition(
                "SELECT count(*) FROM motion_stances WHERE motion_id = @id AND current", new { id = long.Parse(motionId, CultureInfo.InvariantCulture) }, cancellationToken: ct));
            rejected = await conn.ExecuteScalarAsync<long>(new CommandDefinition(
                "SELECT count(*) FROM motion_rejections WHERE motion_id = @id", new { id = long.Parse(motionId, CultureInfo.InvariantCulture) }, cancellationToken: ct));
            var pending = await conn.ExecuteScalarAsync<long>(new CommandDefinition("SELECT count(*) FROM inbox_activities WHERE state = 0", cancellationToken: ct));
            if (counted + rejected >= total || pending == 0 && posts.Ok == counted + rejected) break;
            foreach (var (wait, n) in await conn.QueryAsync<(string, long)>(new CommandDefinition("""
                SELECT coalesce(wait_event_type || ':' || wait_event, 'on CPU'), count(*) FROM pg_stat_activity
                WHERE backend_type = 'client backend' AND state = 'active' AND pid <> pg_backend_pid() GROUP BY 1
                """, cancellationToken: ct)))
                waits[wait] = waits.GetValueOrDefault(wait) + n;
            await Task.Delay(250, ct);
        }
        var applied = clock.Elapsed;
        var (appliedServerCpu, appliedPostgresCpu) = (server.ServerCpu() - cpuAtStart.Server, server.PostgresCpu() - cpuAtStart.Postgres);
        LoadHarness.Step($"{counted} stances stored as current, {rejected} rejected, {applied.TotalSeconds:F1} s after the first POST");
        if (rejected > 0)
        {
            await using var conn = await db.OpenConnectionAsync(ct);
            var first = await conn.QueryFirstAsync<(string, string)>(new CommandDefinition("SELECT reason, detail FROM motion_rejections LIMIT 1", cancellationToken: ct));
            LoadHarness.Step($"first rejection: {first}");
        }

        LoadHarness.Step("closing the motion (POST /close, the facilitator's early close) and waiting for the tally at every ally");
        Volatile.Write(ref closeMarker, 1);
        var closeStart = Stopwatch.GetTimestamp();
        var closeAnswered = TimeSpan.Zero;
        using (var close = await api.PostAsync($"/api/fellows/v1/motions/{motionId}/close", null, ct))
        {
            closeAnswered = Stopwatch.GetElapsedTime(closeStart);
            if (!close.IsSuccessStatusCode)
                throw new InvalidOperationException($"closing: {(int)close.StatusCode} {await close.Content.ReadAsStringAsync(ct)}");
            LoadHarness.Step($"close answered in {closeAnswered.TotalSeconds:F2} s");
        }
        var waitClock = Stopwatch.StartNew();
        while (published.Count < hosts && waitClock.Elapsed < TimeSpan.FromMinutes(5))
            await Task.Delay(50, ct);
        var lastArrival = published.Values.Select(v => v.At).DefaultIfEmpty(closeStart).Max();
        var toPublished = Stopwatch.GetElapsedTime(closeStart, lastArrival);
        LoadHarness.Step($"tally Update at {published.Count} of {hosts} hosts, the last {toPublished.TotalSeconds:F2} s after the close");
        await Task.Delay(TimeSpan.FromSeconds(2), ct); // late copies (per-voter inboxes) would still be counted below
        var updates = world.ReceivedByType.GetValueOrDefault("Update");
        var updateBytes = published.Values.Select(v => v.Body.Length).DefaultIfEmpty(0).Max();

        // Check what arrived: counts add up to every stance, and the digest is what the ballots give.
        string check = "no Update received";
        if (!published.IsEmpty)
        {
            using var doc = JsonDocument.Parse(published.Values.First().Body);
            var tallyJson = doc.RootElement.GetProperty("object").GetProperty("tally");
            if (!DeliberationReader.TryReadTally(tallyJson, out var tally, out var error))
                check = "tally unreadable: " + error;
            else
            {
                var recomputed = TallyDigest.Compute(tally.Ballots);
                var sum = tally.Counts.Sum(c => c.Count);
                var countsMatch = Options.Select((o, k) => tally.Counts.FirstOrDefault(c => c.Option == o)?.Count == expected[k]).All(x => x);
                var identical = published.Values.All(v => Encoding.UTF8.GetString(v.Body).Contains(tally.Digest ?? "-", StringComparison.Ordinal));
                check = string.Create(CultureInfo.InvariantCulture,
                    $"{tally.Ballots.Count} ballots, counts sum {sum} ({string.Join(", ", tally.Counts.Select(c => $"{c.Option} {c.Count}"))}; as sent: {(countsMatch ? "yes" : "NO")}), state {tally.State}, digest {(recomputed == tally.Digest ? "matches" : "DOES NOT MATCH")} the recomputation, same digest at every host: {(identical ? "yes" : "NO")}");
            }
        }
        LoadHarness.Step("published tally: " + check);

        var healthAfter = await LoadHarness.HealthAsync(server, client, TimeSpan.FromSeconds(seconds), concurrency, ct);
        await embedded.DisposeAsync();

        var health = (healthBefore.PerSecond + healthAfter.PerSecond) / 2;
        var perSecond = counted / applied.TotalSeconds;
        var load = File.Exists("/proc/loadavg") ? (await File.ReadAllTextAsync("/proc/loadavg", ct)).Split(' ')[0] : "?";
        Console.WriteLine();
        Console.WriteLine(string.Create(CultureInfo.InvariantCulture, $"""
            | metric | value | ratio to /health |
            |---|---|---|
            | GET /health (baseline: mean of {healthBefore.PerSecond:N0}/s before and {healthAfter.PerSecond:N0}/s after) | {health:N0}/s | 1.000 |
            | stance POSTs accepted (202) | {posts.PerSecond:N0}/s ({posts.Ok} of {total} in {posts.Elapsed.TotalSeconds:F1} s) | {posts.PerSecond / health:F4} |
            | stances applied and stored for counting (first POST → last stored) | {perSecond:N0}/s ({counted} stored, {rejected} rejected, after {applied.TotalSeconds:F1} s) | {perSecond / health:F4} |
            | close → tally Update received at all {hosts} allies | {toPublished.TotalSeconds:F2} s ({published.Count} of {hosts} hosts; POST /close answered in {closeAnswered.TotalSeconds:F2} s; {updates} Update deliveries received in all, {updateBytes / 1024.0:N0} KB each) | {toPublished.TotalSeconds * health:N0} × the /health interval |
            | published tally | {check} | |

            Load average (1 min) at the end: {load}. Server + PostgreSQL CPU during the POSTs: {posts.ServerCpu.TotalSeconds:F1} + {posts.PostgresCpu.TotalSeconds:F1} s; from the first POST to the last stance stored: {appliedServerCpu.TotalSeconds:F1} + {appliedPostgresCpu.TotalSeconds:F1} s ({(appliedServerCpu + appliedPostgresCpu).TotalMilliseconds * 1000 / Math.Max(1, counted):N0} µs per stance).
            PostgreSQL client backends while applying (samples every 250 ms, active backends summed): {string.Join(", ", waits.OrderByDescending(w => w.Value).Take(6).Select(w => $"{w.Key} {w.Value}"))}.
            """));
        return published.Count == hosts && check.Contains("matches the", StringComparison.Ordinal) ? 0 : 1;
    }

    static int Arg(string[] args, string name, int fallback)
    {
        var i = Array.IndexOf(args, name);
        return i >= 0 && i + 1 < args.Length && int.TryParse(args[i + 1], CultureInfo.InvariantCulture, out var v) ? v : fallback;
    }
}
