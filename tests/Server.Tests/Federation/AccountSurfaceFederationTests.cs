using System.Text.Json;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;
using NUnit.Framework;

namespace Fellows.Server.Tests.Federation;

/// <summary>
/// Account-level actions that other servers must hear of: a member's domain block and remove_from_followers end
/// follows on both servers, and a featured tag change reaches followers' servers as Update(actor), where the
/// remote account's featured tags are read from its actor's collection (with origin and size limits).
/// </summary>
[NonParallelizable]
public class AccountSurfaceFederationTests
{
    FellowsInstance _a = null!;
    FellowsInstance _b = null!;

    [OneTimeSetUp]
    public async Task StartAsync()
    {
        _a = await FellowsInstance.StartAsync("surf_a");
        _b = await FellowsInstance.StartAsync("surf_b");
    }

    [OneTimeTearDown]
    public async Task StopAsync()
    {
        await _a.DisposeAsync();
        await _b.DisposeAsync();
    }

    static async Task<string> IdOfAsync(Member viewer, Member other) =>
        (await viewer.GetJsonAsync($"/api/v1/accounts/lookup?acct={other.Handle}")).GetProperty("id").GetString()!;

    static async Task<JsonElement> RelationshipAsync(Member viewer, string id) =>
        (await viewer.GetJsonAsync($"/api/v1/accounts/relationships?id[]={id}"))[0];

    static async Task<string> FollowAndWaitAsync(Member follower, Member followee)
    {
        var id = await IdOfAsync(follower, followee);
        await follower.PostJsonAsync($"/api/v1/accounts/{id}/follow");
        await Api.EventuallyAsync(async () => (await RelationshipAsync(follower, id)).GetProperty("following").GetBoolean(),
            $"{followee.Handle} to accept {follower.Handle}");
        return id;
    }

    static IEnumerable<string?> Contents(JsonElement statuses) => statuses.EnumerateArray().Select(s => s.GetProperty("content").GetString());

    [Test]
    public async Task DomainBlock_ends_follows_on_both_servers_and_refuses_new_ones()
    {
        var ada = await _a.CreateMemberAsync("ada");
        var bob = await _b.CreateMemberAsync("bob");
        var bea = await _b.CreateMemberAsync("bea");
        var adaOnB = await FollowAndWaitAsync(bob, ada);
        var beaOnA = await FollowAndWaitAsync(ada, bea);
        await bea.PostJsonAsync("/api/v1/statuses", new { status = "news from beta #surfnews" });
        await Api.EventuallyAsync(async () => Contents(await ada.GetJsonAsync("/api/v1/timelines/home")).Any(c => c!.Contains("news from beta")),
            "bea's post to reach ada");
        // A member of ada's own server she follows boosts it: the boost goes with the server block too.
        var beaPostOnA = (await ada.GetJsonAsync("/api/v1/timelines/home")).EnumerateArray()
            .First(st => st.GetProperty("content").GetString()!.Contains("news from beta", StringComparison.Ordinal)).GetProperty("id").GetString();
        var cyd = await _a.CreateMemberAsync("cyd");
        await ada.PostJsonAsync($"/api/v1/accounts/{cyd.AccountId}/follow");
        await cyd.PostJsonAsync($"/api/v1/statuses/{beaPostOnA}/reblog");
        bool BoostShown(JsonElement home) => home.EnumerateArray().Any(st =>
            st.GetProperty("reblog").ValueKind == JsonValueKind.Object && st.GetProperty("reblog").GetProperty("id").GetString() == beaPostOnA);
        Assert.That(BoostShown(await ada.GetJsonAsync("/api/v1/timelines/home")), Is.True);

        await ada.PostJsonAsync("/api/v1/domain_blocks", new { domain = _b.Domain });
        Assert.That(BoostShown(await ada.GetJsonAsync("/api/v1/timelines/home")), Is.False, "a boost of a post from a blocked server");

        var bobOnA = await IdOfAsync(ada, bob);
        var toBob = await RelationshipAsync(ada, bobOnA);
        Assert.That(toBob.GetProperty("domain_blocking").GetBoolean(), Is.True);
        Assert.That(toBob.GetProperty("followed_by").GetBoolean(), Is.False);
        Assert.That((await RelationshipAsync(ada, beaOnA)).GetProperty("following").GetBoolean(), Is.False);
        Assert.That(Contents(await ada.GetJsonAsync("/api/v1/timelines/home")).Any(c => c!.Contains("news from beta")), Is.False);
        Assert.That(Contents(await ada.GetJsonAsync("/api/v1/timelines/public")).Any(c => c!.Contains("news from beta")), Is.False);
        Assert.That(Contents(await ada.GetJsonAsync("/api/v1/timelines/tag/surfnews")).Any(c => c!.Contains("news from beta")), Is.False);

        // Beta hears both: bob's follow was rejected, ada's follow of bea undone.
        await Api.EventuallyAsync(async () => !(await RelationshipAsync(bob, adaOnB)).GetProperty("following").GetBoolean(),
            "bob's server to drop his follow of ada (Reject)");
        await Api.EventuallyAsync(async () => (await bea.GetJsonAsync($"/api/v1/accounts/{bea.AccountId}/followers")).GetArrayLength() == 0,
            "bea's server to drop ada's follow (Undo)");

        // A new follow from the blocked server is refused.
        var again = await bob.PostJsonAsync($"/api/v1/accounts/{adaOnB}/follow");
        Assert.That(again.GetProperty("requested").GetBoolean(), Is.True);
        await Api.EventuallyAsync(async () =>
        {
            var r = await RelationshipAsync(bob, adaOnB);
            return !r.GetProperty("requested").GetBoolean() && !r.GetProperty("following").GetBoolean();
        }, "ada's server to reject bob's new follow");
        Assert.That((await ada.GetJsonAsync($"/api/v1/accounts/{ada.AccountId}/followers")).GetArrayLength(), Is.Zero);

        // Lifted: beta's posts already here show again.
        var lifted = await ada.Api.SendAsync(new HttpRequestMessage(HttpMethod.Delete, new Uri($"/api/v1/domain_blocks?domain={_b.Domain}", UriKind.Relative)));
        Assert.That(lifted.IsSuccessStatusCode, Is.True);
        Assert.That(Contents(await ada.GetJsonAsync("/api/v1/timelines/public")).Any(c => c!.Contains("news from beta")), Is.True);
        Assert.That(BoostShown(await ada.GetJsonAsync("/api/v1/timelines/home")), Is.True, "cyd's boost is back");
    }

    [Test]
    public async Task RemoveFromFollowers_tells_a_remote_followers_server()
    {
        var ann = await _a.CreateMemberAsync("ann");
        var cal = await _b.CreateMemberAsync("cal");
        var annOnB = await FollowAndWaitAsync(cal, ann);
        var calOnA = await IdOfAsync(ann, cal);
        Assert.That((await RelationshipAsync(ann, calOnA)).GetProperty("followed_by").GetBoolean(), Is.True);

        var relationship = await ann.PostJsonAsync($"/api/v1/accounts/{calOnA}/remove_from_followers");
        Assert.That(relationship.GetProperty("followed_by").GetBoolean(), Is.False);
        await Api.EventuallyAsync(async () => !(await RelationshipAsync(cal, annOnB)).GetProperty("following").GetBoolean(),
            "cal's server to drop the follow (Reject)");
    }

    [Test]
    public async Task FeaturedTag_change_reaches_followers_servers_as_actor_update()
    {
        var ed = await _a.CreateMemberAsync("ed");
        var dee = await _b.CreateMemberAsync("dee");
        await FollowAndWaitAsync(dee, ed);
        await ed.PostJsonAsync("/api/v1/featured_tags", new { name = "cooperatives" });

        await Api.EventuallyAsync(async () =>
        {
            await using var conn = new Npgsql.NpgsqlConnection(_b.ConnectionString);
            await conn.OpenAsync();
            await using var cmd = new Npgsql.NpgsqlCommand(
                "SELECT count(*) FROM inbox_activities WHERE actor_uri = @actor AND activity_type = 'Update' AND body LIKE '%featuredTags%'", conn);
            cmd.Parameters.AddWithValue("actor", ed.ActorId);
            return (long)(await cmd.ExecuteScalarAsync())! > 0;
        }, "beta to receive ed's Update(actor) naming the featuredTags collection");
    }

    static readonly string[] CooperativesAndGardening = ["cooperatives", "gardening"];

    static async Task<List<string>> FeaturedTagNamesAsync(Member viewer, string accountId) =>
        (await viewer.GetJsonAsync($"/api/v1/accounts/{accountId}/featured_tags")).EnumerateArray().Select(t => t.GetProperty("name").GetString()!).ToList();

    [Test]
    public async Task Remote_featured_tags_are_read_from_the_actors_collection_and_follow_its_updates()
    {
        var fay = await _a.CreateMemberAsync("fay");
        var gus = await _b.CreateMemberAsync("gus");
        await fay.PostJsonAsync("/api/v1/featured_tags", new { name = "Cooperatives" });
        await fay.PostJsonAsync("/api/v1/featured_tags", new { name = "seedswap" });
        var seedswap = (await fay.GetJsonAsync("/api/v1/featured_tags")).EnumerateArray().Single(t => t.GetProperty("name").GetString() == "seedswap").GetProperty("id").GetString();
        // What alpha publishes: the actor names the collection, whose items are Hashtags.
        using (var request = new HttpRequestMessage(HttpMethod.Get, fay.ActorId))
        {
            request.Headers.Accept.ParseAdd("application/activity+json");
            var actor = await Api.JsonAsync(await _a.Client.SendAsync(request));
            Assert.That(actor.GetProperty("featuredTags").GetString(), Is.EqualTo($"{fay.ActorId}/collections/tags"));
        }

        // gus's server learns of fay (a lookup stores her actor) and reads the collection.
        var fayOnB = await IdOfAsync(gus, fay);
        await Api.EventuallyAsync(async () => (await FeaturedTagNamesAsync(gus, fayOnB)).SequenceEqual(["cooperatives", "seedswap"]),
            "beta to read fay's featured tags");
        var tag = (await gus.GetJsonAsync($"/api/v1/accounts/{fayOnB}/featured_tags"))[0];
        Assert.That(tag.GetProperty("id").GetString(), Is.Not.Empty);
        Assert.That(tag.GetProperty("statuses_count").GetInt32(), Is.Zero);

        // A change reaches followers' servers as Update(actor), and the collection is read again.
        await FollowAndWaitAsync(gus, fay);
        await Api.JsonAsync(await fay.Api.DeleteAsync(new Uri($"/api/v1/featured_tags/{seedswap}", UriKind.Relative)));
        await fay.PostJsonAsync("/api/v1/featured_tags", new { name = "gardening" });
        await Api.EventuallyAsync(async () => (await FeaturedTagNamesAsync(gus, fayOnB)).SequenceEqual(CooperativesAndGardening),
            "beta to follow fay's featured tags change");
        Assert.That(await FeaturedTagNamesAsync(fay, (await fay.GetJsonAsync("/api/v1/accounts/verify_credentials")).GetProperty("id").GetString()!),
            Is.EqualTo(CooperativesAndGardening), "the same on her own server");
    }

    [Test]
    public async Task Remote_featured_tags_only_from_the_actors_origin_and_at_most_ten()
    {
        var elsewhereHits = 0;
        var (elsewhere, elsewhereUrl) = await LoopbackApp.StartAsync(app => app.MapGet("/tags", (HttpContext c) =>
        {
            Interlocked.Increment(ref elsewhereHits);
            return Results.Text($$"""{"id":"{{c.Request.Scheme}}://{{c.Request.Host}}/tags","type":"Collection","items":[{"type":"Hashtag","name":"#stolen"}]}""",
                "application/activity+json");
        }));
        string origin = "";
        static string Actor(string origin, string name, string tags) => $$"""
            {"@context":"https://www.w3.org/ns/activitystreams","id":"{{origin}}/users/{{name}}","type":"Person","preferredUsername":"{{name}}",
             "inbox":"{{origin}}/users/{{name}}/inbox","featuredTags":"{{tags}}"}
            """;
        var items = string.Join(",", Enumerable.Range(0, 25).Select(i => $$"""{"type":"Hashtag","name":"#t{{i:00}}"}"""));
        var (peer, peerUrl) = await LoopbackApp.StartAsync(app =>
        {
            app.MapGet("/users/mallory", () => Results.Text(Actor(origin, "mallory", elsewhereUrl + "/tags"), "application/activity+json"));
            app.MapGet("/users/trudy", () => Results.Text(Actor(origin, "trudy", origin + "/users/trudy/tags"), "application/activity+json"));
            app.MapGet("/users/trudy/tags", () => Results.Text($$"""
                {"id":"{{origin}}/users/trudy/tags","type":"Collection","totalItems":28,
                 "items":[{"type":"Mention","name":"@someone"},{"type":"Hashtag","name":"#bad tag!"},{"type":"Hashtag","name":"#"},{{items}}]}
                """, "application/activity+json"));
        });
        // The handlers read origin when asked, by which time it is known.
        origin = peerUrl;
        try
        {
            var hal = await _b.CreateMemberAsync("hal");
            async Task<string> ResolveAsync(string uri) =>
                (await hal.GetJsonAsync($"/api/v2/search?type=accounts&resolve=true&q={Uri.EscapeDataString(uri)}")).GetProperty("accounts")[0].GetProperty("id").GetString()!;
            var mallory = await ResolveAsync($"{peerUrl}/users/mallory");
            var trudy = await ResolveAsync($"{peerUrl}/users/trudy");

            var expected = Enumerable.Range(0, 10).Select(i => $"t{i:00}").ToList();
            await Api.EventuallyAsync(async () => (await FeaturedTagNamesAsync(hal, trudy)).SequenceEqual(expected),
                "the first ten valid hashtags of trudy's collection");
            Assert.That(await FeaturedTagNamesAsync(hal, mallory), Is.Empty, "a collection on another origin is not read");
            Assert.That(Volatile.Read(ref elsewhereHits), Is.Zero, "nor even fetched");
        }
        finally
        {
            await peer.DisposeAsync();
            await elsewhere.DisposeAsync();
        }
    }

    [Test]
    public async Task Endorsements_stay_on_the_members_server_as_in_mastodon()
    {
        var ivy = await _a.CreateMemberAsync("ivy");
        var jon = await _a.CreateMemberAsync("jon");
        var kim = await _b.CreateMemberAsync("kim");
        await ivy.PostJsonAsync($"/api/v1/accounts/{jon.AccountId}/follow");
        await ivy.PostJsonAsync($"/api/v1/accounts/{jon.AccountId}/endorse");
        Assert.That((await ivy.GetJsonAsync($"/api/v1/accounts/{ivy.AccountId}/endorsements")).GetArrayLength(), Is.EqualTo(1), "shown on ivy's server");

        // Mastodon publishes no endorsements on the actor, so neither do we; the other server lists none for her.
        using (var request = new HttpRequestMessage(HttpMethod.Get, ivy.ActorId))
        {
            request.Headers.Accept.ParseAdd("application/activity+json");
            var actor = await Api.JsonAsync(await _a.Client.SendAsync(request));
            var names = actor.EnumerateObject().Select(p => p.Name).ToList();
            Assert.That(names, Does.Contain("featuredTags"));
            Assert.That(names, Has.None.Contains("ndorse").And.None.EqualTo("featuredCollections"));
        }
        var ivyOnB = await IdOfAsync(kim, ivy);
        Assert.That((await kim.GetJsonAsync($"/api/v1/accounts/{ivyOnB}/endorsements")).GetArrayLength(), Is.Zero);
    }
}
