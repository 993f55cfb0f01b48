// Request bodies are written inline so each test reads as the HTTP it sends.
#pragma warning disable CA1861
using System.Net;
using System.Net.Http.Headers;
using System.Net.Http.Json;
using System.Text.Json;
using Microsoft.Extensions.Time.Testing;
using NUnit.Framework;

namespace Fellows.Server.Tests.ClientApi;

/// <summary>
/// Editing a post that has a poll (<c>PUT /api/v1/statuses/:id</c> with <c>poll[...]</c>), as Mastodon does it: the
/// same options keep the votes, new options (or a switch to several choices) void them, leaving the poll out removes
/// it, and the change reaches another Fellows instance as an Update of the Question that resets the votes there too.
/// </summary>
[NonParallelizable]
public class PollEditTests
{
    ClockedInstances _instances = null!;
    FakeTimeProvider _clockA = null!;
    FellowsInstance _a = null!;
    FellowsInstance _b = null!;
    Member _ann = null!;
    Member _amy = null!;
    Member _bob = null!;

    [OneTimeSetUp]
    public async Task StartAsync()
    {
        _instances = await ClockedInstances.StartAsync("polledit-a", "polledit-b");
        (_a, _b, _clockA) = (_instances[0], _instances[1], _instances.ClockOf(0));
        _ann = await _a.CreateMemberAsync("ann");
        _amy = await _a.CreateMemberAsync("amy");
        _bob = await _b.CreateMemberAsync("bob");
        var annOnB = (await _bob.GetJsonAsync($"/api/v1/accounts/lookup?acct={_ann.Handle}")).GetProperty("id").GetString();
        await _bob.PostJsonAsync($"/api/v1/accounts/{annOnB}/follow");
        await Api.EventuallyAsync(async () => (await _bob.GetJsonAsync($"/api/v1/accounts/relationships?id[]={annOnB}"))[0].GetProperty("following").GetBoolean(),
            "ann's server to accept bob's follow");
    }

    [OneTimeTearDown]
    public async Task StopAsync() => await _instances.DisposeAsync();

    static async Task<(HttpStatusCode Status, JsonElement Body)> SendAsync(Member m, HttpMethod method, string path, object? body = null)
    {
        using var request = new HttpRequestMessage(method, new Uri(path, UriKind.Relative));
        if (body is not null) request.Content = JsonContent.Create(body);
        var response = await m.Api.SendAsync(request);
        var text = await response.Content.ReadAsStringAsync();
        return (response.StatusCode, text.Length == 0 ? default : JsonDocument.Parse(text).RootElement.Clone());
    }

    static async Task<JsonElement> EditAsync(Member m, string id, object body)
    {
        var (status, json) = await SendAsync(m, HttpMethod.Put, $"/api/v1/statuses/{id}", body);
        Assert.That(status, Is.EqualTo(HttpStatusCode.OK), json.ToString());
        return json;
    }

    static int[] Counts(JsonElement poll) => poll.GetProperty("options").EnumerateArray().Select(o => o.GetProperty("votes_count").GetInt32()).ToArray();

    static string?[] Titles(JsonElement poll) => poll.GetProperty("options").EnumerateArray().Select(o => o.GetProperty("title").GetString()).ToArray();

    /// <summary>A's post as B shows it to bob, once <paramref name="ready"/> holds for it.</summary>
    async Task<JsonElement> OnBAsync(string uri, Func<JsonElement, bool> ready, string what) =>
        (JsonElement)await Api.EventuallyAsync(async () =>
        {
            var found = (await _bob.GetJsonAsync("/api/v1/timelines/home?limit=40")).EnumerateArray().Where(s => s.GetProperty("uri").GetString() == uri).ToList();
            return found.Count == 1 && ready(found[0]) ? (object)found[0] : null;
        }, what);

    [Test]
    public async Task Edit_with_the_same_options_keeps_votes_and_new_options_reset_them_here_and_on_the_other_instance()
    {
        var status = await _ann.PostJsonAsync("/api/v1/statuses", new
        {
            status = "Which colour for the door?", poll = new { options = new[] { "red", "green" }, expires_in = 3600 },
        });
        var id = status.GetProperty("id").GetString()!;
        var uri = status.GetProperty("uri").GetString()!;
        var pollId = status.GetProperty("poll").GetProperty("id").GetString()!;
        var onB = await OnBAsync(uri, s => s.GetProperty("poll").ValueKind == JsonValueKind.Object, "ann's poll on B");
        var pollOnB = onB.GetProperty("poll").GetProperty("id").GetString()!;

        await _amy.PostJsonAsync($"/api/v1/polls/{pollId}/votes", new { choices = new[] { 0 } });
        await _bob.PostJsonAsync($"/api/v1/polls/{pollOnB}/votes", new { choices = new[] { 1 } });
        await Api.EventuallyAsync(async () => Counts(await _ann.GetJsonAsync($"/api/v1/polls/{pollId}")).SequenceEqual(new[] { 1, 1 }), "A to count both votes");

        // Same options, new text and a longer run: the votes stay, the end is counted from now.
        _clockA.Advance(TimeSpan.FromMinutes(10));
        var kept = await EditAsync(_ann, id, new
        {
            status = "Which colour for the front door?", poll = new { options = new[] { "red", "green" }, expires_in = 7200 },
        });
        var keptPoll = kept.GetProperty("poll");
        Assert.Multiple(() =>
        {
            Assert.That(kept.GetProperty("content").GetString(), Does.Contain("front door"));
            Assert.That(kept.GetProperty("edited_at").ValueKind, Is.EqualTo(JsonValueKind.String));
            Assert.That(keptPoll.GetProperty("id").GetString(), Is.EqualTo(pollId), "the same poll");
            Assert.That(Counts(keptPoll), Is.EqualTo(new[] { 1, 1 }));
            Assert.That(keptPoll.GetProperty("voters_count").GetInt32(), Is.EqualTo(2));
            Assert.That(DateTimeOffset.Parse(keptPoll.GetProperty("expires_at").GetString()!, System.Globalization.CultureInfo.InvariantCulture),
                Is.EqualTo(_clockA.GetUtcNow().AddSeconds(7200)).Within(TimeSpan.FromSeconds(1)));
        });
        var amyView = await _amy.GetJsonAsync($"/api/v1/polls/{pollId}");
        Assert.That(amyView.GetProperty("own_votes").EnumerateArray().Select(v => v.GetInt32()), Is.EqualTo(new[] { 0 }));
        await OnBAsync(uri, s => s.GetProperty("content").GetString()!.Contains("front door", StringComparison.Ordinal), "the text edit on B");
        var bobKept = await _bob.GetJsonAsync($"/api/v1/polls/{pollOnB}");
        Assert.That(bobKept.GetProperty("own_votes").EnumerateArray().Select(v => v.GetInt32()), Is.EqualTo(new[] { 1 }), "bob's vote stays on B");

        // New options: the votes were for another poll, so they go, here and there, and everyone may vote again.
        var reset = await EditAsync(_ann, id, new
        {
            status = "Which colour for the front door?", poll = new { options = new[] { "red", "green", "blue" }, expires_in = 7200 },
        });
        var resetPoll = reset.GetProperty("poll");
        Assert.Multiple(() =>
        {
            Assert.That(Titles(resetPoll), Is.EqualTo(new[] { "red", "green", "blue" }));
            Assert.That(Counts(resetPoll), Is.EqualTo(new[] { 0, 0, 0 }));
            Assert.That(resetPoll.GetProperty("voters_count").GetInt32(), Is.Zero);
        });
        var amyAgain = await _amy.GetJsonAsync($"/api/v1/polls/{pollId}");
        Assert.That(amyAgain.GetProperty("voted").GetBoolean(), Is.False);
        Assert.That(amyAgain.GetProperty("own_votes").GetArrayLength(), Is.Zero);
        await _amy.PostJsonAsync($"/api/v1/polls/{pollId}/votes", new { choices = new[] { 2 } });

        // The Update of the Question carries the new options to B, which drops bob's vote for the old ones.
        using (var request = new HttpRequestMessage(HttpMethod.Get, new Uri(uri)))
        {
            request.Headers.Accept.Add(new MediaTypeWithQualityHeaderValue("application/activity+json"));
            var question = await Api.JsonAsync(await _a.Client.SendAsync(request));
            Assert.That(question.GetProperty("type").GetString(), Is.EqualTo("Question"));
            Assert.That(question.GetProperty("oneOf").EnumerateArray().Select(o => o.GetProperty("name").GetString()), Is.EqualTo(new[] { "red", "green", "blue" }));
        }
        var resetOnB = await OnBAsync(uri, s => s.GetProperty("poll").ValueKind == JsonValueKind.Object && Titles(s.GetProperty("poll")).Length == 3,
            "the new options on B");
        var bobReset = await _bob.GetJsonAsync($"/api/v1/polls/{resetOnB.GetProperty("poll").GetProperty("id").GetString()}");
        Assert.Multiple(() =>
        {
            Assert.That(Titles(bobReset), Is.EqualTo(new[] { "red", "green", "blue" }));
            Assert.That(bobReset.GetProperty("voted").GetBoolean(), Is.False, "bob's vote was for the old options");
            Assert.That(bobReset.GetProperty("own_votes").GetArrayLength(), Is.Zero);
        });
        await _bob.PostJsonAsync($"/api/v1/polls/{pollOnB}/votes", new { choices = new[] { 1 } });
        await Api.EventuallyAsync(async () => Counts(await _ann.GetJsonAsync($"/api/v1/polls/{pollId}")).SequenceEqual(new[] { 0, 1, 1 }),
            "A to count bob's new vote for the new options");

        // Every version with its poll, on A and on B.
        var history = await _ann.GetJsonAsync($"/api/v1/statuses/{id}/history");
        Assert.That(history.EnumerateArray().Select(v => v.GetProperty("poll").GetProperty("options").GetArrayLength()), Is.EqualTo(new[] { 2, 2, 3 }));
        Assert.That(history[0].GetProperty("poll").GetProperty("options")[0].GetProperty("title").GetString(), Is.EqualTo("red"));
        var historyOnB = await _bob.GetJsonAsync($"/api/v1/statuses/{resetOnB.GetProperty("id").GetString()}/history");
        Assert.That(historyOnB.EnumerateArray().Last().GetProperty("poll").GetProperty("options").GetArrayLength(), Is.EqualTo(3));
        Assert.That(historyOnB.EnumerateArray().Count(), Is.EqualTo(3), "the options change is a version on B too");
    }

    [Test]
    public async Task Switching_to_multiple_choice_resets_votes_and_leaving_the_poll_out_removes_it()
    {
        var status = await _ann.PostJsonAsync("/api/v1/statuses", new { status = "Lunch?", poll = new { options = new[] { "soup", "salad" }, expires_in = 3600 } });
        var id = status.GetProperty("id").GetString()!;
        var pollId = status.GetProperty("poll").GetProperty("id").GetString()!;
        await _amy.PostJsonAsync($"/api/v1/polls/{pollId}/votes", new { choices = new[] { 1 } });

        var multiple = await EditAsync(_ann, id, new { status = "Lunch?", poll = new { options = new[] { "soup", "salad" }, expires_in = 3600, multiple = true } });
        Assert.That(multiple.GetProperty("poll").GetProperty("multiple").GetBoolean(), Is.True);
        Assert.That(Counts(multiple.GetProperty("poll")), Is.EqualTo(new[] { 0, 0 }));

        var removed = await EditAsync(_ann, id, new { status = "Lunch? Decided: soup." });
        Assert.That(removed.GetProperty("poll").ValueKind, Is.EqualTo(JsonValueKind.Null));
        Assert.That((await SendAsync(_amy, HttpMethod.Get, $"/api/v1/polls/{pollId}")).Status, Is.EqualTo(HttpStatusCode.NotFound));

        // A poll can be added to a post that had none.
        var added = await EditAsync(_ann, id, new { status = "Dinner?", poll = new { options = new[] { "pasta", "curry" }, expires_in = 600 } });
        Assert.That(Titles(added.GetProperty("poll")), Is.EqualTo(new[] { "pasta", "curry" }));
        Assert.That(added.GetProperty("poll").GetProperty("expired").GetBoolean(), Is.False);
    }

    [Test]
    public async Task Poll_edits_that_break_the_rules_or_touch_someone_elses_post_are_refused_and_change_nothing()
    {
        var status = await _ann.PostJsonAsync("/api/v1/statuses", new { status = "Tea or coffee?", poll = new { options = new[] { "tea", "coffee" }, expires_in = 3600 } });
        var id = status.GetProperty("id").GetString()!;
        var pollId = status.GetProperty("poll").GetProperty("id").GetString()!;
        await _amy.PostJsonAsync($"/api/v1/polls/{pollId}/votes", new { choices = new[] { 0 } });

        var one = await SendAsync(_ann, HttpMethod.Put, $"/api/v1/statuses/{id}", new { status = "Tea?", poll = new { options = new[] { "tea" }, expires_in = 3600 } });
        Assert.That(one.Status, Is.EqualTo(HttpStatusCode.UnprocessableEntity));
        var tooMany = await SendAsync(_ann, HttpMethod.Put, $"/api/v1/statuses/{id}", new
        {
            status = "?", poll = new { options = new[] { "a", "b", "c", "d", "e" }, expires_in = 3600 },
        });
        Assert.That(tooMany.Status, Is.EqualTo(HttpStatusCode.UnprocessableEntity));
        var noEnd = await SendAsync(_ann, HttpMethod.Put, $"/api/v1/statuses/{id}", new { status = "?", poll = new { options = new[] { "x", "y" }, expires_in = "soon" } });
        Assert.That(noEnd.Status, Is.EqualTo(HttpStatusCode.UnprocessableEntity));
        var media = await Api.UploadImageAsync(_ann);
        var both = await SendAsync(_ann, HttpMethod.Put, $"/api/v1/statuses/{id}", new
        {
            status = "?", media_ids = new[] { media }, poll = new { options = new[] { "x", "y" }, expires_in = 3600 },
        });
        Assert.That(both.Status, Is.EqualTo(HttpStatusCode.UnprocessableEntity));
        var notHers = await SendAsync(_amy, HttpMethod.Put, $"/api/v1/statuses/{id}", new { status = "mine now", poll = new { options = new[] { "x", "y" }, expires_in = 3600 } });
        Assert.That(notHers.Status, Is.EqualTo(HttpStatusCode.NotFound));

        var unchanged = await _amy.GetJsonAsync($"/api/v1/polls/{pollId}");
        Assert.That(Titles(unchanged), Is.EqualTo(new[] { "tea", "coffee" }));
        Assert.That(Counts(unchanged), Is.EqualTo(new[] { 1, 0 }));
        Assert.That((await _ann.GetJsonAsync($"/api/v1/statuses/{id}")).GetProperty("edited_at").ValueKind, Is.EqualTo(JsonValueKind.Null));
    }
}
