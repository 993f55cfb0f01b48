using System.Text.Json;
using Fellows.Server.Tests.Interop;
using NUnit.Framework;

// Expected values read best inline in assertions; each runs once.
#pragma warning disable CA1861

namespace Fellows.Server.Tests.Federation;

/// <summary>
/// Notifications made by what arrives in the inbox: from another Fellows instance and from an independent
/// ActivityPub server (the Fedify peer), including taking things back.
/// </summary>
[NonParallelizable]
[CancelAfter(180_000)]
public class NotificationFederationTests
{
    FellowsInstance _a = null!;
    FellowsInstance _b = null!;
    FedifyPeer _peer = null!;

    [OneTimeSetUp]
    public async Task StartAsync()
    {
        _a = await FellowsInstance.StartAsync("bell");
        _b = await FellowsInstance.StartAsync("chime");
        using var cts = new CancellationTokenSource(TimeSpan.FromMinutes(10));
        _peer = await FedifyPeer.StartAsync(cts.Token);
    }

    [OneTimeTearDown]
    public async Task StopAsync()
    {
        await _a.DisposeAsync();
        await _b.DisposeAsync();
        await _peer.DisposeAsync();
    }

    static async Task<string> IdOfAsync(Member viewer, string handle) =>
        (await viewer.GetJsonAsync($"/api/v1/accounts/lookup?acct={handle}")).GetProperty("id").GetString()!;

    static async Task<(string Type, string Acct, string? Status)[]> NotificationsAsync(Member member)
    {
        var list = await member.GetJsonAsync("/api/v1/notifications");
        return list.EnumerateArray().Select(n => (
            n.GetProperty("type").GetString()!,
            n.GetProperty("account").GetProperty("acct").GetString()!,
            n.TryGetProperty("status", out var s) ? s.GetProperty("id").GetString() : null)).ToArray();
    }

    static Task WaitForAsync(Member member, Func<(string Type, string Acct, string? Status)[], bool> condition, string what) =>
        Api.EventuallyAsync(async () => condition(await NotificationsAsync(member)), what);

    [Test]
    public async Task Member_on_another_fellows_instance_follows_favourites_boosts_and_mentions()
    {
        var mia = await _a.CreateMemberAsync("mia");
        var noa = await _b.CreateMemberAsync("noa");
        var miaOnB = await IdOfAsync(noa, mia.Handle);
        await noa.PostJsonAsync($"/api/v1/accounts/{miaOnB}/follow");
        await WaitForAsync(mia, n => n.Any(x => x.Type == "follow" && x.Acct == noa.Handle), "mia to be told noa follows her");

        var post = await mia.PostJsonAsync("/api/v1/statuses", new { status = "Assembly on Friday" });
        var postId = post.GetProperty("id").GetString()!;
        var onB = await Api.EventuallyAsync(async () =>
        {
            var home = await noa.GetJsonAsync("/api/v1/timelines/home");
            return home.EnumerateArray().Where(s => s.GetProperty("uri").GetString() == post.GetProperty("uri").GetString())
                .Select(s => s.GetProperty("id").GetString()).FirstOrDefault();
        }, "mia's post on noa's home timeline");
        await noa.PostJsonAsync($"/api/v1/statuses/{onB}/favourite");
        await noa.PostJsonAsync($"/api/v1/statuses/{onB}/reblog");
        await noa.PostJsonAsync("/api/v1/statuses", new { status = $"@{mia.Handle} count me in", in_reply_to_id = onB });
        await WaitForAsync(mia, n => n.Length == 4, "favourite, boost and mention to reach mia");
        var told = await NotificationsAsync(mia);
        Assert.That(told.Select(n => n.Type), Is.EquivalentTo(new[] { "follow", "favourite", "reblog", "mention" }));
        Assert.That(told.Select(n => n.Acct), Is.All.EqualTo(noa.Handle));
        Assert.That(told.Single(n => n.Type == "favourite").Status, Is.EqualTo(postId));
        Assert.That(told.Single(n => n.Type == "reblog").Status, Is.EqualTo(postId));

        await noa.PostJsonAsync($"/api/v1/statuses/{onB}/unfavourite");
        await noa.PostJsonAsync($"/api/v1/statuses/{onB}/unreblog");
        await WaitForAsync(mia, n => n.Length == 2, "the undone favourite and boost to be withdrawn");
        Assert.That((await NotificationsAsync(mia)).Select(n => n.Type), Is.EquivalentTo(new[] { "follow", "mention" }));
    }

    [Test]
    public async Task Remote_follow_of_a_locked_member_is_a_follow_request()
    {
        var ora = await _a.CreateMemberAsync("ora", locked: true);
        var pip = await _b.CreateMemberAsync("pip");
        await pip.PostJsonAsync($"/api/v1/accounts/{await IdOfAsync(pip, ora.Handle)}/follow");
        await WaitForAsync(ora, n => n.Length == 1, "the follow request notification");
        Assert.That((await NotificationsAsync(ora)).Single(), Is.EqualTo(("follow_request", pip.Handle, (string?)null)));
    }

    [Test]
    public async Task Fedify_peer_follows_mentions_likes_boosts_and_edits(CancellationToken ct)
    {
        var quinn = await _a.CreateMemberAsync("quinn");
        var follow = await _peer.FollowAsync(quinn.Handle, ct);
        Assert.That(follow.Id, Is.Not.Empty);
        await WaitForAsync(quinn, n => n.Any(x => x.Type == "follow"), "the peer's follow");
        var peerAcct = (await NotificationsAsync(quinn)).Single().Acct;
        Assert.That(peerAcct, Is.EqualTo(_peer.Handle));

        await _peer.PostAsync("<p>Hello @quinn</p>", [quinn.ActorId], ct);
        await WaitForAsync(quinn, n => n.Any(x => x.Type == "mention"), "the peer's mention");

        var post = await quinn.PostJsonAsync("/api/v1/statuses", new { status = "Open books, open meetings" });
        var uri = post.GetProperty("uri").GetString()!;
        var like = await _peer.LikeAsync(uri, quinn.ActorId, ct);
        await _peer.AnnounceAsync(uri, quinn.ActorId, ct);
        await WaitForAsync(quinn, n => n.Any(x => x.Type == "favourite") && n.Any(x => x.Type == "reblog"), "the peer's like and boost");
        await _peer.UndoAsync(like, ct);
        await WaitForAsync(quinn, n => !n.Any(x => x.Type == "favourite"), "the undone like to be withdrawn");

        // quinn follows the peer and boosts one of its notes; when the peer edits it, quinn is told.
        await quinn.PostJsonAsync($"/api/v1/accounts/{await IdOfAsync(quinn, _peer.Handle)}/follow");
        await Api.EventuallyAsync(async () =>
            (await quinn.GetJsonAsync($"/api/v1/accounts/relationships?id[]={await IdOfAsync(quinn, _peer.Handle)}"))[0].GetProperty("following").GetBoolean(),
            "the peer to accept quinn");
        var note = await _peer.PostAsync("<p>Draft budget</p>", ct);
        var stored = await Api.EventuallyAsync(async () =>
        {
            var home = await quinn.GetJsonAsync("/api/v1/timelines/home");
            return home.EnumerateArray().Where(s => s.GetProperty("uri").GetString() == note.Id)
                .Select(s => s.GetProperty("id").GetString()).FirstOrDefault();
        }, "the peer's note on quinn's home timeline");
        await quinn.PostJsonAsync($"/api/v1/statuses/{stored}/reblog");
        await _peer.UpdateNoteAsync(note.Id, "<p>Budget, final</p>", ct);
        await WaitForAsync(quinn, n => n.Any(x => x.Type == "update" && x.Status == stored), "the edit notification");
        var update = (await quinn.GetJsonAsync("/api/v1/notifications?types[]=update"))[0];
        Assert.That(update.GetProperty("status").GetProperty("content").GetString(), Does.Contain("Budget, final"));
        Assert.That(update.GetProperty("status").GetProperty("edited_at").ValueKind, Is.EqualTo(JsonValueKind.String));
    }
}
