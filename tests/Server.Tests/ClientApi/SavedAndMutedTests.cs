using System.Net;
using System.Text.Json;
using NUnit.Framework;

// Expected values read best inline in assertions; each runs once.
#pragma warning disable CA1861

namespace Fellows.Server.Tests.ClientApi;

/// <summary>Bookmarks, the favourites list, mutes, blocks list, and followers/following lists.</summary>
public class SavedAndMutedTests
{
    FellowsInstance _instance = null!;

    [OneTimeSetUp]
    public async Task StartAsync() => _instance = await FellowsInstance.StartAsync("saved");

    [OneTimeTearDown]
    public async Task StopAsync() => await _instance.DisposeAsync();

    static async Task<string> PostAsync(Member m, object body) =>
        (await m.PostJsonAsync("/api/v1/statuses", body)).GetProperty("id").GetString()!;

    static string[] Ids(JsonElement list) => list.EnumerateArray().Select(e => e.GetProperty("id").GetString()!).ToArray();

    [Test]
    public async Task Bookmarks_and_favourites_list_newest_saved_first_and_page()
    {
        var ada = await _instance.CreateMemberAsync("ada");
        var bo = await _instance.CreateMemberAsync("bo");
        var posts = new List<string>();
        for (var i = 0; i < 3; i++) posts.Add(await PostAsync(bo, new { status = $"report {i}" }));

        // Saved in another order than posted: the lists follow when they were saved.
        foreach (var id in new[] { posts[1], posts[0], posts[2] })
        {
            var bookmarked = await ada.PostJsonAsync($"/api/v1/statuses/{id}/bookmark");
            Assert.That(bookmarked.GetProperty("bookmarked").GetBoolean(), Is.True);
            await ada.PostJsonAsync($"/api/v1/statuses/{id}/favourite");
        }
        await ada.PostJsonAsync($"/api/v1/statuses/{posts[0]}/bookmark"); // twice is once
        Assert.That(Ids(await ada.GetJsonAsync("/api/v1/bookmarks")), Is.EqualTo(new[] { posts[2], posts[0], posts[1] }));
        Assert.That(Ids(await ada.GetJsonAsync("/api/v1/favourites")), Is.EqualTo(new[] { posts[2], posts[0], posts[1] }));
        Assert.That((await ada.GetJsonAsync($"/api/v1/statuses/{posts[1]}")).GetProperty("bookmarked").GetBoolean(), Is.True);
        Assert.That((await bo.GetJsonAsync($"/api/v1/statuses/{posts[1]}")).GetProperty("bookmarked").GetBoolean(), Is.False, "bookmarks are private");
        Assert.That((await bo.GetJsonAsync("/api/v1/bookmarks")).GetArrayLength(), Is.Zero);

        var first = await ada.Api.GetAsync(new Uri("/api/v1/bookmarks?limit=2", UriKind.Relative));
        Assert.That(Ids(await Api.JsonAsync(first)), Is.EqualTo(new[] { posts[2], posts[0] }));
        var next = first.Headers.GetValues("Link").Single().Split('>')[0].TrimStart('<');
        Assert.That(Ids(await Api.JsonAsync(await ada.Api.GetAsync(new Uri(next)))), Is.EqualTo(new[] { posts[1] }));

        var unbookmarked = await ada.PostJsonAsync($"/api/v1/statuses/{posts[0]}/unbookmark");
        Assert.That(unbookmarked.GetProperty("bookmarked").GetBoolean(), Is.False);
        Assert.That(Ids(await ada.GetJsonAsync("/api/v1/bookmarks")), Is.EqualTo(new[] { posts[2], posts[1] }));

        // A deleted post leaves the lists; a post one cannot see can't be bookmarked.
        await bo.Api.DeleteAsync(new Uri($"/api/v1/statuses/{posts[2]}", UriKind.Relative));
        Assert.That(Ids(await ada.GetJsonAsync("/api/v1/bookmarks")), Is.EqualTo(new[] { posts[1] }));
        Assert.That(Ids(await ada.GetJsonAsync("/api/v1/favourites")), Is.EqualTo(new[] { posts[0], posts[1] }));
        var hidden = await PostAsync(bo, new { status = "for followers", visibility = "private" });
        Assert.That((await ada.Api.PostAsync(new Uri($"/api/v1/statuses/{hidden}/bookmark", UriKind.Relative), null)).StatusCode, Is.EqualTo(HttpStatusCode.NotFound));
    }

    [Test]
    public async Task Muted_accounts_leave_timelines_and_notifications_without_being_told()
    {
        var cal = await _instance.CreateMemberAsync("cal");
        var dot = await _instance.CreateMemberAsync("dot");
        var eli = await _instance.CreateMemberAsync("eli");
        await cal.PostJsonAsync($"/api/v1/accounts/{dot.AccountId}/follow");
        await cal.PostJsonAsync($"/api/v1/accounts/{eli.AccountId}/follow");
        var dotPost = await PostAsync(dot, new { status = "dot speaking" });
        var eliBoost = (await eli.PostJsonAsync($"/api/v1/statuses/{dotPost}/reblog")).GetProperty("id").GetString();
        var eliPost = await PostAsync(eli, new { status = "eli speaking" });
        await PostAsync(dot, new { status = $"@cal hi" });
        Assert.That(Ids(await cal.GetJsonAsync("/api/v1/timelines/home")), Is.SupersetOf(new[] { dotPost, eliBoost, eliPost }));

        var relationship = await cal.PostJsonAsync($"/api/v1/accounts/{dot.AccountId}/mute");
        Assert.That(relationship.GetProperty("muting").GetBoolean(), Is.True);
        Assert.That(relationship.GetProperty("muting_notifications").GetBoolean(), Is.True);
        Assert.That(relationship.GetProperty("following").GetBoolean(), Is.True, "muting is not unfollowing");
        var home = Ids(await cal.GetJsonAsync("/api/v1/timelines/home"));
        Assert.That(home, Does.Not.Contain(dotPost).And.Not.Contain(eliBoost), "neither their posts nor boosts of them");
        Assert.That(home, Does.Contain(eliPost));
        Assert.That(Ids(await cal.GetJsonAsync("/api/v1/timelines/public?local=true")), Does.Not.Contain(dotPost));
        var told = await cal.GetJsonAsync("/api/v1/notifications");
        Assert.That(told.EnumerateArray().Select(n => n.GetProperty("account").GetProperty("id").GetString()), Does.Not.Contain(dot.AccountId.ToString()));
        Assert.That(Ids(await cal.GetJsonAsync("/api/v1/mutes")), Is.EqualTo(new[] { dot.AccountId.ToString() }));
        var seenByDot = (await dot.GetJsonAsync($"/api/v1/accounts/relationships?id[]={cal.AccountId}"))[0];
        Assert.That(seenByDot.GetProperty("following").GetBoolean(), Is.False);
        Assert.That(seenByDot.GetProperty("blocked_by").GetBoolean(), Is.False, "dot is not told");

        // Muting posts but not notifications.
        await cal.PostJsonAsync($"/api/v1/accounts/{dot.AccountId}/mute", new { notifications = false });
        var mentions = await cal.GetJsonAsync("/api/v1/notifications?types[]=mention");
        Assert.That(mentions.GetArrayLength(), Is.EqualTo(1));

        var unmuted = await cal.PostJsonAsync($"/api/v1/accounts/{dot.AccountId}/unmute");
        Assert.That(unmuted.GetProperty("muting").GetBoolean(), Is.False);
        Assert.That(Ids(await cal.GetJsonAsync("/api/v1/timelines/home")), Does.Contain(dotPost));
        Assert.That((await cal.GetJsonAsync("/api/v1/mutes")).GetArrayLength(), Is.Zero);

        var bad = await cal.Api.PostAsync(new Uri($"/api/v1/accounts/{dot.AccountId}/mute?duration=soon", UriKind.Relative), null);
        Assert.That(bad.StatusCode, Is.EqualTo(HttpStatusCode.UnprocessableEntity));
        var self = await cal.Api.PostAsync(new Uri($"/api/v1/accounts/{cal.AccountId}/mute", UriKind.Relative), null);
        Assert.That(self.StatusCode, Is.EqualTo(HttpStatusCode.Forbidden));
    }

    [Test]
    public async Task Followers_following_and_blocks_list_with_paging()
    {
        var fay = await _instance.CreateMemberAsync("fay");
        var fans = new List<Member>();
        for (var i = 0; i < 3; i++)
        {
            var fan = await _instance.CreateMemberAsync($"fan{i}");
            await fan.PostJsonAsync($"/api/v1/accounts/{fay.AccountId}/follow");
            fans.Add(fan);
        }
        await fay.PostJsonAsync($"/api/v1/accounts/{fans[0].AccountId}/follow");

        var expected = fans.Select(f => f.AccountId.ToString()).Reverse().ToArray();
        Assert.That(Ids(await fay.GetJsonAsync($"/api/v1/accounts/{fay.AccountId}/followers")), Is.EqualTo(expected), "newest follower first");
        Assert.That(Ids(await fans[1].GetJsonAsync($"/api/v1/accounts/{fay.AccountId}/following")), Is.EqualTo(new[] { fans[0].AccountId.ToString() }));
        var first = await fay.Api.GetAsync(new Uri($"/api/v1/accounts/{fay.AccountId}/followers?limit=2", UriKind.Relative));
        Assert.That(Ids(await Api.JsonAsync(first)), Is.EqualTo(expected.Take(2)));
        var next = first.Headers.GetValues("Link").Single().Split('>')[0].TrimStart('<');
        Assert.That(Ids(await Api.JsonAsync(await fay.Api.GetAsync(new Uri(next)))), Is.EqualTo(expected.Skip(2)));
        // The last page offers only "prev" (min_id: the follows made after its newest), read newest first.
        var last = await fay.Api.GetAsync(new Uri(next));
        var prev = last.Headers.GetValues("Link").Single();
        Assert.That(prev, Does.Contain("min_id=").And.Contain("rel=\"prev\"").And.Not.Contain("rel=\"next\""));
        Assert.That(Ids(await Api.JsonAsync(await fay.Api.GetAsync(new Uri(prev.Split('>')[0].TrimStart('<'))))), Is.EqualTo(expected.Take(2)));
        Assert.That((await _instance.Client.GetAsync(new Uri("/api/v1/accounts/0/followers", UriKind.Relative))).StatusCode, Is.EqualTo(HttpStatusCode.NotFound));
        Assert.That((await _instance.Client.GetAsync(new Uri("/api/v1/accounts/123456/following", UriKind.Relative))).StatusCode, Is.EqualTo(HttpStatusCode.NotFound));

        await fay.PostJsonAsync($"/api/v1/accounts/{fans[2].AccountId}/block");
        Assert.That(Ids(await fay.GetJsonAsync("/api/v1/blocks")), Is.EqualTo(new[] { fans[2].AccountId.ToString() }));
        Assert.That(Ids(await fay.GetJsonAsync($"/api/v1/accounts/{fay.AccountId}/followers")), Is.EqualTo(expected.Skip(1)), "a block ends the follow");
    }
}
