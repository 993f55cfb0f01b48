using System.Net;
using System.Net.Http.Headers;
using System.Net.Http.Json;
using System.Text.Json;
using Fellows.Server.Tests.Interop;
using Microsoft.Extensions.DependencyInjection;
using NUnit.Framework;

namespace Fellows.Server.Tests.Federation;

/// <summary>Two Fellows instances and a Fedify peer federating on loopback.</summary>
[NonParallelizable]
public class FederationTests
{
    FellowsInstance _a = null!;
    FellowsInstance _b = null!;

    [OneTimeSetUp]
    public async Task StartAsync()
    {
        _a = await FellowsInstance.StartAsync("alpha");
        _b = await FellowsInstance.StartAsync("beta");
    }

    [OneTimeTearDown]
    public async Task StopAsync()
    {
        await _a.DisposeAsync();
        await _b.DisposeAsync();
    }



    [Test]
    public async Task WebFinger_local_member_self_link_is_actor_id()
    {
        var member = await _a.CreateMemberAsync("wendy");
        var response = await _a.Client.GetAsync(new Uri($"/.well-known/webfinger?resource=acct:wendy@{_a.Domain}", UriKind.Relative));
        var jrd = await Api.JsonAsync(response);
        Assert.Multiple(() =>
        {
            Assert.That(response.Headers.GetValues("Access-Control-Allow-Origin").Single(), Is.EqualTo("*"));
            Assert.That(jrd.GetProperty("subject").GetString(), Is.EqualTo($"acct:wendy@{_a.Domain}"));
            var self = jrd.GetProperty("links").EnumerateArray().Single(l => l.GetProperty("rel").GetString() == "self");
            Assert.That(self.GetProperty("href").GetString(), Is.EqualTo(member.ActorId));
        });
        var missing = await _a.Client.GetAsync(new Uri($"/.well-known/webfinger?resource=acct:nobody@{_a.Domain}", UriKind.Relative));
        Assert.That(missing.StatusCode, Is.EqualTo(HttpStatusCode.NotFound));
    }

    [Test]
    public async Task Actor_with_activity_json_has_keys_and_collections()
    {
        var member = await _a.CreateMemberAsync("ada");
        using var request = new HttpRequestMessage(HttpMethod.Get, member.ActorId);
        request.Headers.Accept.Add(new MediaTypeWithQualityHeaderValue("application/activity+json"));
        var response = await _a.Client.SendAsync(request);
        Assert.That(response.Content.Headers.ContentType!.MediaType, Is.EqualTo("application/activity+json"));
        var actor = await Api.JsonAsync(response);
        Assert.Multiple(() =>
        {
            Assert.That(actor.GetProperty("id").GetString(), Is.EqualTo(member.ActorId));
            Assert.That(actor.GetProperty("type").GetString(), Is.EqualTo("Person"));
            Assert.That(actor.GetProperty("inbox").GetString(), Is.EqualTo(member.ActorId + "/inbox"));
            Assert.That(actor.GetProperty("endpoints").GetProperty("sharedInbox").GetString(), Is.EqualTo(_a.BaseUrl + "/inbox"));
            Assert.That(actor.GetProperty("publicKey").GetProperty("owner").GetString(), Is.EqualTo(member.ActorId));
            Assert.That(actor.GetProperty("publicKey").GetProperty("publicKeyPem").GetString(), Does.StartWith("-----BEGIN PUBLIC KEY-----"));
            Assert.That(actor.GetProperty("assertionMethod")[0].GetProperty("publicKeyMultibase").GetString(), Does.StartWith("z6Mk"));
        });

        using var browser = new HttpRequestMessage(HttpMethod.Get, member.ActorId);
        browser.Headers.Accept.Add(new MediaTypeWithQualityHeaderValue("text/html"));
        var page = await new HttpClient(new HttpClientHandler { AllowAutoRedirect = false }).SendAsync(browser);
        Assert.That(page.StatusCode, Is.EqualTo(HttpStatusCode.Redirect));
    }

    [Test]
    public async Task NodeInfo_reports_fellows_and_users()
    {
        await _a.CreateMemberAsync("nora");
        var links = await Api.JsonAsync(await _a.Client.GetAsync(new Uri("/.well-known/nodeinfo", UriKind.Relative)));
        var href = links.GetProperty("links").EnumerateArray().First(l => l.GetProperty("rel").GetString()!.EndsWith("2.1", StringComparison.Ordinal)).GetProperty("href").GetString()!;
        var info = await Api.JsonAsync(await _a.Client.GetAsync(new Uri(href)));
        Assert.That(info.GetProperty("software").GetProperty("name").GetString(), Is.EqualTo("fellows"));
        Assert.That(info.GetProperty("usage").GetProperty("users").GetProperty("total").GetInt32(), Is.GreaterThanOrEqualTo(1));
    }

    [Test]
    public async Task RemoteActors_forced_refresh_within_a_minute_does_not_refetch()
    {
        var kim = await _b.CreateMemberAsync("kim");
        var actors = _a.Services.GetRequiredService<Fellows.Server.Features.Federation.RemoteActors>();
        var first = await actors.ResolveAsync(kim.ActorId, forceRefresh: false, CancellationToken.None);
        Assert.That(first, Is.Not.Null);
        Assert.That(first!.Domain, Is.EqualTo(_b.Domain));
        Assert.That(await actors.GetKeyAsync(first.Uri + "#main-key", refresh: false, CancellationToken.None), Is.Not.Null);
        var second = await actors.ResolveAsync(kim.ActorId, forceRefresh: true, CancellationToken.None);
        Assert.That(second!.FetchedAt, Is.EqualTo(first.FetchedAt), "a forced refresh right after a fetch is not sent");
    }

    [Test]
    public async Task StaleActorRefreshJob_refetches_stale_remote_actors()
    {
        var lea = await _b.CreateMemberAsync("lea");
        var actors = _a.Services.GetRequiredService<Fellows.Server.Features.Federation.RemoteActors>();
        Assert.That(await actors.ResolveAsync(lea.ActorId, forceRefresh: false, CancellationToken.None), Is.Not.Null);

        // Renamed through the API: nobody on A follows lea, so A hears of it only by refetching.
        await Api.JsonAsync(await lea.Api.PatchAsJsonAsync(new Uri("/api/v1/accounts/update_credentials", UriKind.Relative),
            new { display_name = "Lea of the Bakery" }));
        await using var onA = new Npgsql.NpgsqlConnection(_a.ConnectionString);
        await onA.OpenAsync();
        await using (var age = new Npgsql.NpgsqlCommand("UPDATE accounts SET fetched_at = now() - interval '2 days' WHERE uri = @uri", onA))
        {
            age.Parameters.AddWithValue("uri", lea.ActorId);
            await age.ExecuteNonQueryAsync();
        }

        var scheduler = await _a.Services.GetRequiredService<Quartz.ISchedulerFactory>().GetScheduler();
        await scheduler.TriggerJob(Fellows.Server.Jobs.StaleActorRefreshJob.Key);
        await Api.EventuallyAsync(async () =>
        {
            await using var read = new Npgsql.NpgsqlCommand("SELECT display_name FROM accounts WHERE uri = @uri", onA);
            read.Parameters.AddWithValue("uri", lea.ActorId);
            return await read.ExecuteScalarAsync() as string == "Lea of the Bakery";
        }, "the scheduled refresh to pick up lea's new name");
    }

    [Test]
    public async Task Inbox_unsigned_post_is_refused_with_401()
    {
        var body = new StringContent("""{"id":"http://127.0.0.1:1/x","type":"Create","actor":"http://127.0.0.1:1/users/x","object":"http://127.0.0.1:1/n"}""",
            System.Text.Encoding.UTF8, "application/activity+json");
        var response = await _a.Client.PostAsync(new Uri("/inbox", UriKind.Relative), body);
        Assert.That(response.StatusCode, Is.EqualTo(HttpStatusCode.Unauthorized));
        var malformed = await _a.Client.PostAsync(new Uri("/inbox", UriKind.Relative), new StringContent("{not json", System.Text.Encoding.UTF8, "application/activity+json"));
        Assert.That(malformed.StatusCode, Is.EqualTo(HttpStatusCode.BadRequest));
    }

    [Test]
    public async Task Inbox_post_from_blocked_domain_is_refused_with_403()
    {
        await using (var conn = new Npgsql.NpgsqlConnection(_a.ConnectionString))
        {
            await conn.OpenAsync();
            await using var cmd = new Npgsql.NpgsqlCommand("INSERT INTO domain_blocks (domain, severity) VALUES ('127.0.0.1:9', 'suspend')", conn);
            await cmd.ExecuteNonQueryAsync();
        }
        var body = new StringContent("""{"id":"http://127.0.0.1:9/a","type":"Create","actor":"http://127.0.0.1:9/users/x","object":"http://127.0.0.1:9/n"}""",
            System.Text.Encoding.UTF8, "application/activity+json");
        var response = await _a.Client.PostAsync(new Uri("/inbox", UriKind.Relative), body);
        Assert.That(response.StatusCode, Is.EqualTo(HttpStatusCode.Forbidden));
        var personal = await _a.Client.PostAsync(new Uri("/users/nobody-here/inbox", UriKind.Relative),
            new StringContent("""{"id":"http://127.0.0.1:1/a","type":"Create","actor":"http://127.0.0.1:1/users/x","object":"http://127.0.0.1:1/n"}""",
                System.Text.Encoding.UTF8, "application/activity+json"));
        Assert.That(personal.StatusCode, Is.EqualTo(HttpStatusCode.NotFound));
    }

    [Test]
    public async Task Follow_across_instances_then_post_reaches_home_timeline()
    {
        var alice = await _a.CreateMemberAsync("alice");
        var bob = await _b.CreateMemberAsync("bob");

        var remoteBob = await Api.JsonAsync(await alice.Api.GetAsync(new Uri($"/api/v1/accounts/lookup?acct=bob@{_b.Domain}", UriKind.Relative)));
        var bobId = remoteBob.GetProperty("id").GetString();
        var relationship = await Api.JsonAsync(await alice.Api.PostAsync(new Uri($"/api/v1/accounts/{bobId}/follow", UriKind.Relative), null));
        Assert.That(relationship.GetProperty("requested").GetBoolean() || relationship.GetProperty("following").GetBoolean(), Is.True);

        await Api.EventuallyAsync(async () =>
        {
            var r = await Api.JsonAsync(await alice.Api.GetAsync(new Uri($"/api/v1/accounts/relationships?id[]={bobId}", UriKind.Relative)));
            return r[0].GetProperty("following").GetBoolean() ? "ok" : null;
        }, "bob's server to accept alice's follow");

        // The format bob's server accepted is remembered for next time, and survives a restart.
        await Api.EventuallyAsync(async () =>
        {
            await using var conn = new Npgsql.NpgsqlConnection(_a.ConnectionString);
            await conn.OpenAsync();
            await using var cmd = new Npgsql.NpgsqlCommand("SELECT signature_scheme FROM remote_hosts WHERE host = @h", conn);
            cmd.Parameters.AddWithValue("h", _b.Domain);
            return await cmd.ExecuteScalarAsync() as string == "Rfc9421" ? "ok" : null;
        }, "the accepted signature format to be stored");

        // Fellows, not followers: bob sees his own follower count, nobody else does.
        await Api.EventuallyAsync(async () =>
        {
            var me = await Api.JsonAsync(await bob.Api.GetAsync(new Uri("/api/v1/accounts/verify_credentials", UriKind.Relative)));
            return me.GetProperty("followers_count").GetInt32() == 1 ? "ok" : null;
        }, "bob's server to record alice as a follower");
        var seenByAlice = await Api.JsonAsync(await alice.Api.GetAsync(new Uri($"/api/v1/accounts/{bobId}", UriKind.Relative)));
        Assert.That(seenByAlice.GetProperty("followers_count").GetInt32(), Is.Zero);
        Assert.That(seenByAlice.GetProperty("following_count").GetInt32(), Is.Zero);

        var posted = await Api.JsonAsync(await bob.Api.PostAsJsonAsync(new Uri("/api/v1/statuses", UriKind.Relative),
            new { status = $"Hello co-op #meeting @alice@{_a.Domain}", visibility = "public" }));
        var uri = posted.GetProperty("uri").GetString();

        var seen = await Api.EventuallyAsync(async () =>
        {
            var home = await Api.JsonAsync(await alice.Api.GetAsync(new Uri("/api/v1/timelines/home", UriKind.Relative)));
            return home.EnumerateArray().Where(s => s.GetProperty("uri").GetString() == uri).Select(s => (JsonElement?)s).FirstOrDefault() is { } found ? (object)found : null;
        }, "bob's post on alice's home timeline");
        var status = (JsonElement)seen;
        Assert.That(status.GetProperty("content").GetString(), Does.Contain("Hello co-op"));
        Assert.That(status.GetProperty("account").GetProperty("acct").GetString(), Is.EqualTo($"bob@{_b.Domain}"));

        // Alice replies and favourites; bob's server records both.
        var reply = await Api.JsonAsync(await alice.Api.PostAsJsonAsync(new Uri("/api/v1/statuses", UriKind.Relative),
            new { status = $"@bob@{_b.Domain} agreed", in_reply_to_id = status.GetProperty("id").GetString() }));
        await Api.JsonAsync(await alice.Api.PostAsync(new Uri($"/api/v1/statuses/{status.GetProperty("id").GetString()}/favourite", UriKind.Relative), null));
        var postId = posted.GetProperty("id").GetString();
        await Api.EventuallyAsync(async () =>
        {
            var context = await Api.JsonAsync(await bob.Api.GetAsync(new Uri($"/api/v1/statuses/{postId}/context", UriKind.Relative)));
            return context.GetProperty("descendants").EnumerateArray().Any(d => d.GetProperty("uri").GetString() == reply.GetProperty("uri").GetString()) ? "ok" : null;
        }, "alice's reply in bob's thread");
        var mine = await Api.JsonAsync(await bob.Api.GetAsync(new Uri($"/api/v1/statuses/{postId}", UriKind.Relative)));
        await Api.EventuallyAsync(async () =>
        {
            var s = await Api.JsonAsync(await bob.Api.GetAsync(new Uri($"/api/v1/statuses/{postId}", UriKind.Relative)));
            return s.GetProperty("favourites_count").GetInt32() == 1 ? "ok" : null;
        }, "alice's favourite counted on bob's post");
        Assert.That(mine.GetProperty("replies_count").GetInt32(), Is.EqualTo(1));

        // Bob deletes the post; it disappears from alice's timeline and its id answers 410.
        await Api.JsonAsync(await bob.Api.DeleteAsync(new Uri($"/api/v1/statuses/{postId}", UriKind.Relative)));
        await Api.EventuallyAsync(async () =>
        {
            var home = await Api.JsonAsync(await alice.Api.GetAsync(new Uri("/api/v1/timelines/home", UriKind.Relative)));
            return home.EnumerateArray().Any(s => s.GetProperty("uri").GetString() == uri) ? null : "gone";
        }, "the deleted post to leave alice's timeline");
        using var fetch = new HttpRequestMessage(HttpMethod.Get, uri);
        fetch.Headers.Accept.Add(new MediaTypeWithQualityHeaderValue("application/activity+json"));
        Assert.That((await _b.Client.SendAsync(fetch)).StatusCode, Is.EqualTo(HttpStatusCode.Gone));
    }

    [Test]
    public async Task Followers_only_post_is_not_served_to_anonymous_fetch()
    {
        var carol = await _a.CreateMemberAsync("carol");
        var posted = await Api.JsonAsync(await carol.Api.PostAsJsonAsync(new Uri("/api/v1/statuses", UriKind.Relative),
            new { status = "members only", visibility = "private" }));
        using var fetch = new HttpRequestMessage(HttpMethod.Get, posted.GetProperty("uri").GetString());
        fetch.Headers.Accept.Add(new MediaTypeWithQualityHeaderValue("application/activity+json"));
        Assert.That((await _a.Client.SendAsync(fetch)).StatusCode, Is.EqualTo(HttpStatusCode.NotFound));
        await Api.JsonAsync(await carol.Api.PostAsJsonAsync(new Uri("/api/v1/statuses", UriKind.Relative),
            new { status = "open to all #assembly", visibility = "public" }));
        var outbox = await Api.JsonAsync(await _a.Client.GetAsync(new Uri("/users/carol/outbox?page=true", UriKind.Relative)));
        var items = outbox.GetProperty("orderedItems").EnumerateArray().ToList();
        Assert.That(items, Has.Count.EqualTo(1), "only the public post is in the outbox");
        Assert.That(items[0].GetProperty("type").GetString(), Is.EqualTo("Create"));
        var note = items[0].GetProperty("object");
        Assert.That(note.GetProperty("content").GetString(), Does.Contain("open to all"));
        Assert.That(note.GetProperty("tag").EnumerateArray().Any(t => t.GetProperty("name").GetString() == "#assembly"), Is.True);
        var stranger = await _b.CreateMemberAsync("stranger");
        var viaApi = await stranger.Api.GetAsync(new Uri($"/api/v1/statuses/{posted.GetProperty("id").GetString()}", UriKind.Relative));
        Assert.That(viaApi.StatusCode, Is.EqualTo(HttpStatusCode.NotFound));
    }

    [Test]
    public async Task Fedify_peer_follows_member_and_gets_verified_accept()
    {
        var dana = await _a.CreateMemberAsync("dana");
        await using var peer = await FedifyPeer.StartAsync(CancellationToken.None);
        await peer.FollowAsync(dana.ActorId, CancellationToken.None);
        var accept = await peer.WaitForReceivedAsync(r => r.Activity?.Type == "Accept" && r.Verified, TimeSpan.FromSeconds(30), CancellationToken.None);
        Assert.That(accept.Activity!.Actor, Is.EqualTo(dana.ActorId));

        var hello = await dana.PostJsonAsync("/api/v1/statuses", new { status = "Hello Fedify" });
        var create = await peer.WaitForReceivedAsync(r => r.Activity?.Type == "Create" && r.Verified, TimeSpan.FromSeconds(30), CancellationToken.None);
        Assert.That(create.Activity!.Content, Does.Contain("Hello Fedify"));
        Assert.That(create.Signature, Is.EqualTo(HttpSignatureFormat.Rfc9421), "RFC 9421 is tried first");

        // The other format verifies too: make the instance believe the peer prefers draft-cavage.
        var peerHost = new Uri(peer.ActorId);
        _a.Services.GetRequiredService<Fellows.Federation.Http.ISignatureSchemePreferences>()
            .Remember($"{peerHost.Host}:{peerHost.Port}", Fellows.Federation.Signatures.SignatureScheme.Cavage);
        await dana.PostJsonAsync("/api/v1/statuses", new { status = "Hello again, signed the old way" });
        var cavage = await peer.WaitForReceivedAsync(r => r.Activity?.Content?.Contains("old way", StringComparison.Ordinal) == true, TimeSpan.FromSeconds(30), CancellationToken.None);
        Assert.That(cavage.Signature, Is.EqualTo(HttpSignatureFormat.Cavage));
        Assert.That(cavage.Verified, Is.True);

        // The peer replies; the reply is stored and shown in dana's thread.
        await peer.ReplyAsync(hello.GetProperty("uri").GetString()!, "<p>Hello from Fedify</p>", dana.ActorId, CancellationToken.None);
        await Api.EventuallyAsync(async () =>
        {
            var context = await dana.GetJsonAsync($"/api/v1/statuses/{hello.GetProperty("id").GetString()}/context");
            return context.GetProperty("descendants").EnumerateArray().Any(d => d.GetProperty("content").GetString()!.Contains("Hello from Fedify", StringComparison.Ordinal));
        }, "the peer's reply in dana's thread");
    }
}

