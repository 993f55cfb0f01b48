using System.Text.Json;
using NUnit.Framework;

namespace Fellows.Server.Tests.Federation;

/// <summary>
/// Account-level actions that other servers must hear of: a member's domain block and remove_from_followers end
/// follows on both servers, and a featured tag change reaches followers' servers as Update(actor).
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

        await ada.PostJsonAsync("/api/v1/domain_blocks", new { domain = _b.Domain });

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
}
