using System.Net.Http.Json;
using System.Text.Json;
using NUnit.Framework;

namespace Fellows.Server.Tests.Federation;

/// <summary>
/// Three Fellows instances on loopback: locked accounts, boosts that cross a third server, blocks, and an
/// instance that is down while others deliver to it.
/// </summary>
[NonParallelizable]
public class ThreeInstanceTests
{
    // Retries within seconds, so "down, then back" is observable in a test without waiting for real back-off.
    static readonly Dictionary<string, string?> QuickRetries = new()
    {
        ["Delivery:BackoffBase"] = "00:00:01",
        ["Delivery:BackoffCap"] = "00:00:02",
        ["Delivery:PollInterval"] = "00:00:01",
    };

    FellowsInstance _a = null!;
    FellowsInstance _b = null!;
    FellowsInstance _c = null!;

    [OneTimeSetUp]
    public async Task StartAsync()
    {
        _a = await FellowsInstance.StartAsync("one", settings: QuickRetries);
        _b = await FellowsInstance.StartAsync("two", settings: QuickRetries);
        _c = await FellowsInstance.StartAsync("three", settings: QuickRetries);
    }

    [OneTimeTearDown]
    public async Task StopAsync()
    {
        await _a.DisposeAsync();
        await _b.DisposeAsync();
        await _c.DisposeAsync();
    }

    /// <summary>The id under which <paramref name="viewer"/>'s server knows <paramref name="other"/> (resolving it if needed).</summary>
    static async Task<string> IdOfAsync(Member viewer, Member other) =>
        (await viewer.GetJsonAsync($"/api/v1/accounts/lookup?acct={other.Handle}")).GetProperty("id").GetString()!;

    static async Task FollowAndWaitAsync(Member follower, Member followee)
    {
        var id = await IdOfAsync(follower, followee);
        await follower.PostJsonAsync($"/api/v1/accounts/{id}/follow");
        await Api.EventuallyAsync(async () => (await follower.GetJsonAsync($"/api/v1/accounts/relationships?id[]={id}"))[0].GetProperty("following").GetBoolean(),
            $"{followee.Handle} to accept {follower.Handle}");
    }

    static async Task<JsonElement?> FindInHomeAsync(Member member, Func<JsonElement, bool> match)
    {
        var home = await member.GetJsonAsync("/api/v1/timelines/home?limit=40");
        foreach (var s in home.EnumerateArray())
            if (match(s)) return s;
        return null;
    }

    [Test]
    public async Task Locked_member_holds_follow_until_authorized_then_followers_only_posts_arrive()
    {
        var carl = await _c.CreateMemberAsync("carl", locked: true);
        var amy = await _a.CreateMemberAsync("amy");
        var carlId = await IdOfAsync(amy, carl);
        var relationship = await amy.PostJsonAsync($"/api/v1/accounts/{carlId}/follow");
        Assert.That(relationship.GetProperty("following").GetBoolean(), Is.False);
        Assert.That(relationship.GetProperty("requested").GetBoolean(), Is.True);

        var requests = await Api.EventuallyAsync(async () =>
        {
            var list = await carl.GetJsonAsync("/api/v1/follow_requests");
            return list.GetArrayLength() == 1 ? (object)list : null;
        }, "the follow request to reach carl");
        var request = ((JsonElement)requests)[0];
        Assert.That(request.GetProperty("acct").GetString(), Is.EqualTo(amy.Handle));

        // Before accepting, a followers-only post doesn't go to amy's server.
        var early = await carl.PostJsonAsync("/api/v1/statuses", new { status = "before you joined", visibility = "private" });
        await carl.PostJsonAsync($"/api/v1/follow_requests/{request.GetProperty("id").GetString()}/authorize");
        await Api.EventuallyAsync(async () => (await amy.GetJsonAsync($"/api/v1/accounts/relationships?id[]={carlId}"))[0].GetProperty("following").GetBoolean(),
            "carl's Accept to reach amy's server");

        var posted = await carl.PostJsonAsync("/api/v1/statuses", new { status = "members of the kitchen only", visibility = "private" });
        var seen = await Api.EventuallyAsync(async () => await FindInHomeAsync(amy, s => s.GetProperty("uri").GetString() == posted.GetProperty("uri").GetString()) is { } s ? (object)s : null,
            "carl's followers-only post on amy's home");
        Assert.That(((JsonElement)seen).GetProperty("visibility").GetString(), Is.EqualTo("private"));
        Assert.That(await FindInHomeAsync(amy, s => s.GetProperty("uri").GetString() == early.GetProperty("uri").GetString()), Is.Null);
    }

    [Test]
    public async Task Boost_reaches_a_third_instance_with_the_original_fetched_from_its_server()
    {
        var ben = await _b.CreateMemberAsync("ben");
        var ava = await _a.CreateMemberAsync("ava");
        var cat = await _c.CreateMemberAsync("cat");
        await FollowAndWaitAsync(ava, ben);
        await FollowAndWaitAsync(cat, ava);

        var post = await ben.PostJsonAsync("/api/v1/statuses", new { status = "Workshop on Saturday" });
        var onA = await Api.EventuallyAsync(async () => await FindInHomeAsync(ava, s => s.GetProperty("uri").GetString() == post.GetProperty("uri").GetString()) is { } s ? (object)s : null,
            "ben's post on ava's home");
        await ava.PostJsonAsync($"/api/v1/statuses/{((JsonElement)onA).GetProperty("id").GetString()}/reblog");

        var boost = (JsonElement)await Api.EventuallyAsync(async () =>
            await FindInHomeAsync(cat, s => s.GetProperty("reblog").ValueKind == JsonValueKind.Object
                && s.GetProperty("reblog").GetProperty("uri").GetString() == post.GetProperty("uri").GetString()) is { } s ? (object)s : null,
            "ava's boost of ben's post on cat's home");
        Assert.Multiple(() =>
        {
            Assert.That(boost.GetProperty("account").GetProperty("acct").GetString(), Is.EqualTo(ava.Handle));
            Assert.That(boost.GetProperty("reblog").GetProperty("account").GetProperty("acct").GetString(), Is.EqualTo(ben.Handle));
            Assert.That(boost.GetProperty("reblog").GetProperty("content").GetString(), Does.Contain("Workshop on Saturday"));
        });

        // Taking the boost back removes it from cat's home too.
        await ava.PostJsonAsync($"/api/v1/statuses/{((JsonElement)onA).GetProperty("id").GetString()}/unreblog");
        await Api.EventuallyAsync(async () => await FindInHomeAsync(cat, s => s.GetProperty("id").GetString() == boost.GetProperty("id").GetString()) is null,
            "the undone boost to leave cat's home");
    }

    [Test]
    public async Task Block_ends_the_remote_follow_and_stops_posts()
    {
        var bea = await _b.CreateMemberAsync("bea");
        var abe = await _a.CreateMemberAsync("abe");
        await FollowAndWaitAsync(bea, abe);
        var beaOnA = await IdOfAsync(abe, bea);
        var abeOnB = await IdOfAsync(bea, abe);

        var blocked = await abe.PostJsonAsync($"/api/v1/accounts/{beaOnA}/block");
        Assert.That(blocked.GetProperty("blocking").GetBoolean(), Is.True);
        Assert.That(blocked.GetProperty("followed_by").GetBoolean(), Is.False);
        await Api.EventuallyAsync(async () =>
        {
            var r = (await bea.GetJsonAsync($"/api/v1/accounts/relationships?id[]={abeOnB}"))[0];
            return !r.GetProperty("following").GetBoolean() && r.GetProperty("blocked_by").GetBoolean();
        }, "the Block to end bea's follow on her server");

        var post = await abe.PostJsonAsync("/api/v1/statuses", new { status = "not for bea" });
        var control = await abe.PostJsonAsync("/api/v1/statuses", new { status = $"@{bea.Handle} you are blocked", visibility = "direct" });
        // Once both are fanned out, neither has a delivery to bea's server.
        await using var conn = new Npgsql.NpgsqlConnection(_a.ConnectionString);
        await conn.OpenAsync();
        await Api.EventuallyAsync(async () =>
        {
            await using var pending = new Npgsql.NpgsqlCommand("SELECT count(*) FROM outbox_activities WHERE fanned_out_at IS NULL", conn);
            return (long)(await pending.ExecuteScalarAsync())! == 0;
        }, "abe's posts to be fanned out");
        await using var cmd = new Npgsql.NpgsqlCommand("""
            SELECT count(*) FROM deliveries d JOIN outbox_activities o ON o.id = d.outbox_activity_id
            WHERE d.host = @h AND (o.body LIKE '%' || @p || '%' OR o.body LIKE '%' || @c || '%')
            """, conn);
        cmd.Parameters.AddWithValue("h", _b.Domain);
        cmd.Parameters.AddWithValue("p", post.GetProperty("uri").GetString()!);
        cmd.Parameters.AddWithValue("c", control.GetProperty("uri").GetString()!);
        Assert.That((long)(await cmd.ExecuteScalarAsync())!, Is.Zero);
        Assert.That(control.GetProperty("mentions").GetArrayLength(), Is.Zero, "a blocked account is not mentioned");
    }

    [Test]
    public async Task Deliveries_to_an_instance_that_is_down_arrive_after_it_comes_back()
    {
        var bo = await _b.CreateMemberAsync("bo");
        var al = await _a.CreateMemberAsync("al");
        await FollowAndWaitAsync(bo, al);

        await _b.StopAsync();
        var post = await al.PostJsonAsync("/api/v1/statuses", new { status = "sent while you were away" });
        // The first attempt fails (connection refused) and is queued for a retry, not lost.
        await Api.EventuallyAsync(async () =>
        {
            await using var conn = new Npgsql.NpgsqlConnection(_a.ConnectionString);
            await conn.OpenAsync();
            await using var cmd = new Npgsql.NpgsqlCommand("SELECT count(*) FROM deliveries WHERE host = @h AND state = 0 AND attempts >= 1", conn);
            cmd.Parameters.AddWithValue("h", _b.Domain);
            return (long)(await cmd.ExecuteScalarAsync())! >= 1;
        }, "a failed attempt to be recorded for retry");

        await _b.StartAsync();
        var bo2 = bo with { Api = new HttpClient { BaseAddress = new Uri(_b.BaseUrl) } };
        bo2.Api.DefaultRequestHeaders.Authorization = new System.Net.Http.Headers.AuthenticationHeaderValue("Bearer", bo.Token);
        await Api.EventuallyAsync(async () => await FindInHomeAsync(bo2, s => s.GetProperty("uri").GetString() == post.GetProperty("uri").GetString()) is not null,
            "the post to arrive once bo's server is back", seconds: 60);
    }

    [Test]
    public async Task Profile_update_and_move_carry_followers_to_the_new_account()
    {
        var mover = await _a.CreateMemberAsync("mover");
        var arrival = await _b.CreateMemberAsync("arrival");
        var faraway = await _c.CreateMemberAsync("faraway");
        var neighbour = await _a.CreateMemberAsync("neighbour");
        await FollowAndWaitAsync(faraway, mover);
        await FollowAndWaitAsync(neighbour, mover);

        // A profile edit reaches the follower's server as an Update of the actor.
        await Api.JsonAsync(await mover.Api.PatchAsJsonAsync(new Uri("/api/v1/accounts/update_credentials", UriKind.Relative),
            new { display_name = "Mo the Mover", note = "Packing boxes" }));
        var moverOnC = await IdOfAsync(faraway, mover);
        await Api.EventuallyAsync(async () => (await faraway.GetJsonAsync($"/api/v1/accounts/{moverOnC}")).GetProperty("display_name").GetString() == "Mo the Mover",
            "the new display name on the follower's server");

        // Moving needs the alias on the new account first, and the current password.
        var refused = await mover.Api.PostAsJsonAsync(new Uri("/api/fellows/v1/profile/move", UriKind.Relative),
            new { acct = arrival.Handle, current_password = "correct horse battery" });
        Assert.That((int)refused.StatusCode, Is.EqualTo(422), await refused.Content.ReadAsStringAsync());
        var aliases = await arrival.PostJsonAsync("/api/fellows/v1/profile/aliases", new { acct = mover.Handle });
        Assert.That(aliases.GetProperty("aliases").EnumerateArray().Select(a => a.GetString()), Is.EqualTo(new[] { mover.ActorId }));
        var wrongPassword = await mover.Api.PostAsJsonAsync(new Uri("/api/fellows/v1/profile/move", UriKind.Relative),
            new { acct = arrival.Handle, current_password = "not it" });
        Assert.That((int)wrongPassword.StatusCode, Is.EqualTo(422));

        var moved = await mover.PostJsonAsync("/api/fellows/v1/profile/move", new { acct = arrival.Handle, current_password = "correct horse battery" });
        Assert.That(moved.GetProperty("moved").GetProperty("acct").GetString(), Is.EqualTo(arrival.Handle));

        // Both followers, on the mover's server and on a third one, now follow the new account, and no longer the old.
        var arrivalOnC = await IdOfAsync(faraway, arrival);
        await Api.EventuallyAsync(async () => (await faraway.GetJsonAsync($"/api/v1/accounts/relationships?id[]={arrivalOnC}"))[0].GetProperty("following").GetBoolean(),
            "the remote follower to follow the new account");
        Assert.That((await faraway.GetJsonAsync($"/api/v1/accounts/relationships?id[]={moverOnC}"))[0].GetProperty("following").GetBoolean(), Is.False);
        var arrivalOnA = await IdOfAsync(neighbour, arrival);
        await Api.EventuallyAsync(async () => (await neighbour.GetJsonAsync($"/api/v1/accounts/relationships?id[]={arrivalOnA}"))[0].GetProperty("following").GetBoolean(),
            "the local follower to follow the new account");
        await Api.EventuallyAsync(async () => (await arrival.GetJsonAsync("/api/v1/accounts/verify_credentials")).GetProperty("followers_count").GetInt32() == 2,
            "the new account to count both followers");
        var oldOnC = await faraway.GetJsonAsync($"/api/v1/accounts/{moverOnC}");
        Assert.That(oldOnC.GetProperty("moved").GetProperty("acct").GetString(), Is.EqualTo(arrival.Handle));
    }
}
