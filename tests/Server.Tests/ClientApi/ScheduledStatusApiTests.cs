// Request bodies are written inline so each test reads as the HTTP it sends.
#pragma warning disable CA1861
using System.Globalization;
using System.Net;
using System.Net.Http.Json;
using System.Text.Json;
using Fellows.Server.Features.Scheduled;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Time.Testing;
using NUnit.Framework;
using Quartz;

namespace Fellows.Server.Tests.ClientApi;

/// <summary>
/// Posts scheduled with <c>scheduled_at</c>: the ScheduledStatus API, reserved attachments, and publication by the
/// post's own Quartz job when the test clock passes its time, also after a restart. Nothing sleeps.
/// </summary>
[NonParallelizable]
public class ScheduledStatusApiTests
{
    readonly FakeTimeProvider _clock = new(DateTimeOffset.FromUnixTimeSeconds(DateTimeOffset.UtcNow.ToUnixTimeSeconds()));
    FellowsInstance _instance = null!;

    [OneTimeSetUp]
    public async Task StartAsync() => _instance = await FellowsInstance.StartAsync("scheduled",
        b => b.Services.AddSingleton<TimeProvider>(_clock),
        new Dictionary<string, string?>
        {
            // The sweep would publish on its own once the clock passes; the tests rely on each post's own job.
            ["Jobs:MotionSweepInterval"] = "01:00:00",
            // As in the motion tests: a short repeating trigger keeps Quartz's thread waiting on the test clock, so
            // advancing the clock wakes it.
            ["Jobs:RetrySweepInterval"] = "00:00:02",
        });

    [OneTimeTearDown]
    public async Task StopAsync() => await _instance.DisposeAsync();

    string At(TimeSpan ahead) => (_clock.GetUtcNow() + ahead).ToString("O", CultureInfo.InvariantCulture);

    static async Task<(HttpStatusCode Status, JsonElement Body)> SendAsync(Member m, HttpMethod method, string path, object? body = null)
    {
        using var request = new HttpRequestMessage(method, new Uri(path, UriKind.Relative));
        if (body is not null) request.Content = JsonContent.Create(body);
        var response = await m.Api.SendAsync(request);
        var text = await response.Content.ReadAsStringAsync();
        return (response.StatusCode, text.Length == 0 ? default : JsonDocument.Parse(text).RootElement.Clone());
    }

    static async Task<IReadOnlyList<JsonElement>> PostsOfAsync(Member m) =>
        (await m.GetJsonAsync($"/api/v1/accounts/{m.AccountId}/statuses?limit=40")).EnumerateArray().ToList();

    [Test]
    public async Task Scheduling_less_than_five_minutes_ahead_or_with_a_bad_time_gets_422()
    {
        var sam = await _instance.CreateMemberAsync("sam");
        var soon = await SendAsync(sam, HttpMethod.Post, "/api/v1/statuses", new { status = "too soon", scheduled_at = At(TimeSpan.FromMinutes(4)) });
        Assert.That(soon.Status, Is.EqualTo(HttpStatusCode.UnprocessableEntity));
        Assert.That(soon.Body.GetProperty("error").GetString(), Does.Contain("5 minutes"));
        var past = await SendAsync(sam, HttpMethod.Post, "/api/v1/statuses", new { status = "in the past", scheduled_at = At(TimeSpan.FromHours(-1)) });
        Assert.That(past.Status, Is.EqualTo(HttpStatusCode.UnprocessableEntity));
        var garbage = await SendAsync(sam, HttpMethod.Post, "/api/v1/statuses", new { status = "when?", scheduled_at = "next tuesday" });
        Assert.That(garbage.Status, Is.EqualTo(HttpStatusCode.UnprocessableEntity));
        var blank = await SendAsync(sam, HttpMethod.Post, "/api/v1/statuses", new { status = " ", scheduled_at = At(TimeSpan.FromHours(1)) });
        Assert.That(blank.Status, Is.EqualTo(HttpStatusCode.UnprocessableEntity), "the same checks as posting now");
        Assert.That((await sam.GetJsonAsync("/api/v1/scheduled_statuses")).GetArrayLength(), Is.Zero);
        Assert.That(await PostsOfAsync(sam), Is.Empty);
    }

    [Test]
    public async Task Scheduled_post_with_media_and_poll_is_listed_moved_and_published_by_its_job()
    {
        var una = await _instance.CreateMemberAsync("una");
        var other = await _instance.CreateMemberAsync("vic");
        var media = await Api.UploadImageAsync(una);
        var scheduled = await una.PostJsonAsync("/api/v1/statuses", new
        {
            status = "The garden plan, for the morning",
            visibility = "unlisted",
            spoiler_text = "gardening",
            media_ids = new[] { media },
            scheduled_at = At(TimeSpan.FromMinutes(30)),
        });
        var id = scheduled.GetProperty("id").GetString()!;
        var p = scheduled.GetProperty("params");
        Assert.Multiple(() =>
        {
            Assert.That(scheduled.GetProperty("scheduled_at").GetString(), Does.EndWith("Z"));
            Assert.That(p.GetProperty("text").GetString(), Is.EqualTo("The garden plan, for the morning"));
            Assert.That(p.GetProperty("visibility").GetString(), Is.EqualTo("unlisted"));
            Assert.That(p.GetProperty("spoiler_text").GetString(), Is.EqualTo("gardening"));
            Assert.That(p.GetProperty("media_ids").EnumerateArray().Select(m => m.GetString()), Is.EqualTo(new[] { media }));
            Assert.That(p.GetProperty("poll").ValueKind, Is.EqualTo(JsonValueKind.Null));
            Assert.That(scheduled.GetProperty("media_attachments").EnumerateArray().Select(m => m.GetProperty("id").GetString()), Is.EqualTo(new[] { media }));
        });
        Assert.That(await PostsOfAsync(una), Is.Empty, "nothing is posted yet");

        // The upload is reserved: it cannot be posted now, nor deleted.
        var reuse = await SendAsync(una, HttpMethod.Post, "/api/v1/statuses", new { status = "now", media_ids = new[] { media } });
        Assert.That(reuse.Status, Is.EqualTo(HttpStatusCode.UnprocessableEntity));
        Assert.That((await SendAsync(una, HttpMethod.Delete, $"/api/v1/media/{media}")).Status, Is.EqualTo(HttpStatusCode.NotFound));
        // Someone else's scheduled post does not exist for them.
        Assert.That((await SendAsync(other, HttpMethod.Get, $"/api/v1/scheduled_statuses/{id}")).Status, Is.EqualTo(HttpStatusCode.NotFound));
        Assert.That((await SendAsync(other, HttpMethod.Delete, $"/api/v1/scheduled_statuses/{id}")).Status, Is.EqualTo(HttpStatusCode.NotFound));

        var withPoll = await una.PostJsonAsync("/api/v1/statuses", new
        {
            status = "Lunch?", scheduled_at = At(TimeSpan.FromHours(2)), poll = new { options = new[] { "soup", "salad" }, expires_in = 3600 },
        });
        Assert.That(withPoll.GetProperty("params").GetProperty("poll").GetProperty("options").GetArrayLength(), Is.EqualTo(2));
        Assert.That(withPoll.GetProperty("params").GetProperty("poll").GetProperty("expires_in").GetString(), Is.EqualTo("3600"));

        var list = await una.GetJsonAsync("/api/v1/scheduled_statuses");
        Assert.That(list.EnumerateArray().Select(s => s.GetProperty("id").GetString()), Is.EqualTo(new[] { withPoll.GetProperty("id").GetString(), id }));
        Assert.That((await una.GetJsonAsync($"/api/v1/scheduled_statuses/{id}")).GetProperty("id").GetString(), Is.EqualTo(id));

        // Moved: too soon is refused, later is fine.
        var tooSoon = await SendAsync(una, HttpMethod.Put, $"/api/v1/scheduled_statuses/{id}", new { scheduled_at = At(TimeSpan.FromMinutes(1)) });
        Assert.That(tooSoon.Status, Is.EqualTo(HttpStatusCode.UnprocessableEntity));
        var moved = await SendAsync(una, HttpMethod.Put, $"/api/v1/scheduled_statuses/{id}", new { scheduled_at = At(TimeSpan.FromMinutes(45)) });
        Assert.That(moved.Status, Is.EqualTo(HttpStatusCode.OK));
        var newTime = DateTimeOffset.Parse(moved.Body.GetProperty("scheduled_at").GetString()!, CultureInfo.InvariantCulture);
        Assert.That(newTime, Is.EqualTo(_clock.GetUtcNow().AddMinutes(45)).Within(TimeSpan.FromSeconds(1)));

        var scheduler = await _instance.Services.GetRequiredService<ISchedulerFactory>().GetScheduler();
        var key = ScheduledStatusScheduler.JobKeyFor(long.Parse(id, CultureInfo.InvariantCulture));
        Assert.That(await scheduler.GetJobDetail(key), Is.Not.Null);

        // The stored trigger moved with the post.
        var trigger = (await scheduler.GetTriggersOfJob(key)).Single();
        Assert.That(trigger.NextFireTimeUtc, Is.EqualTo(newTime).Within(TimeSpan.FromSeconds(1)));

        _clock.Advance(TimeSpan.FromMinutes(46));
        var published = (JsonElement)await Api.EventuallyAsync(async () => (await PostsOfAsync(una)).Cast<object>().FirstOrDefault(), "the job to publish the post");
        Assert.Multiple(() =>
        {
            Assert.That(published.GetProperty("content").GetString(), Does.Contain("The garden plan"));
            Assert.That(published.GetProperty("visibility").GetString(), Is.EqualTo("unlisted"));
            Assert.That(published.GetProperty("spoiler_text").GetString(), Is.EqualTo("gardening"));
            Assert.That(published.GetProperty("media_attachments").EnumerateArray().Select(m => m.GetProperty("id").GetString()), Is.EqualTo(new[] { media }));
        });
        Assert.That((await SendAsync(una, HttpMethod.Get, $"/api/v1/scheduled_statuses/{id}")).Status, Is.EqualTo(HttpStatusCode.NotFound), "gone once published");
        Assert.That((await una.GetJsonAsync("/api/v1/scheduled_statuses")).GetArrayLength(), Is.EqualTo(1));
        Assert.That(await scheduler.GetJobDetail(key), Is.Null);

        // The poll comes with its post when that one is published.
        _clock.Advance(TimeSpan.FromHours(2));
        var lunch = (JsonElement)await Api.EventuallyAsync(async () =>
            (await PostsOfAsync(una)).Where(s => s.GetProperty("content").GetString()!.Contains("Lunch", StringComparison.Ordinal)).Cast<object>().FirstOrDefault(),
            "the scheduled poll to be published");
        Assert.That(lunch.GetProperty("poll").GetProperty("options").EnumerateArray().Select(o => o.GetProperty("title").GetString()), Is.EqualTo(new[] { "soup", "salad" }));
        var expires = DateTimeOffset.Parse(lunch.GetProperty("poll").GetProperty("expires_at").GetString()!, CultureInfo.InvariantCulture);
        Assert.That(expires, Is.EqualTo(_clock.GetUtcNow().AddHours(1)).Within(TimeSpan.FromMinutes(1)), "the poll runs from publication");
    }

    [Test]
    public async Task Cancelled_post_frees_its_media_and_its_job()
    {
        var wil = await _instance.CreateMemberAsync("wil");
        var media = await Api.UploadImageAsync(wil);
        var scheduled = await wil.PostJsonAsync("/api/v1/statuses", new { status = "maybe", media_ids = new[] { media }, scheduled_at = At(TimeSpan.FromHours(3)) });
        var id = scheduled.GetProperty("id").GetString()!;
        var (status, body) = await SendAsync(wil, HttpMethod.Delete, $"/api/v1/scheduled_statuses/{id}");
        Assert.That(status, Is.EqualTo(HttpStatusCode.OK));
        Assert.That(body.ValueKind, Is.EqualTo(JsonValueKind.Object));
        Assert.That((await SendAsync(wil, HttpMethod.Delete, $"/api/v1/scheduled_statuses/{id}")).Status, Is.EqualTo(HttpStatusCode.NotFound));
        var scheduler = await _instance.Services.GetRequiredService<ISchedulerFactory>().GetScheduler();
        Assert.That(await scheduler.GetJobDetail(ScheduledStatusScheduler.JobKeyFor(long.Parse(id, CultureInfo.InvariantCulture))), Is.Null);
        var now = await wil.PostJsonAsync("/api/v1/statuses", new { status = "posted now instead", media_ids = new[] { media } });
        Assert.That(now.GetProperty("media_attachments")[0].GetProperty("id").GetString(), Is.EqualTo(media), "the upload is free again");
    }

    [Test]
    public async Task Scheduled_post_survives_a_restart()
    {
        var xan = await _instance.CreateMemberAsync("xan");
        var scheduled = await xan.PostJsonAsync("/api/v1/statuses", new { status = "after the restart", scheduled_at = At(TimeSpan.FromMinutes(10)) });
        await _instance.RestartAsync();
        _clock.Advance(TimeSpan.FromMinutes(11));
        await Api.EventuallyAsync(async () => (await PostsOfAsync(xan)).Any(s => s.GetProperty("content").GetString()!.Contains("after the restart", StringComparison.Ordinal)),
            "the stored job to publish the post after a restart");
        Assert.That((await SendAsync(xan, HttpMethod.Get, $"/api/v1/scheduled_statuses/{scheduled.GetProperty("id").GetString()}")).Status,
            Is.EqualTo(HttpStatusCode.NotFound));
    }

    static async Task<(HttpStatusCode Status, JsonElement Body)> ScheduleWithKeyAsync(Member m, string key, object body)
    {
        using var request = new HttpRequestMessage(HttpMethod.Post, new Uri("/api/v1/statuses", UriKind.Relative)) { Content = JsonContent.Create(body) };
        request.Headers.Add("Idempotency-Key", key);
        var response = await m.Api.SendAsync(request);
        return (response.StatusCode, JsonDocument.Parse(await response.Content.ReadAsStringAsync()).RootElement.Clone());
    }

    [Test]
    public async Task Scheduling_again_with_the_same_idempotency_key_returns_the_same_scheduled_status()
    {
        var ida = await _instance.CreateMemberAsync("ida");
        var body = new { status = "Reminder: meeting at noon", scheduled_at = At(TimeSpan.FromHours(3)) };
        var first = await ScheduleWithKeyAsync(ida, "retry-1", body);
        Assert.That(first.Status, Is.EqualTo(HttpStatusCode.OK), first.Body.ToString());
        var id = first.Body.GetProperty("id").GetString();

        // A retry (a dropped connection, a double tap), also with a different body, gets the first one back.
        var retry = await ScheduleWithKeyAsync(ida, "retry-1", new { status = "Reminder: meeting at noon!", scheduled_at = At(TimeSpan.FromHours(4)) });
        Assert.That(retry.Status, Is.EqualTo(HttpStatusCode.OK));
        Assert.That(retry.Body.GetProperty("id").GetString(), Is.EqualTo(id));
        Assert.That(retry.Body.GetProperty("params").GetProperty("text").GetString(), Is.EqualTo("Reminder: meeting at noon"));

        // Twins sent at once make one scheduled post between them.
        var twins = await Task.WhenAll(Enumerable.Range(0, 4).Select(_ => ScheduleWithKeyAsync(ida, "twins", body)));
        Assert.That(twins.Select(t => t.Status), Is.All.EqualTo(HttpStatusCode.OK));
        Assert.That(twins.Select(t => t.Body.GetProperty("id").GetString()).Distinct().Count(), Is.EqualTo(1));

        // Another key, or the same key from another member, schedules anew.
        var other = await ScheduleWithKeyAsync(ida, "retry-2", body);
        Assert.That(other.Body.GetProperty("id").GetString(), Is.Not.EqualTo(id));
        var someoneElse = await ScheduleWithKeyAsync(await _instance.CreateMemberAsync("jon"), "retry-1", body);
        Assert.That(someoneElse.Body.GetProperty("id").GetString(), Is.Not.EqualTo(id));
        Assert.That((await ida.GetJsonAsync("/api/v1/scheduled_statuses")).GetArrayLength(), Is.EqualTo(3));

        // A key whose post was cancelled schedules anew; so does one older than the hour.
        Assert.That((await SendAsync(ida, HttpMethod.Delete, $"/api/v1/scheduled_statuses/{id}")).Status, Is.EqualTo(HttpStatusCode.OK));
        var afterCancel = await ScheduleWithKeyAsync(ida, "retry-1", body);
        Assert.That(afterCancel.Status, Is.EqualTo(HttpStatusCode.OK));
        Assert.That(afterCancel.Body.GetProperty("id").GetString(), Is.Not.EqualTo(id));
        _clock.Advance(TimeSpan.FromMinutes(61));
        var later = await ScheduleWithKeyAsync(ida, "retry-2", new { status = "A new week", scheduled_at = At(TimeSpan.FromHours(3)) });
        Assert.That(later.Body.GetProperty("id").GetString(), Is.Not.EqualTo(other.Body.GetProperty("id").GetString()));
        Assert.That(later.Body.GetProperty("params").GetProperty("text").GetString(), Is.EqualTo("A new week"));

        // The key still works for posting now, apart from scheduling.
        var now1 = await ScheduleWithKeyAsync(ida, "now-key", new { status = "posted now" });
        var now2 = await ScheduleWithKeyAsync(ida, "now-key", new { status = "posted now" });
        Assert.That(now2.Body.GetProperty("id").GetString(), Is.EqualTo(now1.Body.GetProperty("id").GetString()));
        Assert.That(now1.Body.GetProperty("content").GetString(), Does.Contain("posted now"));
    }
}
