// Request bodies are written inline so each test reads as the HTTP it sends.
#pragma warning disable CA1861
using System.Globalization;
using System.Net;
using System.Net.Http.Json;
using System.Text.Json;
using System.Text.Json.Nodes;
using Dapper;
using Fellows.Server.Features.Delivery;
using Fellows.Server.Features.Motions;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Time.Testing;
using Npgsql;
using NUnit.Framework;
using Quartz;

namespace Fellows.Server.Tests.Deliberation;

/// <summary>
/// A motion's whole life across three Fellows instances on loopback, each with its own test clock: A runs the
/// motion and names B and C as allied co-ops. Amendments, the close, the outcome, commitments, reviews and overdue
/// reminders are driven by advancing the clocks (Quartz runs on them); nothing sleeps.
/// </summary>
[NonParallelizable]
public class MotionLifecycleTests
{
    ClockedInstances _instances = null!;
    FakeTimeProvider _clockA = null!;
    FakeTimeProvider _clockB = null!;
    FellowsInstance _a = null!;
    FellowsInstance _b = null!;
    FellowsInstance _c = null!;
    Member _ann = null!;
    Member _amy = null!;
    Member _bob = null!;
    Member _cat = null!;

    [OneTimeSetUp]
    public async Task StartAsync()
    {
        // Each motion's and follow-up's own Quartz triggers do the work; the safety-net sweep stays out of the way.
        _instances = await ClockedInstances.StartAsync("lifecycle-a", "lifecycle-b", "lifecycle-c");
        (_a, _b, _c, _clockA, _clockB) = (_instances[0], _instances[1], _instances[2], _instances.ClockOf(0), _instances.ClockOf(1));
        _ann = await _a.CreateMemberAsync("ann");
        _amy = await _a.CreateMemberAsync("amy");
        _bob = await _b.CreateMemberAsync("bob");
        _cat = await _c.CreateMemberAsync("cat");
    }

    [OneTimeTearDown]
    public async Task StopAsync() => await _instances.DisposeAsync();

    const string Motions = "/api/fellows/v1/motions";

    void Advance(TimeSpan by) => _instances.Advance(by);

    static string Iso(DateTimeOffset t) => t.ToString("O", CultureInfo.InvariantCulture);

    async Task<(string Id, string Uri)> OpenAsync(string title, bool allied = true, string method = "consent")
    {
        var draft = await _ann.PostJsonAsync(Motions, new
        {
            title,
            body = "We buy a **bread oven**.",
            method,
            options = method == "consent" ? Array.Empty<string>() : new[] { "yes", "no" },
            allied_actors = allied ? new[] { _b.BaseUrl + "/actor", _c.BaseUrl + "/actor" } : [],
            voting_ends_at = Iso(_clockA.GetUtcNow() + TimeSpan.FromMinutes(30)),
            remind_before_hours = 0,
        });
        var id = draft.GetProperty("id").GetString()!;
        var open = await _ann.PostJsonAsync($"{Motions}/{id}/voting");
        Assert.That(open.GetProperty("state").GetString(), Is.EqualTo("voting"));
        return (id, open.GetProperty("uri").GetString()!);
    }

    static async Task<string> MirrorAsync(Member member, string uri) =>
        await Api.EventuallyAsync(async () => (await member.GetJsonAsync(Motions)).EnumerateArray()
            .Where(m => m.GetProperty("uri").GetString() == uri).Select(m => m.GetProperty("id").GetString()).FirstOrDefault(), $"the motion to reach {member.Handle}");

    static async Task<(HttpStatusCode Status, JsonElement Body)> SendAsync(Member member, HttpMethod method, string path, object? body = null)
    {
        using var request = new HttpRequestMessage(method, new Uri(path, UriKind.Relative)) { Content = body is null ? null : JsonContent.Create(body) };
        using var response = await member.Api.SendAsync(request);
        var text = await response.Content.ReadAsStringAsync();
        return (response.StatusCode, text.Length == 0 ? default : JsonDocument.Parse(text).RootElement.Clone());
    }

    async Task CloseByJobAsync(string id)
    {
        var scheduler = await _a.Services.GetRequiredService<ISchedulerFactory>().GetScheduler();
        Assert.That(await scheduler.GetJobDetail(MotionScheduler.JobKeyFor(long.Parse(id, CultureInfo.InvariantCulture))), Is.Not.Null);
        Advance(TimeSpan.FromMinutes(31));
        await Api.EventuallyAsync(async () => (await _ann.GetJsonAsync($"{Motions}/{id}")).GetProperty("state").GetString() == "closed", "the job to close the motion");
    }

    /// <summary>The member's notifications that carry the given Fellows kind, as a Mastodon app receives them.</summary>
    static async Task<List<JsonElement>> FellowsNotificationsAsync(Member member, string fellowsType) =>
        (await member.GetJsonAsync("/api/v1/notifications")).EnumerateArray()
            .Where(n => n.TryGetProperty("fellows_type", out var t) && t.GetString() == fellowsType).ToList();

    async Task<JsonElement> EventuallyJsonAsync(Func<Task<JsonElement?>> probe, string what)
    {
        try
        {
            return (JsonElement)await Api.EventuallyAsync(async () => await probe() is { } found ? (object)found : null, what);
        }
        catch (AssertionException e)
        {
            throw new AssertionException(e.Message + Environment.NewLine + await FederationTrace.DescribeAsync(_a, _b, _c));
        }
    }

    [Test]
    public async Task Proposal_on_A_for_B_and_C_is_amended_decided_and_followed_up_identically_on_all_three()
    {
        var (id, uri) = await OpenAsync("Bread oven");
        var onB = await MirrorAsync(_bob, uri);
        var onC = await MirrorAsync(_cat, uri);

        // Positions with reasons on all three instances.
        await _amy.PostJsonAsync($"{Motions}/{id}/stances", new { choices = new[] { "agree" }, reason = "We bake every day" });
        await _bob.PostJsonAsync($"{Motions}/{onB}/stances", new { choices = new[] { "agree" }, reason = "B will use it too" });
        await _cat.PostJsonAsync($"{Motions}/{onC}/stances", new { choices = new[] { "disagree" }, reason = "Too dear as written" });
        await Api.EventuallyAsync(async () => (await _ann.GetJsonAsync($"{Motions}/{id}/stances")).GetArrayLength() == 3, "all three stances to count on A");

        // Bob, on B, proposes an amendment; it reaches A (the home) and C (from B directly).
        var (noReason, noReasonBody) = await SendAsync(_bob, HttpMethod.Post, $"{Motions}/{onB}/amendments", new { body = "x" });
        Assert.That((int)noReason, Is.EqualTo(422));
        Assert.That(noReasonBody.GetProperty("error").GetString(), Does.Contain("reason"));
        var proposed = await _bob.PostJsonAsync($"{Motions}/{onB}/amendments", new
        {
            body = "We buy a **second-hand** bread oven.",
            reason = "Cheaper, and the same bread",
        });
        Assert.That(proposed.GetProperty("state").GetString(), Is.EqualTo("proposed"));
        var amendmentUri = proposed.GetProperty("uri").GetString()!;
        Assert.That(amendmentUri, Does.StartWith(_b.BaseUrl));
        var onA = await EventuallyJsonAsync(async () => (await _ann.GetJsonAsync($"{Motions}/{id}/amendments")).EnumerateArray()
            .Cast<JsonElement?>().FirstOrDefault(a => a!.Value.GetProperty("uri").GetString() == amendmentUri), "the amendment to reach A");
        Assert.That(onA.GetProperty("author").GetString(), Is.EqualTo(_bob.Handle));
        Assert.That(onA.GetProperty("reason").GetString(), Does.Contain("Cheaper"));
        await Api.EventuallyAsync(async () => (await _cat.GetJsonAsync($"{Motions}/{onC}/amendments")).EnumerateArray()
            .Any(a => a.GetProperty("uri").GetString() == amendmentUri), "the amendment to reach C");

        // Only the author (or an admin) decides it; ann accepts.
        var amendmentId = onA.GetProperty("id").GetString()!;
        var (notAuthor, _) = await SendAsync(_amy, HttpMethod.Post, $"{Motions}/{id}/amendments/{amendmentId}/accept");
        Assert.That(notAuthor, Is.EqualTo(HttpStatusCode.Forbidden));
        var accepted = await _ann.PostJsonAsync($"{Motions}/{id}/amendments/{amendmentId}/accept");
        Assert.That(accepted.GetProperty("state").GetString(), Is.EqualTo("accepted"));
        Assert.That(accepted.GetProperty("text_version").GetInt32(), Is.EqualTo(2));
        var (twice, _) = await SendAsync(_ann, HttpMethod.Post, $"{Motions}/{id}/amendments/{amendmentId}/decline");
        Assert.That((int)twice, Is.EqualTo(422), "a decided amendment stays decided");

        var amended = await _ann.GetJsonAsync($"{Motions}/{id}");
        Assert.That(amended.GetProperty("text_version").GetInt32(), Is.EqualTo(2));
        Assert.That(amended.GetProperty("body_html").GetString(), Does.Contain("<strong>second-hand</strong>"));
        var versions = await _ann.GetJsonAsync($"{Motions}/{id}/versions");
        Assert.That(versions.EnumerateArray().Select(v => v.GetProperty("version").GetInt32()), Is.EqualTo(new[] { 2, 1 }));
        Assert.That(versions[1].GetProperty("body").GetString(), Is.EqualTo("We buy a **bread oven**."), "the first text is kept");
        Assert.That(versions[0].GetProperty("amendment_id").GetString(), Is.EqualTo(amendmentId));
        // The motion's post was edited as Mastodon edits are: its earlier content is in its history.
        var history = await _ann.GetJsonAsync($"/api/v1/statuses/{id}/history");
        Assert.That(history.GetArrayLength(), Is.EqualTo(2));

        // Stances taken before stay counted, flagged, and their voters are asked to reconfirm.
        var amysBefore = (await _ann.GetJsonAsync($"{Motions}/{id}/stances")).EnumerateArray().Single(s => s.GetProperty("voter").GetString() == "amy");
        Assert.That(amysBefore.GetProperty("before_amendment").GetInt32(), Is.EqualTo(1));
        var amyTold = await FellowsNotificationsAsync(_amy, "fellows.motion_amended");
        Assert.That(amyTold, Has.Count.EqualTo(1));
        Assert.That(amyTold[0].GetProperty("type").GetString(), Is.EqualTo("update"), "shown to Mastodon apps as an edited post");
        Assert.That(amyTold[0].GetProperty("status").GetProperty("id").GetString(), Is.EqualTo(id));
        await _amy.PostJsonAsync($"{Motions}/{id}/stances", new { choices = new[] { "agree" }, reason = "Still yes" });
        var amysAfter = (await _ann.GetJsonAsync($"{Motions}/{id}/stances")).EnumerateArray().Single(s => s.GetProperty("voter").GetString() == "amy");
        Assert.That(amysAfter.GetProperty("before_amendment").ValueKind, Is.EqualTo(JsonValueKind.Null));
        Assert.That(amysAfter.GetProperty("text_version").GetInt32(), Is.EqualTo(2));

        // B and C get the new text (Update of the Question) and the Accept; B tells bob to reconfirm.
        foreach (var (member, mirror) in new[] { (_bob, onB), (_cat, onC) })
        {
            await Api.EventuallyAsync(async () => (await member.GetJsonAsync($"{Motions}/{mirror}")).GetProperty("text_version").GetInt32() == 2,
                $"the amended text to reach {member.Handle}");
            var there = await member.GetJsonAsync($"{Motions}/{mirror}");
            Assert.That(there.GetProperty("body_html").GetString(), Does.Contain("second-hand"));
            Assert.That((await member.GetJsonAsync($"{Motions}/{mirror}/versions")).EnumerateArray().Select(v => v.GetProperty("version").GetInt32()),
                Does.Contain(2));
            await Api.EventuallyAsync(async () => (await member.GetJsonAsync($"{Motions}/{mirror}/amendments")).EnumerateArray()
                .Any(a => a.GetProperty("uri").GetString() == amendmentUri && a.GetProperty("state").GetString() == "accepted"), $"the Accept to reach {member.Handle}");
        }
        Assert.That((await _bob.GetJsonAsync($"{Motions}/{onB}")).GetProperty("my_stance").GetProperty("before_amendment").GetInt32(), Is.EqualTo(1));
        Assert.That(await FellowsNotificationsAsync(_bob, "fellows.motion_amended"), Has.Count.EqualTo(1));

        // The deadline passes on every clock; the tally is the same on all three.
        await CloseByJobAsync(id);
        var closed = await _ann.GetJsonAsync($"{Motions}/{id}");
        Assert.That(closed.GetProperty("tally_state").GetString(), Is.EqualTo("passed"));
        Assert.That(closed.GetProperty("tally").GetProperty("participantCount").GetInt32(), Is.EqualTo(3));
        var digest = closed.GetProperty("tally_digest").GetString()!;
        foreach (var (member, mirror) in new[] { (_bob, onB), (_cat, onC) })
        {
            var there = await EventuallyJsonAsync(async () =>
            {
                var m = await member.GetJsonAsync($"{Motions}/{mirror}");
                return m.GetProperty("state").GetString() == "closed" && m.GetProperty("tally_digest").ValueKind == JsonValueKind.String ? m : null;
            }, $"the result to reach {member.Handle}");
            Assert.That(there.GetProperty("tally_digest").GetString(), Is.EqualTo(digest));
            Assert.That(there.GetProperty("tally_verified").GetBoolean(), Is.True);
            Assert.That(there.GetProperty("tally").GetRawText(), Is.EqualTo(closed.GetProperty("tally").GetRawText()));
        }

        // The outcome, with a review date, goes to B and C as a fellows:Outcome.
        var reviewAt = _clockA.GetUtcNow() + TimeSpan.FromDays(7);
        var outcome = await _ann.PostJsonAsync($"{Motions}/{id}/outcome", new { statement = "Agreed: a *second-hand* oven by spring.", review_at = Iso(reviewAt) });
        var outcomeUri = outcome.GetProperty("outcome").GetProperty("uri").GetString()!;
        Assert.That(outcomeUri, Is.EqualTo(uri + "#outcome"));
        foreach (var (member, mirror) in new[] { (_bob, onB), (_cat, onC) })
        {
            var there = await EventuallyJsonAsync(async () =>
            {
                var m = await member.GetJsonAsync($"{Motions}/{mirror}");
                return m.GetProperty("outcome").ValueKind == JsonValueKind.Object ? m : null;
            }, $"the outcome to reach {member.Handle}");
            Assert.That(there.GetProperty("outcome").GetProperty("statement_html").GetString(), Does.Contain("<em>second-hand</em>"));
            Assert.That(there.GetProperty("outcome").GetProperty("uri").GetString(), Is.EqualTo(outcomeUri));
            Assert.That(DateTimeOffset.Parse(there.GetProperty("outcome").GetProperty("review_at").GetString()!, CultureInfo.InvariantCulture), Is.EqualTo(reviewAt));
        }

        // Bob commits on B; the commitment appears on A's outcome (and on C), then his fulfilment too.
        var (early, _) = await SendAsync(_bob, HttpMethod.Post, $"{Motions}/{onB}/commitments", new { what = "" });
        Assert.That((int)early, Is.EqualTo(422));
        var commitment = await _bob.PostJsonAsync($"{Motions}/{onB}/commitments", new
        {
            what = "Find three second-hand ovens",
            for_whom = "the bakery workgroup",
            due_at = Iso(_clockB.GetUtcNow() + TimeSpan.FromDays(3)),
        });
        var commitmentUri = commitment.GetProperty("uri").GetString()!;
        var onAsOutcome = await EventuallyJsonAsync(async () => (await _ann.GetJsonAsync($"{Motions}/{id}/commitments")).EnumerateArray()
            .Cast<JsonElement?>().FirstOrDefault(c => c!.Value.GetProperty("uri").GetString() == commitmentUri), "bob's commitment to reach A");
        Assert.That(onAsOutcome.GetProperty("acct").GetString(), Is.EqualTo(_bob.Handle));
        Assert.That(onAsOutcome.GetProperty("what").GetString(), Is.EqualTo("Find three second-hand ovens"));
        Assert.That(onAsOutcome.GetProperty("for_whom").GetString(), Is.EqualTo("the bakery workgroup"));
        Assert.That(onAsOutcome.GetProperty("local").GetBoolean(), Is.False);
        Assert.That(onAsOutcome.GetProperty("fulfilled_at").ValueKind, Is.EqualTo(JsonValueKind.Null));
        await Api.EventuallyAsync(async () => (await _cat.GetJsonAsync($"{Motions}/{onC}/commitments")).EnumerateArray()
            .Any(c => c.GetProperty("uri").GetString() == commitmentUri), "bob's commitment to reach C");
        // Nobody else fulfils it, on B or on A.
        var (notHis, _) = await SendAsync(_ann, HttpMethod.Post, $"/api/fellows/v1/commitments/{onAsOutcome.GetProperty("id").GetString()}/fulfil");
        Assert.That(notHis, Is.EqualTo(HttpStatusCode.NotFound));

        var fulfilled = await _bob.PostJsonAsync($"/api/fellows/v1/commitments/{commitment.GetProperty("id").GetString()}/fulfil");
        Assert.That(fulfilled.GetProperty("fulfilled_at").ValueKind, Is.EqualTo(JsonValueKind.String));
        await Api.EventuallyAsync(async () => (await _ann.GetJsonAsync($"{Motions}/{id}/commitments")).EnumerateArray()
            .Any(c => c.GetProperty("uri").GetString() == commitmentUri && c.GetProperty("fulfilled_at").ValueKind == JsonValueKind.String), "the fulfilment to reach A");

        // Bob's profile shows commitments kept, in the API and on his actor document.
        var record = await _bob.GetJsonAsync($"/api/fellows/v1/accounts/{_bob.AccountId}/commitments");
        Assert.That(record.GetProperty("kept").GetInt32(), Is.EqualTo(1));
        Assert.That(record.GetProperty("open").GetInt32(), Is.Zero);
        using (var fetch = new HttpRequestMessage(HttpMethod.Get, new Uri(_bob.ActorId)))
        {
            fetch.Headers.Accept.ParseAdd("application/activity+json");
            using var response = await _b.Client.SendAsync(fetch);
            var actor = await Api.JsonAsync(response);
            Assert.That(actor.GetProperty("commitmentsKept").GetInt32(), Is.EqualTo(1));
        }

        // At the review date every instance asks its own participants whether the outcome still stands.
        Advance(TimeSpan.FromDays(7) + TimeSpan.FromMinutes(1));
        foreach (var member in new[] { _amy, _cat })
        {
            var asked = await EventuallyJsonAsync(async () => (await FellowsNotificationsAsync(member, "fellows.outcome_review")).Cast<JsonElement?>().FirstOrDefault(),
                $"{member.Handle} to be asked to review the outcome");
            Assert.That(asked.GetProperty("type").GetString(), Is.EqualTo("status"));
        }
        var reviewed = await _ann.GetJsonAsync($"{Motions}/{id}");
        Assert.That(reviewed.GetProperty("outcome").GetProperty("reviewed_at").ValueKind, Is.EqualTo(JsonValueKind.String));
    }

    [Test]
    public async Task Amendment_put_to_consent_is_declined_by_a_block_and_accepted_when_members_agree()
    {
        var (id, _) = await OpenAsync("Opening hours", allied: false);
        var (unchanged, _) = await SendAsync(_amy, HttpMethod.Post, $"{Motions}/{id}/amendments", new { body = "We buy a **bread oven**.", reason = "same" });
        Assert.That((int)unchanged, Is.EqualTo(422), "an amendment must change the text");
        var first = await _amy.PostJsonAsync($"{Motions}/{id}/amendments", new { title = "Opening hours from nine", reason = "Earlier for commuters" });
        var firstId = first.GetProperty("id").GetString()!;
        var (positionTooSoon, _) = await SendAsync(_amy, HttpMethod.Post, $"{Motions}/{id}/amendments/{firstId}/positions", new { position = "agree" });
        Assert.That((int)positionTooSoon, Is.EqualTo(422), "positions only once it is put to the members");
        var (notFacilitator, _) = await SendAsync(_amy, HttpMethod.Post, $"{Motions}/{id}/amendments/{firstId}/vote");
        Assert.That(notFacilitator, Is.EqualTo(HttpStatusCode.Forbidden));
        var voting = await _ann.PostJsonAsync($"{Motions}/{id}/amendments/{firstId}/vote");
        Assert.That(voting.GetProperty("state").GetString(), Is.EqualTo("voting"));

        var (blockWithoutReason, body) = await SendAsync(_amy, HttpMethod.Post, $"{Motions}/{id}/amendments/{firstId}/positions", new { position = "block" });
        Assert.That((int)blockWithoutReason, Is.EqualTo(422));
        Assert.That(body.GetProperty("error").GetString(), Does.Contain("reason"));
        var (badPosition, _) = await SendAsync(_amy, HttpMethod.Post, $"{Motions}/{id}/amendments/{firstId}/positions", new { position = "maybe" });
        Assert.That((int)badPosition, Is.EqualTo(422));
        await _ann.PostJsonAsync($"{Motions}/{id}/amendments/{firstId}/positions", new { position = "agree" });
        var counts = await _amy.PostJsonAsync($"{Motions}/{id}/amendments/{firstId}/positions", new { position = "block", reason = "Staff start at ten" });
        Assert.That(counts.GetProperty("agree").GetInt32(), Is.EqualTo(1));
        Assert.That(counts.GetProperty("block").GetInt32(), Is.EqualTo(1));
        Assert.That(counts.GetProperty("passed").GetBoolean(), Is.False);
        var declined = await _ann.PostJsonAsync($"{Motions}/{id}/amendments/{firstId}/resolve");
        Assert.That(declined.GetProperty("state").GetString(), Is.EqualTo("declined"));
        Assert.That(declined.GetProperty("positions").GetProperty("block").GetInt32(), Is.EqualTo(1));
        Assert.That((await _ann.GetJsonAsync($"{Motions}/{id}")).GetProperty("title").GetString(), Is.EqualTo("Opening hours"), "a declined amendment leaves the text");

        var second = await _amy.PostJsonAsync($"{Motions}/{id}/amendments", new { title = "Opening hours from half past nine", reason = "A compromise" });
        var secondId = second.GetProperty("id").GetString()!;
        await _ann.PostJsonAsync($"{Motions}/{id}/amendments/{secondId}/vote");
        await _amy.PostJsonAsync($"{Motions}/{id}/amendments/{secondId}/positions", new { position = "agree" });
        // A changed position replaces the earlier one.
        await _ann.PostJsonAsync($"{Motions}/{id}/amendments/{secondId}/positions", new { position = "disagree" });
        await _ann.PostJsonAsync($"{Motions}/{id}/amendments/{secondId}/positions", new { position = "abstain" });
        var resolved = await _ann.PostJsonAsync($"{Motions}/{id}/amendments/{secondId}/resolve");
        Assert.That(resolved.GetProperty("state").GetString(), Is.EqualTo("accepted"));
        Assert.That(resolved.GetProperty("positions").GetProperty("disagree").GetInt32(), Is.Zero);
        var motion = await _ann.GetJsonAsync($"{Motions}/{id}");
        Assert.That(motion.GetProperty("title").GetString(), Is.EqualTo("Opening hours from half past nine"));
        Assert.That(motion.GetProperty("text_version").GetInt32(), Is.EqualTo(2));
        var status = await _ann.GetJsonAsync($"/api/v1/statuses/{id}");
        Assert.That(status.GetProperty("content").GetString(), Does.Contain("half past nine"), "the motion's post shows the amended text");

        // Once closed, the text is final.
        await CloseByJobAsync(id);
        var (afterClose, _) = await SendAsync(_amy, HttpMethod.Post, $"{Motions}/{id}/amendments", new { title = "Later", reason = "too late" });
        Assert.That((int)afterClose, Is.EqualTo(422));
        var (missing, _) = await SendAsync(_ann, HttpMethod.Post, $"{Motions}/{id}/amendments/12345/accept");
        Assert.That(missing, Is.EqualTo(HttpStatusCode.NotFound));
    }

    [Test]
    public async Task Members_of_allied_co_ops_take_positions_on_an_amendment_and_the_home_instance_counts_them()
    {
        var (id, uri) = await OpenAsync("Shared van");
        var onB = await MirrorAsync(_bob, uri);
        var onC = await MirrorAsync(_cat, uri);
        var amendment = await _amy.PostJsonAsync($"{Motions}/{id}/amendments", new { title = "Shared electric van", reason = "Cheaper to run" });
        var amendmentId = amendment.GetProperty("id").GetString()!;
        var amendmentUri = amendment.GetProperty("uri").GetString()!;
        async Task<JsonElement> CopyAsync(Member member, string motionId, string state) => await EventuallyJsonAsync(async () =>
            (await member.GetJsonAsync($"{Motions}/{motionId}/amendments")).EnumerateArray()
                .Where(a => a.GetProperty("uri").GetString() == amendmentUri && a.GetProperty("state").GetString() == state).Cast<JsonElement?>().FirstOrDefault(),
            $"the amendment to be {state} on {member.Handle}'s server");
        var onBId = (await CopyAsync(_bob, onB, "proposed")).GetProperty("id").GetString()!;
        var (tooSoon, _) = await SendAsync(_bob, HttpMethod.Post, $"{Motions}/{onB}/amendments/{onBId}/positions", new { position = "agree" });
        Assert.That((int)tooSoon, Is.EqualTo(422), "not yet put to the members");

        await _ann.PostJsonAsync($"{Motions}/{id}/amendments/{amendmentId}/vote");
        await CopyAsync(_bob, onB, "voting");
        var onCId = (await CopyAsync(_cat, onC, "voting")).GetProperty("id").GetString()!;
        var (blockWithoutReason, _) = await SendAsync(_bob, HttpMethod.Post, $"{Motions}/{onB}/amendments/{onBId}/positions", new { position = "block" });
        Assert.That((int)blockWithoutReason, Is.EqualTo(422));
        // bob first agrees, then blocks: the later position replaces the earlier one on A, in whichever order they arrive.
        await _bob.PostJsonAsync($"{Motions}/{onB}/amendments/{onBId}/positions", new { position = "agree" });
        Advance(TimeSpan.FromSeconds(2));
        var bobCounts = await _bob.PostJsonAsync($"{Motions}/{onB}/amendments/{onBId}/positions", new { position = "block", reason = "We need it for deliveries" });
        Assert.That(bobCounts.GetProperty("block").GetInt32(), Is.EqualTo(1), "kept on bob's own server too");
        await _cat.PostJsonAsync($"{Motions}/{onC}/amendments/{onCId}/positions", new { position = "agree" });
        await _amy.PostJsonAsync($"{Motions}/{id}/amendments/{amendmentId}/positions", new { position = "agree" });
        var onA = await EventuallyJsonAsync(async () =>
            (await _ann.GetJsonAsync($"{Motions}/{id}/amendments")).EnumerateArray().Single(a => a.GetProperty("id").GetString() == amendmentId)
                .GetProperty("positions") is var p && p.GetProperty("agree").GetInt32() == 2 && p.GetProperty("block").GetInt32() == 1 ? p : null,
            "bob's block and cat's agreement to be counted on A");
        Assert.That(onA.GetProperty("passed").GetBoolean(), Is.False, "a block from an allied co-op stops the amendment");

        var resolved = await _ann.PostJsonAsync($"{Motions}/{id}/amendments/{amendmentId}/resolve");
        Assert.That(resolved.GetProperty("state").GetString(), Is.EqualTo("declined"));
        Assert.That(resolved.GetProperty("positions").GetProperty("agree").GetInt32(), Is.EqualTo(2));
        await CopyAsync(_bob, onB, "declined");

        // Late (the amendment is decided) or from a co-op outside the electorate: a Reject with the reason, never counted.
        var (other, _) = await OpenAsync("Bike shed", allied: false);
        var otherAmendment = await _amy.PostJsonAsync($"{Motions}/{other}/amendments", new { title = "Bike shed with a roof", reason = "Rain" });
        await _ann.PostJsonAsync($"{Motions}/{other}/amendments/{otherAmendment.GetProperty("id").GetString()}/vote");
        foreach (var (target, why) in new[] { (amendmentUri, "not-open"), (otherAmendment.GetProperty("uri").GetString()!, "ineligible") })
        {
            var positionId = $"{_cat.ActorId}/amendment-positions/raw-{why}";
            var activity = new JsonObject
            {
                ["@context"] = new JsonArray("https://www.w3.org/ns/activitystreams", Fellows.Federation.Deliberation.DeliberationVocabulary.ContextUrl(_c.BaseUrl)),
                ["id"] = positionId + "/activity",
                ["type"] = "Create",
                ["actor"] = _cat.ActorId,
                ["to"] = new JsonArray(_ann.ActorId),
                ["object"] = new JsonObject
                {
                    ["id"] = positionId, ["type"] = new JsonArray("Note", "fellows:AmendmentPosition"), ["attributedTo"] = _cat.ActorId,
                    ["inReplyTo"] = target, ["position"] = "disagree", ["content"] = "", ["to"] = new JsonArray(_ann.ActorId),
                },
            };
            await SendRawAsync(_c, _cat, activity, _ann.ActorId);
            await WaitProcessedAsync(_a, positionId + "/activity");
            await using var conn = new NpgsqlConnection(_a.ConnectionString);
            Assert.That(await conn.ExecuteScalarAsync<long>("""
                SELECT count(*) FROM motion_amendment_positions p JOIN motion_amendments am ON am.id = p.amendment_id
                WHERE am.uri = @target AND p.position = 'disagree'
                """, new { target }), Is.Zero, $"{why}: not counted");
            Assert.That(await conn.ExecuteScalarAsync<string>(
                "SELECT body FROM outbox_activities WHERE body::jsonb ->> 'type' = 'Reject' AND body LIKE '%' || @positionId || '%'", new { positionId }),
                Does.Contain(why), $"{why}: the member is told why");
        }
    }

    [Test]
    public async Task Files_attached_to_a_draft_motion_are_reserved_then_posted_with_it_and_shown_on_allied_servers()
    {
        var plan = await Api.UploadImageAsync(_ann, "plan.png");
        var amysQuote = await Api.UploadImageAsync(_amy, "quote.png");
        object Draft(params string[] mediaIds) => new
        {
            title = "Solar panels", body = "The roof faces south.", method = "consent", allied_actors = new[] { _b.BaseUrl + "/actor" },
            voting_ends_at = Iso(_clockA.GetUtcNow() + TimeSpan.FromMinutes(30)), remind_before_hours = 0, media_ids = mediaIds,
        };
        var (notHers, notHersBody) = await SendAsync(_ann, HttpMethod.Post, Motions, Draft(amysQuote));
        Assert.That((int)notHers, Is.EqualTo(422), "someone else's upload");
        Assert.That(notHersBody.GetProperty("error").GetString(), Does.Contain(amysQuote));
        var (notAnId, _) = await SendAsync(_ann, HttpMethod.Post, Motions, Draft("plan"));
        Assert.That((int)notAnId, Is.EqualTo(422));
        var (tooMany, _) = await SendAsync(_ann, HttpMethod.Post, Motions, Draft("1", "2", "3", "4", "5"));
        Assert.That((int)tooMany, Is.EqualTo(422));

        var draft = await _ann.PostJsonAsync(Motions, Draft(plan));
        var id = draft.GetProperty("id").GetString()!;
        Assert.That(draft.GetProperty("media_attachments").EnumerateArray().Select(m => m.GetProperty("id").GetString()), Is.EqualTo(new[] { plan }));
        // Reserved for the draft: neither deleted nor posted elsewhere.
        var (deleted, _) = await SendAsync(_ann, HttpMethod.Delete, $"/api/v1/media/{plan}");
        Assert.That(deleted, Is.EqualTo(HttpStatusCode.NotFound));
        var (elsewhere, _) = await SendAsync(_ann, HttpMethod.Post, "/api/v1/statuses", new { status = "the plan", media_ids = new[] { plan } });
        Assert.That((int)elsewhere, Is.EqualTo(422));
        var (twice, _) = await SendAsync(_ann, HttpMethod.Post, Motions, Draft(plan));
        Assert.That((int)twice, Is.EqualTo(422), "one draft's upload cannot go on another");

        var open = await _ann.PostJsonAsync($"{Motions}/{id}/voting");
        var uri = open.GetProperty("uri").GetString()!;
        var status = await _ann.GetJsonAsync($"/api/v1/statuses/{id}");
        var posted = status.GetProperty("media_attachments").EnumerateArray().Single();
        Assert.That(posted.GetProperty("id").GetString(), Is.EqualTo(plan), "the motion's post carries the file, for any Mastodon app");
        using (var fetch = new HttpRequestMessage(HttpMethod.Get, new Uri(uri)))
        {
            fetch.Headers.Accept.ParseAdd("application/activity+json");
            using var response = await _a.Client.SendAsync(fetch);
            var question = JsonDocument.Parse(await response.Content.ReadAsStringAsync()).RootElement;
            var attachment = question.GetProperty("attachment").EnumerateArray().Single();
            Assert.That(attachment.GetProperty("url").GetString(), Is.EqualTo(posted.GetProperty("url").GetString()));
            Assert.That(attachment.GetProperty("mediaType").GetString(), Does.StartWith("image/"));
        }

        // On the allied server the mirrored motion, and its post, show the file.
        var onB = await MirrorAsync(_bob, uri);
        var mirrored = (await _bob.GetJsonAsync($"{Motions}/{onB}")).GetProperty("media_attachments").EnumerateArray().Single();
        Assert.That(mirrored.GetProperty("remote_url").GetString(), Is.EqualTo(posted.GetProperty("url").GetString()));
        var statusOnB = (await _bob.GetJsonAsync($"{Motions}/{onB}")).GetProperty("status_id").GetString();
        Assert.That((await _bob.GetJsonAsync($"/api/v1/statuses/{statusOnB}")).GetProperty("media_attachments").GetArrayLength(), Is.EqualTo(1));

        // A draft withdrawn unposted gives its upload back.
        var spare = await Api.UploadImageAsync(_ann, "spare.png");
        var withdrawn = await _ann.PostJsonAsync(Motions, Draft(spare));
        await _ann.PostJsonAsync($"{Motions}/{withdrawn.GetProperty("id").GetString()}/withdraw");
        var (freed, _) = await SendAsync(_ann, HttpMethod.Delete, $"/api/v1/media/{spare}");
        Assert.That(freed, Is.EqualTo(HttpStatusCode.OK));
    }

    [Test]
    public async Task Overdue_commitment_is_reminded_once_as_a_notification_and_shown_overdue()
    {
        var (id, _) = await OpenAsync("Compost", allied: false);
        await _amy.PostJsonAsync($"{Motions}/{id}/stances", new { choices = new[] { "agree" } });
        await CloseByJobAsync(id);
        var commitment = await _amy.PostJsonAsync($"{Motions}/{id}/commitments", new { what = "Build the compost bins", due_at = Iso(_clockA.GetUtcNow() + TimeSpan.FromHours(1)) });
        Assert.That(commitment.GetProperty("overdue").GetBoolean(), Is.False);
        var scheduler = await _a.Services.GetRequiredService<ISchedulerFactory>().GetScheduler();
        var key = MotionFollowUpScheduler.CommitmentKey(long.Parse(commitment.GetProperty("id").GetString()!, CultureInfo.InvariantCulture));
        Assert.That(await scheduler.GetJobDetail(key), Is.Not.Null, "the due date is a stored Quartz trigger");
        Assert.That(await FellowsNotificationsAsync(_amy, "fellows.commitment_due"), Is.Empty);

        Advance(TimeSpan.FromMinutes(61));
        var reminded = await EventuallyJsonAsync(async () => (await FellowsNotificationsAsync(_amy, "fellows.commitment_due")).Cast<JsonElement?>().FirstOrDefault(),
            "the overdue reminder");
        Assert.That(reminded.GetProperty("type").GetString(), Is.EqualTo("status"));
        Assert.That(reminded.GetProperty("status").GetProperty("id").GetString(), Is.EqualTo(id));
        // Mastodon filters see it as the kind it is shown as.
        var onlyStatus = await _amy.GetJsonAsync("/api/v1/notifications?types[]=status");
        Assert.That(onlyStatus.EnumerateArray().Any(n => n.GetProperty("fellows_type").GetString() == "fellows.commitment_due"), Is.True);
        var withoutStatus = await _amy.GetJsonAsync("/api/v1/notifications?exclude_types[]=status");
        Assert.That(withoutStatus.EnumerateArray().Any(n => n.TryGetProperty("fellows_type", out var t) && t.GetString() == "fellows.commitment_due"), Is.False);

        var listed = (await _amy.GetJsonAsync($"{Motions}/{id}/commitments")).EnumerateArray().Single();
        Assert.That(listed.GetProperty("overdue").GetBoolean(), Is.True);
        var record = await _amy.GetJsonAsync($"/api/fellows/v1/accounts/{_amy.AccountId}/commitments");
        Assert.That((record.GetProperty("kept").GetInt32(), record.GetProperty("open").GetInt32(), record.GetProperty("overdue").GetInt32()), Is.EqualTo((0, 1, 1)));

        // Reminded once: the sweep finds nothing more to do.
        await _a.Services.GetRequiredService<MotionLifecycle>().SweepAsync(CancellationToken.None);
        Assert.That(await FellowsNotificationsAsync(_amy, "fellows.commitment_due"), Has.Count.EqualTo(1));
        await _amy.PostJsonAsync($"/api/fellows/v1/commitments/{commitment.GetProperty("id").GetString()}/fulfil");
        record = await _amy.GetJsonAsync($"/api/fellows/v1/accounts/{_amy.AccountId}/commitments");
        Assert.That((record.GetProperty("kept").GetInt32(), record.GetProperty("open").GetInt32(), record.GetProperty("overdue").GetInt32()), Is.EqualTo((1, 0, 0)));
        var (unknown, _) = await SendAsync(_amy, HttpMethod.Get, "/api/fellows/v1/accounts/999999999/commitments");
        Assert.That(unknown, Is.EqualTo(HttpStatusCode.NotFound));
    }

    /// <summary>Enqueues an activity as <paramref name="member"/> on <paramref name="from"/>, as a peer that skips its own API would send it.</summary>
    static async Task SendRawAsync(FellowsInstance from, Member member, JsonObject activity, string to)
    {
        var db = from.Services.GetRequiredService<NpgsqlDataSource>();
        await using var conn = await db.OpenConnectionAsync();
        await using var tx = await conn.BeginTransactionAsync();
        await from.Services.GetRequiredService<OutboxWriter>().EnqueueAsync(conn, tx, new OutgoingActivity
        {
            ActivityId = activity["id"]!.GetValue<string>(),
            ActorAccountId = member.AccountId,
            Body = activity.ToJsonString(),
            ToFollowersOf = [],
            ToActorUris = [to],
            ToInboxes = [],
        }, CancellationToken.None);
        await tx.CommitAsync();
    }

    async Task WaitProcessedAsync(FellowsInstance at, string activityId)
    {
        try
        {
            await Api.EventuallyAsync(async () =>
            {
                await using var conn = new NpgsqlConnection(at.ConnectionString);
                return await conn.ExecuteScalarAsync<short?>("SELECT state FROM inbox_activities WHERE activity_id = @activityId", new { activityId }) == 1;
            }, $"{activityId} to be processed");
        }
        catch (AssertionException e)
        {
            throw new AssertionException(e.Message + Environment.NewLine + await FederationTrace.DescribeAsync(_a, _b, _c));
        }
    }

    [Test]
    public async Task Outcome_or_amendment_decision_from_anyone_but_the_home_instance_is_ignored()
    {
        var (id, uri) = await OpenAsync("Roof repair");
        var onB = await MirrorAsync(_bob, uri);
        await MirrorAsync(_cat, uri);
        await CloseByJobAsync(id);
        await Api.EventuallyAsync(async () => (await _bob.GetJsonAsync($"{Motions}/{onB}")).GetProperty("state").GetString() == "closed", "the close to reach B");

        // Cat (on C) claims an outcome for A's motion and sends it to B.
        var forgedId = $"{_cat.ActorId}/outcomes/{Guid.NewGuid():N}";
        var create = new JsonObject
        {
            ["@context"] = new JsonArray("https://www.w3.org/ns/activitystreams", Fellows.Federation.Deliberation.DeliberationVocabulary.ContextUrl(_c.BaseUrl)),
            ["id"] = forgedId + "/activity",
            ["type"] = "Create",
            ["actor"] = _cat.ActorId,
            ["to"] = new JsonArray(_b.BaseUrl + "/actor"),
            ["object"] = new JsonObject
            {
                ["id"] = forgedId,
                ["type"] = new JsonArray("Note", "fellows:Outcome"),
                ["attributedTo"] = _cat.ActorId,
                ["inReplyTo"] = uri,
                ["content"] = "<p>Rejected, says cat.</p>",
                ["state"] = "rejected",
            },
        };
        await SendRawAsync(_c, _cat, create, _b.BaseUrl + "/actor");
        await WaitProcessedAsync(_b, forgedId + "/activity");
        Assert.That((await _bob.GetJsonAsync($"{Motions}/{onB}")).GetProperty("outcome").ValueKind, Is.EqualTo(JsonValueKind.Null));

        // The real one from A is taken.
        await _ann.PostJsonAsync($"{Motions}/{id}/outcome", new { statement = "Fix the roof." });
        await Api.EventuallyAsync(async () => (await _bob.GetJsonAsync($"{Motions}/{onB}")).GetProperty("outcome").ValueKind == JsonValueKind.Object, "A's outcome to reach B");

        // On a motion still open: cat (on C) tries to pass for A's author and accept bob's amendment on B, and
        // commits before there is anything to commit to. B ignores both.
        var (_, openUri) = await OpenAsync("Solar panels");
        var openOnB = await MirrorAsync(_bob, openUri);
        var amendment = await _bob.PostJsonAsync($"{Motions}/{openOnB}/amendments", new { title = "Solar panels and a battery", reason = "Store the sun" });
        var accept = new JsonObject
        {
            ["@context"] = "https://www.w3.org/ns/activitystreams",
            ["id"] = $"{_cat.ActorId}/accepts/{Guid.NewGuid():N}",
            ["type"] = "Accept",
            ["actor"] = _cat.ActorId,
            ["to"] = new JsonArray(_b.BaseUrl + "/actor"),
            ["object"] = amendment.GetProperty("uri").GetString(),
        };
        await SendRawAsync(_c, _cat, accept, _b.BaseUrl + "/actor");
        await WaitProcessedAsync(_b, accept["id"]!.GetValue<string>());
        var stillProposed = (await _bob.GetJsonAsync($"{Motions}/{openOnB}/amendments")).EnumerateArray().Single();
        Assert.That(stillProposed.GetProperty("state").GetString(), Is.EqualTo("proposed"), "only the motion's author decides amendments");

        var commitmentId = $"{_cat.ActorId}/commitments/{Guid.NewGuid():N}";
        var commit = new JsonObject
        {
            ["@context"] = new JsonArray("https://www.w3.org/ns/activitystreams", Fellows.Federation.Deliberation.DeliberationVocabulary.ContextUrl(_c.BaseUrl)),
            ["id"] = commitmentId + "#create",
            ["type"] = "Create",
            ["actor"] = _cat.ActorId,
            ["to"] = new JsonArray(_b.BaseUrl + "/actor"),
            ["object"] = new JsonObject
            {
                ["id"] = commitmentId,
                ["type"] = new JsonArray("Note", "vf:Commitment"),
                ["attributedTo"] = _cat.ActorId,
                ["provider"] = _cat.ActorId,
                ["name"] = "Install panels",
                ["clauseOf"] = openUri + "#outcome",
                ["finished"] = false,
            },
        };
        await SendRawAsync(_c, _cat, commit, _b.BaseUrl + "/actor");
        await WaitProcessedAsync(_b, commitmentId + "#create");
        Assert.That((await _bob.GetJsonAsync($"{Motions}/{openOnB}/commitments")).GetArrayLength(), Is.Zero, "no commitments before the close");
    }
}
