using System.Net;
using System.Net.Http.Headers;
using System.Net.Http.Json;
using Fellows.Federation.Http;
using Fellows.Server.Features.Federation;
using Fellows.Server.Features.Instance;
using Microsoft.Extensions.DependencyInjection;
using NUnit.Framework;

namespace Fellows.Server.Tests.Federation;

/// <summary>
/// Signed GETs: a followers-only post is served to its audience's signed fetch and to nobody else; a server in
/// authorized-fetch mode refuses unsigned reads yet still federates.
/// </summary>
[NonParallelizable]
public class AuthorizedFetchTests
{
    FellowsInstance _home = null!;
    FellowsInstance _other = null!;
    FellowsInstance _secure = null!;

    [OneTimeSetUp]
    public async Task StartAsync()
    {
        _home = await FellowsInstance.StartAsync("home");
        _other = await FellowsInstance.StartAsync("other");
        _secure = await FellowsInstance.StartAsync("secure", settings: new Dictionary<string, string?> { ["Instance:AuthorizedFetch"] = "true" });
    }

    [OneTimeTearDown]
    public async Task StopAsync()
    {
        await _home.DisposeAsync();
        await _other.DisposeAsync();
        await _secure.DisposeAsync();
    }

    static async Task FollowAsync(Member follower, Member target)
    {
        var found = await Api.JsonAsync(await follower.Api.GetAsync(new Uri($"/api/v1/accounts/lookup?acct={target.Handle}", UriKind.Relative)));
        var id = found.GetProperty("id").GetString();
        await Api.JsonAsync(await follower.Api.PostAsync(new Uri($"/api/v1/accounts/{id}/follow", UriKind.Relative), null));
        await Api.EventuallyAsync(async () =>
        {
            var r = await Api.JsonAsync(await follower.Api.GetAsync(new Uri($"/api/v1/accounts/relationships?id[]={id}", UriKind.Relative)));
            return r[0].GetProperty("following").GetBoolean() ? "ok" : null;
        }, $"{follower.Handle} to follow {target.Handle}");
    }

    static async Task<FetchResult> FetchAsAsync(FellowsInstance from, long? accountId, string uri)
    {
        var client = from.Services.GetRequiredService<ActivityPubClient>();
        var signer = accountId is { } id
            ? await from.Services.GetRequiredService<MemberSigners>().ForAsync(id, CancellationToken.None)
            : from.Services.GetRequiredService<InstanceActor>().Signer;
        return await client.FetchAsync(new Uri(uri), signer, CancellationToken.None);
    }

    [Test]
    public async Task Followers_only_post_is_served_to_a_followers_signed_fetch_and_to_nobody_else()
    {
        var author = await _home.CreateMemberAsync("dana");
        var follower = await _other.CreateMemberAsync("eli");
        var stranger = await _other.CreateMemberAsync("fay");
        await FollowAsync(follower, author);
        var posted = await Api.JsonAsync(await author.Api.PostAsJsonAsync(new Uri("/api/v1/statuses", UriKind.Relative),
            new { status = "for the members' eyes", visibility = "private" }));
        var uri = posted.GetProperty("uri").GetString()!;

        using (var asFollower = await FetchAsAsync(_other, follower.AccountId, uri))
        {
            Assert.That(asFollower.IsOk, Is.True, $"the follower's signed fetch: {asFollower.Failure} {asFollower.Message}");
            Assert.That(asFollower.Document!.RootElement.GetProperty("content").GetString(), Does.Contain("for the members"));
        }
        using (var asStranger = await FetchAsAsync(_other, stranger.AccountId, uri))
            Assert.That(asStranger.IsOk, Is.False, "a member of the same server who does not follow");
        using (var asServer = await FetchAsAsync(_other, null, uri))
            Assert.That(asServer.IsOk, Is.False, "the follower's server signing as itself");

        using var anonymous = new HttpRequestMessage(HttpMethod.Get, uri);
        anonymous.Headers.Accept.Add(new MediaTypeWithQualityHeaderValue("application/activity+json"));
        Assert.That((await _home.Client.SendAsync(anonymous)).StatusCode, Is.EqualTo(HttpStatusCode.NotFound));

        // A signature that does not verify is refused outright, not treated as anonymous.
        using var forged = new HttpRequestMessage(HttpMethod.Get, uri);
        forged.Headers.Accept.Add(new MediaTypeWithQualityHeaderValue("application/activity+json"));
        forged.Headers.Date = DateTimeOffset.UtcNow;
        forged.Headers.TryAddWithoutValidation("Signature",
            $"keyId=\"{follower.ActorId}#main-key\",algorithm=\"rsa-sha256\",headers=\"(request-target) host date\",signature=\"{Convert.ToBase64String(new byte[256])}\"");
        var refused = await _home.Client.SendAsync(forged);
        Assert.That(refused.StatusCode, Is.EqualTo(HttpStatusCode.Unauthorized), await refused.Content.ReadAsStringAsync());
    }

    [Test]
    public async Task Authorized_fetch_mode_refuses_unsigned_reads_but_still_federates()
    {
        var guarded = await _secure.CreateMemberAsync("gus");
        await Api.JsonAsync(await guarded.Api.PostAsJsonAsync(new Uri("/api/v1/statuses", UriKind.Relative),
            new { status = "public, to those who say who they are", visibility = "public" }));

        var outbox = await _secure.Client.GetAsync(new Uri("/users/gus/outbox?page=true", UriKind.Relative));
        Assert.That(outbox.StatusCode, Is.EqualTo(HttpStatusCode.Unauthorized));

        // The actor is still readable unsigned, but only as much as verifying its signatures needs.
        using var actorRequest = new HttpRequestMessage(HttpMethod.Get, guarded.ActorId);
        actorRequest.Headers.Accept.Add(new MediaTypeWithQualityHeaderValue("application/activity+json"));
        var actor = await Api.JsonAsync(await _secure.Client.SendAsync(actorRequest));
        Assert.Multiple(() =>
        {
            Assert.That(actor.GetProperty("publicKey").GetProperty("publicKeyPem").GetString(), Does.Contain("PUBLIC KEY"));
            Assert.That(actor.TryGetProperty("followers", out _), Is.False);
            Assert.That(actor.TryGetProperty("summary", out _), Is.False);
        });
        var instanceActor = await _secure.Client.GetAsync(new Uri("/actor", UriKind.Relative));
        Assert.That(instanceActor.StatusCode, Is.EqualTo(HttpStatusCode.OK));

        // Signed by another server, the full actor and the outbox are served.
        using (var signedActor = await FetchAsAsync(_other, null, guarded.ActorId))
        {
            Assert.That(signedActor.IsOk, Is.True, $"{signedActor.Failure} {signedActor.Message}");
            Assert.That(signedActor.Document!.RootElement.TryGetProperty("followers", out _), Is.True);
        }
        using (var signedOutbox = await FetchAsAsync(_other, null, $"{guarded.ActorId}/outbox?page=true"))
            Assert.That(signedOutbox.IsOk, Is.True, $"{signedOutbox.Failure} {signedOutbox.Message}");

        // Federation works both ways with a server that insists on signatures.
        var reader = await _other.CreateMemberAsync("hana");
        await FollowAsync(reader, guarded);
        var note = await Api.JsonAsync(await guarded.Api.PostAsJsonAsync(new Uri("/api/v1/statuses", UriKind.Relative),
            new { status = "after the follow", visibility = "private" }));
        await Api.EventuallyAsync(async () =>
        {
            var home = await Api.JsonAsync(await reader.Api.GetAsync(new Uri("/api/v1/timelines/home", UriKind.Relative)));
            return home.EnumerateArray().Any(s => s.GetProperty("uri").GetString() == note.GetProperty("uri").GetString()) ? "ok" : null;
        }, "the guarded member's post on the reader's home timeline");
    }
}
