using System.Net.Http.Json;
using System.Text.Json;
using System.Text.Json.Nodes;
using Dapper;
using Fellows.Server.Features.Statuses;
using Microsoft.Extensions.DependencyInjection;
using Npgsql;
using NUnit.Framework;

namespace Fellows.Server.Tests.ClientApi;

/// <summary>
/// Timelines assembled from the rendered-status cache answer exactly what a status presented on its own answers
/// (GET /api/v1/statuses/:id never reads the cache), for the member and for no one, before and after every kind of
/// write that changes what a status or its author shows.
/// </summary>
public class RenderedStatusTests
{
    FellowsInstance _instance = null!;

    [OneTimeSetUp]
    public async Task StartAsync() => _instance = await FellowsInstance.StartAsync("rendered");

    [OneTimeTearDown]
    public async Task StopAsync() => await _instance.DisposeAsync();

    static readonly string[] Days = ["Sat", "Sun"];
    static readonly int[] SecondChoice = [1];
    static readonly string[] HomeAndPublic = ["home", "public"];

    RenderedStatuses Cache => _instance.Services.GetRequiredService<RenderedStatuses>();

    /// <summary>A JSON value with every object's keys in order, so two entities compare whatever order they were written in.</summary>
    static string Canonical(JsonNode? node) => node switch
    {
        JsonObject o => "{" + string.Join(",", o.OrderBy(p => p.Key, StringComparer.Ordinal).Select(p => JsonSerializer.Serialize(p.Key) + ":" + Canonical(p.Value))) + "}",
        JsonArray a => "[" + string.Join(",", a.Select(Canonical)) + "]",
        null => "null",
        _ => node.ToJsonString(),
    };

    /// <summary>Each status on the page equals the status read on its own, by the same reader; returns the page's ids.</summary>
    static async Task<List<string>> PageMatchesSinglesAsync(HttpClient reader, string path)
    {
        var page = JsonNode.Parse(await reader.GetStringAsync(new Uri(path, UriKind.Relative)))!.AsArray();
        Assert.That(page, Is.Not.Empty, path);
        var ids = new List<string>();
        foreach (var entry in page)
        {
            var id = entry!["id"]!.GetValue<string>();
            ids.Add(id);
            var single = JsonNode.Parse(await reader.GetStringAsync(new Uri($"/api/v1/statuses/{id}", UriKind.Relative)));
            Assert.That(Canonical(entry), Is.EqualTo(Canonical(single)), $"{path}: status {id} as the page shows it and on its own");
        }
        return ids;
    }

    static async Task AllPagesMatchAsync(Member viewer, Member author, HttpClient anonymous)
    {
        await PageMatchesSinglesAsync(viewer.Api, "/api/v1/timelines/home?limit=40");
        await PageMatchesSinglesAsync(viewer.Api, $"/api/v1/accounts/{author.AccountId}/statuses?limit=40");
        await PageMatchesSinglesAsync(anonymous, "/api/v1/timelines/public?limit=40");
    }

    [Test]
    public async Task Pages_from_the_cache_equal_statuses_presented_alone_through_every_change()
    {
        var ada = await _instance.CreateMemberAsync("rc_ada");
        var bram = await _instance.CreateMemberAsync("rc_bram");
        var cleo = await _instance.CreateMemberAsync("rc_cleo");
        using var anonymous = new HttpClient { BaseAddress = new Uri(_instance.BaseUrl) };
        await ada.PostJsonAsync($"/api/v1/accounts/{bram.AccountId}/follow");
        await ada.PostJsonAsync($"/api/v1/accounts/{cleo.AccountId}/follow");
        // Ada's own posts show her the counts and her follower count, which no one else sees.
        await cleo.PostJsonAsync($"/api/v1/accounts/{ada.AccountId}/follow");

        var media = await Api.UploadImageAsync(bram);
        var withMedia = await bram.PostJsonAsync("/api/v1/statuses", new { status = "Seed swap on Saturday #garden", media_ids = new[] { media } });
        var mention = await bram.PostJsonAsync("/api/v1/statuses", new { status = $"@rc_cleo can you bring the trays?", spoiler_text = "logistics" });
        var poll = await bram.PostJsonAsync("/api/v1/statuses", new { status = "Which day?", poll = new { options = Days, expires_in = 3600 } });
        var adaPost = await ada.PostJsonAsync("/api/v1/statuses", new { status = "I will bring compost" });
        await cleo.PostJsonAsync($"/api/v1/statuses/{withMedia.GetProperty("id").GetString()}/reblog");
        await cleo.PostJsonAsync($"/api/v1/statuses/{adaPost.GetProperty("id").GetString()}/reblog");
        await bram.PostJsonAsync($"/api/v1/statuses/{adaPost.GetProperty("id").GetString()}/favourite");

        await AllPagesMatchAsync(ada, bram, anonymous);
        var (hitsBefore, _) = Cache.Counts;
        await AllPagesMatchAsync(ada, bram, anonymous);
        Assert.That(Cache.Counts.Hits, Is.GreaterThan(hitsBefore + 10), "a page read again is assembled from the cache");
        var own = JsonNode.Parse(await ada.Api.GetStringAsync(new Uri("/api/v1/timelines/home?limit=40", UriKind.Relative)))!.AsArray()
            .Single(e => e!["id"]!.GetValue<string>() == adaPost.GetProperty("id").GetString())!;
        Assert.That((own["favourites_count"]!.GetValue<int>(), own["account"]!["followers_count"]!.GetValue<int>()), Is.EqualTo((1, 1)));

        // The reader's own marks.
        var withMediaId = withMedia.GetProperty("id").GetString();
        await ada.PostJsonAsync($"/api/v1/statuses/{withMediaId}/favourite");
        await ada.PostJsonAsync($"/api/v1/statuses/{mention.GetProperty("id").GetString()}/bookmark");
        await ada.PostJsonAsync($"/api/v1/statuses/{mention.GetProperty("id").GetString()}/mute");
        await ada.PostJsonAsync($"/api/v1/polls/{poll.GetProperty("poll").GetProperty("id").GetString()}/votes", new { choices = SecondChoice });
        await AllPagesMatchAsync(ada, bram, anonymous);

        // The author's profile, and a followers-only post (the last_status_at and counters the account shows).
        await Api.JsonAsync(await bram.Api.PatchAsync(new Uri("/api/v1/accounts/update_credentials", UriKind.Relative),
            JsonContent.Create(new { display_name = "Bram of the allotment", note = "Trays and seeds" })));
        await bram.PostJsonAsync("/api/v1/statuses", new { status = "Only for fellows", visibility = "private" });
        await AllPagesMatchAsync(ada, bram, anonymous);

        // An edit, an attachment's description changed after posting, a commitment-free counter (a reply).
        await Api.JsonAsync(await bram.Api.PutAsJsonAsync(new Uri($"/api/v1/statuses/{mention.GetProperty("id").GetString()}", UriKind.Relative),
            new { status = "@rc_cleo can you bring the seed trays?", spoiler_text = "logistics, edited" }));
        await Api.JsonAsync(await bram.Api.PutAsJsonAsync(new Uri($"/api/v1/media/{media}", UriKind.Relative), new { description = "Trays of seedlings" }));
        await cleo.PostJsonAsync("/api/v1/statuses", new { status = "@rc_bram yes", in_reply_to_id = withMediaId });
        var home = JsonNode.Parse(await ada.Api.GetStringAsync(new Uri("/api/v1/timelines/home?limit=40", UriKind.Relative)))!.AsArray();
        var shown = home.Single(s => s!["id"]!.GetValue<string>() == withMediaId)!;
        Assert.That(shown["media_attachments"]![0]!["description"]!.GetValue<string>(), Is.EqualTo("Trays of seedlings"));
        Assert.That(shown["replies_count"]!.GetValue<int>(), Is.EqualTo(1));
        await AllPagesMatchAsync(ada, bram, anonymous);

        // A keyword filter of the reader's.
        await ada.PostJsonAsync("/api/v2/filters", new { title = "Trays", context = HomeAndPublic, keywords_attributes = new[] { new { keyword = "trays" } } });
        await AllPagesMatchAsync(ada, bram, anonymous);
        home = JsonNode.Parse(await ada.Api.GetStringAsync(new Uri("/api/v1/timelines/home?limit=40", UriKind.Relative)))!.AsArray();
        Assert.That(home.Single(s => s!["id"]!.GetValue<string>() == mention.GetProperty("id").GetString())!["filtered"]!.AsArray(), Has.Count.EqualTo(1));

        // Deleting a post takes it off the page.
        Assert.That((await bram.Api.DeleteAsync(new Uri($"/api/v1/statuses/{poll.GetProperty("id").GetString()}", UriKind.Relative))).IsSuccessStatusCode);
        var ids = await PageMatchesSinglesAsync(ada.Api, "/api/v1/timelines/home?limit=40");
        Assert.That(ids, Does.Not.Contain(poll.GetProperty("id").GetString()));
    }

    [Test]
    public async Task A_kept_commitment_changes_the_author_shown_on_cached_pages()
    {
        var dora = await _instance.CreateMemberAsync("rc_dora");
        var eli = await _instance.CreateMemberAsync("rc_eli");
        await dora.PostJsonAsync($"/api/v1/accounts/{eli.AccountId}/follow");
        await eli.PostJsonAsync("/api/v1/statuses", new { status = "Rota for the kitchen" });
        string Fellows(JsonNode page) => page.AsArray()[0]!["account"]!["fellows"]!.ToJsonString();
        var before = Fellows(JsonNode.Parse(await dora.Api.GetStringAsync(new Uri("/api/v1/timelines/home", UriKind.Relative)))!);

        // A commitment written straight to the table, as the inbox does for a remote one: the account's counts change.
        await using (var conn = new NpgsqlConnection(_instance.ConnectionString))
        {
            await conn.OpenAsync();
            var motion = await conn.ExecuteScalarAsync<long>("""
                INSERT INTO motions (id, uri, local, author_account_id, title, method, threshold, state, voting_ends_at, created_at, updated_at)
                VALUES (fellows_id(now()), 'https://example.test/motions/' || gen_random_uuid(), true, @eli, 'Rota', 'consent', 'unanimity', 'closed', now(), now(), now())
                RETURNING id
                """, new { eli = eli.AccountId });
            await conn.ExecuteAsync("""
                INSERT INTO motion_commitments (id, motion_id, account_id, uri, what, created_at)
                VALUES (fellows_id(now()), @motion, @eli, 'https://example.test/commitments/' || gen_random_uuid(), 'Cook on Monday', now())
                """, new { motion, eli = eli.AccountId });
        }
        var after = JsonNode.Parse(await dora.Api.GetStringAsync(new Uri("/api/v1/timelines/home", UriKind.Relative)))!;
        Assert.That(Fellows(after), Is.Not.EqualTo(before));
        Assert.That(after.AsArray()[0]!["account"]!["fellows"]!["commitments_open"]!.GetValue<int>(), Is.EqualTo(1));
        await PageMatchesSinglesAsync(dora.Api, "/api/v1/timelines/home");
    }
}
