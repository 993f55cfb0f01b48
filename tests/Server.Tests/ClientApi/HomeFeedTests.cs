using System.Globalization;
using System.Net.Http.Json;
using System.Text.Json;
using Dapper;
using Fellows.Server.Database;
using Fellows.Server.Jobs;
using Microsoft.Extensions.DependencyInjection;
using Npgsql;
using NUnit.Framework;

namespace Fellows.Server.Tests.ClientApi;

/// <summary>
/// The materialised home feed (migration 0023): what the triggers write and remove, that the home timeline read from
/// it answers as the computed rule did (mutes, blocks, exclusive lists), the inbox path, the bounded backfill with the
/// computed query below it, the migration's backfill of existing data, and the upkeep of migration 0024 and
/// <see cref="HomeFeedTrimJob"/> (trimming to the newest rows, removal by author).
/// </summary>
public class HomeFeedTests
{
    FellowsInstance _a = null!;
    FellowsInstance _b = null!;

    [OneTimeSetUp]
    public async Task StartAsync()
    {
        _a = await FellowsInstance.StartAsync("homefeed-a");
        _b = await FellowsInstance.StartAsync("homefeed-b");
    }

    [OneTimeTearDown]
    public async Task StopAsync()
    {
        await _a.DisposeAsync();
        await _b.DisposeAsync();
    }

    static readonly long[] CysOwnPost = [5000L];

    static string Str(long id) => id.ToString(CultureInfo.InvariantCulture);

    static async Task<List<string>> HomeAsync(Member member, string query = "") =>
        (await member.GetJsonAsync("/api/v1/timelines/home" + query)).EnumerateArray().Select(s => s.GetProperty("id").GetString()!).ToList();

    static async Task<List<long>> FeedOfAsync(FellowsInstance instance, long member)
    {
        await using var conn = new NpgsqlConnection(instance.ConnectionString);
        return (await conn.QueryAsync<long>("SELECT status_id FROM home_feed WHERE account_id = @member ORDER BY status_id DESC", new { member })).ToList();
    }

    async Task<List<long>> HoldersOfAsync(string statusId)
    {
        await using var conn = new NpgsqlConnection(_a.ConnectionString);
        return (await conn.QueryAsync<long>("SELECT account_id FROM home_feed WHERE status_id = @id ORDER BY account_id",
            new { id = long.Parse(statusId, CultureInfo.InvariantCulture) })).ToList();
    }

    [Test]
    public async Task Post_fans_out_to_author_and_local_followers_only()
    {
        var ana = await _a.CreateMemberAsync("fan_ana");
        var ben = await _a.CreateMemberAsync("fan_ben");
        var cy = await _a.CreateMemberAsync("fan_cy");
        var dee = await _a.CreateMemberAsync("fan_dee");
        await ana.PostJsonAsync($"/api/v1/accounts/{dee.AccountId}/follow");
        await ben.PostJsonAsync($"/api/v1/accounts/{dee.AccountId}/follow");

        var post = (await dee.PostJsonAsync("/api/v1/statuses", new { status = "Seed swap on Saturday" })).GetProperty("id").GetString()!;

        Assert.That(await HoldersOfAsync(post), Is.EquivalentTo(new[] { ana.AccountId, ben.AccountId, dee.AccountId }));
        Assert.That(await HomeAsync(ana), Does.Contain(post));
        Assert.That(await HomeAsync(dee), Does.Contain(post));
        Assert.That(await HomeAsync(cy), Does.Not.Contain(post));
        // A boost is a status of its own, on the booster's followers' feeds.
        var boost = (await dee.PostJsonAsync($"/api/v1/statuses/{post}/reblog")).GetProperty("id").GetString()!;
        Assert.That(await HoldersOfAsync(boost), Is.EquivalentTo(new[] { ana.AccountId, ben.AccountId, dee.AccountId }));
    }

    [Test]
    public async Task Unfollow_removes_the_authors_rows_and_follow_backfills_older_posts()
    {
        var ana = await _a.CreateMemberAsync("uf_ana");
        var ben = await _a.CreateMemberAsync("uf_ben");
        var before = new List<string>();
        for (var i = 0; i < 3; i++)
            before.Add((await ben.PostJsonAsync("/api/v1/statuses", new { status = $"Before the follow {i}" })).GetProperty("id").GetString()!);
        Assert.That(await FeedOfAsync(_a, ana.AccountId), Is.Empty);

        await ana.PostJsonAsync($"/api/v1/accounts/{ben.AccountId}/follow");
        Assert.That(await FeedOfAsync(_a, ana.AccountId), Is.EqualTo(before.Select(long.Parse).Reverse().ToList()), "backfilled on follow");
        Assert.That(await HomeAsync(ana), Is.EqualTo(Enumerable.Reverse(before).ToList()));

        await ana.PostJsonAsync($"/api/v1/accounts/{ben.AccountId}/unfollow");
        Assert.That(await FeedOfAsync(_a, ana.AccountId), Is.Empty, "removed on unfollow");
        Assert.That(await HomeAsync(ana), Is.Empty);
    }

    [Test]
    public async Task Deleted_post_leaves_every_feed_and_home()
    {
        var ana = await _a.CreateMemberAsync("del_ana");
        var ben = await _a.CreateMemberAsync("del_ben");
        await ana.PostJsonAsync($"/api/v1/accounts/{ben.AccountId}/follow");
        var kept = (await ben.PostJsonAsync("/api/v1/statuses", new { status = "Stays" })).GetProperty("id").GetString()!;
        var gone = (await ben.PostJsonAsync("/api/v1/statuses", new { status = "Goes" })).GetProperty("id").GetString()!;
        Assert.That(await HoldersOfAsync(gone), Has.Count.EqualTo(2));

        await Api.JsonAsync(await ben.Api.DeleteAsync(new Uri($"/api/v1/statuses/{gone}", UriKind.Relative)));

        Assert.That(await HoldersOfAsync(gone), Is.Empty);
        Assert.That(await HomeAsync(ana), Is.EqualTo(new[] { kept }));
        Assert.That(await HomeAsync(ben), Is.EqualTo(new[] { kept }));

        // Removed outright (as when a remote actor is deleted with their posts): its rows go too.
        await using (var conn = new NpgsqlConnection(_a.ConnectionString))
            await conn.ExecuteAsync("DELETE FROM statuses WHERE id = @id", new { id = long.Parse(kept, CultureInfo.InvariantCulture) });
        Assert.That(await HoldersOfAsync(kept), Is.Empty);
        Assert.That(await HomeAsync(ana), Is.Empty);
    }

    [Test]
    public async Task Muted_or_blocked_author_vanishes_from_home_and_an_unmute_brings_them_back()
    {
        var ana = await _a.CreateMemberAsync("mb_ana");
        var ben = await _a.CreateMemberAsync("mb_ben");
        var cy = await _a.CreateMemberAsync("mb_cy");
        await ana.PostJsonAsync($"/api/v1/accounts/{ben.AccountId}/follow");
        await ana.PostJsonAsync($"/api/v1/accounts/{cy.AccountId}/follow");
        var benPost = (await ben.PostJsonAsync("/api/v1/statuses", new { status = "From ben" })).GetProperty("id").GetString()!;
        var cyPost = (await cy.PostJsonAsync("/api/v1/statuses", new { status = "From cy" })).GetProperty("id").GetString()!;
        // cy boosts ben: the boost goes when ben is muted (a boost of a muted account's post).
        var cyBoost = (await cy.PostJsonAsync($"/api/v1/statuses/{benPost}/reblog")).GetProperty("id").GetString()!;
        Assert.That(await HomeAsync(ana), Is.EqualTo(new[] { cyBoost, cyPost, benPost }));

        await ana.PostJsonAsync($"/api/v1/accounts/{ben.AccountId}/mute");
        Assert.That(await HomeAsync(ana), Is.EqualTo(new[] { cyPost }));
        await ana.PostJsonAsync($"/api/v1/accounts/{ben.AccountId}/unmute");
        Assert.That(await HomeAsync(ana), Is.EqualTo(new[] { cyBoost, cyPost, benPost }));

        // cy blocks ana: cy's posts and boosts are gone from ana's home.
        await cy.PostJsonAsync($"/api/v1/accounts/{ana.AccountId}/block");
        Assert.That(await HomeAsync(ana), Is.EqualTo(new[] { benPost }));
    }

    [Test]
    public async Task Exclusive_list_takes_its_accounts_off_home_and_back_when_they_leave_it()
    {
        var ana = await _a.CreateMemberAsync("ex_ana");
        var ben = await _a.CreateMemberAsync("ex_ben");
        await ana.PostJsonAsync($"/api/v1/accounts/{ben.AccountId}/follow");
        var post = (await ben.PostJsonAsync("/api/v1/statuses", new { status = "Listed" })).GetProperty("id").GetString()!;
        var list = (await ana.PostJsonAsync("/api/v1/lists", new { title = "Quiet", exclusive = true })).GetProperty("id").GetString();
        await ana.PostJsonAsync($"/api/v1/lists/{list}/accounts", new { account_ids = new[] { Str(ben.AccountId) } });

        Assert.That(await HomeAsync(ana), Is.Empty);
        Assert.That(await FeedOfAsync(_a, ana.AccountId), Is.EqualTo(new[] { long.Parse(post, CultureInfo.InvariantCulture) }),
            "the row stays: the list is applied when the page is read");

        await Api.JsonAsync(await ana.Api.DeleteAsync(new Uri($"/api/v1/lists/{list}/accounts?account_ids[]={ben.AccountId}", UriKind.Relative)));
        Assert.That(await HomeAsync(ana), Is.EqualTo(new[] { post }));
    }

    [Test]
    public async Task Followed_hashtag_posts_reach_home_through_the_feed()
    {
        var ana = await _a.CreateMemberAsync("tag_ana");
        var ben = await _a.CreateMemberAsync("tag_ben");
        var older = (await ben.PostJsonAsync("/api/v1/statuses", new { status = "Before #compost" })).GetProperty("id").GetString()!;
        await ana.PostJsonAsync("/api/v1/tags/compost/follow");
        var newer = (await ben.PostJsonAsync("/api/v1/statuses", new { status = "After #compost" })).GetProperty("id").GetString()!;
        await ben.PostJsonAsync("/api/v1/statuses", new { status = "Untagged" });

        Assert.That(await FeedOfAsync(_a, ana.AccountId), Is.EqualTo(new[] { newer, older }.Select(long.Parse).ToList()));
        Assert.That(await HomeAsync(ana), Is.EqualTo(new[] { newer, older }));
    }

    [Test]
    public async Task Remote_post_through_the_inbox_reaches_home_feed()
    {
        var ana = await _a.CreateMemberAsync("inbox_ana");
        var rob = await _b.CreateMemberAsync("inbox_rob");
        var remoteRob = (await ana.GetJsonAsync($"/api/v1/accounts/lookup?acct={rob.Username}@{_b.Domain}")).GetProperty("id").GetString();
        await ana.PostJsonAsync($"/api/v1/accounts/{remoteRob}/follow");
        await Api.EventuallyAsync(async () =>
            (await ana.GetJsonAsync($"/api/v1/accounts/relationships?id[]={remoteRob}"))[0].GetProperty("following").GetBoolean(),
            "rob's server to accept the follow");

        var uri = (await rob.PostJsonAsync("/api/v1/statuses", new { status = "Hello from the other co-op" })).GetProperty("uri").GetString();
        var id = await Api.EventuallyAsync(async () =>
            (await ana.GetJsonAsync("/api/v1/timelines/home")).EnumerateArray()
                .Where(s => s.GetProperty("uri").GetString() == uri).Select(s => s.GetProperty("id").GetString()).FirstOrDefault(),
            "rob's post on ana's home");
        Assert.That(await FeedOfAsync(_a, ana.AccountId), Does.Contain(long.Parse(id, CultureInfo.InvariantCulture)));
    }

    [Test]
    public async Task Bounded_feed_pages_on_into_the_computed_timeline_without_gap_or_repeat()
    {
        var ana = await _a.CreateMemberAsync("bound_ana");
        var ben = await _a.CreateMemberAsync("bound_ben");
        var cy = await _a.CreateMemberAsync("bound_cy");
        await ana.PostJsonAsync($"/api/v1/accounts/{ben.AccountId}/follow");
        await ana.PostJsonAsync($"/api/v1/accounts/{cy.AccountId}/follow");
        List<long> expected;
        await using (var conn = new NpgsqlConnection(_a.ConnectionString))
        {
            // 900 posts each from ben and cy, interleaved, written as the API would (the triggers run).
            await conn.ExecuteAsync("""
                INSERT INTO statuses (id, uri, account_id, content, visibility, local, created_at)
                SELECT fellows_id(now() - interval '10 days' + g * interval '1 minute'), 'http://bound.test/s/' || g,
                       CASE WHEN g % 2 = 0 THEN @ben ELSE @cy END, 'post ' || g, 0, true, now() - interval '10 days' + g * interval '1 minute'
                FROM generate_series(1, 1800) g
                """, new { ben = ben.AccountId, cy = cy.AccountId });
            expected = (await conn.QueryAsync<long>("SELECT id FROM statuses WHERE account_id IN (@ben, @cy) ORDER BY id DESC",
                new { ben = ben.AccountId, cy = cy.AccountId })).ToList();
            Assert.That(await FeedOfAsync(_a, ana.AccountId), Is.EqualTo(expected), "every new post fanned out");
            // Rebuilt as the migration does: the newest 800, complete from the 800th on.
            await conn.ExecuteAsync("SELECT fellows_home_feed_rebuild(@ana, fellows_home_feed_bound())", new { ana = ana.AccountId });
            Assert.That(await FeedOfAsync(_a, ana.AccountId), Is.EqualTo(expected.Take(800).ToList()));
            Assert.That(await conn.ExecuteScalarAsync<long>("SELECT complete_from FROM home_feed_bounds WHERE account_id = @ana", new { ana = ana.AccountId }),
                Is.EqualTo(expected[799]));
        }

        // Newest first by max_id (pages of 40 cross the boundary at 800 inside none of them; 30 do).
        foreach (var size in new[] { 40, 30 })
        {
            var seen = new List<long>();
            string query = $"?limit={size}";
            while (true)
            {
                var page = await HomeAsync(ana, query);
                if (page.Count == 0) break;
                seen.AddRange(page.Select(long.Parse));
                query = $"?limit={size}&max_id={page[^1]}";
            }
            Assert.That(seen, Is.EqualTo(expected), $"pages of {size}");
        }
        // since_id below the boundary, and min_id (oldest first) on both sides of it.
        Assert.That((await HomeAsync(ana, $"?limit=40&max_id={expected[790]}&since_id={expected[830]}")).Select(long.Parse),
            Is.EqualTo(expected.Skip(791).Take(39)));
        Assert.That((await HomeAsync(ana, $"?limit=20&min_id={expected[810]}")).Select(long.Parse),
            Is.EqualTo(expected.Skip(790).Take(20)));
        Assert.That((await HomeAsync(ana, $"?limit=20&min_id={expected[100]}")).Select(long.Parse),
            Is.EqualTo(expected.Skip(80).Take(20)));
    }

    [Test]
    public async Task Migration_backfills_existing_statuses_into_home_bounded_per_member()
    {
        var connectionString = await TestCluster.CreateDatabaseAsync("homefeed-migration");
        await using var db = NpgsqlDataSource.Create(connectionString);
        await using (var conn = await db.OpenConnectionAsync())
        {
            // The schema as it stood before the feed, with its migrations recorded.
            await conn.ExecuteAsync("CREATE TABLE schema_migrations (version integer PRIMARY KEY, name text NOT NULL, applied_at timestamptz NOT NULL DEFAULT now())");
            foreach (var m in Migrator.All.Where(m => m.Version < 23))
            {
                await conn.ExecuteAsync(m.Sql);
                await conn.ExecuteAsync("INSERT INTO schema_migrations (version, name) VALUES (@v, @n)", new { v = m.Version, n = m.Name });
            }
            // Two local members and a remote account; ana follows ben and the remote one, cy follows nobody.
            await conn.ExecuteAsync("""
                INSERT INTO accounts (id, username, domain, uri) VALUES
                  (1, 'ana', NULL, 'http://old.test/users/ana'), (2, 'ben', NULL, 'http://old.test/users/ben'),
                  (3, 'cy', NULL, 'http://old.test/users/cy'), (4, 'far', 'far.test', 'https://far.test/users/far');
                INSERT INTO users (account_id, email, password_hash) VALUES (1, 'a@x', 'h'), (2, 'b@x', 'h'), (3, 'c@x', 'h');
                INSERT INTO follows (account_id, target_account_id) VALUES (1, 2), (1, 4);
                INSERT INTO statuses (id, uri, account_id, visibility, local, created_at)
                SELECT 1000 + g, 'http://old.test/s/' || g, CASE WHEN g % 3 = 0 THEN 1 WHEN g % 3 = 1 THEN 2 ELSE 4 END,
                       0, g % 3 <> 2, now() FROM generate_series(1, 1200) g;
                INSERT INTO statuses (id, uri, account_id, visibility, local, created_at)
                VALUES (5000, 'http://old.test/s/by-cy', 3, 0, true, now());
                """);
        }

        Assert.That(await Migrator.MigrateAsync(db, CancellationToken.None), Is.EqualTo(Migrator.All.Where(m => m.Version >= 23).Select(m => m.Name).ToList()));

        await using (var conn = await db.OpenConnectionAsync())
        {
            var ana = (await conn.QueryAsync<long>("SELECT status_id FROM home_feed WHERE account_id = 1 ORDER BY status_id DESC")).ToList();
            Assert.That(ana, Is.EqualTo(Enumerable.Range(1, 1200).Select(g => 1000L + g).Reverse().Take(800).ToList()),
                "ana's own, ben's and the remote account's newest 800");
            Assert.That(await conn.ExecuteScalarAsync<long>("SELECT complete_from FROM home_feed_bounds WHERE account_id = 1"), Is.EqualTo(ana[^1]));
            var ben = (await conn.QueryAsync<long>("SELECT status_id FROM home_feed WHERE account_id = 2 ORDER BY status_id DESC")).ToList();
            Assert.That(ben, Is.EqualTo(Enumerable.Range(1, 1200).Where(g => g % 3 == 1).Select(g => 1000L + g).Reverse().ToList()), "ben's own 400");
            Assert.That(await conn.ExecuteScalarAsync<bool>("SELECT EXISTS (SELECT 1 FROM home_feed_bounds WHERE account_id = 2)"), Is.False, "ben's feed is whole");
            Assert.That((await conn.QueryAsync<long>("SELECT status_id FROM home_feed WHERE account_id = 3")).ToList(), Is.EqualTo(CysOwnPost));
            Assert.That(await conn.ExecuteScalarAsync<long>("SELECT count(*) FROM home_feed WHERE account_id = 4"), Is.Zero, "remote accounts have no home");
        }
    }

    /// <summary>Every status id on the member's home, newest first, read page by page with max_id.</summary>
    static async Task<List<long>> AllPagesAsync(Member member, int size)
    {
        var seen = new List<long>();
        var query = $"?limit={size}";
        while (true)
        {
            var page = await HomeAsync(member, query);
            if (page.Count == 0) return seen;
            seen.AddRange(page.Select(long.Parse));
            query = $"?limit={size}&max_id={page[^1]}";
        }
    }

    static async Task<long?> CompleteFromAsync(NpgsqlConnection conn, long member) =>
        await conn.ExecuteScalarAsync<long?>("SELECT complete_from FROM home_feed_bounds WHERE account_id = @member", new { member });

    [Test]
    public async Task Trim_keeps_the_newest_rows_and_pages_still_equal_the_computed_timeline()
    {
        var ana = await _a.CreateMemberAsync("trim_ana");
        var ben = await _a.CreateMemberAsync("trim_ben");
        var cy = await _a.CreateMemberAsync("trim_cy");
        var dee = await _a.CreateMemberAsync("trim_dee");
        await ana.PostJsonAsync($"/api/v1/accounts/{ben.AccountId}/follow");
        await ana.PostJsonAsync($"/api/v1/accounts/{cy.AccountId}/follow");
        await dee.PostJsonAsync($"/api/v1/accounts/{ben.AccountId}/follow");
        // cy's boosts are hidden from ana: their rows are in her feed but not on her home, on either side of the cut.
        await ana.PostJsonAsync($"/api/v1/accounts/{cy.AccountId}/follow", new { reblogs = false });
        var dataSource = _a.Services.GetRequiredService<NpgsqlDataSource>();
        List<long> expected;
        List<long> feedBefore;
        await using (var conn = new NpgsqlConnection(_a.ConnectionString))
        {
            // 1,200 posts from ben, cy and ana herself, interleaved, and every tenth of cy's a boost of one of ben's.
            await conn.ExecuteAsync("""
                INSERT INTO statuses (id, uri, account_id, content, visibility, local, created_at)
                SELECT fellows_id(now() - interval '5 days' + g * interval '1 minute'), 'http://trim.test/s/' || g,
                       CASE g % 3 WHEN 0 THEN @ben WHEN 1 THEN @cy ELSE @ana END, 'post ' || g, 0, true,
                       now() - interval '5 days' + g * interval '1 minute'
                FROM generate_series(1, 1200) g;
                UPDATE statuses s SET reblog_of_id = (SELECT min(o.id) FROM statuses o WHERE o.account_id = @ben), content = ''
                WHERE s.account_id = @cy AND s.uri LIKE 'http://trim.test/s/%' AND s.id % 10 = 0;
                """, new { ana = ana.AccountId, ben = ben.AccountId, cy = cy.AccountId });
            expected = (await conn.QueryAsync<long>("""
                SELECT id FROM statuses WHERE account_id IN (@ana, @ben, @cy) AND NOT (account_id = @cy AND reblog_of_id IS NOT NULL)
                ORDER BY id DESC
                """, new { ana = ana.AccountId, ben = ben.AccountId, cy = cy.AccountId })).ToList();
            feedBefore = await FeedOfAsync(_a, ana.AccountId);
            Assert.That(feedBefore, Has.Count.EqualTo(1200), "every post fanned out, boosts too");
            Assert.That(expected, Has.Count.GreaterThan(1100).And.Count.LessThan(1200), "some boosts hidden");
            Assert.That(await CompleteFromAsync(conn, ana.AccountId), Is.Null, "the feed holds everything before the trim");
        }
        var beforeTrim = await AllPagesAsync(ana, 40);
        Assert.That(beforeTrim, Is.EqualTo(expected), "home from the whole feed");

        var (raised, deleted) = await HomeFeedTrimJob.TrimAsync(dataSource, 500, CancellationToken.None);

        Assert.That(raised, Is.GreaterThanOrEqualTo(1));
        Assert.That(deleted, Is.GreaterThanOrEqualTo(700));
        Assert.That(await FeedOfAsync(_a, ana.AccountId), Is.EqualTo(feedBefore.Take(500).ToList()), "the newest 500 rows kept");
        await using (var conn = new NpgsqlConnection(_a.ConnectionString))
        {
            Assert.That(await CompleteFromAsync(conn, ana.AccountId), Is.EqualTo(feedBefore[500] + 1), "complete from just above the first row dropped");
            Assert.That(await CompleteFromAsync(conn, dee.AccountId), Is.Null, "a feed under the limit is left alone");
        }
        Assert.That(await FeedOfAsync(_a, dee.AccountId), Has.Count.EqualTo(400), "dee's 400 rows of ben's");

        // Pages across the cut equal the whole-feed pages, in pages that end on it and pages that straddle it.
        foreach (var size in new[] { 40, 30, 7 })
            Assert.That(await AllPagesAsync(ana, size), Is.EqualTo(expected), $"pages of {size}");
        var cutAt = expected.FindIndex(id => id < feedBefore[500] + 1);
        Assert.That(cutAt, Is.GreaterThan(400).And.LessThan(500));
        Assert.That((await HomeAsync(ana, $"?limit=40&max_id={expected[cutAt - 10]}&since_id={expected[cutAt + 40]}")).Select(long.Parse),
            Is.EqualTo(expected.Skip(cutAt - 9).Take(40)));
        Assert.That((await HomeAsync(ana, $"?limit=20&min_id={expected[cutAt + 10]}")).Select(long.Parse),
            Is.EqualTo(expected.Skip(cutAt - 10).Take(20)), "oldest first from below the cut");
        Assert.That((await HomeAsync(ana, $"?limit=20&min_id={expected[cutAt - 1]}")).Select(long.Parse),
            Is.EqualTo(expected.Skip(cutAt - 21).Take(20)), "oldest first from the cut");

        // Posts after the trim join the kept rows; a second pass with nothing new over the limit changes nothing.
        var fresh = long.Parse((await ben.PostJsonAsync("/api/v1/statuses", new { status = "After the trim" })).GetProperty("id").GetString()!, CultureInfo.InvariantCulture);
        Assert.That((await HomeAsync(ana, "?limit=1")).Select(long.Parse), Is.EqualTo(new[] { fresh }));
        var again = await HomeFeedTrimJob.TrimAsync(dataSource, 501, CancellationToken.None);
        Assert.That(again, Is.EqualTo((0, 0L)));
        Assert.That(await AllPagesAsync(ana, 40), Is.EqualTo(expected.Prepend(fresh).ToList()));
    }

    [Test]
    public async Task Trim_drops_rows_below_where_the_feed_is_complete_and_never_lowers_it()
    {
        var ana = await _a.CreateMemberAsync("trimfloor_ana");
        var ben = await _a.CreateMemberAsync("trimfloor_ben");
        await ana.PostJsonAsync($"/api/v1/accounts/{ben.AccountId}/follow");
        var posts = new List<long>();
        for (var i = 0; i < 6; i++)
            posts.Add(long.Parse((await ben.PostJsonAsync("/api/v1/statuses", new { status = $"Row {i}" })).GetProperty("id").GetString()!, CultureInfo.InvariantCulture));
        await using var conn = new NpgsqlConnection(_a.ConnectionString);
        // A bound above two of the rows, as a follow's bounded backfill can leave one: those two are never read.
        await conn.ExecuteAsync("INSERT INTO home_feed_bounds (account_id, complete_from) VALUES (@ana, @from)", new { ana = ana.AccountId, from = posts[2] });

        await HomeFeedTrimJob.TrimAsync(_a.Services.GetRequiredService<NpgsqlDataSource>(), 800, CancellationToken.None);

        Assert.That(await FeedOfAsync(_a, ana.AccountId), Is.EqualTo(posts.Skip(2).Reverse().ToList()));
        Assert.That(await CompleteFromAsync(conn, ana.AccountId), Is.EqualTo(posts[2]), "not moved down to the 800th row");
        Assert.That(await AllPagesAsync(ana, 4), Is.EqualTo(Enumerable.Reverse(posts).ToList()), "the two below come from the computed query");
    }

    [Test]
    public async Task Trim_job_is_scheduled_and_runs_through_quartz_with_the_configured_limit()
    {
        await using var instance = await FellowsInstance.StartAsync("homefeed-trimjob", settings: new Dictionary<string, string?> { ["Jobs:HomeFeedKeep"] = "40" });
        var ana = await instance.CreateMemberAsync("job_ana");
        var ben = await instance.CreateMemberAsync("job_ben");
        await ana.PostJsonAsync($"/api/v1/accounts/{ben.AccountId}/follow");
        await using var conn = new NpgsqlConnection(instance.ConnectionString);
        await conn.ExecuteAsync("""
            INSERT INTO statuses (id, uri, account_id, content, visibility, local, created_at)
            SELECT fellows_id(now() - interval '1 day' + g * interval '1 minute'), 'http://trimjob.test/s/' || g, @ben, 'post ' || g, 0, true,
                   now() - interval '1 day' + g * interval '1 minute'
            FROM generate_series(1, 100) g
            """, new { ben = ben.AccountId });
        var expected = await FeedOfAsync(instance, ana.AccountId);
        Assert.That(expected, Has.Count.EqualTo(100));

        var scheduler = await instance.Services.GetRequiredService<Quartz.ISchedulerFactory>().GetScheduler();
        await scheduler.TriggerJob(HomeFeedTrimJob.Key);

        await Api.EventuallyAsync(async () => (await FeedOfAsync(instance, ana.AccountId)).Count == 40, "the feed trimmed to 40 rows");
        Assert.That(await FeedOfAsync(instance, ana.AccountId), Is.EqualTo(expected.Take(40).ToList()));
        Assert.That(await AllPagesAsync(ana, 40), Is.EqualTo(expected));
    }

    [Test]
    public async Task Unfollow_and_block_remove_only_that_authors_rows_and_keep_those_a_followed_tag_brings()
    {
        var ana = await _a.CreateMemberAsync("rm_ana");
        var ben = await _a.CreateMemberAsync("rm_ben");
        var cy = await _a.CreateMemberAsync("rm_cy");
        await ana.PostJsonAsync($"/api/v1/accounts/{ben.AccountId}/follow");
        await ana.PostJsonAsync($"/api/v1/accounts/{cy.AccountId}/follow");
        await ana.PostJsonAsync("/api/v1/tags/rmseeds/follow");
        async Task<long> PostAsync(Member m, string text) =>
            long.Parse((await m.PostJsonAsync("/api/v1/statuses", new { status = text })).GetProperty("id").GetString()!, CultureInfo.InvariantCulture);
        var benPlain = await PostAsync(ben, "Plain");
        var benTagged = await PostAsync(ben, "Swap #rmseeds");
        var cyPost = await PostAsync(cy, "From cy");
        var benBoost = long.Parse((await ben.PostJsonAsync($"/api/v1/statuses/{cyPost}/reblog")).GetProperty("id").GetString()!, CultureInfo.InvariantCulture);
        var cyLater = await PostAsync(cy, "Later from cy");
        var anaOwn = await PostAsync(ana, "Mine");
        Assert.That(await FeedOfAsync(_a, ana.AccountId), Is.EqualTo(new[] { anaOwn, cyLater, benBoost, cyPost, benTagged, benPlain }));

        await ana.PostJsonAsync($"/api/v1/accounts/{ben.AccountId}/unfollow");

        Assert.That(await FeedOfAsync(_a, ana.AccountId), Is.EqualTo(new[] { anaOwn, cyLater, cyPost, benTagged }),
            "ben's post and boost gone, the one with a followed tag kept");
        Assert.That((await HomeAsync(ana)).Select(long.Parse), Is.EqualTo(new[] { anaOwn, cyLater, cyPost, benTagged }));
        Assert.That(await FeedOfAsync(_a, ben.AccountId), Is.EqualTo(new[] { benBoost, benTagged, benPlain }), "ben's own feed untouched");

        // A block ends the follow: cy's rows go the same way.
        await ana.PostJsonAsync($"/api/v1/accounts/{cy.AccountId}/block");
        Assert.That(await FeedOfAsync(_a, ana.AccountId), Is.EqualTo(new[] { anaOwn, benTagged }));
        Assert.That((await HomeAsync(ana)).Select(long.Parse), Is.EqualTo(new[] { anaOwn, benTagged }));
    }

    [Test]
    public async Task Unfollow_removal_looks_up_the_authors_statuses_instead_of_reading_the_whole_feed()
    {
        var ana = await _a.CreateMemberAsync("idx_ana");
        var authors = new List<Member>();
        for (var i = 0; i < 20; i++)
        {
            var author = await _a.CreateMemberAsync($"idx_author{i}");
            authors.Add(author);
            await ana.PostJsonAsync($"/api/v1/accounts/{author.AccountId}/follow");
        }
        await using var conn = new NpgsqlConnection(_a.ConnectionString);
        await conn.OpenAsync();
        // 100 posts each: a feed of 2,000 rows from 20 authors.
        await conn.ExecuteAsync("""
            INSERT INTO statuses (id, uri, account_id, content, visibility, local, created_at)
            SELECT fellows_id(now() - interval '3 days' + g * interval '1 minute'), 'http://idx.test/s/' || g,
                   (@authors::bigint[])[1 + g % 20], 'post ' || g, 0, true, now() - interval '3 days' + g * interval '1 minute'
            FROM generate_series(1, 2000) g
            """, new { authors = authors.Select(a => a.AccountId).ToArray() });
        await conn.ExecuteAsync("ANALYZE home_feed; ANALYZE statuses");
        Assert.That(await FeedOfAsync(_a, ana.AccountId), Has.Count.EqualTo(2000));

        // The removal the unfollow trigger runs, taken from the trigger itself and planned generically (as PL/pgSQL
        // may keep it): the author's statuses from their index, then each looked up in the member's feed by key.
        var body = await conn.ExecuteScalarAsync<string>("SELECT prosrc FROM pg_proc WHERE proname = 'fellows_home_feed_unfollow'");
        var delete = body!.Substring(body.IndexOf("DELETE", StringComparison.Ordinal));
        delete = delete[..delete.IndexOf(';', StringComparison.Ordinal)]
            .Replace("OLD.account_id", "$1", StringComparison.Ordinal)
            .Replace("OLD.target_account_id", "$2", StringComparison.Ordinal)
            .Replace("oldest", "$3", StringComparison.Ordinal);
        await conn.ExecuteAsync($"PREPARE unfollow_removal (bigint, bigint, bigint) AS {delete}");
        await conn.ExecuteAsync("SET plan_cache_mode = force_generic_plan");
        var plan = string.Join("\n", await conn.QueryAsync<string>($"EXPLAIN EXECUTE unfollow_removal({ana.AccountId}, {authors[3].AccountId}, 0)"));
        await conn.ExecuteAsync("RESET plan_cache_mode");
        Assert.That(plan, Does.Match("(Index Scan|Index Only Scan|Bitmap Index Scan) (using|on) statuses_account"), plan);
        // Each status is looked up by key: by (member, status), or by status alone where a status has few feed rows
        // (PostgreSQL chooses by the statistics); never a walk of the member's feed (account_id alone) or a scan.
        Assert.That(plan, Does.Match(@"(using|on) home_feed_(pkey|status)( on home_feed h)?[^\n]*\n\s*Index Cond: \((\(account_id = \$1\) AND \()?status_id = ANY"), plan);
        Assert.That(plan.Split('\n').Select(l => l.Trim()), Has.None.EqualTo("Index Cond: (account_id = $1)"), plan);
        Assert.That(plan, Does.Not.Contain("Seq Scan on home_feed").And.Not.Contain("Seq Scan on statuses"), plan);

        // And the real thing removes exactly that author's hundred rows.
        await ana.PostJsonAsync($"/api/v1/accounts/{authors[3].AccountId}/unfollow");
        Assert.That(await conn.ExecuteScalarAsync<long>("SELECT count(*) FROM home_feed WHERE account_id = @ana AND author_id = @author",
            new { ana = ana.AccountId, author = authors[3].AccountId }), Is.Zero);
        Assert.That(await FeedOfAsync(_a, ana.AccountId), Has.Count.EqualTo(1900));
    }
}
