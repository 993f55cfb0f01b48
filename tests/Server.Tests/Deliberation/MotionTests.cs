// Request bodies are written inline so each test reads as the HTTP it sends.
#pragma warning disable CA1861
using System.Globalization;
using System.Net;
using System.Net.Http.Json;
using System.Text.Json;
using Dapper;
using Fellows.Federation.Deliberation;
using Fellows.Federation.Proofs;
using Fellows.Federation.Signatures;
using Fellows.Server.Features.Accounts;
using Fellows.Server.Features.Motions;
using Fellows.Server.Jobs;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Time.Testing;
using Npgsql;
using NUnit.Framework;
using Quartz;

namespace Fellows.Server.Tests.Deliberation;

/// <summary>
/// Motions on two Fellows instances on loopback, each with its own test clock: A runs the motions, B is an allied
/// co-op whose members take stances that federate to A. Deadlines are passed by advancing the clocks and firing
/// the motion's own Quartz job; nothing sleeps.
/// </summary>
[NonParallelizable]
public class MotionTests
{
    ClockedInstances _instances = null!;
    FakeTimeProvider _clockA = null!;
    FakeTimeProvider _clockB = null!;
    FellowsInstance _a = null!;
    FellowsInstance _b = null!;
    Member _ann = null!;
    Member _amy = null!;
    Member _bob = null!;

    [OneTimeSetUp]
    public async Task StartAsync()
    {
        // The sweep would close motions on its own once the clock passes; the tests fire each motion's job instead.
        _instances = await ClockedInstances.StartAsync("motions-a", "motions-b");
        (_a, _b, _clockA, _clockB) = (_instances[0], _instances[1], _instances.ClockOf(0), _instances.ClockOf(1));
        _ann = await _a.CreateMemberAsync("ann");
        _amy = await _a.CreateMemberAsync("amy");
        _bob = await _b.CreateMemberAsync("bob");
    }

    [OneTimeTearDown]
    public async Task StopAsync() => await _instances.DisposeAsync();

    const string Motions = "/api/fellows/v1/motions";

    string BActor => _b.BaseUrl + "/actor";

    void Advance(TimeSpan by) => _instances.Advance(by);

    async Task<JsonElement> DraftAsync(object body) => await _ann.PostJsonAsync(Motions, body);

    object Motion(string method, string[]? options = null, bool allied = true, bool secret = false, string? title = null) => new
    {
        title = title ?? $"A {method} motion",
        body = "We **should** decide.\n\n<script>alert(1)</script>",
        method,
        options = options ?? [],
        secret_ballot = secret,
        allied_actors = allied ? new[] { BActor } : [],
        voting_ends_at = (_clockA.GetUtcNow() + TimeSpan.FromMinutes(30)).ToString("O", CultureInfo.InvariantCulture),
    };

    async Task<string> OpenAsync(object body)
    {
        var draft = await DraftAsync(body);
        Assert.That(draft.GetProperty("state").GetString(), Is.EqualTo("draft"));
        var id = draft.GetProperty("id").GetString()!;
        var open = await _ann.PostJsonAsync($"{Motions}/{id}/voting");
        Assert.That(open.GetProperty("state").GetString(), Is.EqualTo("voting"));
        return id;
    }

    /// <summary>The id of A's motion as B's mirror of it, once the Create has arrived.</summary>
    async Task<string> MirrorOnBAsync(string uri)
    {
        try
        {
            return await Api.EventuallyAsync(async () =>
            {
                var list = await _bob.GetJsonAsync(Motions);
                return list.EnumerateArray().Where(m => m.GetProperty("uri").GetString() == uri).Select(m => m.GetProperty("id").GetString()).FirstOrDefault();
            }, "the motion to reach the allied instance");
        }
        catch (AssertionException)
        {
            await using var a = new NpgsqlConnection(_a.ConnectionString);
            foreach (var row in await a.QueryAsync("SELECT id, activity_id, to_actor_uris, fanned_out_at FROM outbox_activities ORDER BY id"))
                await TestContext.Out.WriteLineAsync("A outbox: " + string.Join(", ", ((IDictionary<string, object>)row).Select(kv => $"{kv.Key}={kv.Value}")));
            foreach (var row in await a.QueryAsync("SELECT * FROM deliveries ORDER BY id"))
                TestContext.Out.WriteLine("A delivery: " + string.Join(", ", ((IDictionary<string, object>)row).Select(kv => $"{kv.Key}={kv.Value}")));
            await using var b = new NpgsqlConnection(_b.ConnectionString);
            foreach (var row in await b.QueryAsync("SELECT activity_type, state, last_error, attempts FROM inbox_activities ORDER BY id"))
                TestContext.Out.WriteLine("B inbox: " + string.Join(", ", ((IDictionary<string, object>)row).Select(kv => $"{kv.Key}={kv.Value}")));
            throw;
        }
    }

    async Task<int> StanceCountOnAAsync(string id) => (await _ann.GetJsonAsync($"{Motions}/{id}/stances")).GetArrayLength();

    /// <summary>
    /// Passes the deadline on both clocks; Quartz runs on the same test clock, so the motion's own persisted trigger
    /// fires and its job closes and counts the motion.
    /// </summary>
    async Task CloseByJobAsync(string id)
    {
        var scheduler = await _a.Services.GetRequiredService<ISchedulerFactory>().GetScheduler();
        var key = MotionScheduler.JobKeyFor(long.Parse(id, CultureInfo.InvariantCulture));
        Assert.That(await scheduler.GetJobDetail(key), Is.Not.Null, "the motion's deadline job is stored");
        Advance(TimeSpan.FromMinutes(31));
        await Api.EventuallyAsync(async () => (await _ann.GetJsonAsync($"{Motions}/{id}")).GetProperty("state").GetString() == "closed", "the job to close the motion");
        // Quartz removes a job whose last trigger has fired only after the job returns, a moment after the close commits.
        await Api.EventuallyAsync(async () => await scheduler.GetJobDetail(key) is null, "a closed motion's job to be removed");
    }

    static HttpContent Json(object body) => JsonContent.Create(body);

    static async Task<(HttpStatusCode Status, JsonElement Body)> SendAsync(Member member, HttpMethod method, string path, object? body = null)
    {
        using var request = new HttpRequestMessage(method, new Uri(path, UriKind.Relative)) { Content = body is null ? null : Json(body) };
        using var response = await member.Api.SendAsync(request);
        var text = await response.Content.ReadAsStringAsync();
        return (response.StatusCode, text.Length == 0 ? default : JsonDocument.Parse(text).RootElement.Clone());
    }

    [Test]
    public async Task Consent_motion_counts_local_and_remote_stances_and_a_block_with_reason_stops_it_on_both_instances()
    {
        var id = await OpenAsync(Motion("consent"));
        var motion = await _ann.GetJsonAsync($"{Motions}/{id}");
        Assert.That(motion.GetProperty("body_html").GetString(), Does.Contain("<strong>should</strong>").And.Not.Contain("<script>"));
        Assert.That(motion.GetProperty("options").EnumerateArray().Select(o => o.GetString()), Is.EqualTo(ConsentPositions.All));
        Assert.That(motion.GetProperty("status_id").GetString(), Is.EqualTo(id), "the motion is also a status carrying the discussion");
        var status = await _ann.GetJsonAsync($"/api/v1/statuses/{id}");
        Assert.That(status.GetProperty("content").GetString(), Does.Contain("A consent motion"));

        // Quartz holds the deadlines in PostgreSQL, so a restart does not lose them.
        await using (var conn = new NpgsqlConnection(_a.ConnectionString))
        {
            var triggers = await conn.ExecuteScalarAsync<int>("SELECT count(*) FROM qrtz_triggers WHERE job_name = @job AND job_group = 'motions'",
                new { job = MotionScheduler.JobKeyFor(long.Parse(id, CultureInfo.InvariantCulture)).Name });
            Assert.That(triggers, Is.EqualTo(1), "one trigger (close); the reminder is due a day before, which has passed for a 30-minute motion");
        }

        var uri = motion.GetProperty("uri").GetString()!;
        var mirror = await MirrorOnBAsync(uri);
        var onB = await _bob.GetJsonAsync($"{Motions}/{mirror}");
        Assert.That(onB.GetProperty("local").GetBoolean(), Is.False);
        Assert.That(onB.GetProperty("method").GetString(), Is.EqualTo("consent"));

        await _amy.PostJsonAsync($"{Motions}/{id}/stances", new { choices = new[] { "agree" }, reason = "Good idea" });
        var (blockStatus, blockBody) = await SendAsync(_bob, HttpMethod.Post, $"{Motions}/{mirror}/stances", new { choices = new[] { "block" } });
        Assert.That((int)blockStatus, Is.EqualTo(422));
        Assert.That(blockBody.GetProperty("error").GetString(), Does.Contain("reason"));
        await _bob.PostJsonAsync($"{Motions}/{mirror}/stances", new { choices = new[] { "block" }, reason = "This breaks our bylaws" });
        await Api.EventuallyAsync(async () => await StanceCountOnAAsync(id) == 2, "bob's signed stance to be counted on A");
        var stances = await _ann.GetJsonAsync($"{Motions}/{id}/stances");
        var bobs = stances.EnumerateArray().Single(s => s.GetProperty("voter").GetString() == _bob.Handle);
        Assert.That(bobs.GetProperty("reason").GetString(), Does.Contain("bylaws"));

        // The facilitator sees who has not taken a position; others may not.
        var undecided = await _ann.GetJsonAsync($"{Motions}/{id}/undecided");
        Assert.That(undecided.EnumerateArray().Select(a => a.GetProperty("acct").GetString()), Does.Contain("ann").And.Not.Contain("amy"));
        var (forbidden, _) = await SendAsync(_amy, HttpMethod.Get, $"{Motions}/{id}/undecided");
        Assert.That(forbidden, Is.EqualTo(HttpStatusCode.Forbidden));

        await CloseByJobAsync(id);
        var closed = await _ann.GetJsonAsync($"{Motions}/{id}");
        Assert.That(closed.GetProperty("tally_state").GetString(), Is.EqualTo("blocked"));
        var tally = closed.GetProperty("tally");
        Assert.That(tally.GetProperty("participantCount").GetInt32(), Is.EqualTo(2));
        Assert.That(tally.GetProperty("blockCount").GetInt32(), Is.EqualTo(1));
        var digest = closed.GetProperty("tally_digest").GetString()!;

        var bClosed = await Api.EventuallyAsync(async () =>
        {
            var m = await _bob.GetJsonAsync($"{Motions}/{mirror}");
            return m.GetProperty("state").GetString() == "closed" && m.GetProperty("tally_digest").ValueKind == JsonValueKind.String ? (object)m : null;
        }, "the result to reach B");
        var bMotion = (JsonElement)bClosed;
        Assert.That(bMotion.GetProperty("tally_digest").GetString(), Is.EqualTo(digest), "both instances show the same digest");
        Assert.That(bMotion.GetProperty("tally_state").GetString(), Is.EqualTo("blocked"));
        Assert.That(bMotion.GetProperty("tally_verified").GetBoolean(), Is.True, "B recounted the published ballots and got the same result");
        Assert.That(bMotion.GetProperty("tally").GetRawText(), Is.EqualTo(tally.GetRawText()));

        // After the close: stances are refused, and nothing changes the tally.
        // The motion's id dereferences to the closed Question with its tally, as other servers fetch it.
        using (var fetch = new HttpRequestMessage(HttpMethod.Get, new Uri(closed.GetProperty("uri").GetString()!)))
        {
            fetch.Headers.Accept.ParseAdd("application/activity+json");
            using var fetched = await _a.Client.SendAsync(fetch);
            var question = await Api.JsonAsync(fetched);
            Assert.That(question.GetProperty("type").EnumerateArray().Select(t => t.GetString()), Is.EqualTo(new[] { "Question", "fellows:Motion" }));
            Assert.That(question.GetProperty("tally").GetProperty("digest").GetString(), Is.EqualTo(digest));
            Assert.That(question.GetProperty("votersCount").GetInt32(), Is.EqualTo(2));
        }

        var (late, lateBody) = await SendAsync(_amy, HttpMethod.Post, $"{Motions}/{id}/stances", new { choices = new[] { "disagree" } });
        Assert.That((int)late, Is.EqualTo(422));
        Assert.That(lateBody.GetProperty("error").GetString(), Does.Contain("closed"));

        // Outcome and commitments.
        var (notFacilitator, _) = await SendAsync(_amy, HttpMethod.Post, $"{Motions}/{id}/outcome", new { statement = "x" });
        Assert.That(notFacilitator, Is.EqualTo(HttpStatusCode.Forbidden));
        var outcome = await _ann.PostJsonAsync($"{Motions}/{id}/outcome", new
        {
            statement = "Blocked: we will *revise* it.",
            review_at = (_clockA.GetUtcNow() + TimeSpan.FromDays(90)).ToString("O", CultureInfo.InvariantCulture),
        });
        Assert.That(outcome.GetProperty("outcome").GetProperty("statement_html").GetString(), Does.Contain("<em>revise</em>"));
        // The profile others see (Mastodon's Account entity) carries commitments kept and open, not follower counts.
        async Task<(int Kept, int Open)> CommitmentsOnProfileAsync()
        {
            var account = await _ann.GetJsonAsync($"/api/v1/accounts/{_amy.AccountId}");
            Assert.That(account.GetProperty("followers_count").GetInt32(), Is.Zero, "follower counts are the member's own business");
            var fellows = account.GetProperty("fellows");
            return (fellows.GetProperty("commitments_kept").GetInt32(), fellows.GetProperty("commitments_open").GetInt32());
        }
        var before = await CommitmentsOnProfileAsync();
        var commitment = await _amy.PostJsonAsync($"{Motions}/{id}/commitments", new { what = "Draft a revision", for_whom = "the co-op" });
        Assert.That(await CommitmentsOnProfileAsync(), Is.EqualTo((before.Kept, before.Open + 1)));
        var fulfilled = await _amy.PostJsonAsync($"{Motions}/{id}/commitments/{commitment.GetProperty("id").GetString()}/fulfil");
        Assert.That(fulfilled.GetProperty("fulfilled_at").ValueKind, Is.EqualTo(JsonValueKind.String));
        Assert.That(await CommitmentsOnProfileAsync(), Is.EqualTo((before.Kept + 1, before.Open)));
        var (notYours, _) = await SendAsync(_ann, HttpMethod.Post, $"{Motions}/{id}/commitments/{commitment.GetProperty("id").GetString()}/fulfil");
        Assert.That(notYours, Is.EqualTo(HttpStatusCode.NotFound));
        Assert.That((await _ann.GetJsonAsync($"{Motions}/{id}/commitments")).GetArrayLength(), Is.EqualTo(1));
    }

    [Test]
    public async Task Majority_outcome_is_computed_at_close_and_a_changed_stance_counts_once()
    {
        var id = await OpenAsync(Motion("majority", ["tea", "coffee", "water"]));
        var uri = (await _ann.GetJsonAsync($"{Motions}/{id}")).GetProperty("uri").GetString()!;
        var mirror = await MirrorOnBAsync(uri);
        await _ann.PostJsonAsync($"{Motions}/{id}/stances", new { choices = new[] { "tea" } });
        await _amy.PostJsonAsync($"{Motions}/{id}/stances", new { choices = new[] { "water" } });
        await _bob.PostJsonAsync($"{Motions}/{mirror}/stances", new { choices = new[] { "coffee" } });
        await Api.EventuallyAsync(async () => await StanceCountOnAAsync(id) == 3, "bob's stance on A");
        // From a Mastodon app: the motion's status carries a poll, and a vote there is a stance.
        var poll = (await _amy.GetJsonAsync($"/api/v1/statuses/{id}")).GetProperty("poll");
        Assert.That(poll.GetProperty("options").EnumerateArray().Select(o => o.GetProperty("title").GetString()), Is.EqualTo(new[] { "tea", "coffee", "water" }));
        Assert.That(poll.GetProperty("own_votes").EnumerateArray().Select(v => v.GetInt32()), Is.EqualTo(new[] { 2 }), "amy's stance shows as her vote");
        Assert.That(poll.GetProperty("votes_count").ValueKind, Is.EqualTo(JsonValueKind.Null), "no running counts unless the motion allows them");
        var voted = await _amy.PostJsonAsync($"/api/v1/polls/{id}/votes", new { choices = new[] { "1" } });
        Assert.That(voted.GetProperty("own_votes").EnumerateArray().Select(v => v.GetInt32()), Is.EqualTo(new[] { 1 }));
        var history = await _amy.GetJsonAsync($"{Motions}/{id}/stances/mine");
        Assert.That(history.GetArrayLength(), Is.EqualTo(2), "the earlier stance is kept as history");
        Assert.That(history[0].GetProperty("choices")[0].GetString(), Is.EqualTo("coffee"));
        Assert.That(history[0].GetProperty("reason").ValueKind, Is.EqualTo(JsonValueKind.Null), "a poll vote is a stance without a reason");
        Assert.That(history[0].GetProperty("current").GetBoolean(), Is.True);

        await CloseByJobAsync(id);
        var closed = await _ann.GetJsonAsync($"{Motions}/{id}");
        var tally = closed.GetProperty("tally");
        Assert.That(closed.GetProperty("tally_state").GetString(), Is.EqualTo("passed"));
        Assert.That(tally.GetProperty("winner").GetString(), Is.EqualTo("coffee"));
        var counts = tally.GetProperty("counts").EnumerateArray().ToDictionary(c => c.GetProperty("option").GetString()!, c => c.GetProperty("count").GetInt32());
        Assert.That(counts, Is.EqualTo(new Dictionary<string, int> { ["tea"] = 1, ["coffee"] = 2, ["water"] = 0 }));
        var closedPoll = (await _amy.GetJsonAsync($"/api/v1/polls/{id}"));
        Assert.That(closedPoll.GetProperty("expired").GetBoolean(), Is.True);
        Assert.That(closedPoll.GetProperty("options")[1].GetProperty("votes_count").GetInt64(), Is.EqualTo(2));
        Assert.That(closedPoll.GetProperty("voters_count").GetInt64(), Is.EqualTo(3));
        await Api.EventuallyAsync(async () => (await _bob.GetJsonAsync($"{Motions}/{mirror}")).GetProperty("tally_digest").ToString() == closed.GetProperty("tally_digest").GetString(),
            "B to hold the same digest");
    }

    [Test]
    public async Task Coop_by_coop_motion_gives_each_coop_one_voice_and_shows_running_counts_when_allowed()
    {
        var draft = await DraftAsync(new
        {
            title = "Drinks for the congress",
            method = "majority",
            options = new[] { "tea", "coffee" },
            counting_mode = "coop-by-coop",
            results_before_close = true,
            allied_actors = new[] { BActor },
            voting_ends_at = (_clockA.GetUtcNow() + TimeSpan.FromMinutes(30)).ToString("O", CultureInfo.InvariantCulture),
        });
        var id = draft.GetProperty("id").GetString()!;
        Assert.That(draft.GetProperty("counting_mode").GetString(), Is.EqualTo("coop-by-coop"));
        await _ann.PostJsonAsync($"{Motions}/{id}/voting");
        var uri = draft.GetProperty("uri").GetString()!;
        var mirror = await MirrorOnBAsync(uri);
        await _ann.PostJsonAsync($"{Motions}/{id}/stances", new { choices = new[] { "tea" } });
        await _amy.PostJsonAsync($"{Motions}/{id}/stances", new { choices = new[] { "tea" } });
        var running = (await _amy.GetJsonAsync($"{Motions}/{id}")).GetProperty("tally");
        Assert.That(running.GetProperty("participantCount").GetInt32(), Is.EqualTo(2), "results before the close are shown while voting");
        await _bob.PostJsonAsync($"{Motions}/{mirror}/stances", new { choices = new[] { "coffee" } });
        await Api.EventuallyAsync(async () => await StanceCountOnAAsync(id) == 3, "bob's stance on A");

        await CloseByJobAsync(id);
        var closed = await _ann.GetJsonAsync($"{Motions}/{id}");
        var tally = closed.GetProperty("tally");
        // Pooled, tea would win 2 to 1; co-op by co-op each co-op's result is one voice: tea against coffee.
        Assert.That(closed.GetProperty("tally_state").GetString(), Is.EqualTo("tie"));
        Assert.That(tally.GetProperty("coopVoices").GetInt32(), Is.EqualTo(2));
        var voices = tally.GetProperty("coopResults").EnumerateArray().ToDictionary(c => c.GetProperty("coop").GetString()!, c => c.GetProperty("voice").GetString());
        Assert.That(voices, Is.EqualTo(new Dictionary<string, string?> { [_a.BaseUrl + "/actor"] = "tea", [BActor] = "coffee" }));
        var onB = await Api.EventuallyAsync(async () =>
        {
            var m = await _bob.GetJsonAsync($"{Motions}/{mirror}");
            return m.GetProperty("tally_digest").ValueKind == JsonValueKind.String ? (object)m : null;
        }, "the result on B");
        Assert.That(((JsonElement)onB).GetProperty("tally_verified").GetBoolean(), Is.True, "B recounts co-op by co-op to the same result");
        Assert.That(((JsonElement)onB).GetProperty("tally_state").GetString(), Is.EqualTo("tie"));
    }

    [Test]
    public async Task Ranked_choice_outcome_runs_the_instant_runoff_at_close()
    {
        var id = await OpenAsync(Motion("ranked-choice", ["north", "south", "east"]));
        var uri = (await _ann.GetJsonAsync($"{Motions}/{id}")).GetProperty("uri").GetString()!;
        var mirror = await MirrorOnBAsync(uri);
        // First preferences: north 1, south 1, east 1 → the run-off decides; east's voter prefers south next.
        await _ann.PostJsonAsync($"{Motions}/{id}/stances", new { choices = new[] { "north", "east" } });
        await _amy.PostJsonAsync($"{Motions}/{id}/stances", new { choices = new[] { "south", "north" } });
        await _bob.PostJsonAsync($"{Motions}/{mirror}/stances", new { choices = new[] { "east", "south" } });
        await Api.EventuallyAsync(async () => await StanceCountOnAAsync(id) == 3, "bob's ranking on A");
        await CloseByJobAsync(id);
        var closed = await _ann.GetJsonAsync($"{Motions}/{id}");
        var tally = closed.GetProperty("tally");
        Assert.That(tally.GetProperty("rounds").GetArrayLength(), Is.GreaterThanOrEqualTo(2), "an elimination round was needed");
        var expected = Tally.Count(
            new MotionRules { MotionId = uri, Method = DecisionMethod.RankedChoice, Options = ["north", "south", "east"], ClosesAt = DateTimeOffset.MaxValue },
            Electorate.FromMembers([(_ann.ActorId, "a"), (_amy.ActorId, "a"), (_bob.ActorId, "b")]),
            [
                new Stance { Id = "1", Voter = _ann.ActorId, InReplyTo = uri, Published = DateTimeOffset.UnixEpoch, Choices = ["north", "east"] },
                new Stance { Id = "2", Voter = _amy.ActorId, InReplyTo = uri, Published = DateTimeOffset.UnixEpoch, Choices = ["south", "north"] },
                new Stance { Id = "3", Voter = _bob.ActorId, InReplyTo = uri, Published = DateTimeOffset.UnixEpoch, Choices = ["east", "south"] },
            ]);
        Assert.That(closed.GetProperty("tally_state").GetString(), Is.EqualTo(DeliberationVocabulary.Name(expected.State)));
        Assert.That(tally.TryGetProperty("winner", out var winner) ? winner.GetString() : null, Is.EqualTo(expected.Winner));
        Assert.That(expected.Winner, Is.Not.Null);
    }

    [Test]
    public async Task Ineligible_remote_stance_is_rejected_with_a_reason_and_never_counted()
    {
        // Not allied with B: bob hears of it because he follows ann, but may not decide.
        var annOnB = (await _bob.GetJsonAsync($"/api/v1/accounts/lookup?acct={_ann.Handle}")).GetProperty("id").GetString();
        await _bob.PostJsonAsync($"/api/v1/accounts/{annOnB}/follow");
        await Api.EventuallyAsync(async () => (await _bob.GetJsonAsync($"/api/v1/accounts/relationships?id[]={annOnB}"))[0].GetProperty("following").GetBoolean(), "the follow");
        var id = await OpenAsync(Motion("consent", allied: false, title: "Co-op internal"));
        var uri = (await _ann.GetJsonAsync($"{Motions}/{id}")).GetProperty("uri").GetString()!;
        var mirror = await MirrorOnBAsync(uri);
        var cast = await _bob.PostJsonAsync($"{Motions}/{mirror}/stances", new { choices = new[] { "disagree" } });
        var rejected = await Api.EventuallyAsync(async () =>
        {
            var mine = await _bob.GetJsonAsync($"{Motions}/{mirror}/stances/mine");
            return mine[0].GetProperty("rejection").ValueKind == JsonValueKind.Object ? (object)mine[0].GetProperty("rejection") : null;
        }, "A's Reject to reach bob");
        Assert.That(((JsonElement)rejected).GetProperty("reason").GetString(), Is.EqualTo("ineligible"));
        Assert.That(cast.GetProperty("uri").GetString(), Does.StartWith(_b.BaseUrl));
        Assert.That(await StanceCountOnAAsync(id), Is.Zero);
        await _amy.PostJsonAsync($"{Motions}/{id}/stances", new { choices = new[] { "agree" } });
        await CloseByJobAsync(id);
        var closed = await _ann.GetJsonAsync($"{Motions}/{id}");
        Assert.That(closed.GetProperty("tally").GetProperty("participantCount").GetInt32(), Is.EqualTo(1));
        Assert.That(closed.GetProperty("tally_state").GetString(), Is.EqualTo("passed"));
    }

    /// <summary>
    /// Sends a stance signed with bob's key straight from B's outbox, as a peer whose view of the motion lags (or a
    /// forger) would: B's own API would refuse it first. <paramref name="tamper"/> changes the choice after signing.
    /// </summary>
    async Task<string> SendStanceFromBAsync(string motionUri, string choice, bool tamper = false)
    {
        var db = _b.Services.GetRequiredService<NpgsqlDataSource>();
        await using var conn = await db.OpenConnectionAsync();
        var seed = await conn.ExecuteScalarAsync<string>("SELECT private_key FROM account_keys WHERE account_id = @id AND kind = 'ed25519'", new { id = _bob.AccountId });
        var keyId = _bob.ActorId + "#ed25519-key";
        var stanceId = $"{_bob.ActorId}/stances/direct-{Guid.NewGuid():N}";
        var document = DeliberationWriter.Stance(new LocalStance
        {
            Id = stanceId,
            AttributedTo = _bob.ActorId,
            InReplyTo = motionUri,
            Published = _clockB.GetUtcNow(),
            To = [_ann.ActorId],
            Choices = [choice],
            Coop = _b.BaseUrl + "/actor",
        }, _b.BaseUrl + "/ns/fellows");
        var signed = IntegrityProof.Sign(document, SigningKey.FromEd25519Seed(keyId, Convert.FromBase64String(seed!)), keyId, _clockB.GetUtcNow());
        if (tamper) signed["choice"] = new System.Text.Json.Nodes.JsonArray("block");
        await using var tx = await conn.BeginTransactionAsync();
        var bob = await conn.AccountByIdAsync(_bob.AccountId, tx, CancellationToken.None);
        var annOnB = await conn.QuerySingleAsync<Fellows.Server.Features.Accounts.Account>(
            Fellows.Server.Features.Accounts.AccountQueries.ByUri, new { uri = _ann.ActorId }, tx);
        await _b.Services.GetRequiredService<MotionPublisher>().StanceAsync(conn, tx, bob, annOnB, signed, CancellationToken.None);
        await tx.CommitAsync();
        return stanceId;
    }

    async Task<string?> RejectionOnAAsync(string stanceId)
    {
        await using var conn = new NpgsqlConnection(_a.ConnectionString);
        return await conn.ExecuteScalarAsync<string?>("SELECT reason FROM motion_rejections WHERE stance_uri = @stanceId", new { stanceId });
    }

    [Test]
    public async Task Late_remote_stance_is_rejected_after_close_and_never_counted()
    {
        var id = await OpenAsync(Motion("consent", title: "Late one"));
        var uri = (await _ann.GetJsonAsync($"{Motions}/{id}")).GetProperty("uri").GetString()!;
        var mirror = await MirrorOnBAsync(uri);
        await CloseByJobAsync(id);
        var digest = (await _ann.GetJsonAsync($"{Motions}/{id}")).GetProperty("tally_digest").GetString();
        await Api.EventuallyAsync(async () => (await _bob.GetJsonAsync($"{Motions}/{mirror}")).GetProperty("state").GetString() == "closed", "B to learn of the close");
        var (refused, _) = await SendAsync(_bob, HttpMethod.Post, $"{Motions}/{mirror}/stances", new { choices = new[] { "agree" } });
        Assert.That((int)refused, Is.EqualTo(422), "B's own API refuses a stance on a closed motion");

        var late = await SendStanceFromBAsync(uri, "agree");
        Assert.That(await Api.EventuallyAsync(() => RejectionOnAAsync(late), "A to reject the late stance"), Is.EqualTo("after-close"));
        var after = await _ann.GetJsonAsync($"{Motions}/{id}");
        Assert.That(after.GetProperty("tally_digest").GetString(), Is.EqualTo(digest));
        Assert.That(after.GetProperty("tally").GetProperty("participantCount").GetInt32(), Is.Zero);
        Assert.That(await StanceCountOnAAsync(id), Is.Zero);
    }

    [Test]
    public async Task Forged_remote_stance_fails_its_proof_and_is_rejected()
    {
        var id = await OpenAsync(Motion("consent", title: "Forgery"));
        var uri = (await _ann.GetJsonAsync($"{Motions}/{id}")).GetProperty("uri").GetString()!;
        await MirrorOnBAsync(uri);
        var forged = await SendStanceFromBAsync(uri, "agree", tamper: true);
        Assert.That(await Api.EventuallyAsync(() => RejectionOnAAsync(forged), "A to reject the forged stance"), Is.EqualTo("invalid-proof"));
        var genuine = await SendStanceFromBAsync(uri, "agree");
        await Api.EventuallyAsync(async () => await StanceCountOnAAsync(id) == 1, "the genuine stance to count");
        Assert.That(await RejectionOnAAsync(genuine), Is.Null);
        await CloseByJobAsync(id);
        var closed = await _ann.GetJsonAsync($"{Motions}/{id}");
        Assert.That(closed.GetProperty("tally_state").GetString(), Is.EqualTo("passed"), "the tampered block never counted");
        Assert.That(closed.GetProperty("tally").GetProperty("blockCount").GetInt32(), Is.Zero);
    }

    [Test]
    public async Task Plain_poll_vote_from_a_mastodon_like_server_counts_as_a_stance_without_reason()
    {
        var id = await OpenAsync(Motion("approval", ["bikes", "trams", "buses"], title: "Transport"));
        var uri = (await _ann.GetJsonAsync($"{Motions}/{id}")).GetProperty("uri").GetString()!;
        await MirrorOnBAsync(uri);
        // What Mastodon sends for a multiple-choice poll: one Note per option, a name and nothing else (FEP-9967).
        var db = _b.Services.GetRequiredService<NpgsqlDataSource>();
        foreach (var option in new[] { "bikes", "trams" })
        {
            await using var conn = await db.OpenConnectionAsync();
            await using var tx = await conn.BeginTransactionAsync();
            var voteId = $"{_bob.ActorId}#votes/{Guid.NewGuid():N}";
            var note = new System.Text.Json.Nodes.JsonObject
            {
                ["id"] = voteId,
                ["type"] = "Note",
                ["name"] = option,
                ["attributedTo"] = _bob.ActorId,
                ["to"] = new System.Text.Json.Nodes.JsonArray(_ann.ActorId),
                ["inReplyTo"] = uri,
            };
            var create = new System.Text.Json.Nodes.JsonObject
            {
                ["@context"] = "https://www.w3.org/ns/activitystreams",
                ["id"] = voteId + "/activity",
                ["type"] = "Create",
                ["actor"] = _bob.ActorId,
                ["to"] = new System.Text.Json.Nodes.JsonArray(_ann.ActorId),
                ["object"] = note,
            };
            await _b.Services.GetRequiredService<Fellows.Server.Features.Delivery.OutboxWriter>().EnqueueAsync(conn, tx, new Fellows.Server.Features.Delivery.OutgoingActivity
            {
                ActivityId = voteId + "/activity",
                ActorAccountId = _bob.AccountId,
                Body = create.ToJsonString(),
                ToFollowersOf = [],
                ToActorUris = [_ann.ActorId],
                ToInboxes = [],
            }, CancellationToken.None);
            await tx.CommitAsync();
            await Api.EventuallyAsync(async () => (await _ann.GetJsonAsync($"{Motions}/{id}/stances")).EnumerateArray()
                .Any(st => st.GetProperty("choices").EnumerateArray().Any(c => c.GetString() == option)), $"the {option} vote to count");
        }
        var stances = await _ann.GetJsonAsync($"{Motions}/{id}/stances");
        Assert.That(stances.GetArrayLength(), Is.EqualTo(1), "one voter's poll votes fold into one stance");
        Assert.That(stances[0].GetProperty("poll_vote").GetBoolean(), Is.True);
        Assert.That(stances[0].GetProperty("choices").EnumerateArray().Select(c => c.GetString()), Is.EqualTo(new[] { "bikes", "trams" }));
        await CloseByJobAsync(id);
        var counts = (await _ann.GetJsonAsync($"{Motions}/{id}")).GetProperty("tally").GetProperty("counts").EnumerateArray()
            .ToDictionary(c => c.GetProperty("option").GetString()!, c => c.GetProperty("count").GetInt32());
        Assert.That(counts, Is.EqualTo(new Dictionary<string, int> { ["bikes"] = 1, ["trams"] = 1, ["buses"] = 0 }));
    }

    [Test]
    public async Task Undecided_members_are_reminded_before_the_deadline_even_across_a_restart()
    {
        var draft = await DraftAsync(new
        {
            title = "Remind me",
            method = "consent",
            voting_ends_at = (_clockA.GetUtcNow() + TimeSpan.FromHours(2)).ToString("O", CultureInfo.InvariantCulture),
            remind_before_hours = 1,
        });
        var id = draft.GetProperty("id").GetString()!;
        await _ann.PostJsonAsync($"{Motions}/{id}/voting");
        await _ann.PostJsonAsync($"{Motions}/{id}/stances", new { choices = new[] { "agree" } });
        await using (var conn = new NpgsqlConnection(_a.ConnectionString))
        {
            var triggers = await conn.ExecuteScalarAsync<int>("SELECT count(*) FROM qrtz_triggers WHERE job_name = @job",
                new { job = MotionScheduler.JobKeyFor(long.Parse(id, CultureInfo.InvariantCulture)).Name });
            Assert.That(triggers, Is.EqualTo(2), "reminder and close");
        }
        // The triggers live in PostgreSQL: a restart keeps them.
        await _a.RestartAsync();
        Advance(TimeSpan.FromMinutes(61));
        var reminders = await Api.EventuallyAsync(async () =>
        {
            var list = await _amy.GetJsonAsync("/api/fellows/v1/reminders");
            return list.EnumerateArray().Any(r => r.GetProperty("motion_id").GetString() == id) ? (object)list : null;
        }, "the reminder to fire");
        Assert.That(reminders, Is.Not.Null);
        var annReminded = (await _ann.GetJsonAsync("/api/fellows/v1/reminders")).EnumerateArray().Any(r => r.GetProperty("motion_id").GetString() == id);
        Assert.That(annReminded, Is.False, "who has taken a position is not reminded");
        // Members see the reminder as a notification in any Mastodon app: the motion's post, shown as "status".
        var notified = (await _amy.GetJsonAsync("/api/v1/notifications")).EnumerateArray()
            .Where(n => n.TryGetProperty("fellows_type", out var t) && t.GetString() == "fellows.motion_reminder").ToList();
        Assert.That(notified, Has.Count.EqualTo(1));
        Assert.That(notified[0].GetProperty("type").GetString(), Is.EqualTo("status"));
        Assert.That(notified[0].GetProperty("status").GetProperty("id").GetString(), Is.EqualTo(id));
        Assert.That((await _ann.GetJsonAsync("/api/v1/notifications")).EnumerateArray()
            .Any(n => n.TryGetProperty("fellows_type", out var t) && t.GetString() == "fellows.motion_reminder"), Is.False);
        Assert.That((await _ann.GetJsonAsync($"{Motions}/{id}")).GetProperty("state").GetString(), Is.EqualTo("voting"));
        // Withdrawing removes the motion's job and its remaining (close) trigger.
        await _ann.PostJsonAsync($"{Motions}/{id}/withdraw");
        var scheduler = await _a.Services.GetRequiredService<ISchedulerFactory>().GetScheduler();
        Assert.That(await scheduler.GetJobDetail(MotionScheduler.JobKeyFor(long.Parse(id, CultureInfo.InvariantCulture))), Is.Null);
    }

    [Test]
    public async Task Secret_ballot_voter_finds_their_receipt_in_the_published_digest()
    {
        var id = await OpenAsync(Motion("majority", ["yes", "no"], secret: true));
        var uri = (await _ann.GetJsonAsync($"{Motions}/{id}")).GetProperty("uri").GetString()!;
        var cast = await _amy.PostJsonAsync($"{Motions}/{id}/stances", new { choices = new[] { "yes" } });
        var nonce = cast.GetProperty("nonce").GetString()!;
        await _ann.PostJsonAsync($"{Motions}/{id}/stances", new { choices = new[] { "no" } });
        var (hidden, _) = await SendAsync(_amy, HttpMethod.Get, $"{Motions}/{id}/stances");
        Assert.That(hidden, Is.EqualTo(HttpStatusCode.Forbidden), "who voted how is never listed on a secret ballot");

        await CloseByJobAsync(id);
        var closed = await _amy.GetJsonAsync($"{Motions}/{id}");
        var tally = closed.GetProperty("tally");
        var ballots = tally.GetProperty("ballots").EnumerateArray().Select(b =>
        {
            Assert.That(DeliberationReader.TryReadBallot(b, out var ballot, out var error), Is.True, error);
            Assert.That(ballot!.Voter, Is.Null, "secret ballots do not name voters");
            return ballot;
        }).ToList();
        var digest = closed.GetProperty("tally_digest").GetString()!;
        var nonceBytes = Convert.FromBase64String(nonce.Replace('-', '+').Replace('_', '/').PadRight(nonce.Length + (4 - nonce.Length % 4) % 4, '='));
        Assert.That(TallyDigest.VerifyOwnSecretBallot(uri, nonceBytes, ["yes"], null, false, ballots, digest), Is.True);
        Assert.That(TallyDigest.VerifyOwnSecretBallot(uri, nonceBytes, ["no"], null, false, ballots, digest), Is.False, "the receipt binds the choice");
    }

    [Test]
    public async Task Api_refuses_bad_input_with_clear_422s_and_keeps_drafts_private()
    {
        async Task Expect422(object body, string fragment)
        {
            var (status, error) = await SendAsync(_ann, HttpMethod.Post, Motions, body);
            Assert.That((int)status, Is.EqualTo(422), error.ToString());
            Assert.That(error.GetProperty("error").GetString(), Does.Contain(fragment));
        }
        var future = (_clockA.GetUtcNow() + TimeSpan.FromHours(1)).ToString("O", CultureInfo.InvariantCulture);
        await Expect422(new { title = " ", voting_ends_at = future }, "Title");
        await Expect422(new { title = "x", method = "dictatorship", voting_ends_at = future }, "method");
        await Expect422(new { title = "x", method = "consent", options = new[] { "a", "b" }, voting_ends_at = future }, "consent");
        await Expect422(new { title = "x", method = "majority", options = new[] { "only" }, voting_ends_at = future }, "two options");
        await Expect422(new { title = "x", method = "majority", options = new[] { "a", "a" }, voting_ends_at = future }, "differ");
        await Expect422(new { title = "x", voting_ends_at = "2001-01-01T00:00:00Z" }, "future");
        await Expect422(new { title = "x" }, "voting_ends_at");
        await Expect422(new { title = "x", quorum = "lots", voting_ends_at = future }, "quorum");
        await Expect422(new { title = "x", threshold = "most", voting_ends_at = future }, "threshold");
        await Expect422(new { title = "x", counting_mode = "by-lot", voting_ends_at = future }, "counting_mode");
        await Expect422(new { title = "x", coop_quorum = "3/2", voting_ends_at = future }, "coop_quorum");
        await Expect422(new { title = "x", allied_actors = new[] { "http://127.0.0.1:1/actor" }, voting_ends_at = future }, "could not be fetched");
        await Expect422(new { title = "x", allied_actors = new[] { "not a url" }, voting_ends_at = future }, "allied");

        var draft = await DraftAsync(new { title = "Private draft", method = "majority", options = new[] { "a", "b" }, voting_ends_at = future });
        var id = draft.GetProperty("id").GetString();
        var (hidden, _) = await SendAsync(_amy, HttpMethod.Get, $"{Motions}/{id}");
        Assert.That(hidden, Is.EqualTo(HttpStatusCode.NotFound), "a draft is its author's only");
        var (early, earlyBody) = await SendAsync(_ann, HttpMethod.Post, $"{Motions}/{id}/stances", new { choices = new[] { "a" } });
        Assert.That((int)early, Is.EqualTo(404), earlyBody.ToString());
        await _ann.PostJsonAsync($"{Motions}/{id}/discussion");
        var (notOpen, notOpenBody) = await SendAsync(_amy, HttpMethod.Post, $"{Motions}/{id}/stances", new { choices = new[] { "a" } });
        Assert.That((int)notOpen, Is.EqualTo(422));
        Assert.That(notOpenBody.GetProperty("error").GetString(), Does.Contain("not opened"));
        var (byOther, _) = await SendAsync(_amy, HttpMethod.Post, $"{Motions}/{id}/voting");
        Assert.That(byOther, Is.EqualTo(HttpStatusCode.Forbidden));
        await _ann.PostJsonAsync($"{Motions}/{id}/voting");
        var (unknown, unknownBody) = await SendAsync(_amy, HttpMethod.Post, $"{Motions}/{id}/stances", new { choices = new[] { "c" } });
        Assert.That((int)unknown, Is.EqualTo(422), unknownBody.ToString());
        var (two, _) = await SendAsync(_amy, HttpMethod.Post, $"{Motions}/{id}/stances", new { choices = new[] { "a", "b" } });
        Assert.That((int)two, Is.EqualTo(422));
        var (noToken, _) = await SendAsync(_amy with { Api = new HttpClient { BaseAddress = _a.Client.BaseAddress } }, HttpMethod.Get, Motions);
        Assert.That(noToken, Is.EqualTo(HttpStatusCode.Unauthorized));
        var withdrawn = await _ann.PostJsonAsync($"{Motions}/{id}/withdraw");
        Assert.That(withdrawn.GetProperty("state").GetString(), Is.EqualTo("withdrawn"));
        var (again, _) = await SendAsync(_ann, HttpMethod.Post, $"{Motions}/{id}/voting");
        Assert.That((int)again, Is.EqualTo(422));

        // Paging: newest first with a Link header.
        var page = await _ann.Api.GetAsync(new Uri($"{Motions}?limit=1", UriKind.Relative));
        Assert.That(page.Headers.Contains("Link"), Is.True);
        var list = await Api.JsonAsync(page);
        Assert.That(list.GetArrayLength(), Is.EqualTo(1));
        var (badState, _) = await SendAsync(_ann, HttpMethod.Get, $"{Motions}?state=sleeping");
        Assert.That((int)badState, Is.EqualTo(422));
    }

    [Test]
    public async Task OpenApi_document_describes_the_motions_api()
    {
        using var response = await _a.Client.GetAsync(new Uri("/api/fellows/v1/openapi.json", UriKind.Relative));
        var doc = await Api.JsonAsync(response);
        var paths = doc.GetProperty("paths").EnumerateObject().Select(p => p.Name).ToList();
        Assert.That(paths, Does.Contain("/api/fellows/v1/motions").And.Contain("/api/fellows/v1/motions/{id}/stances"));
        Assert.That(paths, Does.Contain("/api/fellows/v1/motions/{id}/amendments").And.Contain("/api/fellows/v1/motions/{id}/versions")
            .And.Contain("/api/fellows/v1/commitments/{commitmentId}/fulfil").And.Contain("/api/fellows/v1/accounts/{id}/commitments"));
        Assert.That(paths, Has.None.StartsWith("/api/v1/"), "only the Fellows API is in this document");
    }
}
