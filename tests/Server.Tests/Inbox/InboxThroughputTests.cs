using System.Net;
using System.Net.Http.Headers;
using System.Text;
using System.Text.Json;
using System.Text.Json.Nodes;
using Dapper;
using Fellows.Federation.Http;
using Fellows.Federation.Signatures;
using Fellows.Server.Features.Federation;
using Fellows.Server.Features.Inbox;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Configuration;
using Npgsql;
using NUnit.Framework;

namespace Fellows.Server.Tests.Inbox;

/// <summary>
/// The inbox under concurrency: group-committed POSTs are each stored exactly once and durably before their 202,
/// and the worker applies different actors in parallel while keeping each actor's activities in order.
/// Instance B's members are the remote actors; their POSTs to A are signed with their real keys.
/// </summary>
[NonParallelizable]
public sealed class InboxThroughputTests
{
    FellowsInstance _a = null!;
    FellowsInstance _b = null!;
    Member _alice = null!;
    Member _bob = null!;
    Member _carol = null!;
    IRequestSigner _bobSigner = null!;
    IRequestSigner _carolSigner = null!;
    HttpClient _poster = null!;
    // While true, A starts without its inbox worker, so what the inbox stored stays unapplied.
    bool _holdWorker;

    [OneTimeSetUp]
    public async Task StartAsync()
    {
        _a = await FellowsInstance.StartAsync("throughput_a", builder =>
        {
            if (_holdWorker)
                builder.Configuration.AddInMemoryCollection(new Dictionary<string, string?> { [InboxWorker.EnabledSetting] = "false" });
        });
        _b = await FellowsInstance.StartAsync("throughput_b");
        _alice = await _a.CreateMemberAsync("alice");
        _bob = await _b.CreateMemberAsync("bob");
        _carol = await _b.CreateMemberAsync("carol");
        var signers = _b.Services.GetRequiredService<MemberSigners>();
        _bobSigner = (await signers.ForAsync(_bob.AccountId, CancellationToken.None))!;
        _carolSigner = (await signers.ForAsync(_carol.AccountId, CancellationToken.None))!;
        _poster = new HttpClient { BaseAddress = new Uri(_a.BaseUrl) };
    }

    [OneTimeTearDown]
    public async Task StopAsync()
    {
        _poster.Dispose();
        await _a.DisposeAsync();
        await _b.DisposeAsync();
    }

    [Test]
    public async Task Concurrent_posts_are_each_stored_once_and_share_commits()
    {
        var writer = _a.Services.GetRequiredService<InboxWriter>();
        var commitsBefore = writer.Commits;
        var run = Guid.NewGuid().ToString("N")[..8];
        const int count = 200;
        var posts = Enumerable.Range(0, count).Select(i => i % 2 == 0
            ? (Create(_bob, $"{run}-{i}", $"note {i}"), _bobSigner, "/inbox")
            : (Create(_carol, $"{run}-{i}", $"note {i}"), _carolSigner, "/users/alice/inbox")).ToList();

        var statuses = await PostAllAsync(posts, 48);
        var commits = writer.Commits - commitsBefore;

        Assert.That(statuses, Is.All.EqualTo(HttpStatusCode.Accepted));
        var rows = await InboxRowsAsync($"%/statuses/{run}-%");
        var distinct = await DistinctInboxRowsAsync($"%/statuses/{run}-%");
        Assert.Multiple(() =>
        {
            Assert.That(rows, Is.EqualTo(count), "every accepted POST is one row");
            Assert.That(distinct, Is.EqualTo(count));
            Assert.That(commits, Is.InRange(1, count - 1), "concurrent POSTs were committed together, not one by one");
        });
        await Api.EventuallyAsync(async () => await StatusCountAsync($"%/statuses/{run}-%") == count, "all 200 notes applied");
    }

    [Test]
    public async Task Concurrent_duplicate_deliveries_are_stored_and_applied_once()
    {
        var run = Guid.NewGuid().ToString("N")[..8];
        var body = Create(_bob, run, "delivered many times at once");
        // The same activity, each copy signed on its own, as a sender retrying over several connections would.
        var statuses = await PostAllAsync(Enumerable.Range(0, 30).Select(i => (body, _bobSigner, i % 2 == 0 ? "/inbox" : "/users/alice/inbox")), 30);

        Assert.That(statuses, Is.All.EqualTo(HttpStatusCode.Accepted), "a replay is answered like the first delivery");
        Assert.That(await InboxRowsAsync($"%/statuses/{run}/activity"), Is.EqualTo(1));
        await Api.EventuallyAsync(async () => await StatusCountAsync($"%/statuses/{run}") == 1, "the note applied");
        await Task.Delay(500);
        Assert.That(await StatusCountAsync($"%/statuses/{run}"), Is.EqualTo(1), "stored once");
    }

    [Test]
    public async Task Accepted_activity_survives_a_restart_before_the_worker_applies_it()
    {
        var run = Guid.NewGuid().ToString("N")[..8];
        await RestartAAsync(holdWorker: true);
        try
        {
            var statuses = await PostAllAsync([(Create(_bob, run, "kept across a restart"), _bobSigner, "/users/alice/inbox")], 1);
            Assert.That(statuses, Is.All.EqualTo(HttpStatusCode.Accepted));
            await Task.Delay(300);
            Assert.That(await StatusCountAsync($"%/statuses/{run}"), Is.Zero, "not applied while the worker is held");
        }
        finally
        {
            await RestartAAsync(holdWorker: false);
        }
        Assert.That(await InboxRowsAsync($"%/statuses/{run}/activity"), Is.EqualTo(1));
        await Api.EventuallyAsync(async () => await StatusCountAsync($"%/statuses/{run}") == 1, "the note applied after the restart");
    }

    [Test]
    public async Task Parallel_worker_applies_each_actors_create_update_delete_in_order()
    {
        var run = Guid.NewGuid().ToString("N")[..8];
        // Queue everything while the worker is held, so one claim holds all of it and the actors run side by side.
        var items = new List<(byte[] Body, IRequestSigner Signer, string Path)>();
        for (var i = 0; i < 6; i++)
        {
            foreach (var (member, signer) in new[] { (_bob, _bobSigner), (_carol, _carolSigner) })
            {
                var keptId = $"{run}-{member.Username}-kept-{i}";
                var goneId = $"{run}-{member.Username}-gone-{i}";
                items.Add((Create(member, keptId, "first"), signer, "/inbox"));
                items.Add((Create(member, goneId, "first"), signer, "/inbox"));
                items.Add((Update(member, keptId, "second"), signer, "/inbox"));
                items.Add((Update(member, goneId, "second"), signer, "/inbox"));
                items.Add((Delete(member, goneId), signer, "/inbox"));
            }
        }
        await RestartAAsync(holdWorker: true);
        try
        {
            // One at a time, so the order of arrival is the order above.
            foreach (var item in items)
                Assert.That(await PostAllAsync([item], 1), Is.All.EqualTo(HttpStatusCode.Accepted));
        }
        finally
        {
            await RestartAAsync(holdWorker: false);
        }

        await Api.EventuallyAsync(async () => await PendingAsync($"%{run}%") == 0, "all applied");
        await using var conn = new NpgsqlConnection(_a.ConnectionString);
        var rows = (await conn.QueryAsync<(string Uri, string Content, DateTime? EditedAt, DateTime? DeletedAt)>(
            "SELECT uri, content, edited_at, deleted_at FROM statuses WHERE uri LIKE @pattern", new { pattern = $"%{run}%" })).ToList();
        var kept = rows.Where(r => r.Uri.Contains("-kept-", StringComparison.Ordinal)).ToList();
        var gone = rows.Where(r => r.Uri.Contains("-gone-", StringComparison.Ordinal)).ToList();
        Assert.Multiple(() =>
        {
            // An Update applied before its Create finds nothing and the note would stay "first"; a Delete applied
            // before its Create leaves a tombstone and no row at all.
            Assert.That(kept, Has.Count.EqualTo(12));
            Assert.That(kept.Select(r => r.Content), Is.All.Contains("second"));
            Assert.That(kept.Select(r => r.EditedAt), Is.All.Not.Null);
            Assert.That(kept.Select(r => r.DeletedAt), Is.All.Null);
            Assert.That(gone, Has.Count.EqualTo(12));
            Assert.That(gone.Select(r => r.DeletedAt), Is.All.Not.Null);
        });
    }

    [Test]
    public async Task Concurrent_stores_of_one_new_remote_actor_all_succeed_as_one_account()
    {
        // What many first POSTs from an actor we don't know do at once: each fetches it and stores it. The race is
        // narrow (both inserts between the upsert's conflict check and its index entries), so it is run many times.
        var actors = _a.Services.GetRequiredService<RemoteActors>();
        await using var conn = new NpgsqlConnection(_a.ConnectionString);
        for (var round = 0; round < 20; round++)
        {
            var name = "racer" + Guid.NewGuid().ToString("N")[..8];
            var id = $"https://racers.example/users/{name}";
            var document = new JsonObject { ["id"] = id, ["type"] = "Person", ["preferredUsername"] = name, ["inbox"] = id + "/inbox" }.ToJsonString();
            var stored = await Task.WhenAll(Enumerable.Range(0, 16).Select(_ => Task.Run(async () =>
            {
                using var parsed = JsonDocument.Parse(document);
                return await actors.StoreAsync(parsed.RootElement, CancellationToken.None);
            })));
            Assert.That(stored, Is.All.Not.Null, "every store answers with the account");
            Assert.That(stored.Select(a => a!.Id).Distinct().Count(), Is.EqualTo(1), "one account");
            Assert.That(await conn.ExecuteScalarAsync<long>("SELECT count(*) FROM accounts WHERE uri = @id", new { id }), Is.EqualTo(1));
        }
    }

    async Task RestartAAsync(bool holdWorker)
    {
        await _a.StopAsync();
        _holdWorker = holdWorker;
        await _a.StartAsync();
    }

    async Task<HttpStatusCode[]> PostAllAsync(IEnumerable<(byte[] Body, IRequestSigner Signer, string Path)> posts, int inFlight)
    {
        using var gate = new SemaphoreSlim(inFlight);
        return await Task.WhenAll(posts.Select(async post =>
        {
            await gate.WaitAsync();
            try
            {
                using var request = new HttpRequestMessage(HttpMethod.Post, new Uri(_a.BaseUrl + post.Path)) { Content = new ByteArrayContent(post.Body) };
                request.Content.Headers.ContentType = new MediaTypeHeaderValue("application/activity+json");
                post.Signer.Sign(request, post.Body, SignatureScheme.Cavage);
                using var response = await _poster.SendAsync(request);
                return response.StatusCode;
            }
            finally { gate.Release(); }
        }));
    }

    JsonObject Note(Member author, string serial, string content) => new()
    {
        ["id"] = $"{author.ActorId}/statuses/{serial}",
        ["type"] = "Note",
        ["attributedTo"] = author.ActorId,
        ["to"] = new JsonArray(_alice.ActorId),
        ["content"] = $"<p>@alice {content}</p>",
        ["tag"] = new JsonArray(new JsonObject { ["type"] = "Mention", ["href"] = _alice.ActorId, ["name"] = "@" + _alice.Handle }),
    };

    byte[] Create(Member author, string serial, string content) => Activity(author, $"{author.ActorId}/statuses/{serial}/activity", "Create", Note(author, serial, content));

    byte[] Update(Member author, string serial, string content)
    {
        var note = Note(author, serial, content);
        note["updated"] = DateTimeOffset.UtcNow.ToString("O");
        return Activity(author, $"{author.ActorId}/statuses/{serial}/update", "Update", note);
    }

    byte[] Delete(Member author, string serial) =>
        Activity(author, $"{author.ActorId}/statuses/{serial}/delete", "Delete", $"{author.ActorId}/statuses/{serial}");

    byte[] Activity(Member author, string id, string type, JsonNode obj) => Encoding.UTF8.GetBytes(new JsonObject
    {
        ["@context"] = "https://www.w3.org/ns/activitystreams",
        ["id"] = id,
        ["type"] = type,
        ["actor"] = author.ActorId,
        ["to"] = new JsonArray(_alice.ActorId),
        ["object"] = obj,
    }.ToJsonString());

    async Task<long> InboxRowsAsync(string pattern)
    {
        await using var conn = new NpgsqlConnection(_a.ConnectionString);
        return await conn.ExecuteScalarAsync<long>("SELECT count(*) FROM inbox_activities WHERE activity_id LIKE @pattern", new { pattern });
    }

    async Task<long> DistinctInboxRowsAsync(string pattern)
    {
        await using var conn = new NpgsqlConnection(_a.ConnectionString);
        return await conn.ExecuteScalarAsync<long>("SELECT count(DISTINCT activity_id) FROM inbox_activities WHERE activity_id LIKE @pattern", new { pattern });
    }

    async Task<long> PendingAsync(string pattern)
    {
        await using var conn = new NpgsqlConnection(_a.ConnectionString);
        return await conn.ExecuteScalarAsync<long>("SELECT count(*) FROM inbox_activities WHERE state = 0 AND activity_id LIKE @pattern", new { pattern });
    }

    async Task<long> StatusCountAsync(string pattern)
    {
        await using var conn = new NpgsqlConnection(_a.ConnectionString);
        return await conn.ExecuteScalarAsync<long>("SELECT count(*) FROM statuses WHERE uri LIKE @pattern", new { pattern });
    }
}
