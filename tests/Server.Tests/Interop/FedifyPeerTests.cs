using System.Net;
using System.Text;
using NUnit.Framework;

namespace Fellows.Server.Tests.Interop;

/// <summary>
/// Proves the Fedify peer harness itself: two (or three) peers federate with each other on
/// loopback through the same control API the Fellows interop tests use.
/// </summary>
[TestFixture]
[Category("Interop")]
[CancelAfter(120_000)]
public sealed class FedifyPeerTests
{
    private static readonly TimeSpan Delivery = TimeSpan.FromSeconds(15);

    private FedifyPeer a = null!;
    private FedifyPeer b = null!;

    [OneTimeSetUp]
    public async Task StartPeers()
    {
        using var cts = new CancellationTokenSource(TimeSpan.FromMinutes(10));
        var startA = FedifyPeer.StartAsync(cts.Token);
        var startB = FedifyPeer.StartAsync(cts.Token);
        a = await startA;
        b = await startB;

        // Every test below starts from "A follows B".
        var follow = await a.FollowAsync(b.Handle, cts.Token);
        await a.WaitForReceivedAsync(r => r.Activity?.Type == "Accept" && r.Activity.ObjectId == follow.Id, Delivery, cts.Token);
    }

    [OneTimeTearDown]
    public async Task StopPeers()
    {
        if (TestContext.CurrentContext.Result.FailCount > 0)
        {
            await TestContext.Out.WriteLineAsync($"peer A log:\n{a?.Log}\npeer B log:\n{b?.Log}");
        }

        if (a is not null)
        {
            await a.DisposeAsync();
        }

        if (b is not null)
        {
            await b.DisposeAsync();
        }
    }

    [Test]
    public async Task Follow_by_handle_is_verified_by_target_and_accepted(CancellationToken ct)
    {
        var follow = (await b.GetReceivedAsync(ct)).Single(r => r.Activity?.Type == "Follow" && r.Activity.Actor == a.ActorId);
        Assert.Multiple(() =>
        {
            Assert.That(follow.Verified, Is.True);
            Assert.That(follow.Status, Is.EqualTo(202));
            Assert.That(follow.Path, Is.EqualTo("/users/peer/inbox"));
            Assert.That(follow.Signature, Is.EqualTo(HttpSignatureFormat.Rfc9421), "Fedify knocks with RFC 9421 first");
            Assert.That(follow.KeyId, Is.EqualTo(a.ActorId + "#main-key"));
            Assert.That(follow.Activity!.Actor, Is.EqualTo(a.ActorId));
            Assert.That(follow.Activity.ObjectId, Is.EqualTo(b.ActorId));
        });

        var accept = (await a.GetReceivedAsync(ct)).Single(r => r.Activity?.Type == "Accept");
        Assert.Multiple(() =>
        {
            Assert.That(accept.Verified, Is.True);
            Assert.That(accept.Activity!.Actor, Is.EqualTo(b.ActorId));
            Assert.That(accept.Activity.ObjectId, Is.EqualTo(follow.Activity!.Id));
            Assert.That(accept.Activity.ObjectType, Is.EqualTo("Follow"), "the Follow is embedded in the Accept");
        });

        Assert.That(await b.GetFollowersAsync(ct), Does.Contain(a.ActorId));
        var following = await a.GetFollowingAsync(ct);
        Assert.That(following.Single(f => f.Actor == b.ActorId).State, Is.EqualTo("accepted"));
    }

    [Test]
    public async Task Post_reaches_follower_with_signature_format_recorded(CancellationToken ct)
    {
        var note = await b.PostAsync("<p>Hello, co-operators</p>", ct);

        var create = await a.WaitForReceivedAsync(r => r.Activity?.ObjectId == note.Id, Delivery, ct);
        Assert.Multiple(() =>
        {
            Assert.That(create.Verified, Is.True);
            Assert.That(create.Signature, Is.EqualTo(HttpSignatureFormat.Rfc9421));
            Assert.That(create.KeyId, Is.EqualTo(b.ActorId + "#main-key"));
            Assert.That(create.Activity!.Type, Is.EqualTo("Create"));
            Assert.That(create.Activity.Id, Is.EqualTo(note.Activity));
            Assert.That(create.Activity.ObjectType, Is.EqualTo("Note"));
            Assert.That(create.Activity.Content, Is.EqualTo("<p>Hello, co-operators</p>"));
            // Compacted JSON-LD: a single cc is a string, not an array.
            Assert.That(create.Body!.Value.GetProperty("cc").GetString(), Is.EqualTo(b.FollowersUri));
        });
    }

    [Test]
    public async Task Reply_reaches_author_with_in_reply_to_and_mention(CancellationToken ct)
    {
        var original = await b.PostAsync("<p>Any thoughts on the budget?</p>", ct);
        await a.WaitForReceivedAsync(r => r.Activity?.ObjectId == original.Id, Delivery, ct);

        // No "to": the peer reads the author from the note's attributedTo.
        var reply = await a.ReplyAsync(original.Id, "<p>Looks fine to me.</p>", null, ct);

        var create = await b.WaitForReceivedAsync(r => r.Activity?.ObjectId == reply.Id, Delivery, ct);
        var tag = create.Body!.Value.GetProperty("object").GetProperty("tag");
        Assert.Multiple(() =>
        {
            Assert.That(create.Verified, Is.True);
            Assert.That(create.Activity!.Type, Is.EqualTo("Create"));
            Assert.That(create.Activity.InReplyTo, Is.EqualTo(original.Id));
            Assert.That(create.Activity.Content, Is.EqualTo("<p>Looks fine to me.</p>"));
            Assert.That(tag.ValueKind == System.Text.Json.JsonValueKind.Array ? tag[0].GetProperty("href").GetString() : tag.GetProperty("href").GetString(),
                Is.EqualTo(b.ActorId));
        });

        // The reply is served at its id so the receiving server can re-fetch it.
        using var http = new HttpClient();
        using var request = new HttpRequestMessage(HttpMethod.Get, reply.Id);
        request.Headers.Accept.ParseAdd("application/activity+json");
        using var response = await http.SendAsync(request, ct);
        Assert.That(response.StatusCode, Is.EqualTo(HttpStatusCode.OK));
        Assert.That(await response.Content.ReadAsStringAsync(ct), Does.Contain(original.Id));
    }

    [Test]
    public async Task Like_and_announce_reach_author(CancellationToken ct)
    {
        var note = await b.PostAsync("<p>Meeting at noon.</p>", ct);
        await a.WaitForReceivedAsync(r => r.Activity?.ObjectId == note.Id, Delivery, ct);

        var like = await a.LikeAsync(note.Id, b.ActorId, ct);
        var announce = await a.AnnounceAsync(note.Id, null, ct);
        var unlike = await a.UndoAsync(like, ct);

        var likeReceived = await b.WaitForReceivedAsync(r => r.Activity?.Id == like, Delivery, ct);
        var announceReceived = await b.WaitForReceivedAsync(r => r.Activity?.Id == announce, Delivery, ct);
        var undoReceived = await b.WaitForReceivedAsync(r => r.Activity?.Id == unlike, Delivery, ct);
        Assert.Multiple(() =>
        {
            Assert.That(likeReceived.Verified && announceReceived.Verified && undoReceived.Verified, Is.True);
            Assert.That(likeReceived.Activity!.Type, Is.EqualTo("Like"));
            Assert.That(likeReceived.Activity.ObjectId, Is.EqualTo(note.Id));
            Assert.That(announceReceived.Activity!.Type, Is.EqualTo("Announce"));
            Assert.That(announceReceived.Activity.ObjectId, Is.EqualTo(note.Id));
            Assert.That(undoReceived.Activity!.Type, Is.EqualTo("Undo"));
            Assert.That(undoReceived.Activity.ObjectId, Is.EqualTo(like));
        });
    }

    [Test]
    public async Task Update_and_delete_reach_follower(CancellationToken ct)
    {
        var note = await b.PostAsync("<p>Draft</p>", ct);
        await a.WaitForReceivedAsync(r => r.Activity?.ObjectId == note.Id, Delivery, ct);

        var update = await b.UpdateNoteAsync(note.Id, "<p>Final</p>", ct);
        var updated = await a.WaitForReceivedAsync(r => r.Activity?.Id == update, Delivery, ct);
        var delete = await b.DeleteNoteAsync(note.Id, ct);
        var deleted = await a.WaitForReceivedAsync(r => r.Activity?.Id == delete, Delivery, ct);

        Assert.Multiple(() =>
        {
            Assert.That(updated.Verified, Is.True);
            Assert.That(updated.Activity!.Type, Is.EqualTo("Update"));
            Assert.That(updated.Activity.Content, Is.EqualTo("<p>Final</p>"));
            Assert.That(deleted.Verified, Is.True);
            Assert.That(deleted.Activity!.Type, Is.EqualTo("Delete"));
            Assert.That(deleted.Activity.ObjectId, Is.EqualTo(note.Id));
            Assert.That(deleted.Activity.ObjectType, Is.EqualTo("Tombstone"));
        });
    }

    [Test]
    public async Task Unsigned_delivery_is_recorded_and_rejected(CancellationToken ct)
    {
        const string Activity = """
            {"@context":"https://www.w3.org/ns/activitystreams","id":"http://127.0.0.1:9/forged","type":"Like",
             "actor":"http://127.0.0.1:9/users/mallory","object":"http://127.0.0.1:9/notes/1"}
            """;
        using var http = new HttpClient();
        using var content = new StringContent(Activity, Encoding.UTF8, "application/activity+json");
        using var response = await http.PostAsync(new Uri(b.SharedInboxUri), content, ct);

        var received = (await b.GetReceivedAsync(ct)).Single(r => r.Activity?.Id == "http://127.0.0.1:9/forged");
        Assert.Multiple(() =>
        {
            Assert.That(response.StatusCode, Is.EqualTo(HttpStatusCode.Unauthorized));
            Assert.That(received.Path, Is.EqualTo("/inbox"));
            Assert.That(received.Signature, Is.EqualTo(HttpSignatureFormat.None));
            Assert.That(received.Verified, Is.False);
            Assert.That(received.UnverifiedReason, Is.EqualTo("noSignature"));
            Assert.That(received.Status, Is.EqualTo(401));
        });
    }

    [Test]
    public async Task Cavage_first_knock_is_recorded_as_cavage_and_unfollow_arrives(CancellationToken ct)
    {
        await using var c = await FedifyPeer.StartAsync(new FedifyPeerOptions { FirstKnock = HttpSignatureFormat.Cavage }, ct);

        var follow = await c.FollowAsync(b.ActorId, ct);
        var followReceived = await b.WaitForReceivedAsync(r => r.Activity?.Id == follow.Id, Delivery, ct);
        await c.WaitForReceivedAsync(r => r.Activity?.Type == "Accept" && r.Activity.ObjectId == follow.Id, Delivery, ct);
        Assert.That(await b.GetFollowersAsync(ct), Does.Contain(c.ActorId));

        var undo = await c.UnfollowAsync(b.Handle, ct);
        var undoReceived = await b.WaitForReceivedAsync(r => r.Activity?.Id == undo, Delivery, ct);

        var followersAfter = await b.GetFollowersAsync(ct);
        Assert.Multiple(() =>
        {
            Assert.That(followReceived.Signature, Is.EqualTo(HttpSignatureFormat.Cavage));
            Assert.That(followReceived.Verified, Is.True);
            Assert.That(undoReceived.Signature, Is.EqualTo(HttpSignatureFormat.Cavage));
            Assert.That(undoReceived.Activity!.Type, Is.EqualTo("Undo"));
            Assert.That(undoReceived.Activity.ObjectType, Is.EqualTo("Follow"));
            Assert.That(followersAfter, Does.Not.Contain(c.ActorId));
        });

        // B answered C's cavage knock with 202, so C never had to retry with RFC 9421.
        var outbound = await c.GetOutboundAsync(ct);
        Assert.That(outbound.Where(o => o.Method == "POST").Select(o => o.Signature), Is.All.EqualTo(HttpSignatureFormat.Cavage));
    }
}
