using Dapper;
using Fellows.Server.Features.Delivery;
using Fellows.Server.Jobs;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Time.Testing;
using Npgsql;
using NUnit.Framework;
using Quartz;
using static Fellows.Server.Tests.Delivery.DeliveryTestKit;

namespace Fellows.Server.Tests.Delivery;

/// <summary>
/// The outbound queue end to end: a real Fellows instance on real PostgreSQL delivering over real HTTP to a
/// counting receiver on loopback. Time that matters (back-off, leases, circuit) is driven by a fake clock; the
/// workers' poll runs on wall-clock time, short, so nothing here sleeps for a back-off.
/// </summary>
[TestFixture]
public sealed class DeliveryTests
{
    static readonly TimeSpan BackoffBase = TimeSpan.FromMinutes(1);
    const int CircuitThreshold = 4;
    static readonly string[] ExpectedJobs = ["due-work-sweep", "home-feed-trim", "motion-sweep", "prune", "retry-sweep", "stale-actor-refresh"];
    static readonly TimeSpan CircuitOpenBase = TimeSpan.FromMinutes(5);

    // Whole seconds: PostgreSQL keeps microseconds, so times read back compare equal to the clock's.
    readonly FakeTimeProvider _clock = new(DateTimeOffset.FromUnixTimeSeconds(DateTimeOffset.UtcNow.ToUnixTimeSeconds()));
    readonly RefresherProbe _refresher = new();
    FellowsInstance _instance = null!;
    Member _alice = null!;
    CountingReceiver _receiver = null!;

    NpgsqlDataSource Db => _instance.Services.GetRequiredService<NpgsqlDataSource>();
    OutboxWriter Writer => _instance.Services.GetRequiredService<OutboxWriter>();

    [OneTimeSetUp]
    public async Task StartAsync()
    {
        _instance = await FellowsInstance.StartAsync("delivery", b =>
        {
            b.Services.AddSingleton<TimeProvider>(_clock);
            b.Services.AddSingleton<IRemoteActorRefresher>(_refresher);
        }, new Dictionary<string, string?>
        {
            ["Delivery:PollInterval"] = "00:00:00.200",
            ["Delivery:BackoffBase"] = BackoffBase.ToString(),
            ["Delivery:BackoffCap"] = "01:00:00",
            ["Delivery:CircuitFailureThreshold"] = CircuitThreshold.ToString(System.Globalization.CultureInfo.InvariantCulture),
            ["Delivery:CircuitOpenBase"] = CircuitOpenBase.ToString(),
            ["Delivery:RequestTimeout"] = "00:00:05",
            ["Delivery:LeaseDuration"] = "00:05:00",
            // Scheduled firings are far apart so the tests' own triggers are what runs.
            ["Jobs:RetrySweepInterval"] = "01:00:00",
            ["Jobs:PruneInterval"] = "01:00:00",
            ["Jobs:ActorRefreshInterval"] = "01:00:00",
        });
        _alice = await _instance.CreateMemberAsync("alice");
    }

    [OneTimeTearDown]
    public async Task StopAsync() => await _instance.DisposeAsync();

    [SetUp]
    public async Task StartReceiverAsync() => _receiver = await CountingReceiver.StartAsync();

    [TearDown]
    public async Task StopReceiverAsync() => await _receiver.DisposeAsync();

    OutgoingActivity Activity(string name, IReadOnlyList<long>? followersOf = null, IReadOnlyList<string>? inboxes = null, IReadOnlyList<string>? actors = null)
    {
        var id = $"{_alice.ActorId}/activities/{name}-{Guid.NewGuid():N}";
        return new OutgoingActivity
        {
            ActivityId = id,
            ActorAccountId = _alice.AccountId,
            Body = Body(id, _alice.ActorId),
            ToFollowersOf = followersOf ?? [],
            ToInboxes = inboxes ?? [],
            ToActorUris = actors ?? [],
        };
    }

    void Wake() => _instance.Services.GetRequiredService<DeliverySignals>().WakeDelivery();

    [Test]
    public async Task FanOut_500_followers_on_50_shared_and_20_personal_inboxes_makes_70_deliveries()
    {
        var tag = Guid.NewGuid().ToString("N")[..8];
        var followers = new List<(string, string, string, string?)>();
        for (var i = 0; i < 480; i++)
        {
            var host = $"s{i % 50}-{tag}.test";
            followers.Add(($"u{i}", host, _receiver.Inbox($"{host}/users/u{i}/inbox"), _receiver.Inbox($"{host}/inbox")));
        }
        for (var i = 0; i < 20; i++)
        {
            var host = $"p{i}-{tag}.test";
            followers.Add(($"p{i}", host, _receiver.Inbox($"{host}/users/p{i}/inbox"), null));
        }
        // Not delivered to: a follower on a suspended domain (by subdomain), and nobody twice for being named twice.
        followers.Add(("banned", $"social.blocked-{tag}.test", _receiver.Inbox("blocked/inbox"), null));
        await AddRemoteFollowersAsync(_instance.ConnectionString, _alice.AccountId, followers);
        await using (var conn = new NpgsqlConnection(_instance.ConnectionString))
            await conn.ExecuteAsync("INSERT INTO domain_blocks (domain, severity) VALUES (@d, 'suspend')", new { d = $"blocked-{tag}.test" });
        // A local member who follows alice is served by the caller, never over HTTP.
        var bob = await _instance.CreateMemberAsync("bob" + tag[..4]);
        await using (var conn = new NpgsqlConnection(_instance.ConnectionString))
            await conn.ExecuteAsync("INSERT INTO follows (account_id, target_account_id) VALUES (@bob, @alice)", new { bob = bob.AccountId, alice = _alice.AccountId });

        var activity = Activity("fanout", followersOf: [_alice.AccountId],
            actors: [$"https://s1-{tag}.test/users/u1", bob.ActorId], inboxes: [_receiver.Inbox($"s2-{tag}.test/inbox")]);
        await EnqueueAsync(Db, Writer, activity);

        await WaitUntilAsync(async () => (await DeliveriesOfAsync(_instance.ConnectionString, activity.ActivityId)) is { Count: 70 } d && d.All(x => x.State == 1),
            "70 deliveries delivered");
        var deliveries = await DeliveriesOfAsync(_instance.ConnectionString, activity.ActivityId);
        Assert.That(deliveries.Select(d => d.InboxUrl).Distinct().Count(), Is.EqualTo(70));
        var received = _receiver.Accepted.Where(r => r.ActivityId == activity.ActivityId).ToList();
        Assert.That(received, Has.Count.EqualTo(70));
        Assert.That(received.Select(r => r.Path).Distinct().Count(), Is.EqualTo(70), "each inbox once");
        Assert.That(received.Count(r => r.Path.EndsWith("/users/u1/inbox", StringComparison.Ordinal)), Is.Zero, "shared inbox used, not the personal one");
        Assert.That(received.Any(r => r.Path == "/blocked/inbox"), Is.False, "suspended domain skipped");
    }

    [Test]
    public async Task Enqueue_in_rolled_back_transaction_is_never_delivered()
    {
        var rolledBack = Activity("rolled-back", inboxes: [_receiver.Inbox("rb/inbox")]);
        await using (var conn = await Db.OpenConnectionAsync())
        await using (var tx = await conn.BeginTransactionAsync())
        {
            await Writer.EnqueueAsync(conn, tx, rolledBack, CancellationToken.None);
            await tx.RollbackAsync();
        }
        // A committed marker after it: once the marker arrives, the rolled-back one had every chance to.
        var marker = Activity("marker", inboxes: [_receiver.Inbox("rb/inbox")]);
        await EnqueueAsync(Db, Writer, marker);

        await WaitUntilAsync(() => Task.FromResult(_receiver.Accepted.Any(r => r.ActivityId == marker.ActivityId)), "marker delivered");
        Assert.That(_receiver.All.Any(r => r.ActivityId == rolledBack.ActivityId), Is.False);
        await using var check = new NpgsqlConnection(_instance.ConnectionString);
        Assert.That(await check.ExecuteScalarAsync<int>("SELECT count(*) FROM outbox_activities WHERE activity_id = @id", new { id = rolledBack.ActivityId }), Is.Zero);
    }

    [Test]
    public async Task Delivery_server_error_is_retried_later_with_growing_jittered_delays()
    {
        _receiver.Default = new CountingReceiver.Answer(500);
        var activity = Activity("five-hundred", inboxes: [_receiver.Inbox("err/inbox")]);
        await EnqueueAsync(Db, Writer, activity);

        var previous = BackoffBase;
        for (var attempt = 1; attempt <= 3; attempt++)
        {
            await WaitUntilAsync(async () => (await DeliveriesOfAsync(_instance.ConnectionString, activity.ActivityId)).SingleOrDefault()?.Attempts == attempt,
                $"attempt {attempt} recorded");
            var row = (await DeliveriesOfAsync(_instance.ConnectionString, activity.ActivityId)).Single();
            Assert.That(row.State, Is.EqualTo(0), "still pending");
            Assert.That(row.LastStatus, Is.EqualTo(500));
            Assert.That(row.LastAttemptAt, Is.EqualTo(_clock.GetUtcNow()));
            var delay = row.NextAttemptAt - row.LastAttemptAt!.Value;
            // Decorrelated jitter: between the base and three times the previous wait.
            Assert.That(delay, Is.InRange(BackoffBase, previous * 3), $"delay after attempt {attempt}");
            previous = delay;
            Assert.That(_receiver.AttemptsAt("err/inbox"), Is.EqualTo(attempt), "not retried before it is due");
            _clock.SetUtcNow(row.NextAttemptAt);
            Wake();
        }

        // Jitter: deliveries failing at the same moment come back at different times (on a fresh host, below the circuit threshold).
        await using var other = await CountingReceiver.StartAsync();
        other.Default = new CountingReceiver.Answer(503);
        var spread = new[] { Activity("j1", inboxes: [other.Inbox("a")]), Activity("j2", inboxes: [other.Inbox("b")]), Activity("j3", inboxes: [other.Inbox("c")]) };
        foreach (var a in spread) await EnqueueAsync(Db, Writer, a);
        var retries = new List<DateTimeOffset>();
        foreach (var a in spread)
        {
            await WaitUntilAsync(async () => (await DeliveriesOfAsync(_instance.ConnectionString, a.ActivityId)).SingleOrDefault()?.Attempts == 1, "first attempt");
            retries.Add((await DeliveriesOfAsync(_instance.ConnectionString, a.ActivityId)).Single().NextAttemptAt);
        }
        Assert.That(retries.Distinct().Count(), Is.EqualTo(3), "jittered");
    }

    [TestCase(404)]
    [TestCase(410)]
    public async Task Delivery_client_error_is_dead_at_once(int status)
    {
        _receiver.Default = new CountingReceiver.Answer(status);
        var activity = Activity("gone", inboxes: [_receiver.Inbox("gone/inbox")]);
        await EnqueueAsync(Db, Writer, activity);

        await WaitUntilAsync(async () => (await DeliveriesOfAsync(_instance.ConnectionString, activity.ActivityId)).SingleOrDefault()?.State == 2, "dead");
        var row = (await DeliveriesOfAsync(_instance.ConnectionString, activity.ActivityId)).Single();
        Assert.That(row.Attempts, Is.EqualTo(1));
        Assert.That(row.LastStatus, Is.EqualTo(status));
        Assert.That(row.CompletedAt, Is.Not.Null);
        var host = await HostAsync(_instance.ConnectionString, _receiver.Host);
        Assert.That(host!.ConsecutiveFailures, Is.Zero, "a refusal is not the host being down");
    }

    [Test]
    public async Task Delivery_too_many_requests_honours_retry_after()
    {
        _receiver.Default = new CountingReceiver.Answer(429, TimeSpan.FromSeconds(7200));
        var activity = Activity("slow-down", inboxes: [_receiver.Inbox("busy/inbox")]);
        await EnqueueAsync(Db, Writer, activity);

        await WaitUntilAsync(async () => (await DeliveriesOfAsync(_instance.ConnectionString, activity.ActivityId)).SingleOrDefault()?.Attempts == 1, "first attempt");
        var row = (await DeliveriesOfAsync(_instance.ConnectionString, activity.ActivityId)).Single();
        Assert.That(row.State, Is.EqualTo(0));
        Assert.That(row.LastStatus, Is.EqualTo(429));
        Assert.That(row.NextAttemptAt, Is.EqualTo(row.LastAttemptAt!.Value + TimeSpan.FromHours(2)));
    }

    [Test]
    public async Task Circuit_opens_after_repeated_failures_and_closes_on_success()
    {
        _receiver.Default = new CountingReceiver.Answer(503);
        var failing = Enumerable.Range(0, CircuitThreshold).Select(i => Activity($"c{i}", inboxes: [_receiver.Inbox($"circuit/{i}")])).ToList();
        foreach (var a in failing) await EnqueueAsync(Db, Writer, a);

        await WaitUntilAsync(async () => (await HostAsync(_instance.ConnectionString, _receiver.Host))?.CircuitOpenUntil is not null, "circuit open");
        var host = (await HostAsync(_instance.ConnectionString, _receiver.Host))!;
        Assert.That(host.ConsecutiveFailures, Is.EqualTo(CircuitThreshold));
        var openUntil = host.CircuitOpenUntil!.Value;
        Assert.That(openUntil, Is.EqualTo(_clock.GetUtcNow() + CircuitOpenBase));

        // While open, new deliveries wait for it to close and nothing is sent, not even when woken.
        var later = Activity("during", inboxes: [_receiver.Inbox("circuit/later")]);
        await EnqueueAsync(Db, Writer, later);
        await WaitUntilAsync(async () => (await DeliveriesOfAsync(_instance.ConnectionString, later.ActivityId)).Count == 1, "fanned out");
        var waiting = (await DeliveriesOfAsync(_instance.ConnectionString, later.ActivityId)).Single();
        Assert.That(waiting.NextAttemptAt, Is.GreaterThanOrEqualTo(openUntil));
        Assert.That(waiting.Attempts, Is.Zero);
        _clock.Advance(TimeSpan.FromMinutes(4));
        Wake();
        await Task.Delay(600);
        Assert.That(_receiver.All, Has.Count.EqualTo(CircuitThreshold), "no attempts while the circuit is open");

        // The host recovers; once the circuit's time is up the deliveries go and a success closes it.
        _receiver.Default = CountingReceiver.Answer.Accept;
        _clock.SetUtcNow(openUntil + TimeSpan.FromMinutes(4));
        Wake();
        foreach (var a in failing.Append(later))
            await WaitUntilAsync(async () => (await DeliveriesOfAsync(_instance.ConnectionString, a.ActivityId)).Single().State == 1, $"{a.ActivityId} delivered");
        host = (await HostAsync(_instance.ConnectionString, _receiver.Host))!;
        Assert.That(host.ConsecutiveFailures, Is.Zero);
        Assert.That(host.CircuitOpenUntil, Is.Null);
        Assert.That(host.LastSuccessAt, Is.Not.Null);
    }

    [Test]
    public async Task Lease_of_a_crashed_claim_expires_and_is_reclaimed()
    {
        // A delivery another node claimed just before it died: leased for five minutes, never recorded.
        var activity = Activity("orphan");
        var now = _clock.GetUtcNow();
        await using (var conn = new NpgsqlConnection(_instance.ConnectionString))
        {
            var outboxId = await conn.ExecuteScalarAsync<long>(
                """
                INSERT INTO outbox_activities (activity_id, actor_account_id, body, to_inboxes, created_at, fanned_out_at)
                VALUES (@id, @actor, @body, ARRAY[@inbox], @now, @now) RETURNING id
                """, new { id = activity.ActivityId, actor = _alice.AccountId, body = activity.Body, inbox = _receiver.Inbox("orphan/inbox"), now });
            await conn.ExecuteAsync(
                """
                INSERT INTO deliveries (outbox_activity_id, inbox_url, host, next_attempt_at, locked_until, created_at)
                VALUES (@outboxId, @inbox, @host, @now, @leased, @now)
                """, new { outboxId, inbox = _receiver.Inbox("orphan/inbox"), host = _receiver.Host, now, leased = now + TimeSpan.FromMinutes(5) });
        }
        Wake();
        await Task.Delay(600);
        Assert.That(_receiver.All, Is.Empty, "the lease is respected while it runs");

        _clock.Advance(TimeSpan.FromMinutes(6));
        var scheduler = await _instance.Services.GetRequiredService<ISchedulerFactory>().GetScheduler();
        await scheduler.TriggerJob(RetrySweepJob.Key);
        await WaitUntilAsync(async () => (await DeliveriesOfAsync(_instance.ConnectionString, activity.ActivityId)).Single().State == 1, "reclaimed and delivered");
        Assert.That(_receiver.Accepted.Count(r => r.ActivityId == activity.ActivityId), Is.EqualTo(1));
    }

    [Test]
    public async Task Quartz_jobs_are_stored_clustered_and_fire_on_demand()
    {
        await using var conn = new NpgsqlConnection(_instance.ConnectionString);
        var jobs = (await conn.QueryAsync<string>("SELECT job_name FROM qrtz_job_details WHERE sched_name = @s ORDER BY job_name", new { s = JobsRegistration.SchedulerName })).ToList();
        Assert.That(jobs, Is.EqualTo(ExpectedJobs));
        // The maintenance jobs' own triggers; a manual firing another test asked for (TriggerJob adds a one-off trigger in
        // Quartz's QRTZ_MANUAL_TRIGGER group until it has run) is not one of them.
        var triggers = await conn.ExecuteScalarAsync<int>(
            "SELECT count(*) FROM qrtz_triggers WHERE sched_name = @s AND job_group = 'maintenance' AND trigger_group NOT LIKE '%MANUAL_TRIGGER'",
            new { s = JobsRegistration.SchedulerName });
        Assert.That(triggers, Is.EqualTo(ExpectedJobs.Length));
        await WaitUntilAsync(async () => await conn.ExecuteScalarAsync<int>("SELECT count(*) FROM qrtz_scheduler_state WHERE sched_name = @s", new { s = JobsRegistration.SchedulerName }) == 1,
            "this node checked in to the cluster");

        var scheduler = await _instance.Services.GetRequiredService<ISchedulerFactory>().GetScheduler();
        Assert.That((await scheduler.GetMetadata()).JobStoreClustered, Is.True);
        var before = _refresher.Calls;
        await scheduler.TriggerJob(StaleActorRefreshJob.Key);
        await WaitUntilAsync(() => Task.FromResult(_refresher.Calls > before), "stale actor refresh ran");
        Assert.That(_refresher.LastStaleBefore, Is.EqualTo(_clock.GetUtcNow() - TimeSpan.FromDays(1)));
    }

    [Test]
    public async Task Prune_deletes_old_finished_rows_and_keeps_the_rest()
    {
        var now = _clock.GetUtcNow();
        var old = Activity("old");
        var recent = Activity("recent");
        await using var conn = new NpgsqlConnection(_instance.ConnectionString);
        foreach (var (a, age) in new[] { (old, TimeSpan.FromDays(20)), (recent, TimeSpan.FromDays(1)) })
        {
            var outboxId = await conn.ExecuteScalarAsync<long>(
                """
                INSERT INTO outbox_activities (activity_id, actor_account_id, body, created_at, fanned_out_at)
                VALUES (@id, @actor, @body, @at, @at) RETURNING id
                """, new { id = a.ActivityId, actor = _alice.AccountId, body = a.Body, at = now - age });
            await conn.ExecuteAsync(
                """
                INSERT INTO deliveries (outbox_activity_id, inbox_url, host, state, created_at, completed_at)
                VALUES (@outboxId, 'https://x.test/inbox', 'x.test', 1, @at, @at)
                """, new { outboxId, at = now - age });
            await conn.ExecuteAsync(
                """
                INSERT INTO inbox_activities (activity_id, activity_type, actor_uri, body, received_at, state, processed_at)
                VALUES (@id, 'Create', 'https://x.test/users/x', '{}', @at, 1, @at)
                """, new { id = a.ActivityId + "#in", at = now - age });
        }
        // A pending delivery keeps its old outbox row alive.
        var pending = Activity("old-pending");
        var pendingId = await conn.ExecuteScalarAsync<long>(
            "INSERT INTO outbox_activities (activity_id, actor_account_id, body, created_at, fanned_out_at) VALUES (@id, @actor, @body, @at, @at) RETURNING id",
            new { id = pending.ActivityId, actor = _alice.AccountId, body = pending.Body, at = now - TimeSpan.FromDays(20) });
        await conn.ExecuteAsync(
            "INSERT INTO deliveries (outbox_activity_id, inbox_url, host, state, next_attempt_at, created_at) VALUES (@pendingId, 'https://x.test/inbox', 'x.test', 0, @far, @at)",
            new { pendingId, far = now + TimeSpan.FromDays(1), at = now - TimeSpan.FromDays(20) });

        var scheduler = await _instance.Services.GetRequiredService<ISchedulerFactory>().GetScheduler();
        await scheduler.TriggerJob(PruneJob.Key);
        await WaitUntilAsync(async () => await conn.ExecuteScalarAsync<int>("SELECT count(*) FROM outbox_activities WHERE activity_id = @id", new { id = old.ActivityId }) == 0,
            "old outbox row pruned");
        Assert.That(await conn.ExecuteScalarAsync<int>("SELECT count(*) FROM inbox_activities WHERE activity_id = @id", new { id = old.ActivityId + "#in" }), Is.Zero);
        Assert.That(await conn.ExecuteScalarAsync<int>("SELECT count(*) FROM outbox_activities WHERE activity_id = ANY(@ids)", new { ids = new[] { recent.ActivityId, pending.ActivityId } }), Is.EqualTo(2));
        Assert.That(await conn.ExecuteScalarAsync<int>("SELECT count(*) FROM inbox_activities WHERE activity_id = @id", new { id = recent.ActivityId + "#in" }), Is.EqualTo(1));
        Assert.That(await conn.ExecuteScalarAsync<int>("SELECT count(*) FROM deliveries WHERE outbox_activity_id = @pendingId", new { pendingId }), Is.EqualTo(1));
    }

    sealed class RefresherProbe : IRemoteActorRefresher
    {
        int _calls;
        public int Calls => Volatile.Read(ref _calls);
        public DateTimeOffset? LastStaleBefore { get; private set; }

        public Task<int> RefreshStaleAsync(DateTimeOffset staleBefore, int limit, CancellationToken ct)
        {
            LastStaleBefore = staleBefore;
            Interlocked.Increment(ref _calls);
            return Task.FromResult(0);
        }
    }
}
