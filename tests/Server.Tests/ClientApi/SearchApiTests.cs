using System.Net;
using System.Net.Http.Json;
using NUnit.Framework;

namespace Fellows.Server.Tests.ClientApi;

/// <summary>Search v2 (local, and resolving from another server), hashtag timelines, and posting preferences.</summary>
[NonParallelizable]
public class SearchApiTests
{
    FellowsInstance _home = null!;
    FellowsInstance _away = null!;

    [OneTimeSetUp]
    public async Task StartAsync()
    {
        _home = await FellowsInstance.StartAsync("search");
        _away = await FellowsInstance.StartAsync("searchaway");
    }

    [OneTimeTearDown]
    public async Task StopAsync()
    {
        await _home.DisposeAsync();
        await _away.DisposeAsync();
    }

    [Test]
    public async Task Search_finds_members_hashtags_and_own_words_and_resolves_remote_handles_and_posts()
    {
        var wren = await _home.CreateMemberAsync("wren");
        var wren2 = await _home.CreateMemberAsync("wrenfield");
        var xia = await _home.CreateMemberAsync("xia");
        await wren.PostJsonAsync("/api/v1/statuses", new { status = "The compost rota starts Monday #gardening" });
        await xia.PostJsonAsync("/api/v1/statuses", new { status = "compost is xia's own business", visibility = "private" });

        var byName = await wren.GetJsonAsync("/api/v2/search?q=wren&type=accounts");
        Assert.That(byName.GetProperty("accounts").EnumerateArray().Select(a => a.GetProperty("username").GetString()), Is.EquivalentTo(new[] { wren.Username, wren2.Username }));
        var tags = await wren.GetJsonAsync("/api/v2/search?q=%23garden&type=hashtags");
        Assert.That(tags.GetProperty("hashtags")[0].GetProperty("name").GetString(), Is.EqualTo("gardening"));
        var words = await wren.GetJsonAsync("/api/v2/search?q=compost&type=statuses");
        Assert.That(words.GetProperty("statuses").GetArrayLength(), Is.EqualTo(1), "only posts the searcher wrote, was mentioned in or favourited");
        Assert.That(words.GetProperty("statuses")[0].GetProperty("content").GetString(), Does.Contain("rota"));

        // A handle and a post URL on another server are found only when resolving.
        var yan = await _away.CreateMemberAsync("yan");
        var remotePost = await yan.PostJsonAsync("/api/v1/statuses", new { status = "Shared tools library opens today", visibility = "public" });
        var hidden = await yan.PostJsonAsync("/api/v1/statuses", new { status = "only for my followers", visibility = "private" });
        var unresolved = await wren.GetJsonAsync($"/api/v2/search?q={Uri.EscapeDataString(yan.Handle)}");
        Assert.That(unresolved.GetProperty("accounts").GetArrayLength(), Is.Zero);
        var resolved = await wren.GetJsonAsync($"/api/v2/search?q={Uri.EscapeDataString(yan.Handle)}&resolve=true");
        Assert.That(resolved.GetProperty("accounts")[0].GetProperty("acct").GetString(), Is.EqualTo(yan.Handle));
        var post = await wren.GetJsonAsync($"/api/v2/search?q={Uri.EscapeDataString(remotePost.GetProperty("uri").GetString()!)}&resolve=true&type=statuses");
        Assert.That(post.GetProperty("statuses")[0].GetProperty("content").GetString(), Does.Contain("tools library"));
        var refused = await wren.GetJsonAsync($"/api/v2/search?q={Uri.EscapeDataString(hidden.GetProperty("uri").GetString()!)}&resolve=true&type=statuses");
        Assert.That(refused.GetProperty("statuses").GetArrayLength(), Is.Zero, "a followers-only post is not fetched for a stranger");

        var bad = await wren.Api.GetAsync(new Uri("/api/v2/search?q=x&type=everything", UriKind.Relative));
        Assert.That((int)bad.StatusCode, Is.EqualTo(422));
        Assert.That((await _home.Client.GetAsync(new Uri("/api/v2/search?q=x", UriKind.Relative))).StatusCode, Is.EqualTo(HttpStatusCode.Unauthorized));
    }

    [Test]
    public async Task Tag_timeline_honours_any_all_none_and_only_media_and_preferences_follow_defaults()
    {
        var zed = await _home.CreateMemberAsync("zed");
        var both = await zed.PostJsonAsync("/api/v1/statuses", new { status = "#bikes and #repair night" });
        var bikes = await zed.PostJsonAsync("/api/v1/statuses", new { status = "#bikes for sale" });
        await zed.PostJsonAsync("/api/v1/statuses", new { status = "#bikes in private", visibility = "private" });
        static IEnumerable<string?> Ids(System.Text.Json.JsonElement page) => page.EnumerateArray().Select(s => s.GetProperty("id").GetString());

        Assert.That(Ids(await zed.GetJsonAsync("/api/v1/timelines/tag/bikes")), Is.EqualTo(new[] { bikes.GetProperty("id").GetString(), both.GetProperty("id").GetString() }));
        Assert.That(Ids(await zed.GetJsonAsync("/api/v1/timelines/tag/bikes?all[]=repair")), Is.EqualTo(new[] { both.GetProperty("id").GetString() }));
        Assert.That(Ids(await zed.GetJsonAsync("/api/v1/timelines/tag/bikes?none[]=repair")), Is.EqualTo(new[] { bikes.GetProperty("id").GetString() }));
        Assert.That(Ids(await zed.GetJsonAsync("/api/v1/timelines/tag/bikes?only_media=true")), Is.Empty);

        await Api.JsonAsync(await zed.Api.PatchAsJsonAsync(new Uri("/api/v1/accounts/update_credentials", UriKind.Relative),
            new { source = new { privacy = "private", language = "cy" } }));
        var preferences = await zed.GetJsonAsync("/api/v1/preferences");
        Assert.That(preferences.GetProperty("posting:default:visibility").GetString(), Is.EqualTo("private"));
        Assert.That(preferences.GetProperty("posting:default:language").GetString(), Is.EqualTo("cy"));
    }
}
