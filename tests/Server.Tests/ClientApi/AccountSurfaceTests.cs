// Expected values are written inline: each assertion runs once.
#pragma warning disable CA1861
using System.Net;
using System.Net.Http.Json;
using System.Text.Json;
using Fellows.Server.Features.Auth;
using Microsoft.Extensions.DependencyInjection;
using NUnit.Framework;

namespace Fellows.Server.Tests.ClientApi;

/// <summary>
/// The account-level endpoints of the Mastodon API on one instance: domain blocks, relationships, familiar followers,
/// remove_from_followers, featured and followed tags, endorsements, notes and conversation mutes.
/// </summary>
public class AccountSurfaceTests
{
    FellowsInstance _instance = null!;

    [OneTimeSetUp]
    public async Task StartAsync() => _instance = await FellowsInstance.StartAsync("surface");

    [OneTimeTearDown]
    public async Task StopAsync() => await _instance.DisposeAsync();

    async Task<T?> ScalarAsync<T>(string sql, params (string Name, object Value)[] args)
    {
        await using var conn = new Npgsql.NpgsqlConnection(_instance.ConnectionString);
        await conn.OpenAsync();
        await using var cmd = new Npgsql.NpgsqlCommand(sql, conn);
        foreach (var (name, value) in args) cmd.Parameters.AddWithValue(name, value);
        var result = await cmd.ExecuteScalarAsync();
        return result is null or DBNull ? default : (T)result;
    }

    /// <summary>A remote account (never contacted) with one public post tagged #far and a mention of <paramref name="mentioned"/>.</summary>
    async Task<(long AccountId, long StatusId)> RemoteAuthorAsync(string username, string domain, Member mentioned)
    {
        var accountId = (await ScalarAsync<long>(
            "INSERT INTO accounts (username, domain, uri, inbox_url) VALUES (@u, @d, @uri, @inbox) RETURNING id",
            ("u", username), ("d", domain), ("uri", $"https://{domain}/users/{username}"), ("inbox", $"https://{domain}/users/{username}/inbox")))!;
        var statusId = (await ScalarAsync<long>("""
            WITH s AS (INSERT INTO statuses (id, uri, account_id, content, visibility, local, created_at)
                       VALUES (fellows_id(now()), @uri, @a, '<p>far away #far</p>', 0, false, now()) RETURNING id),
                 t AS (INSERT INTO tags (name) VALUES ('far') ON CONFLICT (lower(name)) DO UPDATE SET name = excluded.name RETURNING id),
                 st AS (INSERT INTO status_tags (status_id, tag_id) SELECT s.id, t.id FROM s, t)
            SELECT id FROM s
            """, ("uri", $"https://{domain}/users/{username}/statuses/1"), ("a", accountId)))!;
        await ScalarAsync<object>("""
            INSERT INTO notifications (id, account_id, from_account_id, type, status_id, created_at)
            VALUES (fellows_id(now()), @m, @a, 'mention', @s, now())
            """, ("m", mentioned.AccountId), ("a", accountId), ("s", statusId));
        return (accountId, statusId);
    }

    async Task<HttpClient> ClientWithScopesAsync(Member m, params string[] scopes)
    {
        var token = await _instance.Services.GetRequiredService<TokenService>().CreateAsync(m.AccountId, null, scopes, CancellationToken.None);
        var client = new HttpClient { BaseAddress = new Uri(_instance.BaseUrl) };
        client.DefaultRequestHeaders.Authorization = new System.Net.Http.Headers.AuthenticationHeaderValue("Bearer", token);
        return client;
    }

    static Task<HttpResponseMessage> DeleteWithBodyAsync(Member m, string path, object body) =>
        m.Api.SendAsync(new HttpRequestMessage(HttpMethod.Delete, new Uri(path, UriKind.Relative)) { Content = JsonContent.Create(body) });

    static IEnumerable<string?> Ids(JsonElement array) => array.EnumerateArray().Select(e => e.GetProperty("id").GetString());

    static async Task<string> PostAsync(Member m, object body) =>
        (await m.PostJsonAsync("/api/v1/statuses", body)).GetProperty("id").GetString()!;

    [Test]
    public async Task DomainBlocks_normalise_page_and_reject_bad_input()
    {
        var dora = await _instance.CreateMemberAsync("dora");
        Assert.That((await dora.PostJsonAsync("/api/v1/domain_blocks", new { domain = "HTTPS://Example.COM./about" })).EnumerateObject().Count(), Is.Zero);
        await dora.PostJsonAsync("/api/v1/domain_blocks", new { domain = "example.com" }); // again: no duplicate
        var form = await dora.Api.PostAsync(new Uri("/api/v1/domain_blocks", UriKind.Relative),
            new FormUrlEncodedContent(new Dictionary<string, string> { ["domain"] = "bücher.example" }));
        Assert.That(form.StatusCode, Is.EqualTo(HttpStatusCode.OK));
        await dora.PostJsonAsync("/api/v1/domain_blocks?domain=third.example:8443");

        var all = await dora.GetJsonAsync("/api/v1/domain_blocks");
        Assert.That(all.EnumerateArray().Select(d => d.GetString()), Is.EqualTo(new[] { "third.example:8443", "xn--bcher-kva.example", "example.com" }));

        var first = await dora.Api.GetAsync(new Uri("/api/v1/domain_blocks?limit=2", UriKind.Relative));
        Assert.That((await Api.JsonAsync(first)).GetArrayLength(), Is.EqualTo(2));
        var link = first.Headers.GetValues("Link").Single();
        Assert.That(link, Does.Contain("rel=\"next\"").And.StartWith($"<{_instance.BaseUrl}/api/v1/domain_blocks?"));
        var next = link.Split(',')[0].Trim().TrimStart('<').Split('>')[0];
        var rest = await Api.JsonAsync(await dora.Api.GetAsync(new Uri(next)));
        Assert.That(rest.EnumerateArray().Select(d => d.GetString()), Is.EqualTo(new[] { "example.com" }));

        Assert.That((await DeleteWithBodyAsync(dora, "/api/v1/domain_blocks", new { domain = "Example.com" })).StatusCode, Is.EqualTo(HttpStatusCode.OK));
        Assert.That((await dora.GetJsonAsync("/api/v1/domain_blocks")).EnumerateArray().Select(d => d.GetString()), Does.Not.Contain("example.com"));

        var missing = await dora.Api.PostAsJsonAsync(new Uri("/api/v1/domain_blocks", UriKind.Relative), new { });
        Assert.That(missing.StatusCode, Is.EqualTo(HttpStatusCode.BadRequest));
        Assert.That((await missing.Content.ReadFromJsonAsync<JsonElement>()).GetProperty("error").GetString(), Is.Not.Empty);
        foreach (var bad in new[] { "not a domain!", "-bad-.example", "host:99999", _instance.Domain })
        {
            var response = await dora.Api.PostAsJsonAsync(new Uri("/api/v1/domain_blocks", UriKind.Relative), new { domain = bad });
            Assert.That(response.StatusCode, Is.EqualTo(HttpStatusCode.UnprocessableEntity), bad);
        }
        Assert.That((await dora.GetJsonAsync("/api/v1/domain_blocks")).GetArrayLength(), Is.EqualTo(2), "bad input blocked nothing");

        using var readOnly = await ClientWithScopesAsync(dora, "read:blocks");
        Assert.That((await readOnly.PostAsJsonAsync(new Uri("/api/v1/domain_blocks", UriKind.Relative), new { domain = "x.example" })).StatusCode,
            Is.EqualTo(HttpStatusCode.Forbidden));
        Assert.That((await readOnly.GetAsync(new Uri("/api/v1/domain_blocks", UriKind.Relative))).StatusCode, Is.EqualTo(HttpStatusCode.OK));
        using var noBlocks = await ClientWithScopesAsync(dora, "read:statuses");
        Assert.That((await noBlocks.GetAsync(new Uri("/api/v1/domain_blocks", UriKind.Relative))).StatusCode, Is.EqualTo(HttpStatusCode.Forbidden));
        Assert.That((await _instance.Client.GetAsync(new Uri("/api/v1/domain_blocks", UriKind.Relative))).StatusCode, Is.EqualTo(HttpStatusCode.Unauthorized));
    }

    [Test]
    public async Task DomainBlock_hides_that_server_everywhere_ends_follows_and_shows_in_relationship()
    {
        var emil = await _instance.CreateMemberAsync("emil");
        var other = await _instance.CreateMemberAsync("emils_friend");
        var (remoteId, statusId) = await RemoteAuthorAsync("faraway", "far.example", emil);
        // A follow each way, and a boost of the remote post by a local member emil follows.
        await ScalarAsync<object>("""
            INSERT INTO follows (account_id, target_account_id, uri) VALUES (@e, @r, 'https://emil.example/follow/1');
            INSERT INTO follows (account_id, target_account_id, uri) VALUES (@r, @e, 'https://far.example/follows/1');
            """, ("e", emil.AccountId), ("r", remoteId));
        await emil.PostJsonAsync($"/api/v1/accounts/{other.AccountId}/follow");
        var boost = (await other.PostJsonAsync($"/api/v1/statuses/{statusId}/reblog")).GetProperty("id").GetString();

        Assert.That(Ids(await emil.GetJsonAsync("/api/v1/timelines/home")), Does.Contain(statusId.ToString()).And.Contain(boost));
        Assert.That(Ids(await emil.GetJsonAsync("/api/v1/timelines/public")), Does.Contain(statusId.ToString()));
        Assert.That(Ids(await emil.GetJsonAsync("/api/v1/timelines/tag/far")), Does.Contain(statusId.ToString()));
        Assert.That((await emil.GetJsonAsync("/api/v1/notifications")).GetArrayLength(), Is.EqualTo(1));

        await emil.PostJsonAsync("/api/v1/domain_blocks", new { domain = "FAR.example" });

        var relationship = (await emil.GetJsonAsync($"/api/v1/accounts/relationships?id[]={remoteId}"))[0];
        Assert.That(relationship.GetProperty("domain_blocking").GetBoolean(), Is.True);
        Assert.That(relationship.GetProperty("following").GetBoolean(), Is.False);
        Assert.That(relationship.GetProperty("followed_by").GetBoolean(), Is.False);
        Assert.That((await emil.GetJsonAsync($"/api/v1/accounts/relationships?id[]={other.AccountId}"))[0].GetProperty("domain_blocking").GetBoolean(),
            Is.False, "a local account is on no blocked domain");
        Assert.That(Ids(await emil.GetJsonAsync("/api/v1/timelines/home")), Does.Not.Contain(statusId.ToString()).And.Not.Contain(boost),
            "the boost of a post from the blocked server goes too");
        Assert.That(Ids(await emil.GetJsonAsync("/api/v1/timelines/public")), Does.Not.Contain(statusId.ToString()));
        Assert.That(Ids(await emil.GetJsonAsync("/api/v1/timelines/tag/far")), Does.Not.Contain(statusId.ToString()));
        Assert.That((await emil.GetJsonAsync("/api/v1/notifications")).GetArrayLength(), Is.Zero);
        Assert.That(Ids(await other.GetJsonAsync("/api/v1/timelines/public")), Does.Contain(statusId.ToString()), "only emil's view changed");

        // Their server hears of both ends: an Undo of emil's Follow and a Reject of theirs.
        var sent = await ScalarAsync<long>("""
            SELECT count(*) FROM outbox_activities WHERE actor_account_id = @e AND 'https://far.example/users/faraway' = ANY(to_actor_uris)
              AND (body LIKE '%"type":"Undo"%' OR body LIKE '%"type":"Reject"%')
            """, ("e", emil.AccountId));
        Assert.That(sent, Is.EqualTo(2));

        var refused = await emil.Api.PostAsync(new Uri($"/api/v1/accounts/{remoteId}/follow", UriKind.Relative), null);
        Assert.That(refused.StatusCode, Is.EqualTo(HttpStatusCode.Forbidden), "no following into a blocked server");

        await DeleteWithBodyAsync(emil, "/api/v1/domain_blocks", new { domain = "far.example" });
        Assert.That(Ids(await emil.GetJsonAsync("/api/v1/timelines/public")), Does.Contain(statusId.ToString()));
        Assert.That((await emil.GetJsonAsync($"/api/v1/accounts/relationships?id[]={remoteId}"))[0].GetProperty("domain_blocking").GetBoolean(), Is.False);
    }

    [Test]
    public async Task Relationship_fields_follow_the_stored_state()
    {
        var rae = await _instance.CreateMemberAsync("rae");
        var sol = await _instance.CreateMemberAsync("sol");
        var tam = await _instance.CreateMemberAsync("tam", locked: true);

        var none = (await rae.GetJsonAsync($"/api/v1/accounts/relationships?id[]={sol.AccountId}"))[0];
        Assert.That(none.GetProperty("following").GetBoolean(), Is.False);
        Assert.That(none.GetProperty("showing_reblogs").GetBoolean(), Is.False, "no follow, no reblogs shown (as in Mastodon)");
        Assert.That(none.GetProperty("notifying").GetBoolean(), Is.False);
        Assert.That(none.GetProperty("languages").ValueKind, Is.EqualTo(JsonValueKind.Null));
        Assert.That(none.GetProperty("endorsed").GetBoolean(), Is.False);
        Assert.That(none.GetProperty("note").GetString(), Is.EqualTo(""));

        var followed = await rae.PostJsonAsync($"/api/v1/accounts/{sol.AccountId}/follow", new { reblogs = false, notify = true, languages = new[] { "en", "FR" } });
        Assert.That(followed.GetProperty("following").GetBoolean(), Is.True);
        Assert.That(followed.GetProperty("showing_reblogs").GetBoolean(), Is.False);
        Assert.That(followed.GetProperty("notifying").GetBoolean(), Is.True);
        Assert.That(followed.GetProperty("languages").EnumerateArray().Select(l => l.GetString()), Is.EquivalentTo(new[] { "en", "fr" }));
        var reverse = (await sol.GetJsonAsync($"/api/v1/accounts/relationships?id[]={rae.AccountId}"))[0];
        Assert.That(reverse.GetProperty("followed_by").GetBoolean(), Is.True);
        Assert.That(reverse.GetProperty("following").GetBoolean(), Is.False);

        // Following again without languages keeps them; an empty list clears them.
        var kept = await rae.PostJsonAsync($"/api/v1/accounts/{sol.AccountId}/follow", new { notify = false });
        Assert.That(kept.GetProperty("languages").GetArrayLength(), Is.EqualTo(2));
        Assert.That(kept.GetProperty("notifying").GetBoolean(), Is.False);
        var bad = await rae.Api.PostAsJsonAsync(new Uri($"/api/v1/accounts/{sol.AccountId}/follow", UriKind.Relative), new { languages = new[] { "english!" } });
        Assert.That(bad.StatusCode, Is.EqualTo(HttpStatusCode.UnprocessableEntity));

        var requested = await rae.PostJsonAsync($"/api/v1/accounts/{tam.AccountId}/follow", new { reblogs = true });
        Assert.That(requested.GetProperty("requested").GetBoolean(), Is.True);
        Assert.That(requested.GetProperty("following").GetBoolean(), Is.False);
        Assert.That(requested.GetProperty("showing_reblogs").GetBoolean(), Is.True, "a pending request's options show");
        Assert.That((await tam.GetJsonAsync($"/api/v1/accounts/relationships?id[]={rae.AccountId}"))[0].GetProperty("requested_by").GetBoolean(), Is.True);

        var muted = await rae.PostJsonAsync($"/api/v1/accounts/{sol.AccountId}/mute", new { notifications = false });
        Assert.That(muted.GetProperty("muting").GetBoolean(), Is.True);
        Assert.That(muted.GetProperty("muting_notifications").GetBoolean(), Is.False);

        var noted = await rae.PostJsonAsync($"/api/v1/accounts/{sol.AccountId}/note", new { comment = "met at the AGM" });
        Assert.That(noted.GetProperty("note").GetString(), Is.EqualTo("met at the AGM"));
        Assert.That((await sol.GetJsonAsync($"/api/v1/accounts/relationships?id[]={rae.AccountId}"))[0].GetProperty("note").GetString(), Is.EqualTo(""),
            "a note is private to its writer");
        Assert.That((await rae.PostJsonAsync($"/api/v1/accounts/{sol.AccountId}/note", new { comment = "" })).GetProperty("note").GetString(), Is.EqualTo(""));
        Assert.That((await rae.Api.PostAsJsonAsync(new Uri("/api/v1/accounts/424242/note", UriKind.Relative), new { comment = "x" })).StatusCode,
            Is.EqualTo(HttpStatusCode.NotFound));

        var blocking = await sol.PostJsonAsync($"/api/v1/accounts/{rae.AccountId}/block");
        Assert.That(blocking.GetProperty("blocking").GetBoolean(), Is.True);
        var blockedBy = (await rae.GetJsonAsync($"/api/v1/accounts/relationships?id[]={sol.AccountId}"))[0];
        Assert.That(blockedBy.GetProperty("blocked_by").GetBoolean(), Is.True);
        Assert.That(blockedBy.GetProperty("following").GetBoolean(), Is.False, "a block ends the follow");
        Assert.That(blockedBy.GetProperty("languages").ValueKind, Is.EqualTo(JsonValueKind.Null));
    }

    [Test]
    public async Task Follow_languages_filter_that_accounts_posts_from_home()
    {
        var uma = await _instance.CreateMemberAsync("uma");
        var vic = await _instance.CreateMemberAsync("vic");
        await uma.PostJsonAsync($"/api/v1/accounts/{vic.AccountId}/follow", new { languages = new[] { "fr" } });
        var english = await PostAsync(vic, new { status = "hello", language = "en" });
        var french = await PostAsync(vic, new { status = "bonjour", language = "fr" });
        var home = Ids(await uma.GetJsonAsync("/api/v1/timelines/home")).ToList();
        Assert.That(home, Does.Contain(french).And.Not.Contain(english));
        await uma.PostJsonAsync($"/api/v1/accounts/{vic.AccountId}/follow", new { languages = Array.Empty<string>() });
        // An empty JSON array sends no values; a form with languages[] empty clears them the same way.
        var cleared = await uma.Api.PostAsync(new Uri($"/api/v1/accounts/{vic.AccountId}/follow", UriKind.Relative),
            new FormUrlEncodedContent(new Dictionary<string, string> { ["languages[]"] = "" }));
        Assert.That((await Api.JsonAsync(cleared)).GetProperty("languages").ValueKind, Is.EqualTo(JsonValueKind.Null));
        Assert.That(Ids(await uma.GetJsonAsync("/api/v1/timelines/home")), Does.Contain(english));
    }

    [Test]
    public async Task RemoveFromFollowers_ends_their_follow_and_checks_input()
    {
        var wes = await _instance.CreateMemberAsync("wes");
        var xia = await _instance.CreateMemberAsync("xia");
        await xia.PostJsonAsync($"/api/v1/accounts/{wes.AccountId}/follow");
        Assert.That(Ids(await wes.GetJsonAsync($"/api/v1/accounts/{wes.AccountId}/followers")), Does.Contain(xia.AccountId.ToString()));

        using var readOnly = await ClientWithScopesAsync(wes, "read");
        Assert.That((await readOnly.PostAsync(new Uri($"/api/v1/accounts/{xia.AccountId}/remove_from_followers", UriKind.Relative), null)).StatusCode,
            Is.EqualTo(HttpStatusCode.Forbidden));
        Assert.That((await wes.Api.PostAsync(new Uri("/api/v1/accounts/999999999/remove_from_followers", UriKind.Relative), null)).StatusCode,
            Is.EqualTo(HttpStatusCode.NotFound));
        Assert.That((await wes.Api.PostAsync(new Uri("/api/v1/accounts/abc/remove_from_followers", UriKind.Relative), null)).StatusCode,
            Is.EqualTo(HttpStatusCode.NotFound));

        var relationship = await wes.PostJsonAsync($"/api/v1/accounts/{xia.AccountId}/remove_from_followers");
        Assert.That(relationship.GetProperty("id").GetString(), Is.EqualTo(xia.AccountId.ToString()));
        Assert.That(relationship.GetProperty("followed_by").GetBoolean(), Is.False);
        Assert.That(Ids(await wes.GetJsonAsync($"/api/v1/accounts/{wes.AccountId}/followers")), Does.Not.Contain(xia.AccountId.ToString()));
        Assert.That((await xia.GetJsonAsync($"/api/v1/accounts/relationships?id[]={wes.AccountId}"))[0].GetProperty("following").GetBoolean(), Is.False);
        // Removing someone who does not follow is harmless.
        Assert.That((await wes.PostJsonAsync($"/api/v1/accounts/{xia.AccountId}/remove_from_followers")).GetProperty("followed_by").GetBoolean(), Is.False);
    }

    [Test]
    public async Task FamiliarFollowers_lists_whom_I_follow_among_their_followers()
    {
        var me = await _instance.CreateMemberAsync("fam_me");
        var x = await _instance.CreateMemberAsync("fam_x");
        var y = await _instance.CreateMemberAsync("fam_y");
        var stranger = await _instance.CreateMemberAsync("fam_z");
        var target = await _instance.CreateMemberAsync("fam_target");
        var lonely = await _instance.CreateMemberAsync("fam_lonely");
        await me.PostJsonAsync($"/api/v1/accounts/{x.AccountId}/follow");
        await me.PostJsonAsync($"/api/v1/accounts/{y.AccountId}/follow");
        await x.PostJsonAsync($"/api/v1/accounts/{target.AccountId}/follow");
        await y.PostJsonAsync($"/api/v1/accounts/{target.AccountId}/follow");
        await stranger.PostJsonAsync($"/api/v1/accounts/{target.AccountId}/follow");

        var result = await me.GetJsonAsync($"/api/v1/accounts/familiar_followers?id[]={target.AccountId}&id[]={lonely.AccountId}&id[]=nonsense");
        Assert.That(result.GetArrayLength(), Is.EqualTo(2));
        Assert.That(result[0].GetProperty("id").GetString(), Is.EqualTo(target.AccountId.ToString()));
        Assert.That(result[0].GetProperty("accounts").EnumerateArray().Select(a => a.GetProperty("acct").GetString()), Is.EqualTo(new[] { "fam_y", "fam_x" }));
        Assert.That(result[1].GetProperty("id").GetString(), Is.EqualTo(lonely.AccountId.ToString()));
        Assert.That(result[1].GetProperty("accounts").GetArrayLength(), Is.Zero);

        using var noFollows = await ClientWithScopesAsync(me, "read:statuses");
        Assert.That((await noFollows.GetAsync(new Uri($"/api/v1/accounts/familiar_followers?id[]={target.AccountId}", UriKind.Relative))).StatusCode,
            Is.EqualTo(HttpStatusCode.Forbidden));
        Assert.That((await _instance.Client.GetAsync(new Uri($"/api/v1/accounts/familiar_followers?id[]={target.AccountId}", UriKind.Relative))).StatusCode,
            Is.EqualTo(HttpStatusCode.Unauthorized));
    }

    [Test]
    public async Task FeaturedTags_add_count_list_remove_and_federate_as_a_collection()
    {
        var fern = await _instance.CreateMemberAsync("fern");
        var gil = await _instance.CreateMemberAsync("gil");
        await PostAsync(fern, new { status = "first #Coop post" });
        await PostAsync(fern, new { status = "second #coop post, unlisted", visibility = "unlisted" });
        await PostAsync(fern, new { status = "members only #coop", visibility = "private" });
        await PostAsync(fern, new { status = "about #gardens" });

        var suggestions = await fern.GetJsonAsync("/api/v1/featured_tags/suggestions");
        Assert.That(suggestions.EnumerateArray().Select(t => t.GetProperty("name").GetString()), Is.EqualTo(new[] { "gardens", "coop" }));

        var featured = await fern.PostJsonAsync("/api/v1/featured_tags", new { name = "#Coop" });
        Assert.That(featured.GetProperty("name").GetString(), Is.EqualTo("coop"));
        Assert.That(featured.GetProperty("statuses_count").GetInt32(), Is.EqualTo(2), "public and unlisted posts count, followers-only ones don't");
        Assert.That(featured.GetProperty("last_status_at").GetString(), Does.Match(@"^\d{4}-\d{2}-\d{2}$"));
        Assert.That(featured.GetProperty("url").GetString(), Is.EqualTo($"{_instance.BaseUrl}/@fern/tagged/coop"));
        var again = await fern.PostJsonAsync("/api/v1/featured_tags", new { name = "coop" });
        Assert.That(again.GetProperty("id").GetString(), Is.EqualTo(featured.GetProperty("id").GetString()), "featuring twice returns the same");
        var fresh = await fern.PostJsonAsync("/api/v1/featured_tags", new { name = "unused" });
        Assert.That(fresh.GetProperty("statuses_count").GetInt32(), Is.Zero);
        Assert.That(fresh.GetProperty("last_status_at").ValueKind, Is.EqualTo(JsonValueKind.Null));
        Assert.That((await fern.GetJsonAsync("/api/v1/featured_tags/suggestions")).EnumerateArray().Select(t => t.GetProperty("name").GetString()),
            Is.EqualTo(new[] { "gardens" }), "featured tags are no longer suggested");

        foreach (var bad in new object[] { new { name = "" }, new { name = "not a tag" }, new { name = "123" }, new { } })
            Assert.That((await fern.Api.PostAsJsonAsync(new Uri("/api/v1/featured_tags", UriKind.Relative), bad)).StatusCode,
                Is.EqualTo(HttpStatusCode.UnprocessableEntity), JsonSerializer.Serialize(bad));
        for (var i = 0; i < 8; i++) await fern.PostJsonAsync("/api/v1/featured_tags", new { name = $"tag{i}" });
        var over = await fern.Api.PostAsJsonAsync(new Uri("/api/v1/featured_tags", UriKind.Relative), new { name = "eleventh" });
        Assert.That(over.StatusCode, Is.EqualTo(HttpStatusCode.UnprocessableEntity));
        Assert.That((await fern.GetJsonAsync("/api/v1/featured_tags")).GetArrayLength(), Is.EqualTo(10));

        // Anyone may read a profile's featured tags.
        var shown = await Api.JsonAsync(await _instance.Client.GetAsync(new Uri($"/api/v1/accounts/{fern.AccountId}/featured_tags", UriKind.Relative)));
        Assert.That(shown[0].GetProperty("name").GetString(), Is.EqualTo("coop"));
        Assert.That((await _instance.Client.GetAsync(new Uri("/api/v1/accounts/77777777/featured_tags", UriKind.Relative))).StatusCode,
            Is.EqualTo(HttpStatusCode.NotFound));

        // Other servers read them from the actor's featuredTags collection, told of changes by Update(actor).
        using var ap = new HttpRequestMessage(HttpMethod.Get, new Uri(fern.ActorId));
        ap.Headers.Accept.ParseAdd("application/activity+json");
        var actor = await Api.JsonAsync(await _instance.Client.SendAsync(ap));
        var collectionUrl = actor.GetProperty("featuredTags").GetString()!;
        using var cr = new HttpRequestMessage(HttpMethod.Get, new Uri(collectionUrl));
        cr.Headers.Accept.ParseAdd("application/activity+json");
        var collection = await Api.JsonAsync(await _instance.Client.SendAsync(cr));
        Assert.That(collection.GetProperty("type").GetString(), Is.EqualTo("Collection"));
        Assert.That(collection.GetProperty("totalItems").GetInt32(), Is.EqualTo(10));
        var item = collection.GetProperty("items")[0];
        Assert.That(item.GetProperty("type").GetString(), Is.EqualTo("Hashtag"));
        Assert.That(item.GetProperty("name").GetString(), Is.EqualTo("#coop"));
        Assert.That(item.GetProperty("href").GetString(), Is.EqualTo($"{_instance.BaseUrl}/@fern/tagged/coop"));
        var updates = await ScalarAsync<long>("SELECT count(*) FROM outbox_activities WHERE actor_account_id = @f AND body LIKE '%\"type\":\"Update\"%'",
            ("f", fern.AccountId));
        Assert.That(updates, Is.EqualTo(10), "one Update(actor) per change");

        var otherMembers = await gil.Api.DeleteAsync(new Uri($"/api/v1/featured_tags/{featured.GetProperty("id").GetString()}", UriKind.Relative));
        Assert.That(otherMembers.StatusCode, Is.EqualTo(HttpStatusCode.NotFound), "nobody removes another member's featured tag");
        Assert.That((await fern.Api.DeleteAsync(new Uri("/api/v1/featured_tags/xyz", UriKind.Relative))).StatusCode, Is.EqualTo(HttpStatusCode.NotFound));
        var removed = await fern.Api.DeleteAsync(new Uri($"/api/v1/featured_tags/{featured.GetProperty("id").GetString()}", UriKind.Relative));
        Assert.That(removed.StatusCode, Is.EqualTo(HttpStatusCode.OK));
        Assert.That((await fern.GetJsonAsync("/api/v1/featured_tags")).EnumerateArray().Select(t => t.GetProperty("name").GetString()), Does.Not.Contain("coop"));

        using var readOnly = await ClientWithScopesAsync(fern, "read");
        Assert.That((await readOnly.PostAsJsonAsync(new Uri("/api/v1/featured_tags", UriKind.Relative), new { name = "x" })).StatusCode, Is.EqualTo(HttpStatusCode.Forbidden));
    }

    [Test]
    public async Task Endorsements_need_a_follow_and_go_with_it()
    {
        var hana = await _instance.CreateMemberAsync("hana");
        var ian = await _instance.CreateMemberAsync("ian");
        var notFollowing = await hana.Api.PostAsync(new Uri($"/api/v1/accounts/{ian.AccountId}/pin", UriKind.Relative), null);
        Assert.That(notFollowing.StatusCode, Is.EqualTo(HttpStatusCode.UnprocessableEntity));
        Assert.That((await hana.Api.PostAsync(new Uri("/api/v1/accounts/123456789/pin", UriKind.Relative), null)).StatusCode, Is.EqualTo(HttpStatusCode.NotFound));

        await hana.PostJsonAsync($"/api/v1/accounts/{ian.AccountId}/follow");
        Assert.That((await hana.PostJsonAsync($"/api/v1/accounts/{ian.AccountId}/pin")).GetProperty("endorsed").GetBoolean(), Is.True);
        Assert.That((await hana.PostJsonAsync($"/api/v1/accounts/{ian.AccountId}/endorse")).GetProperty("endorsed").GetBoolean(), Is.True, "endorse is the same");
        Assert.That(Ids(await hana.GetJsonAsync("/api/v1/endorsements")), Is.EqualTo(new[] { ian.AccountId.ToString() }));
        var shown = await Api.JsonAsync(await _instance.Client.GetAsync(new Uri($"/api/v1/accounts/{hana.AccountId}/endorsements", UriKind.Relative)));
        Assert.That(Ids(shown), Is.EqualTo(new[] { ian.AccountId.ToString() }));

        Assert.That((await hana.PostJsonAsync($"/api/v1/accounts/{ian.AccountId}/unpin")).GetProperty("endorsed").GetBoolean(), Is.False);
        await hana.PostJsonAsync($"/api/v1/accounts/{ian.AccountId}/pin");
        await hana.PostJsonAsync($"/api/v1/accounts/{ian.AccountId}/unfollow");
        Assert.That((await hana.GetJsonAsync("/api/v1/endorsements")).GetArrayLength(), Is.Zero, "unfollowing ends the endorsement");
        Assert.That((await hana.GetJsonAsync($"/api/v1/accounts/relationships?id[]={ian.AccountId}"))[0].GetProperty("endorsed").GetBoolean(), Is.False);

        using var readOnly = await ClientWithScopesAsync(hana, "read");
        Assert.That((await readOnly.PostAsync(new Uri($"/api/v1/accounts/{ian.AccountId}/pin", UriKind.Relative), null)).StatusCode, Is.EqualTo(HttpStatusCode.Forbidden));
        using var noAccounts = await ClientWithScopesAsync(hana, "read:statuses");
        Assert.That((await noAccounts.GetAsync(new Uri("/api/v1/endorsements", UriKind.Relative))).StatusCode, Is.EqualTo(HttpStatusCode.Forbidden));
    }

    [Test]
    public async Task MuteConversation_silences_the_thread_and_marks_its_posts()
    {
        var jo = await _instance.CreateMemberAsync("jo");
        var kai = await _instance.CreateMemberAsync("kai");
        var root = await PostAsync(jo, new { status = "a thread" });
        var reply = await PostAsync(kai, new { status = "@jo first reply", in_reply_to_id = root });
        Assert.That((await jo.GetJsonAsync("/api/v1/notifications")).GetArrayLength(), Is.EqualTo(1));

        // Muting by any post of the thread mutes all of it.
        var muted = await jo.PostJsonAsync($"/api/v1/statuses/{reply}/mute");
        Assert.That(muted.GetProperty("muted").GetBoolean(), Is.True);
        Assert.That((await jo.GetJsonAsync($"/api/v1/statuses/{root}")).GetProperty("muted").GetBoolean(), Is.True);
        Assert.That((await kai.GetJsonAsync($"/api/v1/statuses/{root}")).GetProperty("muted").GetBoolean(), Is.False, "muted for jo alone");

        var deeper = await PostAsync(kai, new { status = "@jo another reply", in_reply_to_id = reply });
        await kai.PostJsonAsync($"/api/v1/statuses/{root}/favourite");
        Assert.That((await jo.GetJsonAsync("/api/v1/notifications")).GetArrayLength(), Is.EqualTo(1), "nothing new from the muted thread");
        Assert.That((await jo.GetJsonAsync($"/api/v1/statuses/{deeper}")).GetProperty("muted").GetBoolean(), Is.True);
        var elsewhere = await PostAsync(kai, new { status = "@jo outside the thread" });
        Assert.That((await jo.GetJsonAsync("/api/v1/notifications")).GetArrayLength(), Is.EqualTo(2), "other threads still notify");

        var unmuted = await jo.PostJsonAsync($"/api/v1/statuses/{deeper}/unmute");
        Assert.That(unmuted.GetProperty("muted").GetBoolean(), Is.False);
        await PostAsync(kai, new { status = "@jo back again", in_reply_to_id = root });
        Assert.That((await jo.GetJsonAsync("/api/v1/notifications")).GetArrayLength(), Is.EqualTo(3));
        Assert.That(elsewhere, Is.Not.Empty);

        var secret = await PostAsync(kai, new { status = "just for me", visibility = "direct" });
        Assert.That((await jo.Api.PostAsync(new Uri($"/api/v1/statuses/{secret}/mute", UriKind.Relative), null)).StatusCode, Is.EqualTo(HttpStatusCode.NotFound),
            "a post jo cannot see cannot be muted");
        Assert.That((await jo.Api.PostAsync(new Uri("/api/v1/statuses/0/mute", UriKind.Relative), null)).StatusCode, Is.EqualTo(HttpStatusCode.NotFound));
        using var readOnly = await ClientWithScopesAsync(jo, "read");
        Assert.That((await readOnly.PostAsync(new Uri($"/api/v1/statuses/{root}/mute", UriKind.Relative), null)).StatusCode, Is.EqualTo(HttpStatusCode.Forbidden));
    }

    [Test]
    public async Task FollowedTags_bring_public_posts_into_home()
    {
        var lin = await _instance.CreateMemberAsync("lin");
        var mo = await _instance.CreateMemberAsync("mo");
        var before = await PostAsync(mo, new { status = "old #Gardening news" });

        var unused = await lin.GetJsonAsync("/api/v1/tags/Composting");
        Assert.That(unused.GetProperty("name").GetString(), Is.EqualTo("composting"));
        Assert.That(unused.GetProperty("following").GetBoolean(), Is.False);
        Assert.That(unused.GetProperty("history").GetArrayLength(), Is.Zero);
        var anonymous = await Api.JsonAsync(await _instance.Client.GetAsync(new Uri("/api/v1/tags/gardening", UriKind.Relative)));
        Assert.That(anonymous.GetProperty("following").ValueKind, Is.EqualTo(JsonValueKind.Null));
        foreach (var bad in new[] { "123", "no%20spaces", "a-b" })
            Assert.That((await lin.Api.GetAsync(new Uri($"/api/v1/tags/{bad}", UriKind.Relative))).StatusCode, Is.EqualTo(HttpStatusCode.NotFound), bad);

        Assert.That((await lin.Api.PostAsync(new Uri("/api/v1/tags/123/follow", UriKind.Relative), null)).StatusCode, Is.EqualTo(HttpStatusCode.NotFound));
        Assert.That((await lin.GetJsonAsync("/api/v1/followed_tags")).GetArrayLength(), Is.Zero, "a malformed name follows nothing");
        var followed = await lin.PostJsonAsync("/api/v1/tags/gardening/follow");
        Assert.That(followed.GetProperty("following").GetBoolean(), Is.True);
        Assert.That(followed.GetProperty("id").GetString(), Is.Not.EqualTo("0"));
        await lin.PostJsonAsync("/api/v1/tags/composting/follow");
        Assert.That((await lin.GetJsonAsync("/api/v1/followed_tags")).EnumerateArray().Select(t => t.GetProperty("name").GetString()),
            Is.EqualTo(new[] { "composting", "gardening" }));
        var page = await lin.Api.GetAsync(new Uri("/api/v1/followed_tags?limit=1", UriKind.Relative));
        Assert.That((await Api.JsonAsync(page)).GetArrayLength(), Is.EqualTo(1));
        Assert.That(page.Headers.GetValues("Link").Single(), Does.Contain("rel=\"next\""));

        var tagged = await PostAsync(mo, new { status = "new #gardening tips" });
        var unlisted = await PostAsync(mo, new { status = "quiet #gardening", visibility = "unlisted" });
        var followersOnly = await PostAsync(mo, new { status = "private #gardening", visibility = "private" });
        var untagged = await PostAsync(mo, new { status = "no tag here" });
        var home = Ids(await lin.GetJsonAsync("/api/v1/timelines/home")).ToList();
        Assert.That(home, Does.Contain(tagged).And.Contain(before));
        Assert.That(home, Does.Not.Contain(unlisted).And.Not.Contain(followersOnly).And.Not.Contain(untagged));

        await lin.PostJsonAsync($"/api/v1/accounts/{mo.AccountId}/block");
        Assert.That(Ids(await lin.GetJsonAsync("/api/v1/timelines/home")), Does.Not.Contain(tagged), "blocked authors stay out");
        await lin.PostJsonAsync($"/api/v1/accounts/{mo.AccountId}/unblock");

        Assert.That((await lin.PostJsonAsync("/api/v1/tags/gardening/unfollow")).GetProperty("following").GetBoolean(), Is.False);
        Assert.That(Ids(await lin.GetJsonAsync("/api/v1/timelines/home")), Does.Not.Contain(tagged));

        using var readOnly = await ClientWithScopesAsync(lin, "read");
        Assert.That((await readOnly.PostAsync(new Uri("/api/v1/tags/gardening/follow", UriKind.Relative), null)).StatusCode, Is.EqualTo(HttpStatusCode.Forbidden));
        Assert.That((await _instance.Client.GetAsync(new Uri("/api/v1/followed_tags", UriKind.Relative))).StatusCode, Is.EqualTo(HttpStatusCode.Unauthorized));
    }

    [Test]
    public async Task FollowedTag_posts_reach_the_user_stream_and_others_do_not()
    {
        var oli = await _instance.CreateMemberAsync("oli");
        var pat = await _instance.CreateMemberAsync("pat");
        await oli.PostJsonAsync("/api/v1/tags/streamtag/follow");
        await using var ws = await WebSocketStream.ConnectAsync(_instance, oli.Token, "?stream=user");
        await Api.EventuallyAsync(() => Task.FromResult(_instance.Services.GetRequiredService<Fellows.Server.Features.Streaming.StreamingHub>().Connections
            .Any(c => c.Viewer == oli.AccountId)), "oli's stream to be registered");

        var untagged = await PostAsync(pat, new { status = "nothing to see" });
        var unlisted = await PostAsync(pat, new { status = "quiet #streamtag", visibility = "unlisted" });
        var tagged = await PostAsync(pat, new { status = "loud #StreamTag" });
        var update = await ws.NextAsync(m => m.TryGetProperty("event", out var e) && e.GetString() == "update", "the tagged post on oli's user stream");
        // Events come in commit order: the first update oli gets is the tagged post, so the earlier two never came.
        Assert.That(JsonDocument.Parse(update.GetProperty("payload").GetString()!).RootElement.GetProperty("id").GetString(), Is.EqualTo(tagged));
        Assert.That(new[] { untagged, unlisted }, Does.Not.Contain(tagged));
    }

    [Test]
    public async Task Presence_endpoints_answer_json()
    {
        var nia = await _instance.CreateMemberAsync("nia");
        foreach (var path in new[]
                 {
                     "/api/v1/trends/tags", "/api/v1/trends/statuses", "/api/v1/trends/links", "/api/v1/custom_emojis", "/api/v1/instance/peers",
                     "/api/v1/instance/activity", "/api/v1/instance/rules", "/api/v1/announcements", "/api/v1/followed_tags", "/api/v1/endorsements",
                     "/api/v1/domain_blocks", "/api/v1/featured_tags", "/api/v1/featured_tags/suggestions",
                 })
        {
            var response = await nia.Api.GetAsync(new Uri(path, UriKind.Relative));
            Assert.That(response.StatusCode, Is.EqualTo(HttpStatusCode.OK), path);
            Assert.That(response.Content.Headers.ContentType?.MediaType, Is.EqualTo("application/json"), path);
            Assert.That((await response.Content.ReadFromJsonAsync<JsonElement>()).ValueKind, Is.EqualTo(JsonValueKind.Array), path);
        }
    }
}
