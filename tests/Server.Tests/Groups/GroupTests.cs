// Request bodies are written inline so each test reads as the HTTP it sends.
#pragma warning disable CA1861
using System.Globalization;
using System.Net;
using System.Net.Http.Headers;
using System.Net.Http.Json;
using System.Text.Json;
using Dapper;
using Fellows.Federation.Deliberation;
using Fellows.Federation.Groups;
using Fellows.Federation.Http;
using Fellows.Federation.Proofs;
using Fellows.Federation.Signatures;
using Fellows.Server.Features.Accounts;
using Fellows.Server.Features.Instance;
using Fellows.Server.Features.Motions;
using Microsoft.Extensions.DependencyInjection;
using Npgsql;
using NUnit.Framework;

namespace Fellows.Server.Tests.Groups;

/// <summary>
/// Groups (FEP-1b12) on three Fellows instances on loopback: A hosts workgroups and motions, B is an allied co-op
/// whose members follow A's groups and vote on A's motions, C is a server A is not allied with.
/// </summary>
[NonParallelizable]
public class GroupTests
{
    static readonly Dictionary<string, string?> QuickRetries = new()
    {
        ["Delivery:BackoffBase"] = "00:00:01",
        ["Delivery:BackoffCap"] = "00:00:02",
        ["Delivery:PollInterval"] = "00:00:00.300",
    };

    const string Groups = "/api/fellows/v1/groups";
    const string Motions = "/api/fellows/v1/motions";

    FellowsInstance _a = null!;
    FellowsInstance _b = null!;
    FellowsInstance _c = null!;
    Member _ann = null!;
    Member _amy = null!;
    Member _bob = null!;
    Member _carl = null!;

    [OneTimeSetUp]
    public async Task StartAsync()
    {
        _a = await FellowsInstance.StartAsync("groups-a", settings: QuickRetries);
        _b = await FellowsInstance.StartAsync("groups-b", settings: QuickRetries);
        _c = await FellowsInstance.StartAsync("groups-c", settings: QuickRetries);
        _ann = await _a.CreateMemberAsync("ann");
        _amy = await _a.CreateMemberAsync("amy");
        _bob = await _b.CreateMemberAsync("bob");
        _carl = await _c.CreateMemberAsync("carl");
    }

    [OneTimeTearDown]
    public async Task StopAsync()
    {
        await _a.DisposeAsync();
        await _b.DisposeAsync();
        await _c.DisposeAsync();
    }

    static async Task<(HttpStatusCode Status, JsonElement Body)> SendAsync(Member member, HttpMethod method, string path, object? body = null)
    {
        using var request = new HttpRequestMessage(method, new Uri(path, UriKind.Relative)) { Content = body is null ? null : JsonContent.Create(body) };
        using var response = await member.Api.SendAsync(request);
        var text = await response.Content.ReadAsStringAsync();
        return (response.StatusCode, text.Length == 0 ? default : JsonDocument.Parse(text).RootElement.Clone());
    }

    static async Task<JsonElement> CreateGroupAsync(Member creator, string username, string membership) =>
        await creator.PostJsonAsync(Groups, new { username, display_name = $"The {username}", note = "We dig.", membership });

    /// <summary>The id under which <paramref name="viewer"/>'s server knows the account <paramref name="handle"/> (resolving it if needed).</summary>
    static async Task<string> IdOfAsync(Member viewer, string handle) =>
        (await viewer.GetJsonAsync($"/api/v1/accounts/lookup?acct={handle}")).GetProperty("id").GetString()!;

    static async Task<bool> FollowingAsync(Member member, string id) =>
        (await member.GetJsonAsync($"/api/v1/accounts/relationships?id[]={id}"))[0].GetProperty("following").GetBoolean();

    static async Task<string> PostAsync(Member author, string text) =>
        (await author.PostJsonAsync("/api/v1/statuses", new { status = text, visibility = "public" })).GetProperty("uri").GetString()!;

    /// <summary>Whether the group announced (boosted) the post with this uri, as its own server records it.</summary>
    static async Task<bool> AnnouncedAsync(FellowsInstance instance, string groupUri, string statusUri)
    {
        await using var conn = new NpgsqlConnection(instance.ConnectionString);
        return await conn.ExecuteScalarAsync<bool>("""
            SELECT EXISTS (SELECT 1 FROM statuses b JOIN statuses o ON o.id = b.reblog_of_id JOIN accounts g ON g.id = b.account_id
                           WHERE o.uri = @statusUri AND g.uri = @groupUri AND b.deleted_at IS NULL)
            """, new { statusUri, groupUri });
    }

    static async Task InboxDrainedAsync(FellowsInstance instance) =>
        await Api.EventuallyAsync(async () =>
        {
            await using var conn = new NpgsqlConnection(instance.ConnectionString);
            return await conn.ExecuteScalarAsync<long>("SELECT count(*) FROM inbox_activities WHERE state = 0") == 0;
        }, $"{instance.Name}'s inbox to be processed");

    [Test]
    public async Task Remote_member_follows_a_workgroup_and_gets_what_members_post_to_it_announced_in_their_home_timeline()
    {
        var group = await CreateGroupAsync(_ann, "gardeners", "open");
        Assert.That(group.GetProperty("role").GetString(), Is.EqualTo("facilitator"), "the creator facilitates");
        Assert.That(group.GetProperty("kind").GetString(), Is.EqualTo("workgroup"));
        var groupUri = group.GetProperty("uri").GetString()!;

        // From Mastodon's client API on B the group is an account with group: true, found by WebFinger and followed.
        var onB = await _bob.GetJsonAsync($"/api/v1/accounts/lookup?acct=gardeners@{_a.Domain}");
        Assert.That(onB.GetProperty("group").GetBoolean(), Is.True);
        var groupOnB = onB.GetProperty("id").GetString()!;
        await _bob.PostJsonAsync($"/api/v1/accounts/{groupOnB}/follow");
        await Api.EventuallyAsync(() => FollowingAsync(_bob, groupOnB), "the group to accept bob's Follow");
        var members = await _ann.GetJsonAsync($"{Groups}/{group.GetProperty("id").GetString()}/members");
        Assert.That(members.EnumerateArray().Select(m => (m.GetProperty("account").GetProperty("acct").GetString(), m.GetProperty("role").GetString())),
            Is.EquivalentTo(new[] { ("ann", "facilitator"), (_bob.Handle, "member") }));

        var post = await PostAsync(_ann, $"@gardeners@{_a.Domain} Seed swap on Saturday!");
        Assert.That(await AnnouncedAsync(_a, groupUri, post), Is.True, "a member's post to the group is announced at once");
        var home = await Api.EventuallyAsync(async () =>
        {
            var timeline = await _bob.GetJsonAsync("/api/v1/timelines/home?limit=40");
            return timeline.EnumerateArray().Where(s => s.GetProperty("reblog").ValueKind == JsonValueKind.Object
                && s.GetProperty("reblog").GetProperty("uri").GetString() == post).Select(s => (object)s).FirstOrDefault();
        }, "the group's Announce to reach bob's home timeline");
        var boost = (JsonElement)home;
        Assert.That(boost.GetProperty("account").GetProperty("acct").GetString(), Is.EqualTo($"gardeners@{_a.Domain}"));
        Assert.That(boost.GetProperty("reblog").GetProperty("content").GetString(), Does.Contain("Seed swap"));

        // The group's outbox lists its Announces, with the group as their audience.
        using var http = new HttpClient();
        using var request = new HttpRequestMessage(HttpMethod.Get, groupUri + "/outbox?page=true");
        request.Headers.Accept.Add(new MediaTypeWithQualityHeaderValue("application/activity+json"));
        using var response = await http.SendAsync(request);
        var outbox = await Api.JsonAsync(response);
        var announce = outbox.GetProperty("orderedItems").EnumerateArray().Single(i => i.GetProperty("object").GetString() == post);
        Assert.That(announce.GetProperty("type").GetString(), Is.EqualTo("Announce"));
        Assert.That(announce.GetProperty("actor").GetString(), Is.EqualTo(groupUri));
        Assert.That(announce.GetProperty("audience").GetString(), Is.EqualTo(groupUri));

        // The author's Delete reaches bob through the group (he does not follow ann).
        var originalOnB = boost.GetProperty("reblog").GetProperty("id").GetString();
        await _bob.GetJsonAsync($"/api/v1/statuses/{originalOnB}");
        await _ann.Api.DeleteAsync(new Uri($"/api/v1/statuses/{await StatusIdOnAAsync(post)}", UriKind.Relative));
        await Api.EventuallyAsync(async () =>
        {
            using var response = await _bob.Api.GetAsync(new Uri($"/api/v1/statuses/{originalOnB}", UriKind.Relative));
            return response.StatusCode == HttpStatusCode.NotFound;
        }, "the Delete announced by the group to remove the post on B");
    }

    async Task<string> StatusIdOnAAsync(string uri)
    {
        await using var conn = new NpgsqlConnection(_a.ConnectionString);
        return (await conn.ExecuteScalarAsync<long>("SELECT id FROM statuses WHERE uri = @uri", new { uri })).ToString(CultureInfo.InvariantCulture);
    }

    [Test]
    public async Task Posts_from_non_members_are_not_announced_but_a_remote_members_are()
    {
        var group = await CreateGroupAsync(_ann, "cyclists", "open");
        var groupUri = group.GetProperty("uri").GetString()!;
        var groupOnB = await IdOfAsync(_bob, $"cyclists@{_a.Domain}");
        await _bob.PostJsonAsync($"/api/v1/accounts/{groupOnB}/follow");
        await Api.EventuallyAsync(() => FollowingAsync(_bob, groupOnB), "bob to join");

        // amy is in the co-op but not in this workgroup; carl is on a server A does not know.
        var local = await PostAsync(_amy, $"@cyclists@{_a.Domain} Buy my bike");
        Assert.That(await AnnouncedAsync(_a, groupUri, local), Is.False);
        var remote = await PostAsync(_carl, $"@cyclists@{_a.Domain} Spam from afar");
        var fromBob = await PostAsync(_bob, $"@cyclists@{_a.Domain} Ride on Sunday?");
        await Api.EventuallyAsync(() => AnnouncedAsync(_a, groupUri, fromBob), "bob's post to be announced by the group");
        await Api.EventuallyAsync(async () =>
        {
            await using var conn = new NpgsqlConnection(_a.ConnectionString);
            return await conn.ExecuteScalarAsync<bool>("SELECT EXISTS (SELECT 1 FROM statuses WHERE uri = @remote)", new { remote });
        }, "carl's post to reach A");
        await InboxDrainedAsync(_a);
        Assert.That(await AnnouncedAsync(_a, groupUri, remote), Is.False, "a non-member's post is not announced");
        Assert.That(await AnnouncedAsync(_a, groupUri, local), Is.False);

        // Once amy joins (an open group: joining is following), her posts are announced.
        await _amy.PostJsonAsync($"{Groups}/{group.GetProperty("id").GetString()}/join");
        var joined = await PostAsync(_amy, $"@cyclists@{_a.Domain} Count me in");
        Assert.That(await AnnouncedAsync(_a, groupUri, joined), Is.True);
    }

    [Test]
    public async Task Joining_a_group_with_approved_membership_waits_for_a_facilitator()
    {
        var group = await CreateGroupAsync(_ann, "treasury", "approved");
        var id = group.GetProperty("id").GetString()!;
        Assert.That(group.GetProperty("membership").GetString(), Is.EqualTo("approved"));
        var groupOnB = await IdOfAsync(_bob, $"treasury@{_a.Domain}");
        var relationship = await _bob.PostJsonAsync($"/api/v1/accounts/{groupOnB}/follow");
        Assert.That(relationship.GetProperty("requested").GetBoolean(), Is.True);
        var joining = await _amy.PostJsonAsync($"{Groups}/{id}/join");
        Assert.That(joining.GetProperty("requested").GetBoolean(), Is.True);
        Assert.That(joining.GetProperty("role").ValueKind, Is.EqualTo(JsonValueKind.Null), "not a member yet");

        var requests = await Api.EventuallyAsync(async () =>
        {
            var list = await _ann.GetJsonAsync($"{Groups}/{id}/requests");
            return list.GetArrayLength() == 2 ? (object)list : null;
        }, "bob's request to reach A");
        var byAcct = ((JsonElement)requests).EnumerateArray().ToDictionary(r => r.GetProperty("acct").GetString()!, r => r.GetProperty("id").GetString()!);

        // Only facilitators decide; a member's post does not get announced before they are admitted.
        var (status, error) = await SendAsync(_amy, HttpMethod.Post, $"{Groups}/{id}/requests/{byAcct[_bob.Handle]}/approve");
        Assert.That(status, Is.EqualTo(HttpStatusCode.Forbidden));
        Assert.That(error.GetProperty("error").GetString(), Does.Contain("facilitator"));
        Assert.That(await FollowingAsync(_bob, groupOnB), Is.False);

        await _ann.PostJsonAsync($"{Groups}/{id}/requests/{byAcct[_bob.Handle]}/approve");
        await Api.EventuallyAsync(() => FollowingAsync(_bob, groupOnB), "the Accept to reach B once ann approves");
        var rejected = await _ann.PostJsonAsync($"{Groups}/{id}/requests/{byAcct["amy"]}/reject");
        Assert.That(rejected.GetProperty("members_count").GetInt64(), Is.EqualTo(2), "ann and bob");
        var amyView = await _amy.GetJsonAsync($"{Groups}/{id}");
        Assert.That(amyView.GetProperty("requested").GetBoolean(), Is.False);
        Assert.That(amyView.GetProperty("role").ValueKind, Is.EqualTo(JsonValueKind.Null));
        var post = await PostAsync(_amy, $"@treasury@{_a.Domain} Let me in");
        Assert.That(await AnnouncedAsync(_a, group.GetProperty("uri").GetString()!, post), Is.False);
    }

    [Test]
    public async Task Groups_api_refuses_bad_input_with_clear_errors()
    {
        var (status, body) = await SendAsync(_ann, HttpMethod.Post, Groups, new { username = "bad name!" });
        Assert.That((int)status, Is.EqualTo(422));
        Assert.That(body.GetProperty("error").GetString(), Does.Contain("username"));
        (status, body) = await SendAsync(_ann, HttpMethod.Post, Groups, new { username = "knitters", membership = "secret" });
        Assert.That((int)status, Is.EqualTo(422));
        Assert.That(body.GetProperty("error").GetString(), Does.Contain("membership"));
        (status, body) = await SendAsync(_ann, HttpMethod.Post, Groups, new { username = "amy" });
        Assert.That((int)status, Is.EqualTo(422), "the name of an existing account");
        Assert.That(body.GetProperty("error").GetString(), Does.Contain("taken"));
        var coop = (await _ann.GetJsonAsync(Groups)).EnumerateArray().First();
        Assert.That(coop.GetProperty("kind").GetString(), Is.EqualTo("coop"));
        Assert.That(coop.GetProperty("role").GetString(), Is.EqualTo("member"), "every approved member belongs to the co-op group");
        (status, _) = await SendAsync(_ann, HttpMethod.Post, $"{Groups}/{coop.GetProperty("id").GetString()}/leave");
        Assert.That(status, Is.EqualTo(HttpStatusCode.Forbidden));
        (status, _) = await SendAsync(_ann, HttpMethod.Get, $"{Groups}/12345");
        Assert.That(status, Is.EqualTo(HttpStatusCode.NotFound));

        // Only facilitators edit or close a workgroup; a closed group's actor is gone.
        var knitters = await CreateGroupAsync(_ann, "knitters", "open");
        var path = $"{Groups}/{knitters.GetProperty("id").GetString()}";
        (status, _) = await SendAsync(_amy, HttpMethod.Patch, path, new { display_name = "Taken over" });
        Assert.That(status, Is.EqualTo(HttpStatusCode.Forbidden));
        (status, body) = await SendAsync(_ann, HttpMethod.Patch, path, new { display_name = "Knit & natter", membership = "approved" });
        Assert.That(status, Is.EqualTo(HttpStatusCode.OK));
        Assert.That((body.GetProperty("display_name").GetString(), body.GetProperty("membership").GetString()), Is.EqualTo(("Knit & natter", "approved")));
        (status, _) = await SendAsync(_ann, HttpMethod.Delete, path);
        Assert.That(status, Is.EqualTo(HttpStatusCode.OK));
        (status, _) = await SendAsync(_ann, HttpMethod.Get, path);
        Assert.That(status, Is.EqualTo(HttpStatusCode.NotFound));
        using (var request = new HttpRequestMessage(HttpMethod.Get, knitters.GetProperty("uri").GetString()))
        {
            request.Headers.Accept.Add(new MediaTypeWithQualityHeaderValue("application/activity+json"));
            using var response = await new HttpClient().SendAsync(request);
            Assert.That(response.StatusCode, Is.EqualTo(HttpStatusCode.Gone));
        }

        var openapi = await _ann.GetJsonAsync(MotionEndpoints.Prefix + "/openapi.json");
        Assert.That(openapi.GetProperty("paths").TryGetProperty(MotionEndpoints.Prefix + "/groups/{id}/requests/{accountId}/approve", out _), Is.True,
            "the groups API is in the OpenAPI document");
    }

    /// <summary>A signed GET from <paramref name="instance"/>'s instance actor, as its server would make it.</summary>
    static Task<FetchResult> SignedFetchAsync(FellowsInstance instance, string url) =>
        instance.Services.GetRequiredService<ActivityPubClient>().FetchAsync(new Uri(url), instance.Services.GetRequiredService<InstanceActor>().Signer, CancellationToken.None);

    async Task<string> OpenAlliedMotionAsync(string title)
    {
        var draft = await _ann.PostJsonAsync(Motions, new
        {
            title,
            body = "Shall we?",
            method = "consent",
            allied_actors = new[] { _b.BaseUrl + "/actor" },
            voting_ends_at = DateTimeOffset.UtcNow.AddMinutes(30).ToString("O", CultureInfo.InvariantCulture),
        });
        var id = draft.GetProperty("id").GetString()!;
        await _ann.PostJsonAsync($"{Motions}/{id}/voting");
        return id;
    }

    [Test]
    public async Task Coop_members_collection_is_served_to_signed_allies_only()
    {
        var instanceActor = await Api.JsonAsync(await new HttpClient().GetAsync(new Uri(_a.BaseUrl + "/actor")));
        var coopUri = instanceActor.GetProperty("coop").GetString()!;
        using var coopDoc = await SignedFetchAsync(_c, coopUri);
        Assert.That(coopDoc.IsOk, Is.True, "the co-op group's actor is public");
        var coop = coopDoc.Document!.RootElement;
        Assert.That(coop.GetProperty("type").GetString(), Is.EqualTo("Group"));
        Assert.That(coop.GetProperty("assertionMethod")[0].GetProperty("type").GetString(), Is.EqualTo("Multikey"), "its own Ed25519 key");
        var membersUrl = coop.GetProperty("members").GetString()!;
        var membership = coop.GetProperty("membership").GetString()!;
        var webfinger = await Api.JsonAsync(await new HttpClient().GetAsync(new Uri($"{_a.BaseUrl}/.well-known/webfinger?resource=acct:coop@{_a.Domain}")));
        Assert.That(webfinger.GetProperty("links").EnumerateArray().Any(l => l.TryGetProperty("href", out var h) && h.GetString() == coopUri), Is.True);

        using (var anonymous = new HttpClient())
        {
            using var request = new HttpRequestMessage(HttpMethod.Get, membersUrl);
            request.Headers.Accept.Add(new MediaTypeWithQualityHeaderValue("application/activity+json"));
            using var response = await anonymous.SendAsync(request);
            Assert.That(response.StatusCode, Is.EqualTo(HttpStatusCode.Unauthorized), "unsigned");
        }
        using (var fromC = await SignedFetchAsync(_c, membersUrl))
            Assert.That(fromC.StatusCode, Is.EqualTo(403), "C is not allied with A");

        await OpenAlliedMotionAsync("Alliance with B");
        using var fromB = await SignedFetchAsync(_b, membersUrl + "?page=true");
        Assert.That(fromB.IsOk, Is.True, fromB.Message);
        var items = fromB.Document!.RootElement.GetProperty("orderedItems").EnumerateArray().Select(i => i.GetString()).ToList();
        Assert.That(items, Does.Contain(_ann.ActorId).And.Contain(_amy.ActorId));
        Assert.That(items.Any(i => i!.Contains("/users/coop", StringComparison.Ordinal) || i.EndsWith("/actor", StringComparison.Ordinal)), Is.False,
            "only people are members");

        // The attestation for ann is signed by the co-op group's own Ed25519 key; there is none for carl.
        using var attestation = await SignedFetchAsync(_b, MembershipAttestation.UrlFor(membership, _ann.ActorId));
        Assert.That(attestation.IsOk, Is.True, attestation.Message);
        Assert.That(MembershipAttestation.TryRead(attestation.Document!.RootElement, out var read, out _), Is.True);
        Assert.That((read!.Group, read.Member), Is.EqualTo((coopUri, _ann.ActorId)));
        var key = coop.GetProperty("assertionMethod")[0];
        var verification = IntegrityProof.Verify(attestation.Document!.RootElement, keyId => keyId == key.GetProperty("id").GetString()
            ? VerificationKey.FromMultibase(keyId, coopUri, key.GetProperty("publicKeyMultibase").GetString()!) : null);
        Assert.That(verification.VouchesFor(coopUri), Is.True, verification.Reason);
        using var notMember = await SignedFetchAsync(_b, MembershipAttestation.UrlFor(membership, _carl.ActorId));
        Assert.That(notMember.StatusCode, Is.EqualTo(404));
    }

    [Test]
    public async Task Remote_stance_counts_only_when_the_voters_coop_vouches_for_them()
    {
        var id = await OpenAlliedMotionAsync("Shared tool library");
        var uri = (await _ann.GetJsonAsync($"{Motions}/{id}")).GetProperty("uri").GetString()!;
        var mirror = await Api.EventuallyAsync(async () =>
            (await _bob.GetJsonAsync(Motions)).EnumerateArray().Where(m => m.GetProperty("uri").GetString() == uri)
                .Select(m => m.GetProperty("id").GetString()).FirstOrDefault(), "the motion to reach B");

        // dan has an account on B but B's co-op has not admitted him (not approved): B's co-op group does not vouch.
        var dan = await _b.CreateMemberAsync("dan");
        await using (var conn = new NpgsqlConnection(_b.ConnectionString))
            await conn.ExecuteAsync("UPDATE users SET approved = false WHERE account_id = @id", new { id = dan.AccountId });
        var danStance = await SendStanceFromBAsync(dan, uri, "agree");
        var rejection = await Api.EventuallyAsync(async () =>
        {
            await using var conn = new NpgsqlConnection(_a.ConnectionString);
            return await conn.QuerySingleOrDefaultAsync<(string Reason, string Detail)?>(
                "SELECT reason, detail FROM motion_rejections WHERE stance_uri = @danStance", new { danStance }) is { } r ? (object)r : null;
        }, "A to reject dan's stance");
        var (reason, detail) = ((string, string))rejection;
        Assert.That(reason, Is.EqualTo("ineligible"));
        Assert.That(detail, Does.Contain("does not vouch for you"));

        await _bob.PostJsonAsync($"{Motions}/{mirror}/stances", new { choices = new[] { "disagree" }, reason = "Too soon" });
        await Api.EventuallyAsync(async () => (await _ann.GetJsonAsync($"{Motions}/{id}/stances")).GetArrayLength() == 1, "bob's vouched stance to count");
        var stances = await _ann.GetJsonAsync($"{Motions}/{id}/stances");
        Assert.That(stances[0].GetProperty("voter").GetString(), Is.EqualTo(_bob.Handle));
        await using (var conn = new NpgsqlConnection(_a.ConnectionString))
        {
            var vouched = await conn.QuerySingleAsync<(bool Vouched, string Attestation)>(
                "SELECT vouched, attestation::text FROM coop_vouches WHERE member_uri = @bob", new { bob = _bob.ActorId });
            Assert.That(vouched.Vouched, Is.True);
            Assert.That(vouched.Attestation, Does.Contain("eddsa-jcs-2022"), "the signed attestation is kept");
        }
    }

    /// <summary>A stance signed with the voter's key sent straight from B's outbox (B's own API would refuse dan first).</summary>
    async Task<string> SendStanceFromBAsync(Member voter, string motionUri, string choice)
    {
        var db = _b.Services.GetRequiredService<NpgsqlDataSource>();
        await using var conn = await db.OpenConnectionAsync();
        var seed = await conn.ExecuteScalarAsync<string>("SELECT private_key FROM account_keys WHERE account_id = @id AND kind = 'ed25519'", new { id = voter.AccountId });
        var keyId = voter.ActorId + "#ed25519-key";
        var stanceId = $"{voter.ActorId}/stances/direct-{Guid.NewGuid():N}";
        var document = DeliberationWriter.Stance(new LocalStance
        {
            Id = stanceId,
            AttributedTo = voter.ActorId,
            InReplyTo = motionUri,
            Published = DateTimeOffset.UtcNow,
            To = [_ann.ActorId],
            Choices = [choice],
            Coop = _b.BaseUrl + "/actor",
        }, _b.BaseUrl + "/ns/fellows");
        var signed = IntegrityProof.Sign(document, SigningKey.FromEd25519Seed(keyId, Convert.FromBase64String(seed!)), keyId, DateTimeOffset.UtcNow);
        await using var tx = await conn.BeginTransactionAsync();
        var account = await conn.AccountByIdAsync(voter.AccountId, tx, CancellationToken.None);
        var annOnB = await conn.QuerySingleAsync<Account>(AccountQueries.ByUri, new { uri = _ann.ActorId }, tx);
        await _b.Services.GetRequiredService<MotionPublisher>().StanceAsync(conn, tx, account, annOnB, signed, CancellationToken.None);
        await tx.CommitAsync();
        return stanceId;
    }
}
