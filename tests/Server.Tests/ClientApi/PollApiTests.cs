// Request bodies are written inline so each test reads as the HTTP it sends.
#pragma warning disable CA1861
using System.Globalization;
using System.Net;
using System.Net.Http.Headers;
using System.Net.Http.Json;
using System.Text.Json;
using Fellows.Server.Features.Polls;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Time.Testing;
using NUnit.Framework;
using Quartz;

namespace Fellows.Server.Tests.ClientApi;

/// <summary>
/// Polls on ordinary posts: the API (create, get, vote and their edge cases), the close by the poll's own Quartz job
/// on a test clock, and federation between two Fellows instances on loopback (a vote from B on A's poll, sent the
/// Mastodon way, counted on A, and the counts equal on both sides after A's Update).
/// </summary>
[NonParallelizable]
public class PollApiTests
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
        // The sweeps would act on their own once the clock passes; the tests rely on each poll's own job.
        _instances = await ClockedInstances.StartAsync("polls-a", "polls-b");
        (_a, _b, _clockA) = (_instances[0], _instances[1], _instances.ClockOf(0));
        _ann = await _a.CreateMemberAsync("ann");
        _amy = await _a.CreateMemberAsync("amy");
        _bob = await _b.CreateMemberAsync("bob");
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

    static Task<JsonElement> PostPollAsync(Member m, string[] options, int expiresIn = 86_400, bool multiple = false, bool hideTotals = false,
        string visibility = "public") =>
        m.PostJsonAsync("/api/v1/statuses", new
        {
            status = "Which day for the general meeting?",
            visibility,
            poll = new { options, expires_in = expiresIn, multiple, hide_totals = hideTotals },
        });

    static int[] Counts(JsonElement poll) => poll.GetProperty("options").EnumerateArray().Select(o => o.GetProperty("votes_count").GetInt32()).ToArray();

    [Test]
    public async Task CreatePoll_outside_the_advertised_limits_gets_422()
    {
        var limits = (await _ann.GetJsonAsync("/api/v2/instance")).GetProperty("configuration").GetProperty("polls");
        Assert.That(limits.GetProperty("max_options").GetInt32(), Is.EqualTo(PollLimits.MaxOptions));

        async Task<HttpStatusCode> Try(object poll, object? extra = null)
        {
            var body = new Dictionary<string, object> { ["status"] = "a poll", ["poll"] = poll };
            if (extra is not null) body["media_ids"] = extra;
            var (status, json) = await SendAsync(_ann, HttpMethod.Post, "/api/v1/statuses", body);
            if (status == HttpStatusCode.UnprocessableEntity) Assert.That(json.GetProperty("error").GetString(), Does.StartWith("Validation failed"));
            return status;
        }
        Assert.Multiple(async () =>
        {
            Assert.That(await Try(new { options = new[] { "only" }, expires_in = 3600 }), Is.EqualTo(HttpStatusCode.UnprocessableEntity), "one option");
            Assert.That(await Try(new { options = new[] { "a", "b", "c", "d", "e" }, expires_in = 3600 }), Is.EqualTo(HttpStatusCode.UnprocessableEntity), "five options");
            Assert.That(await Try(new { options = new[] { "a", new string('x', PollLimits.MaxCharactersPerOption + 1) }, expires_in = 3600 }),
                Is.EqualTo(HttpStatusCode.UnprocessableEntity), "an option too long");
            Assert.That(await Try(new { options = new[] { "a", " " }, expires_in = 3600 }), Is.EqualTo(HttpStatusCode.UnprocessableEntity), "a blank option");
            Assert.That(await Try(new { options = new[] { "a", "a" }, expires_in = 3600 }), Is.EqualTo(HttpStatusCode.UnprocessableEntity), "the same option twice");
            Assert.That(await Try(new { options = new[] { "a", "b" }, expires_in = PollLimits.MinExpiration - 1 }), Is.EqualTo(HttpStatusCode.UnprocessableEntity), "too short");
            Assert.That(await Try(new { options = new[] { "a", "b" }, expires_in = PollLimits.MaxExpiration + 1 }), Is.EqualTo(HttpStatusCode.UnprocessableEntity), "too long");
            Assert.That(await Try(new { options = new[] { "a", "b" } }), Is.EqualTo(HttpStatusCode.UnprocessableEntity), "no duration");
            Assert.That(await Try(new { options = new[] { "a", "b" }, expires_in = "soon" }), Is.EqualTo(HttpStatusCode.UnprocessableEntity), "a duration that is not a number");
            Assert.That(await Try(new { options = new[] { "a", "b" }, expires_in = 3600 }, new[] { "12345" }), Is.EqualTo(HttpStatusCode.UnprocessableEntity), "poll with media");
        });
        // Nothing was stored by the refused requests.
        var mine = await _ann.GetJsonAsync($"/api/v1/accounts/{_ann.AccountId}/statuses?limit=40");
        Assert.That(mine.EnumerateArray().Any(s => s.GetProperty("content").GetString()!.Contains("a poll", StringComparison.Ordinal)), Is.False);
    }

    [Test]
    public async Task CreatePoll_from_a_form_body_with_rails_keys()
    {
        var form = new FormUrlEncodedContent(
        [
            new("status", "Form poll"), new("poll[options][]", "tea"), new("poll[options][]", "coffee"), new("poll[options][]", "water"),
            new("poll[expires_in]", "600"), new("poll[multiple]", "1"),
        ]);
        var status = await Api.JsonAsync(await _ann.Api.PostAsync(new Uri("/api/v1/statuses", UriKind.Relative), form));
        var poll = status.GetProperty("poll");
        Assert.Multiple(() =>
        {
            Assert.That(poll.GetProperty("multiple").GetBoolean(), Is.True);
            Assert.That(poll.GetProperty("options").EnumerateArray().Select(o => o.GetProperty("title").GetString()), Is.EqualTo(new[] { "tea", "coffee", "water" }));
            var expires = DateTimeOffset.Parse(poll.GetProperty("expires_at").GetString()!, CultureInfo.InvariantCulture);
            Assert.That(expires, Is.EqualTo(_clockA.GetUtcNow().AddSeconds(600)).Within(TimeSpan.FromSeconds(2)));
        });
    }

    [Test]
    public async Task Poll_entity_and_votes_follow_mastodon_rules()
    {
        var status = await PostPollAsync(_ann, ["Monday", "Tuesday", "Wednesday"]);
        var poll = status.GetProperty("poll");
        var id = poll.GetProperty("id").GetString()!;
        Assert.Multiple(() =>
        {
            Assert.That(poll.GetProperty("expired").GetBoolean(), Is.False);
            Assert.That(poll.GetProperty("multiple").GetBoolean(), Is.False);
            Assert.That(poll.GetProperty("votes_count").GetInt32(), Is.Zero);
            Assert.That(poll.GetProperty("voters_count").GetInt32(), Is.Zero);
            Assert.That(poll.GetProperty("emojis").GetArrayLength(), Is.Zero);
            Assert.That(Counts(poll), Is.EqualTo(new[] { 0, 0, 0 }));
            Assert.That(poll.GetProperty("voted").GetBoolean(), Is.True, "the author counts as having voted, so apps show the results");
            Assert.That(poll.GetProperty("own_votes").GetArrayLength(), Is.Zero);
        });

        var anonymous = await Api.JsonAsync(await _a.Client.GetAsync(new Uri($"/api/v1/polls/{id}", UriKind.Relative)));
        Assert.That(anonymous.GetProperty("voted").ValueKind, Is.EqualTo(JsonValueKind.Null), "voted is null without a user token");
        Assert.That(anonymous.GetProperty("own_votes").ValueKind, Is.EqualTo(JsonValueKind.Null));

        var own = await SendAsync(_ann, HttpMethod.Post, $"/api/v1/polls/{id}/votes", new { choices = new[] { 0 } });
        Assert.That(own.Status, Is.EqualTo(HttpStatusCode.UnprocessableEntity), "no vote on one's own poll");
        var two = await SendAsync(_amy, HttpMethod.Post, $"/api/v1/polls/{id}/votes", new { choices = new[] { 0, 1 } });
        Assert.That(two.Status, Is.EqualTo(HttpStatusCode.UnprocessableEntity), "two choices on a single-choice poll");
        var outOfRange = await SendAsync(_amy, HttpMethod.Post, $"/api/v1/polls/{id}/votes", new { choices = new[] { 3 } });
        Assert.That(outOfRange.Status, Is.EqualTo(HttpStatusCode.UnprocessableEntity));
        var none = await SendAsync(_amy, HttpMethod.Post, $"/api/v1/polls/{id}/votes", new { });
        Assert.That(none.Status, Is.EqualTo(HttpStatusCode.UnprocessableEntity));
        var missing = await SendAsync(_amy, HttpMethod.Post, "/api/v1/polls/123456789/votes", new { choices = new[] { 0 } });
        Assert.That(missing.Status, Is.EqualTo(HttpStatusCode.NotFound));

        var voted = await _amy.PostJsonAsync($"/api/v1/polls/{id}/votes", new { choices = new[] { "1" } });
        Assert.Multiple(() =>
        {
            Assert.That(voted.GetProperty("voted").GetBoolean(), Is.True);
            Assert.That(voted.GetProperty("own_votes").EnumerateArray().Select(v => v.GetInt32()), Is.EqualTo(new[] { 1 }));
            Assert.That(Counts(voted), Is.EqualTo(new[] { 0, 1, 0 }));
            Assert.That(voted.GetProperty("votes_count").GetInt32(), Is.EqualTo(1));
        });
        var again = await SendAsync(_amy, HttpMethod.Post, $"/api/v1/polls/{id}/votes", new { choices = new[] { 2 } });
        Assert.That(again.Status, Is.EqualTo(HttpStatusCode.UnprocessableEntity), "a second vote");
        Assert.That(Counts(await _amy.GetJsonAsync($"/api/v1/polls/{id}")), Is.EqualTo(new[] { 0, 1, 0 }), "the refused vote changed nothing");

        // Multiple choice: several options in one vote; voters and votes differ.
        var multi = (await PostPollAsync(_ann, ["bread", "cheese", "olives"], multiple: true)).GetProperty("poll").GetProperty("id").GetString()!;
        var both = await _amy.PostJsonAsync($"/api/v1/polls/{multi}/votes", new { choices = new[] { 0, 2 } });
        Assert.Multiple(() =>
        {
            Assert.That(Counts(both), Is.EqualTo(new[] { 1, 0, 1 }));
            Assert.That(both.GetProperty("votes_count").GetInt32(), Is.EqualTo(2));
            Assert.That(both.GetProperty("voters_count").GetInt32(), Is.EqualTo(1));
            Assert.That(both.GetProperty("own_votes").EnumerateArray().Select(v => v.GetInt32()), Is.EqualTo(new[] { 0, 2 }));
        });

        // A poll on a post the voter may not see does not exist for them.
        var secret = (await PostPollAsync(_ann, ["x", "y"], visibility: "private")).GetProperty("poll").GetProperty("id").GetString()!;
        Assert.That((await SendAsync(_amy, HttpMethod.Get, $"/api/v1/polls/{secret}")).Status, Is.EqualTo(HttpStatusCode.NotFound));
        Assert.That((await SendAsync(_amy, HttpMethod.Post, $"/api/v1/polls/{secret}/votes", new { choices = new[] { 0 } })).Status, Is.EqualTo(HttpStatusCode.NotFound));
    }

    [Test]
    public async Task Poll_closes_by_its_job_shows_hidden_totals_and_notifies_voter_and_author()
    {
        var status = await PostPollAsync(_ann, ["yes", "no"], expiresIn: 300, hideTotals: true);
        var id = status.GetProperty("poll").GetProperty("id").GetString()!;
        var voted = await _amy.PostJsonAsync($"/api/v1/polls/{id}/votes", new { choices = new[] { 0 } });
        Assert.That(voted.GetProperty("options").EnumerateArray().All(o => o.GetProperty("votes_count").ValueKind == JsonValueKind.Null), Is.True,
            "totals hidden until the end");
        var byAuthor = await _ann.GetJsonAsync($"/api/v1/polls/{id}");
        Assert.That(byAuthor.GetProperty("options")[0].GetProperty("votes_count").ValueKind, Is.EqualTo(JsonValueKind.Null), "hidden from the author too");

        var scheduler = await _a.Services.GetRequiredService<ISchedulerFactory>().GetScheduler();
        var key = PollScheduler.JobKeyFor(long.Parse(id, CultureInfo.InvariantCulture));
        Assert.That(await scheduler.GetJobDetail(key), Is.Not.Null, "the poll's close is a stored job");
        _instances.Advance(TimeSpan.FromMinutes(6));

        await Api.EventuallyAsync(async () => (await _amy.GetJsonAsync("/api/v1/notifications?types[]=poll")).EnumerateArray()
            .Any(n => n.GetProperty("status").GetProperty("id").GetString() == status.GetProperty("id").GetString()), "the voter's poll notification");
        var authorNotified = (await _ann.GetJsonAsync("/api/v1/notifications?types[]=poll")).EnumerateArray()
            .Single(n => n.GetProperty("status").GetProperty("id").GetString() == status.GetProperty("id").GetString());
        Assert.That(authorNotified.GetProperty("type").GetString(), Is.EqualTo("poll"));
        var closed = await _amy.GetJsonAsync($"/api/v1/polls/{id}");
        Assert.Multiple(() =>
        {
            Assert.That(closed.GetProperty("expired").GetBoolean(), Is.True);
            Assert.That(Counts(closed), Is.EqualTo(new[] { 1, 0 }), "totals shown once closed");
        });
        Assert.That(await scheduler.GetJobDetail(key), Is.Null, "the one-shot job is gone");
        var late = await SendAsync(await _a.CreateMemberAsync("lee"), HttpMethod.Post, $"/api/v1/polls/{id}/votes", new { choices = new[] { 1 } });
        Assert.That(late.Status, Is.EqualTo(HttpStatusCode.UnprocessableEntity), "no vote after the end");
    }

    async Task FollowAnnFromBobAsync()
    {
        var annOnB = (await _bob.GetJsonAsync($"/api/v1/accounts/lookup?acct={_ann.Handle}")).GetProperty("id").GetString();
        await _bob.PostJsonAsync($"/api/v1/accounts/{annOnB}/follow");
        await Api.EventuallyAsync(async () => (await _bob.GetJsonAsync($"/api/v1/accounts/relationships?id[]={annOnB}"))[0].GetProperty("following").GetBoolean(),
            "ann's server to accept bob's follow");
    }

    /// <summary>The poll of A's post as B shows it to bob, once the Create has arrived.</summary>
    async Task<JsonElement> PollOnBAsync(string uri) =>
        (JsonElement)await Api.EventuallyAsync(async () =>
        {
            var home = await _bob.GetJsonAsync("/api/v1/timelines/home?limit=40");
            var found = home.EnumerateArray().Where(s => s.GetProperty("uri").GetString() == uri).ToList();
            return found.Count == 1 && found[0].GetProperty("poll").ValueKind == JsonValueKind.Object ? (object)found[0].GetProperty("poll") : null;
        }, "ann's poll to reach bob's home timeline");

    [Test]
    public async Task Vote_from_another_instance_is_counted_and_both_sides_agree_after_the_update()
    {
        await FollowAnnFromBobAsync();
        var status = await PostPollAsync(_ann, ["red", "green", "blue"]);
        var uri = status.GetProperty("uri").GetString()!;
        var idOnA = status.GetProperty("poll").GetProperty("id").GetString()!;

        // The post federates as a Question with its options and counts.
        using (var request = new HttpRequestMessage(HttpMethod.Get, new Uri(uri)))
        {
            request.Headers.Accept.Add(new MediaTypeWithQualityHeaderValue("application/activity+json"));
            var question = await Api.JsonAsync(await _a.Client.SendAsync(request));
            Assert.Multiple(() =>
            {
                Assert.That(question.GetProperty("type").GetString(), Is.EqualTo("Question"));
                Assert.That(question.GetProperty("oneOf").EnumerateArray().Select(o => o.GetProperty("name").GetString()), Is.EqualTo(new[] { "red", "green", "blue" }));
                Assert.That(question.GetProperty("oneOf")[0].GetProperty("replies").GetProperty("totalItems").GetInt32(), Is.Zero);
                Assert.That(question.GetProperty("votersCount").GetInt32(), Is.Zero);
                Assert.That(question.TryGetProperty("endTime", out _), Is.True);
                Assert.That(question.TryGetProperty("anyOf", out _), Is.False);
            });
        }

        var onB = await PollOnBAsync(uri);
        var idOnB = onB.GetProperty("id").GetString()!;
        Assert.That(onB.GetProperty("options").EnumerateArray().Select(o => o.GetProperty("title").GetString()), Is.EqualTo(new[] { "red", "green", "blue" }));
        Assert.That(onB.GetProperty("voted").GetBoolean(), Is.False);

        var voted = await _bob.PostJsonAsync($"/api/v1/polls/{idOnB}/votes", new { choices = new[] { 2 } });
        Assert.That(voted.GetProperty("own_votes").EnumerateArray().Select(v => v.GetInt32()), Is.EqualTo(new[] { 2 }));
        var twice = await SendAsync(_bob, HttpMethod.Post, $"/api/v1/polls/{idOnB}/votes", new { choices = new[] { 0 } });
        Assert.That(twice.Status, Is.EqualTo(HttpStatusCode.UnprocessableEntity), "bob's second vote is refused at home");

        // A counts bob's vote (a Note named "blue" in reply to the Question).
        await Api.EventuallyAsync(async () => Counts(await _ann.GetJsonAsync($"/api/v1/polls/{idOnA}")).SequenceEqual(new[] { 0, 0, 1 }), "A to count bob's vote");
        // A local vote too; A's Update carries both to B.
        await _amy.PostJsonAsync($"/api/v1/polls/{idOnA}/votes", new { choices = new[] { 0 } });
        var onA = await _ann.GetJsonAsync($"/api/v1/polls/{idOnA}");
        Assert.That(Counts(onA), Is.EqualTo(new[] { 1, 0, 1 }));
        Assert.That(onA.GetProperty("voters_count").GetInt32(), Is.EqualTo(2));
        await Api.EventuallyAsync(async () => Counts(await _bob.GetJsonAsync($"/api/v1/polls/{idOnB}")).SequenceEqual(Counts(onA)), "B to apply A's Update");
        var finalOnB = await _bob.GetJsonAsync($"/api/v1/polls/{idOnB}");
        Assert.Multiple(() =>
        {
            Assert.That(finalOnB.GetProperty("votes_count").GetInt32(), Is.EqualTo(onA.GetProperty("votes_count").GetInt32()));
            Assert.That(finalOnB.GetProperty("voters_count").GetInt32(), Is.EqualTo(2));
            Assert.That(finalOnB.GetProperty("own_votes").EnumerateArray().Select(v => v.GetInt32()), Is.EqualTo(new[] { 2 }), "bob's own vote is kept");
        });
        // The count Update is not an edit of the post.
        var statusOnB = (await _bob.GetJsonAsync("/api/v1/timelines/home?limit=40")).EnumerateArray().Single(s => s.GetProperty("uri").GetString() == uri);
        Assert.That(statusOnB.GetProperty("edited_at").ValueKind, Is.EqualTo(JsonValueKind.Null));

        // Multiple choice from afar: one Note per option, one voter.
        var multi = await PostPollAsync(_ann, ["apples", "pears", "plums"], multiple: true);
        var multiOnA = multi.GetProperty("poll").GetProperty("id").GetString()!;
        var multiOnB = (await PollOnBAsync(multi.GetProperty("uri").GetString()!)).GetProperty("id").GetString()!;
        Assert.That((await _bob.GetJsonAsync($"/api/v1/polls/{multiOnB}")).GetProperty("multiple").GetBoolean(), Is.True);
        await _bob.PostJsonAsync($"/api/v1/polls/{multiOnB}/votes", new { choices = new[] { 0, 2 } });
        await Api.EventuallyAsync(async () =>
        {
            var p = await _ann.GetJsonAsync($"/api/v1/polls/{multiOnA}");
            return Counts(p).SequenceEqual(new[] { 1, 0, 1 }) && p.GetProperty("voters_count").GetInt32() == 1;
        }, "A to count both of bob's choices as one voter");
        await Api.EventuallyAsync(async () =>
        {
            var p = await _bob.GetJsonAsync($"/api/v1/polls/{multiOnB}");
            return Counts(p).SequenceEqual(new[] { 1, 0, 1 }) && p.GetProperty("voters_count").GetInt32() == 1;
        }, "B to agree after A's Update");
    }

    [Test]
    public async Task Voter_on_another_instance_is_told_when_the_poll_ends()
    {
        await FollowAnnFromBobAsync();
        var status = await PostPollAsync(_ann, ["now", "later"], expiresIn: 600);
        var idOnB = (await PollOnBAsync(status.GetProperty("uri").GetString()!)).GetProperty("id").GetString()!;
        await _bob.PostJsonAsync($"/api/v1/polls/{idOnB}/votes", new { choices = new[] { 1 } });
        var idOnA = status.GetProperty("poll").GetProperty("id").GetString()!;
        await Api.EventuallyAsync(async () => Counts(await _ann.GetJsonAsync($"/api/v1/polls/{idOnA}")).SequenceEqual(new[] { 0, 1 }), "A to count bob's vote");

        _instances.Advance(TimeSpan.FromMinutes(11));
        // B's own job for the remote poll tells bob, whether or not A's closing Update came first.
        await Api.EventuallyAsync(async () => (await _bob.GetJsonAsync("/api/v1/notifications?types[]=poll")).EnumerateArray()
            .Any(n => n.GetProperty("status").GetProperty("uri").GetString() == status.GetProperty("uri").GetString()), "bob's poll notification on B");
        var ended = await _bob.GetJsonAsync($"/api/v1/polls/{idOnB}");
        Assert.Multiple(() =>
        {
            Assert.That(ended.GetProperty("expired").GetBoolean(), Is.True);
            Assert.That(Counts(ended), Is.EqualTo(new[] { 0, 1 }));
        });
        Assert.That((await _ann.GetJsonAsync("/api/v1/notifications?types[]=poll")).EnumerateArray()
            .Any(n => n.GetProperty("status").GetProperty("id").GetString() == status.GetProperty("id").GetString()), Is.True, "ann is told on A");
    }
}
