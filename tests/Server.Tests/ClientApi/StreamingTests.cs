using System.Globalization;
using System.Net;
using System.Net.Http.Json;
using System.Text.Json;
using Dapper;
using Fellows.Server.Features.Auth;
using Fellows.Server.Features.Streaming;
using Microsoft.Extensions.DependencyInjection;
using Npgsql;
using NUnit.Framework;

namespace Fellows.Server.Tests.ClientApi;

/// <summary>
/// The streaming API through real WebSocket and server-sent-events clients against running instances: what reaches
/// which stream, what never does, and how connections are refused. Absence is checked deterministically: events are
/// streamed in the order they were committed, so once a later "barrier" post arrives, anything earlier that was
/// going to arrive already has.
/// </summary>
[NonParallelizable]
public class StreamingTests
{
    FellowsInstance _home = null!;
    FellowsInstance _away = null!;

    static readonly string[] HomeContext = ["home"];
    static readonly Dictionary<string, string?> Fast = new() { ["Streaming:EventStreamHeartbeat"] = "00:00:00.200" };

    [OneTimeSetUp]
    public async Task StartAsync()
    {
        // Stands in for the notifications feature: renders any notification id but 0 as a small entity.
        _home = await FellowsInstance.StartAsync("stream", b => b.Services.AddSingleton<INotificationRenderer, TestNotificationRenderer>(), Fast);
        _away = await FellowsInstance.StartAsync("streamaway", settings: Fast);
    }

    [OneTimeTearDown]
    public async Task StopAsync()
    {
        await _home.DisposeAsync();
        await _away.DisposeAsync();
    }

    sealed class TestNotificationRenderer : INotificationRenderer
    {
        public Task<string?> RenderAsync(long accountId, long notificationId, CancellationToken ct) =>
            Task.FromResult(notificationId == 0 ? null : $$"""{"id":"{{notificationId}}","type":"mention","for":"{{accountId}}"}""");
    }

    static async Task<JsonElement> PostAsync(Member m, string text, string visibility = "public") =>
        await m.PostJsonAsync("/api/v1/statuses", new { status = text, visibility });

    static async Task FollowAsync(Member follower, Member target) =>
        await follower.PostJsonAsync($"/api/v1/accounts/{target.AccountId}/follow");

    static bool On(JsonElement m, string @event, params string[] stream) =>
        m.TryGetProperty("event", out var e) && e.GetString() == @event
        && m.GetProperty("stream").EnumerateArray().Select(s => s.GetString()).SequenceEqual(stream);

    /// <summary>The payload string parsed as JSON (it is a JSON text inside a string, as Mastodon sends it).</summary>
    static JsonElement Payload(JsonElement m)
    {
        Assert.That(m.GetProperty("payload").ValueKind, Is.EqualTo(JsonValueKind.String), "payload is a string");
        return JsonDocument.Parse(m.GetProperty("payload").GetString()!).RootElement.Clone();
    }

    static bool IsStatus(JsonElement m, string @event, string statusId, params string[] stream) =>
        On(m, @event, stream) && Payload(m).GetProperty("id").GetString() == statusId;

    static bool Mentions(JsonElement m, string statusId) =>
        m.TryGetProperty("payload", out var p) && p.GetString() is { } text && text.Contains(statusId, StringComparison.Ordinal);

    /// <summary>Waits until <paramref name="viewer"/> holds <paramref name="stream"/> on <paramref name="instance"/> (or no longer does).</summary>
    static Task SubscribedAsync(FellowsInstance instance, Member viewer, StreamSubscription stream, bool subscribed = true) =>
        Api.EventuallyAsync(() => Task.FromResult(instance.Services.GetRequiredService<StreamingHub>().Connections
            .Any(c => c.Viewer == viewer.AccountId && c.Subscriptions().Contains(stream)) == subscribed), $"{stream} subscribed={subscribed}");

    async Task<string> TokenAsync(Member m, params string[] scopes) =>
        await _home.Services.GetRequiredService<TokenService>().CreateAsync(m.AccountId, null, scopes, CancellationToken.None);

    [Test]
    public async Task User_stream_gets_own_posts_followed_posts_and_boosts_as_status_payloads()
    {
        var ana = await _home.CreateMemberAsync("ana");
        var ben = await _home.CreateMemberAsync("ben");
        var cy = await _home.CreateMemberAsync("cy");
        await FollowAsync(ben, ana);
        await using var ws = await WebSocketStream.ConnectAsync(_home, ben.Token, "?stream=user");

        var post = await PostAsync(ana, "Assembly on Thursday");
        var id = post.GetProperty("id").GetString()!;
        var update = await ws.NextAsync(m => On(m, "update", "user"), "ana's post on ben's user stream");
        var status = Payload(update);
        Assert.Multiple(() =>
        {
            Assert.That(status.GetProperty("id").GetString(), Is.EqualTo(id));
            Assert.That(status.GetProperty("content").GetString(), Does.Contain("Assembly on Thursday"));
            Assert.That(status.GetProperty("account").GetProperty("username").GetString(), Is.EqualTo("ana"));
            Assert.That(status.GetProperty("visibility").GetString(), Is.EqualTo("public"));
            Assert.That(status.GetProperty("favourited").GetBoolean(), Is.False);
            Assert.That(status.GetProperty("created_at").GetString(), Does.EndWith("Z"));
        });

        // The same entity the REST API gives ben for that status.
        var rest = await ben.Api.GetStringAsync(new Uri($"/api/v1/statuses/{id}", UriKind.Relative));
        Assert.That(update.GetProperty("payload").GetString(), Is.EqualTo(rest));


        var own = await PostAsync(ben, "My own note");
        await ws.NextAsync(m => IsStatus(m, "update", own.GetProperty("id").GetString()!, "user"), "ben's own post");

        // cy is not followed: her post is not on ben's home, but ana's boost of it is.
        var cys = await PostAsync(cy, "Worth sharing");
        var boost = await ana.PostJsonAsync($"/api/v1/statuses/{cys.GetProperty("id").GetString()}/reblog");
        var boosted = await ws.NextAsync(m => IsStatus(m, "update", boost.GetProperty("id").GetString()!, "user"), "ana's boost");
        Assert.That(Payload(boosted).GetProperty("reblog").GetProperty("id").GetString(), Is.EqualTo(cys.GetProperty("id").GetString()));
        Assert.That(ws.Seen.Any(m => Mentions(m, cys.GetProperty("id").GetString()!) && !Mentions(m, boost.GetProperty("id").GetString()!)), Is.False,
            "cy's post itself never came on its own");
    }

    [Test]
    public async Task Followers_only_and_direct_posts_never_reach_public_streams_or_strangers()
    {
        var dee = await _home.CreateMemberAsync("dee");
        var fan = await _home.CreateMemberAsync("fan");
        var stranger = await _home.CreateMemberAsync("stranger");
        await FollowAsync(fan, dee);

        await using var strangerWs = await WebSocketStream.ConnectAsync(_home, stranger.Token, "?stream=user");
        foreach (var (stream, tag) in new[] { ("public", (string?)null), ("public:local", null), ("hashtag", "coop"), ("hashtag:local", "Coop") })
            await strangerWs.SendAsync(tag is null ? new { type = "subscribe", stream } : new { type = "subscribe", stream, tag });
        await SubscribedAsync(_home, stranger, new StreamSubscription("hashtag:local", "coop"));
        await SubscribedAsync(_home, stranger, new StreamSubscription("public:local", null));
        await using var fanWs = await WebSocketStream.ConnectAsync(_home, fan.Token, "?stream=user");

        var secret = (await PostAsync(dee, "Members only #coop", "private")).GetProperty("id").GetString()!;
        var direct = (await PostAsync(dee, "Just for me #coop", "direct")).GetProperty("id").GetString()!;
        var open = (await PostAsync(dee, "Open to all #coop")).GetProperty("id").GetString()!;
        var barrier = (await PostAsync(stranger, "barrier")).GetProperty("id").GetString()!;

        // The follower sees the followers-only post on home; the direct one (not addressed to them) never.
        await fanWs.NextAsync(m => IsStatus(m, "update", secret, "user"), "the followers-only post on the follower's home");
        await fanWs.NextAsync(m => IsStatus(m, "update", open, "user"), "the public post on the follower's home");

        // The stranger gets the public post on every public stream, and their own barrier post on home.
        await strangerWs.NextAsync(m => IsStatus(m, "update", barrier, "user"), "the barrier");
        await strangerWs.NextAsync(m => IsStatus(m, "update", barrier, "public:local"), "the barrier on public:local");
        Assert.Multiple(() =>
        {
            Assert.That(strangerWs.Seen.Any(m => IsStatus(m, "update", open, "public")), "public");
            Assert.That(strangerWs.Seen.Any(m => IsStatus(m, "update", open, "public:local")), "public:local");
            Assert.That(strangerWs.Seen.Any(m => IsStatus(m, "update", open, "hashtag", "coop")), "hashtag");
            Assert.That(strangerWs.Seen.Any(m => IsStatus(m, "update", open, "hashtag:local", "Coop")), "hashtag:local keeps the tag as asked");
            Assert.That(strangerWs.Seen.Any(m => On(m, "update", "user") && Mentions(m, open)), Is.False, "not followed, so not on home");
            Assert.That(strangerWs.Seen.Any(m => Mentions(m, secret) || Mentions(m, direct)), Is.False, "nothing private, anywhere");
            Assert.That(fanWs.Seen.Any(m => Mentions(m, direct)), Is.False, "direct post not addressed to the follower");
        });
    }

    [Test]
    public async Task Direct_stream_and_blocks()
    {
        var eve = await _home.CreateMemberAsync("eve");
        var fay = await _home.CreateMemberAsync("fay");
        var gil = await _home.CreateMemberAsync("gil");
        await using var fayWs = await WebSocketStream.ConnectAsync(_home, fay.Token, "?stream=direct");
        await fayWs.SendAsync(new { type = "subscribe", stream = "public" });
        await SubscribedAsync(_home, fay, new StreamSubscription("public", null));

        var dm = (await PostAsync(eve, $"@fay see you at the co-op", "direct")).GetProperty("id").GetString()!;
        await fayWs.NextAsync(m => IsStatus(m, "update", dm, "direct"), "the direct message on fay's direct stream");

        // gil blocks fay: gil's public posts no longer reach her public stream.
        await gil.PostJsonAsync($"/api/v1/accounts/{fay.AccountId}/block");
        var hidden = (await PostAsync(gil, "not for fay")).GetProperty("id").GetString()!;
        var barrier = (await PostAsync(eve, "barrier")).GetProperty("id").GetString()!;
        await fayWs.NextAsync(m => IsStatus(m, "update", barrier, "public"), "the barrier");
        Assert.That(fayWs.Seen.Any(m => Mentions(m, hidden)), Is.False);
        // On the direct stream it comes as the status (update) and as fay's conversation with it as the last message.
        Assert.That(fayWs.Seen.Any(m => Mentions(m, dm) && !On(m, "update", "direct") && !On(m, "conversation", "direct")), Is.False,
            "the direct message only on the direct stream");

        // fay mutes eve: eve's public posts leave her streams too, as they leave her timelines.
        await fay.PostJsonAsync($"/api/v1/accounts/{eve.AccountId}/mute");
        var muted = (await PostAsync(eve, "muted chatter")).GetProperty("id").GetString()!;
        var after = (await PostAsync(gil, "after the mute")).GetProperty("id").GetString()!;
        // gil blocked fay, so the barrier comes from a fresh member.
        var hana = await _home.CreateMemberAsync("hana");
        var secondBarrier = (await PostAsync(hana, "second barrier")).GetProperty("id").GetString()!;
        await fayWs.NextAsync(m => IsStatus(m, "update", secondBarrier, "public"), "the second barrier");
        Assert.That(fayWs.Seen.Any(m => Mentions(m, muted)), Is.False, "a muted account's post");
        Assert.That(fayWs.Seen.Any(m => Mentions(m, after)), Is.False);
    }

    [Test]
    public async Task Delete_and_edit_are_streamed()
    {
        var hal = await _home.CreateMemberAsync("hal");
        var ivy = await _home.CreateMemberAsync("ivy");
        await FollowAsync(ivy, hal);
        await using var ws = await WebSocketStream.ConnectAsync(_home, ivy.Token, "?stream=user");
        await ws.SendAsync(new { type = "subscribe", stream = "public:local" });
        await SubscribedAsync(_home, ivy, new StreamSubscription("public:local", null));

        var id = (await PostAsync(hal, "Minutes: draft")).GetProperty("id").GetString()!;
        await ws.NextAsync(m => IsStatus(m, "update", id, "user"), "the post");
        var edited = await hal.Api.PutAsJsonAsync(new Uri($"/api/v1/statuses/{id}", UriKind.Relative), new { status = "Minutes: final" });
        Assert.That(edited.StatusCode, Is.EqualTo(HttpStatusCode.OK));
        var update = await ws.NextAsync(m => IsStatus(m, "status.update", id, "user"), "the edit");
        Assert.That(Payload(update).GetProperty("content").GetString(), Does.Contain("final"));
        Assert.That(Payload(update).GetProperty("edited_at").ValueKind, Is.EqualTo(JsonValueKind.String));
        await ws.NextAsync(m => IsStatus(m, "status.update", id, "public:local"), "the edit on public:local");

        Assert.That((await hal.Api.DeleteAsync(new Uri($"/api/v1/statuses/{id}", UriKind.Relative))).StatusCode, Is.EqualTo(HttpStatusCode.OK));
        var deleted = await ws.NextAsync(m => On(m, "delete", "user"), "the delete");
        Assert.That(deleted.GetProperty("payload").GetString(), Is.EqualTo(id), "a delete's payload is the bare id");
        await ws.NextAsync(m => On(m, "delete", "public:local") && m.GetProperty("payload").GetString() == id, "the delete on public:local");
    }

    [Test]
    public async Task List_stream_carries_the_lists_posts_to_its_owner_only()
    {
        var kim = await _home.CreateMemberAsync("kim");
        var lou = await _home.CreateMemberAsync("lou");
        var max = await _home.CreateMemberAsync("max");
        var nia = await _home.CreateMemberAsync("nia");
        await FollowAsync(kim, lou);
        await FollowAsync(kim, max);
        var list = (await kim.PostJsonAsync("/api/v1/lists", new { title = "Kitchen rota" })).GetProperty("id").GetString()!;
        await kim.PostJsonAsync($"/api/v1/lists/{list}/accounts", new { account_ids = new[] { lou.AccountId.ToString(CultureInfo.InvariantCulture) } });

        // Someone else's list is refused as not found, over either transport.
        var (none, refused) = await EventStreamClient.OpenAsync(_home, $"/api/v1/streaming/list?list={list}", nia.Token);
        Assert.That(none, Is.Null);
        Assert.That(refused.StatusCode, Is.EqualTo(HttpStatusCode.NotFound), "nia does not own kim's list");
        await using (var other = await WebSocketStream.ConnectAsync(_home, nia.Token, "?stream=user"))
        {
            await other.SendAsync(new { type = "subscribe", stream = "list", list });
            Assert.That((await other.NextAsync(m => m.TryGetProperty("error", out _), "a list error")).GetProperty("status").GetInt32(), Is.EqualTo(404));
        }

        await using var ws = await WebSocketStream.ConnectAsync(_home, kim.Token, $"?stream=list&list={list}");
        await SubscribedAsync(_home, kim, new StreamSubscription("list", list));
        var maxPost = (await PostAsync(max, "Not on the list")).GetProperty("id").GetString()!;
        var louPost = (await PostAsync(lou, "Rota for December")).GetProperty("id").GetString()!;
        var update = await ws.NextAsync(m => IsStatus(m, "update", louPost, "list", list), "lou's post on the list stream");
        Assert.That(Payload(update).GetProperty("account").GetProperty("username").GetString(), Is.EqualTo("lou"));

        // A reply to someone outside the list follows the list's policy ("list" by default): not shown.
        var reply = (await lou.PostJsonAsync("/api/v1/statuses", new { status = "@max agreed", in_reply_to_id = maxPost })).GetProperty("id").GetString()!;
        Assert.That((await lou.Api.DeleteAsync(new Uri($"/api/v1/statuses/{louPost}", UriKind.Relative))).StatusCode, Is.EqualTo(HttpStatusCode.OK));
        await ws.NextAsync(m => On(m, "delete", "list", list) && m.GetProperty("payload").GetString() == louPost, "the delete on the list stream");
        Assert.That(ws.Seen.Any(m => Mentions(m, maxPost) || Mentions(m, reply)), Is.False, "max's post and the reply to him stay off the list stream");
    }

    [Test]
    public async Task Unsubscribe_stops_events()
    {
        var jo = await _home.CreateMemberAsync("jo");
        await using var ws = await WebSocketStream.ConnectAsync(_home, jo.Token, "?stream=user");
        await ws.SendAsync(new { type = "subscribe", stream = "public" });
        await SubscribedAsync(_home, jo, new StreamSubscription("public", null));
        var first = (await PostAsync(jo, "first")).GetProperty("id").GetString()!;
        await ws.NextAsync(m => IsStatus(m, "update", first, "public"), "first on public");

        await ws.SendAsync(new { type = "unsubscribe", stream = "public" });
        await SubscribedAsync(_home, jo, new StreamSubscription("public", null), subscribed: false);
        var second = (await PostAsync(jo, "second")).GetProperty("id").GetString()!;
        await ws.NextAsync(m => IsStatus(m, "update", second, "user"), "second on user");
        var barrier = (await PostAsync(jo, "barrier")).GetProperty("id").GetString()!;
        await ws.NextAsync(m => IsStatus(m, "update", barrier, "user"), "the barrier");
        Assert.That(ws.Seen.Any(m => On(m, "update", "public") && Mentions(m, second)), Is.False);
    }

    [Test]
    public async Task Event_stream_sends_updates_deletes_and_heartbeats()
    {
        var kit = await _home.CreateMemberAsync("kit");
        var (stream, response) = await EventStreamClient.OpenAsync(_home, "/api/v1/streaming/hashtag?tag=Harvest", kit.Token);
        Assert.That(stream, Is.Not.Null, $"{response.StatusCode}");
        await using var sse = stream!;
        Assert.That(response.Content.Headers.ContentType?.MediaType, Is.EqualTo("text/event-stream"));
        await sse.NextAsync(e => e is { Event: null, Data: "thump" }, "a heartbeat");

        var other = (await PostAsync(kit, "no tag here")).GetProperty("id").GetString()!;
        var id = (await PostAsync(kit, "Bring baskets #harvest")).GetProperty("id").GetString()!;
        var update = await sse.NextAsync(e => e.Event == "update", "the tagged post");
        var status = JsonDocument.Parse(update.Data).RootElement;
        Assert.That(status.GetProperty("id").GetString(), Is.EqualTo(id), "the untagged post came first if at all");
        Assert.That(status.GetProperty("tags")[0].GetProperty("name").GetString(), Is.EqualTo("harvest"));

        await kit.Api.DeleteAsync(new Uri($"/api/v1/statuses/{id}", UriKind.Relative));
        var deleted = await sse.NextAsync(e => e.Event == "delete", "the delete");
        Assert.That(deleted.Data, Is.EqualTo(id));
        Assert.That(sse.Seen.Any(e => e.Data.Contains(other, StringComparison.Ordinal)), Is.False);
    }

    [Test]
    public async Task Event_stream_user_and_public_paths()
    {
        var lu = await _home.CreateMemberAsync("lu");
        var (user, _) = await EventStreamClient.OpenAsync(_home, "/api/v1/streaming/user", lu.Token);
        var (local, _) = await EventStreamClient.OpenAsync(_home, "/api/v1/streaming/public/local", lu.Token);
        var (remote, _) = await EventStreamClient.OpenAsync(_home, "/api/v1/streaming/public/remote", lu.Token);
        await using var u = user!;
        await using var l = local!;
        await using var r = remote!;
        var id = (await PostAsync(lu, "hello")).GetProperty("id").GetString()!;
        Assert.That(JsonDocument.Parse((await u.NextAsync(e => e.Event == "update", "on user")).Data).RootElement.GetProperty("id").GetString(), Is.EqualTo(id));
        Assert.That(JsonDocument.Parse((await l.NextAsync(e => e.Event == "update", "on public/local")).Data).RootElement.GetProperty("id").GetString(), Is.EqualTo(id));
        // A local post is not remote: the remote stream only beats.
        await r.NextAsync(e => e.Event is null, "a heartbeat on public/remote");
        var barrier = (await PostAsync(lu, "barrier")).GetProperty("id").GetString()!;
        await l.NextAsync(e => e.Data.Contains(barrier, StringComparison.Ordinal), "the barrier");
        await r.NextAsync(e => e.Event is null, "another heartbeat on public/remote");
        Assert.That(r.Seen.Any(e => e.Event is not null), Is.False);
    }

    [Test]
    public async Task Token_as_subprotocol_is_accepted_and_echoed()
    {
        var mo = await _home.CreateMemberAsync("mo");
        await using var ws = await WebSocketStream.ConnectAsync(_home, mo.Token, "?stream=user", tokenAsProtocol: true);
        Assert.That(ws.SubProtocol, Is.EqualTo(mo.Token));
        var id = (await PostAsync(mo, "via subprotocol")).GetProperty("id").GetString()!;
        await ws.NextAsync(m => IsStatus(m, "update", id, "user"), "the post");

        // The access_token parameter (legacy) works too, and so does the path with a trailing slash.
        await using var legacy = await WebSocketStream.ConnectAsync(_home, null, $"/?stream=user&access_token={Uri.EscapeDataString(mo.Token)}");
        var id2 = (await PostAsync(mo, "via parameter")).GetProperty("id").GetString()!;
        await legacy.NextAsync(m => IsStatus(m, "update", id2, "user"), "the second post");
    }

    [Test]
    public async Task Bad_tokens_scopes_and_streams_are_refused()
    {
        var ned = await _home.CreateMemberAsync("ned");
        Assert.Multiple(async () =>
        {
            Assert.That(await WebSocketStream.RefusedWithAsync(_home, "not-a-token", "?stream=user"), Is.EqualTo(401));
            Assert.That(await WebSocketStream.RefusedWithAsync(_home, null, "?stream=public"), Is.EqualTo(401));
            Assert.That(await WebSocketStream.RefusedWithAsync(_home, await TokenAsync(ned, "write"), "?stream=user"), Is.EqualTo(401));
        });

        // A member still waiting for approval is told so (403), as on every other route.
        var waiting = await _home.CreateMemberAsync("waiting");
        await using (var conn = await _home.Services.GetRequiredService<NpgsqlDataSource>().OpenConnectionAsync())
            await conn.ExecuteAsync("UPDATE users SET approved = false WHERE account_id = @id", new { id = waiting.AccountId });
        Assert.That(await WebSocketStream.RefusedWithAsync(_home, waiting.Token, "?stream=user"), Is.EqualTo(403));

        var (none, refused) = await EventStreamClient.OpenAsync(_home, "/api/v1/streaming/public", "not-a-token");
        Assert.That(none, Is.Null);
        Assert.That(refused.StatusCode, Is.EqualTo(HttpStatusCode.Unauthorized));
        Assert.That((await refused.Content.ReadFromJsonAsync<JsonElement>()).GetProperty("error").GetString(), Is.Not.Empty);

        var notificationsOnly = await TokenAsync(ned, "read:notifications");
        (none, refused) = await EventStreamClient.OpenAsync(_home, "/api/v1/streaming/public", notificationsOnly);
        Assert.That(refused.StatusCode, Is.EqualTo(HttpStatusCode.Unauthorized), "read:statuses needed for public");
        (none, refused) = await EventStreamClient.OpenAsync(_home, "/api/v1/streaming/hashtag", ned.Token);
        Assert.That(refused.StatusCode, Is.EqualTo(HttpStatusCode.BadRequest), "a hashtag stream needs a tag");
        (none, refused) = await EventStreamClient.OpenAsync(_home, "/api/v1/streaming/list?list=1", ned.Token);
        Assert.That(refused.StatusCode, Is.EqualTo(HttpStatusCode.NotFound), "no such list");
        (none, refused) = await EventStreamClient.OpenAsync(_home, "/api/v1/streaming/nonsense", ned.Token);
        Assert.That(refused.StatusCode, Is.EqualTo(HttpStatusCode.BadRequest));
        Assert.That((await refused.Content.ReadFromJsonAsync<JsonElement>()).GetProperty("error").GetString(), Is.EqualTo("Unknown channel requested"));

        // Over the socket, bad subscriptions are answered with an error message and the socket stays open.
        await using var ws = await WebSocketStream.ConnectAsync(_home, notificationsOnly, "?stream=user:notification");
        await ws.SendAsync(new { type = "subscribe", stream = "public" });
        var scope = await ws.NextAsync(m => m.TryGetProperty("error", out _), "a scope error");
        Assert.That(scope.GetProperty("status").GetInt32(), Is.EqualTo(401));
        await ws.SendAsync(new { type = "subscribe", stream = "everything" });
        var unknown = await ws.NextAsync(m => m.TryGetProperty("error", out _), "an unknown stream error");
        Assert.That(unknown.GetProperty("error").GetString(), Is.EqualTo("Unknown stream type"));
        Assert.That(unknown.GetProperty("status").GetInt32(), Is.EqualTo(400));
        await ws.SendAsync(new { type = "subscribe", stream = "list", list = 42 });
        Assert.That((await ws.NextAsync(m => m.TryGetProperty("error", out _), "a list error")).GetProperty("status").GetInt32(), Is.EqualTo(401),
            "a list stream needs read:statuses as well");
        await ws.SendAsync("not an object");
        await ws.NextAsync(m => m.TryGetProperty("error", out _), "a parse error");
        Assert.That(ws.State, Is.EqualTo(System.Net.WebSockets.WebSocketState.Open));
        Assert.That(_home.Services.GetRequiredService<StreamingHub>().Connections.Single(c => c.Viewer == ned.AccountId).Subscriptions(),
            Is.EqualTo(new[] { new StreamSubscription("user:notification", null) }));

        // Not a handshake: Mastodon's "not here" answer; health is plain OK.
        Assert.That((await ned.Api.GetAsync(new Uri("/api/v1/streaming", UriKind.Relative))).StatusCode, Is.EqualTo(HttpStatusCode.NotFound));
        var health = await _home.Client.GetAsync(new Uri("/api/v1/streaming/health", UriKind.Relative));
        Assert.That(health.StatusCode, Is.EqualTo(HttpStatusCode.OK));
        Assert.That(await health.Content.ReadAsStringAsync(), Is.EqualTo("OK"));
    }

    [Test]
    public async Task Notifications_announced_on_the_channel_reach_user_streams_through_the_renderer()
    {
        var oz = await _home.CreateMemberAsync("oz");
        await using var ws = await WebSocketStream.ConnectAsync(_home, oz.Token, "?stream=user");
        await ws.SendAsync(new { type = "subscribe", stream = "user:notification" });
        await SubscribedAsync(_home, oz, new StreamSubscription("user:notification", null));
        // A token without read:notifications gets statuses but no notifications on its user stream.
        await using var statusesOnly = await WebSocketStream.ConnectAsync(_home, await TokenAsync(oz, "read:statuses"), "?stream=user");

        await using (var conn = await _home.Services.GetRequiredService<NpgsqlDataSource>().OpenConnectionAsync())
        {
            await conn.ExecuteAsync(StreamingSql.NotifyNotification, new { accountId = oz.AccountId, notificationId = 0L });
            await conn.ExecuteAsync(StreamingSql.NotifyNotification, new { accountId = oz.AccountId, notificationId = 77L });
        }
        var onUser = await ws.NextAsync(m => On(m, "notification", "user"), "the notification on user");
        Assert.That(Payload(onUser).GetProperty("id").GetString(), Is.EqualTo("77"), "id 0 rendered nothing and was dropped");
        Assert.That(Payload(onUser).GetProperty("for").GetString(), Is.EqualTo(oz.AccountId.ToString(System.Globalization.CultureInfo.InvariantCulture)));
        await ws.NextAsync(m => On(m, "notification", "user:notification"), "the notification on user:notification");

        await using (var conn = await _home.Services.GetRequiredService<NpgsqlDataSource>().OpenConnectionAsync())
            await conn.ExecuteAsync(StreamingSql.NotifyFiltersChanged, new { accountId = oz.AccountId });
        var filters = await ws.NextAsync(m => On(m, "filters_changed", "user"), "filters_changed");
        Assert.That(filters.TryGetProperty("payload", out _), Is.False, "filters_changed has no payload");

        var barrier = (await PostAsync(oz, "barrier")).GetProperty("id").GetString()!;
        await statusesOnly.NextAsync(m => IsStatus(m, "update", barrier, "user"), "the barrier");
        Assert.That(statusesOnly.Seen.Any(m => On(m, "notification", "user")), Is.False);
    }

    [Test]
    public async Task Federated_post_edit_and_delete_reach_the_followers_user_stream()
    {
        var pia = await _home.CreateMemberAsync("pia");
        var quin = await _away.CreateMemberAsync("quin");
        var piaOnAway = (await quin.GetJsonAsync($"/api/v1/accounts/lookup?acct={pia.Handle}")).GetProperty("id").GetString();
        await quin.PostJsonAsync($"/api/v1/accounts/{piaOnAway}/follow");
        await Api.EventuallyAsync(async () => (await quin.GetJsonAsync($"/api/v1/accounts/relationships?id[]={piaOnAway}"))[0].GetProperty("following").GetBoolean(),
            "the follow to be accepted");
        await using var ws = await WebSocketStream.ConnectAsync(_away, quin.Token, "?stream=user");
        await ws.SendAsync(new { type = "subscribe", stream = "public:remote" });
        await SubscribedAsync(_away, quin, new StreamSubscription("public:remote", null));

        var post = await PostAsync(pia, "Hello from the other co-op");
        var update = await ws.NextAsync(m => On(m, "update", "user") && Payload(m).GetProperty("uri").GetString() == post.GetProperty("uri").GetString(),
            "pia's post on quin's user stream");
        var localId = Payload(update).GetProperty("id").GetString()!;
        Assert.That(Payload(update).GetProperty("account").GetProperty("acct").GetString(), Is.EqualTo(pia.Handle));
        await ws.NextAsync(m => IsStatus(m, "update", localId, "public:remote"), "on public:remote");

        await pia.Api.PutAsJsonAsync(new Uri($"/api/v1/statuses/{post.GetProperty("id").GetString()}", UriKind.Relative), new { status = "Hello from the other co-op, edited" });
        var edit = await ws.NextAsync(m => IsStatus(m, "status.update", localId, "user"), "the federated edit");
        Assert.That(Payload(edit).GetProperty("content").GetString(), Does.Contain("edited"));

        await pia.Api.DeleteAsync(new Uri($"/api/v1/statuses/{post.GetProperty("id").GetString()}", UriKind.Relative));
        await ws.NextAsync(m => On(m, "delete", "user") && m.GetProperty("payload").GetString() == localId, "the federated delete");
    }

    [Test]
    public async Task Post_through_one_node_reaches_a_stream_on_another_node_of_the_same_instance()
    {
        // A second node: same database and domain, its own port; Quartz stays on the first.
        await using var node2 = await FellowsInstance.StartAsync("streamnode2", settings: new Dictionary<string, string?>
        {
            ["ConnectionStrings:Main"] = _home.ConnectionString,
            ["Instance:Domain"] = _home.Domain,
            ["Jobs:Enabled"] = "false",
        });
        var rio = await _home.CreateMemberAsync("rio");
        await using var ws = await WebSocketStream.ConnectAsync(node2, rio.Token, "?stream=user");
        var id = (await PostAsync(rio, "written on node one")).GetProperty("id").GetString()!;
        await ws.NextAsync(m => IsStatus(m, "update", id, "user"), "the post on node two's stream");
        Assert.That(node2.Services.GetRequiredService<StreamingHub>().ConnectionCount, Is.EqualTo(1));
    }

    [Test]
    public async Task Stopping_a_node_closes_its_streams_promptly()
    {
        var node = await FellowsInstance.StartAsync("streamstop", settings: Fast);
        try
        {
            var sam = await node.CreateMemberAsync("sam");
            await using var ws = await WebSocketStream.ConnectAsync(node, sam.Token, "?stream=user");
            var (sse, _) = await EventStreamClient.OpenAsync(node, "/api/v1/streaming/user", sam.Token);
            await using var events = sse!;
            var clock = System.Diagnostics.Stopwatch.StartNew();
            await node.StopAsync();
            Assert.That(clock.Elapsed, Is.LessThan(TimeSpan.FromSeconds(10)), "open streams do not hold the shutdown");
            Assert.That(await ws.ClosedAsync(), Is.True);
            Assert.That(ws.CloseStatus, Is.EqualTo(System.Net.WebSockets.WebSocketCloseStatus.EndpointUnavailable));
        }
        finally
        {
            await node.DisposeAsync();
        }
    }

    [Test]
    public async Task Real_notifications_reach_the_notification_stream_and_filter_changes_are_announced()
    {
        // The second instance runs the real renderer: a follow stored by the notifications feature streams as its entity.
        var ora = await _away.CreateMemberAsync("ora");
        var pip = await _away.CreateMemberAsync("pip");
        await using var ws = await WebSocketStream.ConnectAsync(_away, ora.Token, "?stream=user");
        await SubscribedAsync(_away, ora, new StreamSubscription("user", null));
        await FollowAsync(pip, ora);
        var message = await ws.NextAsync(m => On(m, "notification", "user"), "the follow notification");
        var notification = Payload(message);
        Assert.That(notification.GetProperty("type").GetString(), Is.EqualTo("follow"));
        Assert.That(notification.GetProperty("account").GetProperty("username").GetString(), Is.EqualTo("pip"));

        await ora.PostJsonAsync("/api/v2/filters", new { title = "noise", context = HomeContext, keywords_attributes = new[] { new { keyword = "noise" } } });
        await ws.NextAsync(m => On(m, "filters_changed", "user"), "filters_changed after a new filter");
    }
}
