using System.Globalization;
using System.Text.Json;
using NUnit.Framework;

// Request bodies are written inline so each test reads as the HTTP it sends.
#pragma warning disable CA1861

namespace Fellows.Server.Tests.Interop;

/// <summary>
/// An independent ActivityPub implementation (the Fedify peer) meets a Fellows motion: it reads it as a
/// Question, votes on it as Mastodon would (FEP-9967), and gets the counted result when its co-op is allied, or a
/// Reject with the reason when it is not, when it votes after the close, or when its vote claims another author.
/// </summary>
[NonParallelizable]
[Category("Interop")]
[CancelAfter(180_000)]
public class FedifyMotionTests
{
    static readonly TimeSpan Delivery = TimeSpan.FromSeconds(20);
    FellowsInstance _a = null!;
    FedifyPeer _peer = null!;
    Member _ann = null!;
    Member _amy = null!;

    const string Motions = "/api/fellows/v1/motions";

    [OneTimeSetUp]
    public async Task StartAsync()
    {
        _a = await FellowsInstance.StartAsync("fedify-motions");
        using var cts = new CancellationTokenSource(TimeSpan.FromMinutes(10));
        _peer = await FedifyPeer.StartAsync(cts.Token);
        _ann = await _a.CreateMemberAsync("ann");
        _amy = await _a.CreateMemberAsync("amy");
    }

    [OneTimeTearDown]
    public async Task StopAsync()
    {
        if (TestContext.CurrentContext.Result.FailCount > 0) await TestContext.Out.WriteLineAsync($"peer log:\n{_peer?.Log}");
        if (_a is not null) await _a.DisposeAsync();
        if (_peer is not null) await _peer.DisposeAsync();
    }

    async Task<(string Id, string Uri)> OpenAsync(string title, bool alliedWithPeer)
    {
        var draft = await _ann.PostJsonAsync(Motions, new
        {
            title,
            method = "majority",
            options = new[] { "yes", "no" },
            allied_actors = alliedWithPeer ? new[] { _peer.ActorId } : [],
            voting_ends_at = (DateTimeOffset.UtcNow + TimeSpan.FromHours(2)).ToString("O", CultureInfo.InvariantCulture),
        });
        var id = draft.GetProperty("id").GetString()!;
        var open = await _ann.PostJsonAsync($"{Motions}/{id}/voting");
        return (id, open.GetProperty("uri").GetString()!);
    }

    Task<ReceivedRequest> RejectOfAsync(string voteId, CancellationToken ct) =>
        _peer.WaitForReceivedAsync(r => r.Activity?.Type == "Reject" && r.Activity.ObjectId == voteId && r.Status is not null, Delivery, ct);

    static string? ReasonOf(ReceivedRequest reject) =>
        reject.Body is { } body && body.TryGetProperty("rejectionReason", out var reason) ? reason.GetString() : null;

    [Test]
    public async Task Allied_peer_sees_a_question_votes_and_receives_the_counted_result(CancellationToken ct)
    {
        var (id, uri) = await OpenAsync("Paint the door green", alliedWithPeer: true);
        // The allied peer is sent the motion (Create of the Question) and reads it as a poll.
        await _peer.WaitForReceivedAsync(r => r.Activity?.Type == "Create" && r.Activity.ObjectId == uri, Delivery, ct);
        var question = await _peer.LookupQuestionAsync(uri, ct);
        Assert.That(question.Type, Is.EqualTo("Question"));
        Assert.That(question.Options, Is.EqualTo(new[] { "yes", "no" }));
        Assert.That(question.Closed, Is.Null);

        var vote = await _peer.VoteAsync(uri, "yes", null, ct);
        await Api.EventuallyAsync(async () => (await _ann.GetJsonAsync($"{Motions}/{id}/stances")).GetArrayLength() == 1, "the peer's vote to count");
        var stance = (await _ann.GetJsonAsync($"{Motions}/{id}/stances"))[0];
        Assert.That(stance.GetProperty("poll_vote").GetBoolean(), Is.True);
        Assert.That(stance.GetProperty("uri").GetString(), Is.EqualTo(vote.Id));
        Assert.That(stance.GetProperty("choices")[0].GetString(), Is.EqualTo("yes"));

        await _amy.PostJsonAsync($"{Motions}/{id}/stances", new { choices = new[] { "no" } });
        await _ann.PostJsonAsync($"{Motions}/{id}/stances", new { choices = new[] { "yes" } });
        var closed = await _ann.PostJsonAsync($"{Motions}/{id}/close");
        Assert.That(closed.GetProperty("tally_state").GetString(), Is.EqualTo("passed"));

        // The counted result reaches the peer as Update of the Question with closed and the counts.
        // (Waits until Fedify has answered it: a request still being handled has no status yet.)
        var update = await _peer.WaitForReceivedAsync(r => r.Activity?.Type == "Update" && r.Activity.ObjectId == uri && r.Status is not null
            && r.Body is { } b && b.GetProperty("object").TryGetProperty("closed", out _), Delivery, ct);
        Assert.That(update.Verified, Is.True, $"{update} unverified={update.UnverifiedReason} error={update.Error}");
        var result = update.Body!.Value.GetProperty("object");
        Assert.That(result.GetProperty("votersCount").GetInt32(), Is.EqualTo(3));
        var counts = result.GetProperty("oneOf").EnumerateArray()
            .ToDictionary(o => o.GetProperty("name").GetString()!, o => o.GetProperty("replies").GetProperty("totalItems").GetInt32());
        Assert.That(counts, Is.EqualTo(new Dictionary<string, int> { ["yes"] = 2, ["no"] = 1 }));
        Assert.That(result.GetProperty("tally").GetProperty("digest").GetString(), Is.EqualTo(closed.GetProperty("tally_digest").GetString()));
        var seen = await _peer.LookupQuestionAsync(uri, ct);
        Assert.That(seen.Closed, Is.Not.Null, "Fedify reads the Question as closed");
        Assert.That(seen.VotersCount, Is.EqualTo(3));

        // A vote after the close is refused with its reason and changes nothing.
        var late = await _peer.VoteAsync(uri, "no", null, ct);
        Assert.That(ReasonOf(await RejectOfAsync(late.Id, ct)), Is.EqualTo("after-close"));
        var after = await _ann.GetJsonAsync($"{Motions}/{id}");
        Assert.That(after.GetProperty("tally_digest").GetString(), Is.EqualTo(closed.GetProperty("tally_digest").GetString()));
    }

    [Test]
    public async Task Peer_outside_the_electorate_is_rejected_and_a_forged_vote_never_counts(CancellationToken ct)
    {
        var (id, uri) = await OpenAsync("Members only", alliedWithPeer: false);
        // Not addressed to the peer, but the Question is public: Fedify can fetch and read it.
        var question = await _peer.LookupQuestionAsync(uri, ct);
        Assert.That(question.Type, Is.EqualTo("Question"));
        var vote = await _peer.VoteAsync(uri, "yes", null, ct);
        var reject = await RejectOfAsync(vote.Id, ct);
        Assert.That(reject.Verified, Is.True, "the Reject is signed by the motion's author");
        Assert.That(ReasonOf(reject), Is.EqualTo("ineligible"));
        Assert.That(reject.Activity!.Actor, Is.EqualTo(_ann.ActorId));

        // Allied, but the vote claims to be amy's: signed by the peer, so it is refused and counted for no one.
        var (alliedId, alliedUri) = await OpenAsync("Forgery check", alliedWithPeer: true);
        var forged = await _peer.VoteAsync(alliedUri, "no", _amy.ActorId, ct);
        Assert.That(ReasonOf(await RejectOfAsync(forged.Id, ct)), Is.EqualTo("invalid-proof"));
        Assert.That((await _ann.GetJsonAsync($"{Motions}/{alliedId}/stances")).GetArrayLength(), Is.Zero);
        Assert.That((await _ann.GetJsonAsync($"{Motions}/{id}/stances")).GetArrayLength(), Is.Zero);
        Assert.That((await _amy.GetJsonAsync($"{Motions}/{alliedId}")).GetProperty("my_stance").ValueKind, Is.EqualTo(JsonValueKind.Null));
    }
}
