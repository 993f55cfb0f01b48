using System.Net;
using System.Net.Http.Json;
using System.Text.Json;
using NUnit.Framework;

namespace Fellows.Server.Tests.ClientApi;

/// <summary>Editing posts with history (here and on a follower's server), pins, and who favourited or boosted.</summary>
[NonParallelizable]
public class StatusEditTests
{
    FellowsInstance _home = null!;
    FellowsInstance _away = null!;

    [OneTimeSetUp]
    public async Task StartAsync()
    {
        _home = await FellowsInstance.StartAsync("edits");
        _away = await FellowsInstance.StartAsync("editsaway");
    }

    [OneTimeTearDown]
    public async Task StopAsync()
    {
        await _home.DisposeAsync();
        await _away.DisposeAsync();
    }

    [Test]
    public async Task Edit_keeps_history_and_reaches_the_followers_server()
    {
        var rae = await _home.CreateMemberAsync("rae");
        var sol = await _away.CreateMemberAsync("sol");
        var raeOnAway = (await sol.GetJsonAsync($"/api/v1/accounts/lookup?acct={rae.Handle}")).GetProperty("id").GetString();
        await sol.PostJsonAsync($"/api/v1/accounts/{raeOnAway}/follow");
        await Api.EventuallyAsync(async () => (await sol.GetJsonAsync($"/api/v1/accounts/relationships?id[]={raeOnAway}"))[0].GetProperty("following").GetBoolean(),
            "the follow to be accepted");

        var post = await rae.PostJsonAsync("/api/v1/statuses", new { status = "Meeting on Tuesdy #general" });
        var id = post.GetProperty("id").GetString();
        await Api.EventuallyAsync(async () => (await sol.GetJsonAsync("/api/v1/timelines/home")).EnumerateArray()
            .Any(s => s.GetProperty("uri").GetString() == post.GetProperty("uri").GetString()), "the post on the follower's home");

        var edited = await Api.JsonAsync(await rae.Api.PutAsJsonAsync(new Uri($"/api/v1/statuses/{id}", UriKind.Relative),
            new { status = "Meeting on Tuesday #assembly", spoiler_text = "logistics" }));
        Assert.Multiple(() =>
        {
            Assert.That(edited.GetProperty("content").GetString(), Does.Contain("Tuesday"));
            Assert.That(edited.GetProperty("edited_at").ValueKind, Is.EqualTo(JsonValueKind.String));
            Assert.That(edited.GetProperty("spoiler_text").GetString(), Is.EqualTo("logistics"));
            Assert.That(edited.GetProperty("tags").EnumerateArray().Single().GetProperty("name").GetString(), Is.EqualTo("assembly"));
            Assert.That(edited.GetProperty("visibility").GetString(), Is.EqualTo(post.GetProperty("visibility").GetString()));
        });
        var source = await rae.GetJsonAsync($"/api/v1/statuses/{id}/source");
        Assert.That(source.GetProperty("text").GetString(), Is.EqualTo("Meeting on Tuesday #assembly"));
        var history = await rae.GetJsonAsync($"/api/v1/statuses/{id}/history");
        Assert.That(history.GetArrayLength(), Is.EqualTo(2));
        Assert.That(history[0].GetProperty("content").GetString(), Does.Contain("Tuesdy"), "oldest first");
        Assert.That(history[1].GetProperty("content").GetString(), Does.Contain("Tuesday"), "ending with the current text");

        // The follower's server applies the Update and keeps its own history.
        var remote = (JsonElement)await Api.EventuallyAsync(async () =>
        {
            var found = (await sol.GetJsonAsync("/api/v1/timelines/home")).EnumerateArray()
                .FirstOrDefault(s => s.GetProperty("uri").GetString() == post.GetProperty("uri").GetString());
            return found.ValueKind == JsonValueKind.Object && found.GetProperty("content").GetString()!.Contains("Tuesday", StringComparison.Ordinal) ? (object)found : null;
        }, "the edit on the follower's server");
        Assert.That(remote.GetProperty("edited_at").ValueKind, Is.EqualTo(JsonValueKind.String));
        var remoteHistory = await sol.GetJsonAsync($"/api/v1/statuses/{remote.GetProperty("id").GetString()}/history");
        Assert.That(remoteHistory.GetArrayLength(), Is.EqualTo(2));

        // Only the author edits; blank edits are refused.
        Assert.That((await sol.Api.PutAsJsonAsync(new Uri($"/api/v1/statuses/{remote.GetProperty("id").GetString()}", UriKind.Relative), new { status = "hijack" })).StatusCode,
            Is.EqualTo(HttpStatusCode.NotFound));
        var other = await _home.CreateMemberAsync("tam");
        Assert.That((await other.Api.PutAsJsonAsync(new Uri($"/api/v1/statuses/{id}", UriKind.Relative), new { status = "hijack" })).StatusCode, Is.EqualTo(HttpStatusCode.NotFound));
        Assert.That((int)(await rae.Api.PutAsJsonAsync(new Uri($"/api/v1/statuses/{id}", UriKind.Relative), new { status = "  " })).StatusCode, Is.EqualTo(422));
    }

    [Test]
    public async Task Pins_are_limited_and_featured_and_favourites_list_who()
    {
        var uma = await _home.CreateMemberAsync("uma");
        var vic = await _home.CreateMemberAsync("vic");
        var ids = new List<string>();
        for (var i = 0; i < 6; i++) ids.Add((await uma.PostJsonAsync("/api/v1/statuses", new { status = $"decision {i}" })).GetProperty("id").GetString()!);
        for (var i = 0; i < 5; i++)
            Assert.That((await uma.PostJsonAsync($"/api/v1/statuses/{ids[i]}/pin")).GetProperty("pinned").GetBoolean(), Is.True);
        Assert.That((int)(await uma.Api.PostAsync(new Uri($"/api/v1/statuses/{ids[5]}/pin", UriKind.Relative), null)).StatusCode, Is.EqualTo(422), "at most five");
        Assert.That((int)(await vic.Api.PostAsync(new Uri($"/api/v1/statuses/{ids[5]}/pin", UriKind.Relative), null)).StatusCode, Is.EqualTo(422), "not someone else's");
        var featured = await Api.JsonAsync(await _home.Client.GetAsync(new Uri("/users/uma/collections/featured", UriKind.Relative)));
        Assert.That(featured.GetProperty("totalItems").GetInt32(), Is.EqualTo(5));
        Assert.That((await uma.PostJsonAsync($"/api/v1/statuses/{ids[0]}/unpin")).GetProperty("pinned").GetBoolean(), Is.False);

        await vic.PostJsonAsync($"/api/v1/statuses/{ids[1]}/favourite");
        await vic.PostJsonAsync($"/api/v1/statuses/{ids[1]}/reblog");
        var favouritedBy = await uma.GetJsonAsync($"/api/v1/statuses/{ids[1]}/favourited_by");
        var rebloggedBy = await uma.GetJsonAsync($"/api/v1/statuses/{ids[1]}/reblogged_by");
        Assert.That(favouritedBy.EnumerateArray().Single().GetProperty("username").GetString(), Is.EqualTo("vic"));
        Assert.That(rebloggedBy.EnumerateArray().Single().GetProperty("username").GetString(), Is.EqualTo("vic"));
    }

    [Test]
    public async Task Idempotency_key_makes_a_retried_post_count_once()
    {
        var wes = await _home.CreateMemberAsync("wes");
        async Task<string> PostAsync(string key, string text)
        {
            using var request = new HttpRequestMessage(HttpMethod.Post, "/api/v1/statuses") { Content = JsonContent.Create(new { status = text }) };
            request.Headers.Add("Idempotency-Key", key);
            return (await Api.JsonAsync(await wes.Api.SendAsync(request))).GetProperty("id").GetString()!;
        }
        var results = await Task.WhenAll(PostAsync("k-1", "Rota done"), PostAsync("k-1", "Rota done"), PostAsync("k-1", "Rota done"));
        Assert.That(results.Distinct().Count(), Is.EqualTo(1), "concurrent retries get the same post");
        Assert.That(await PostAsync("k-2", "Rota done"), Is.Not.EqualTo(results[0]), "a new key is a new post");
        var mine = await wes.GetJsonAsync($"/api/v1/accounts/{wes.AccountId}/statuses");
        Assert.That(mine.GetArrayLength(), Is.EqualTo(2));
    }
}
