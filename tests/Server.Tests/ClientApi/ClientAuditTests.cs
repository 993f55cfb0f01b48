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
/// What the audit of real clients (Tusky, Ice Cubes, Elk, Phanpy, the official apps) found they call: follow
/// suggestions, the profile directory, accounts and statuses by <c>id[]</c>, filter keywords one by one, translation
/// languages, and a sweep over the start-up calls so none of them answers 405 or 500.
/// </summary>
public class ClientAuditTests
{
    FellowsInstance _instance = null!;

    [OneTimeSetUp]
    public async Task StartAsync() => _instance = await FellowsInstance.StartAsync("clientaudit");

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

    async Task<HttpClient> ClientWithScopesAsync(Member m, params string[] scopes)
    {
        var token = await _instance.Services.GetRequiredService<TokenService>().CreateAsync(m.AccountId, null, scopes, CancellationToken.None);
        var client = new HttpClient { BaseAddress = new Uri(_instance.BaseUrl) };
        client.DefaultRequestHeaders.Authorization = new System.Net.Http.Headers.AuthenticationHeaderValue("Bearer", token);
        return client;
    }

    async Task<long> RemoteAccountAsync(string username, string domain) =>
        (await ScalarAsync<long>("INSERT INTO accounts (username, domain, uri) VALUES (@u, @d, @uri) RETURNING id",
            ("u", username), ("d", domain), ("uri", $"https://{domain}/users/{username}")))!;

    Task FollowInDatabaseAsync(Member follower, long target) =>
        ScalarAsync<object>("INSERT INTO follows (account_id, target_account_id) VALUES (@a, @t)", ("a", follower.AccountId), ("t", target));

    static IReadOnlyList<string?> Ids(JsonElement array) => array.EnumerateArray().Select(e => e.GetProperty("id").GetString()).ToList();

    static string Id(Member m) => m.AccountId.ToString(System.Globalization.CultureInfo.InvariantCulture);

    static async Task<HttpStatusCode> StatusOfAsync(HttpClient client, HttpMethod method, string path, object? body = null)
    {
        using var request = new HttpRequestMessage(method, new Uri(path, UriKind.Relative));
        if (body is not null) request.Content = JsonContent.Create(body);
        return (await client.SendAsync(request)).StatusCode;
    }

    /// <summary>A small world around <c>sage</c>: members followed, unfollowed, blocking, muted, hidden, pending; remote friends of friends.</summary>
    sealed record World(Member Sage, Member Ally, Member Bea, Member Cole, Member Dee, Member Eve, Member Finn, Member Gus, Member Hal, long Ivy,
        long Far, long Lone, long Shut);

    async Task<World> WorldAsync(string prefix)
    {
        async Task<Member> M(string name) => await _instance.CreateMemberAsync(prefix + name);
        var (sage, ally, bea, cole, dee, eve, finn, gus, hal) = (await M("sage"), await M("ally"), await M("bea"), await M("cole"), await M("dee"),
            await M("eve"), await M("finn"), await M("gus"), await M("hal"));
        var ivy = await M("ivy");
        await ScalarAsync<object>("UPDATE users SET approved = false WHERE account_id = @a", ("a", ivy.AccountId));
        await sage.PostJsonAsync($"/api/v1/accounts/{Id(ally)}/follow");
        await sage.PostJsonAsync($"/api/v1/accounts/{Id(bea)}/follow");
        await eve.PostJsonAsync($"/api/v1/accounts/{Id(sage)}/block");
        await sage.PostJsonAsync($"/api/v1/accounts/{Id(finn)}/mute");
        await (await gus.Api.PatchAsJsonAsync(new Uri("/api/v1/accounts/update_credentials", UriKind.Relative), new { discoverable = false })).Content.ReadAsStringAsync();
        await dee.PostJsonAsync("/api/v1/statuses", new { status = "dee was here first" });
        await cole.PostJsonAsync("/api/v1/statuses", new { status = "cole posted last" });
        // Remote accounts: one followed by two of those sage follows, one by only one, one on a server sage blocked.
        var far = await RemoteAccountAsync(prefix + "far", "far.example");
        var lone = await RemoteAccountAsync(prefix + "lone", "far.example");
        var shut = await RemoteAccountAsync(prefix + "shut", "shut.example");
        foreach (var target in new[] { far, shut }) { await FollowInDatabaseAsync(ally, target); await FollowInDatabaseAsync(bea, target); }
        await FollowInDatabaseAsync(ally, lone);
        await sage.PostJsonAsync("/api/v1/domain_blocks", new { domain = "shut.example" });
        return new World(sage, ally, bea, cole, dee, eve, finn, gus, hal, ivy.AccountId, far, lone, shut);
    }

    [Test]
    public async Task Suggestions_offer_coop_members_then_friends_of_friends_and_leave_out_whom_the_member_follows_blocks_mutes_or_dismissed()
    {
        var w = await WorldAsync("s");
        string S(long id) => id.ToString(System.Globalization.CultureInfo.InvariantCulture);

        var v1 = Ids(await w.Sage.GetJsonAsync("/api/v1/suggestions?limit=80"));
        Assert.Multiple(() =>
        {
            Assert.That(v1, Does.Contain(Id(w.Cole)).And.Contain(Id(w.Dee)).And.Contain(Id(w.Hal)).And.Contain(S(w.Far)));
            Assert.That(v1, Does.Not.Contain(Id(w.Sage)), "not themselves");
            Assert.That(v1, Does.Not.Contain(Id(w.Ally)).And.Not.Contain(Id(w.Bea)), "not whom they follow");
            Assert.That(v1, Does.Not.Contain(Id(w.Eve)), "not who blocks them");
            Assert.That(v1, Does.Not.Contain(Id(w.Finn)), "not whom they mute");
            Assert.That(v1, Does.Not.Contain(Id(w.Gus)), "not who is undiscoverable");
            Assert.That(v1, Does.Not.Contain(S(w.Ivy)), "not who is still waiting for approval");
            Assert.That(v1, Does.Not.Contain(S(w.Lone)), "one shared follow is not enough");
            Assert.That(v1, Does.Not.Contain(S(w.Shut)), "not from a server they blocked");
            Assert.That(v1.ToList().IndexOf(Id(w.Cole)), Is.LessThan(v1.ToList().IndexOf(Id(w.Dee))), "most recently active first");
            Assert.That(v1.ToList().IndexOf(S(w.Far)), Is.GreaterThan(v1.ToList().IndexOf(Id(w.Hal))), "the co-op first");
        });

        var v2 = (await w.Sage.GetJsonAsync("/api/v2/suggestions?limit=80")).EnumerateArray().ToList();
        var cole = v2.Single(s => s.GetProperty("account").GetProperty("id").GetString() == Id(w.Cole));
        var far = v2.Single(s => s.GetProperty("account").GetProperty("id").GetString() == S(w.Far));
        Assert.Multiple(() =>
        {
            Assert.That(cole.GetProperty("source").GetString(), Is.EqualTo("staff"));
            Assert.That(cole.GetProperty("sources").EnumerateArray().Select(x => x.GetString()), Is.EqualTo(new[] { "featured" }));
            Assert.That(cole.GetProperty("account").GetProperty("acct").GetString(), Is.EqualTo(w.Cole.Username));
            Assert.That(far.GetProperty("sources").EnumerateArray().Select(x => x.GetString()), Is.EqualTo(new[] { "friends_of_friends" }));
            Assert.That(far.GetProperty("source").GetString(), Is.EqualTo("past_interactions"));
        });
        Assert.That((await w.Sage.GetJsonAsync("/api/v1/suggestions?limit=1")).GetArrayLength(), Is.EqualTo(1));

        // Dismissed: gone for sage, still there for others.
        Assert.That((await w.Sage.Api.DeleteAsync(new Uri($"/api/v1/suggestions/{Id(w.Hal)}", UriKind.Relative))).StatusCode, Is.EqualTo(HttpStatusCode.OK));
        Assert.That((await w.Sage.Api.DeleteAsync(new Uri($"/api/v1/suggestions/{Id(w.Hal)}", UriKind.Relative))).StatusCode, Is.EqualTo(HttpStatusCode.OK), "twice is fine");
        Assert.That(Ids(await w.Sage.GetJsonAsync("/api/v1/suggestions?limit=80")), Does.Not.Contain(Id(w.Hal)));
        Assert.That(Ids(await w.Cole.GetJsonAsync("/api/v1/suggestions?limit=80")), Does.Contain(Id(w.Hal)));
        // Following someone takes them off the list.
        await w.Sage.PostJsonAsync($"/api/v1/accounts/{Id(w.Cole)}/follow");
        Assert.That(Ids(await w.Sage.GetJsonAsync("/api/v1/suggestions?limit=80")), Does.Not.Contain(Id(w.Cole)));

        // Hostile and wrong input.
        Assert.That(await StatusOfAsync(w.Sage.Api, HttpMethod.Delete, "/api/v1/suggestions/not-an-id"), Is.EqualTo(HttpStatusCode.NotFound));
        Assert.That(await StatusOfAsync(w.Sage.Api, HttpMethod.Delete, "/api/v1/suggestions/999999999999"), Is.EqualTo(HttpStatusCode.NotFound));
        Assert.That((await w.Sage.GetJsonAsync("/api/v1/suggestions?limit=-5")).ValueKind, Is.EqualTo(JsonValueKind.Array));
        Assert.That(await StatusOfAsync(_instance.Client, HttpMethod.Get, "/api/v1/suggestions"), Is.EqualTo(HttpStatusCode.Unauthorized));
        using var writeOnly = await ClientWithScopesAsync(w.Sage, "write");
        Assert.That(await StatusOfAsync(writeOnly, HttpMethod.Get, "/api/v2/suggestions"), Is.EqualTo(HttpStatusCode.Forbidden));
        using var readOnly = await ClientWithScopesAsync(w.Sage, "read");
        Assert.That(await StatusOfAsync(readOnly, HttpMethod.Get, "/api/v2/suggestions"), Is.EqualTo(HttpStatusCode.OK));
        Assert.That(await StatusOfAsync(readOnly, HttpMethod.Delete, $"/api/v1/suggestions/{Id(w.Dee)}"), Is.EqualTo(HttpStatusCode.Forbidden));
        Assert.That(Ids(await w.Sage.GetJsonAsync("/api/v1/suggestions?limit=80")), Does.Contain(Id(w.Dee)), "the refused dismissal changed nothing");
    }

    [Test]
    public async Task Directory_lists_discoverable_accounts_by_activity_or_arrival_and_hides_what_the_viewer_shut_out()
    {
        var w = await WorldAsync("d");
        string S(long id) => id.ToString(System.Globalization.CultureInfo.InvariantCulture);
        var local = Ids(await w.Sage.GetJsonAsync("/api/v1/directory?local=true&limit=80"));
        Assert.Multiple(() =>
        {
            Assert.That(local, Does.Contain(Id(w.Cole)).And.Contain(Id(w.Dee)).And.Contain(Id(w.Ally)).And.Contain(Id(w.Sage)));
            Assert.That(local, Does.Not.Contain(Id(w.Gus)), "undiscoverable");
            Assert.That(local, Does.Not.Contain(S(w.Ivy)), "not approved yet");
            Assert.That(local, Does.Not.Contain(Id(w.Eve)).And.Not.Contain(Id(w.Finn)), "blocking sage, muted by sage");
            Assert.That(local, Does.Not.Contain(S(w.Far)), "local only");
            Assert.That(local.ToList().IndexOf(Id(w.Cole)), Is.LessThan(local.ToList().IndexOf(Id(w.Dee))), "active: the latest post first");
            Assert.That(local.ToList().IndexOf(Id(w.Dee)), Is.LessThan(local.ToList().IndexOf(Id(w.Hal))), "then those who never posted");
        });
        var everywhere = Ids(await w.Sage.GetJsonAsync("/api/v1/directory?limit=80"));
        Assert.That(everywhere, Does.Contain(S(w.Far)));
        Assert.That(everywhere, Does.Not.Contain(S(w.Shut)), "a server sage blocked");

        // Anonymous readers see the directory too, without sage's own exclusions.
        var anonymous = Ids(await Api.JsonAsync(await _instance.Client.GetAsync(new Uri("/api/v1/directory?local=1&limit=80", UriKind.Relative))));
        Assert.That(anonymous, Does.Contain(Id(w.Eve)).And.Contain(Id(w.Finn)));
        Assert.That(anonymous, Does.Not.Contain(Id(w.Gus)));

        var newest = Ids(await w.Sage.GetJsonAsync("/api/v1/directory?local=true&order=new&limit=80")).ToList();
        Assert.That(newest.IndexOf(Id(w.Hal)), Is.LessThan(newest.IndexOf(Id(w.Sage))), "new: the latest to join first");
        var page = Ids(await w.Sage.GetJsonAsync("/api/v1/directory?local=true&order=new&limit=2&offset=1"));
        Assert.That(page, Is.EqualTo(newest.Skip(1).Take(2)));
        Assert.That(await StatusOfAsync(w.Sage.Api, HttpMethod.Get, "/api/v1/directory?order=popular"), Is.EqualTo(HttpStatusCode.UnprocessableEntity));
        Assert.That((await w.Sage.GetJsonAsync("/api/v1/directory?limit=abc&offset=-3")).ValueKind, Is.EqualTo(JsonValueKind.Array));
    }

    [Test]
    public async Task Accounts_and_statuses_by_ids_come_back_in_the_order_asked_and_only_as_far_as_the_viewer_may_see()
    {
        var (kai, lee, mo) = (await _instance.CreateMemberAsync("kai"), await _instance.CreateMemberAsync("lee"), await _instance.CreateMemberAsync("mo"));
        var accounts = await kai.GetJsonAsync($"/api/v1/accounts?id[]={Id(mo)}&id[]=999999999&id[]={Id(lee)}&id[]=nonsense");
        Assert.That(Ids(accounts), Is.EqualTo(new[] { Id(mo), Id(lee) }));
        Assert.That(accounts[0].GetProperty("acct").GetString(), Is.EqualTo("mo"));

        var open = (await lee.PostJsonAsync("/api/v1/statuses", new { status = "for all" })).GetProperty("id").GetString()!;
        var followers = (await lee.PostJsonAsync("/api/v1/statuses", new { status = "for followers", visibility = "private" })).GetProperty("id").GetString()!;
        var direct = (await lee.PostJsonAsync("/api/v1/statuses", new { status = "@mo just you", visibility = "direct" })).GetProperty("id").GetString()!;
        var query = $"/api/v1/statuses?id[]={direct}&id[]={followers}&id[]={open}";
        Assert.That(Ids(await kai.GetJsonAsync(query)), Is.EqualTo(new[] { open }), "kai follows nobody and is not addressed");
        Assert.That(Ids(await mo.GetJsonAsync(query)), Is.EqualTo(new[] { direct, open }), "mo is addressed by the direct one");
        Assert.That(Ids(await lee.GetJsonAsync(query)), Is.EqualTo(new[] { direct, followers, open }), "the author sees all, in the order asked");
        Assert.That(Ids(await Api.JsonAsync(await _instance.Client.GetAsync(new Uri(query, UriKind.Relative)))), Is.EqualTo(new[] { open }));
        await lee.Api.DeleteAsync(new Uri($"/api/v1/statuses/{open}", UriKind.Relative));
        Assert.That(Ids(await lee.GetJsonAsync(query)), Is.EqualTo(new[] { direct, followers }), "deleted is gone");

        var tooMany = string.Join('&', Enumerable.Range(1, 41).Select(i => $"id[]={i}"));
        Assert.That(await StatusOfAsync(kai.Api, HttpMethod.Get, "/api/v1/statuses?" + tooMany), Is.EqualTo(HttpStatusCode.UnprocessableEntity));
        Assert.That(await StatusOfAsync(kai.Api, HttpMethod.Get, "/api/v1/accounts?" + tooMany), Is.EqualTo(HttpStatusCode.UnprocessableEntity));
        Assert.That((await kai.GetJsonAsync("/api/v1/statuses")).GetArrayLength(), Is.Zero);
    }

    [Test]
    public async Task Filter_keywords_and_statuses_are_read_and_changed_one_by_one_by_their_owner_only()
    {
        var (nia, oz) = (await _instance.CreateMemberAsync("nia"), await _instance.CreateMemberAsync("oz"));
        var filter = await nia.PostJsonAsync("/api/v2/filters", new
        {
            title = "Spoilers", context = new[] { "home" }, keywords_attributes = new[] { new { keyword = "finale", whole_word = true } },
        });
        var filterId = filter.GetProperty("id").GetString();
        var keywordId = filter.GetProperty("keywords")[0].GetProperty("id").GetString();

        var keyword = await nia.GetJsonAsync($"/api/v2/filters/keywords/{keywordId}");
        Assert.That(keyword.GetProperty("keyword").GetString(), Is.EqualTo("finale"));
        Assert.That(keyword.GetProperty("whole_word").GetBoolean(), Is.True);
        using (var put = await nia.Api.PutAsJsonAsync(new Uri($"/api/v2/filters/keywords/{keywordId}", UriKind.Relative), new { keyword = "season finale", whole_word = false }))
        {
            var changed = await Api.JsonAsync(put);
            Assert.That(changed.GetProperty("id").GetString(), Is.EqualTo(keywordId));
            Assert.That(changed.GetProperty("keyword").GetString(), Is.EqualTo("season finale"));
            Assert.That(changed.GetProperty("whole_word").GetBoolean(), Is.False);
        }
        var reread = (await nia.GetJsonAsync($"/api/v2/filters/{filterId}")).GetProperty("keywords")[0];
        Assert.That(reread.GetProperty("keyword").GetString(), Is.EqualTo("season finale"));

        // Someone else's keyword does not exist for them; bad input and a read-only token change nothing.
        Assert.That(await StatusOfAsync(oz.Api, HttpMethod.Get, $"/api/v2/filters/keywords/{keywordId}"), Is.EqualTo(HttpStatusCode.NotFound));
        Assert.That(await StatusOfAsync(oz.Api, HttpMethod.Put, $"/api/v2/filters/keywords/{keywordId}", new { keyword = "hijacked" }), Is.EqualTo(HttpStatusCode.NotFound));
        Assert.That(await StatusOfAsync(nia.Api, HttpMethod.Put, $"/api/v2/filters/keywords/{keywordId}", new { keyword = "  " }), Is.EqualTo(HttpStatusCode.UnprocessableEntity));
        Assert.That(await StatusOfAsync(nia.Api, HttpMethod.Put, $"/api/v2/filters/keywords/{keywordId}", new { keyword = new string('k', 513) }),
            Is.EqualTo(HttpStatusCode.UnprocessableEntity));
        Assert.That(await StatusOfAsync(nia.Api, HttpMethod.Get, "/api/v2/filters/keywords/abc"), Is.EqualTo(HttpStatusCode.NotFound));
        using var readOnly = await ClientWithScopesAsync(nia, "read:filters");
        Assert.That(await StatusOfAsync(readOnly, HttpMethod.Put, $"/api/v2/filters/keywords/{keywordId}", new { keyword = "x" }), Is.EqualTo(HttpStatusCode.Forbidden));
        Assert.That(await StatusOfAsync(readOnly, HttpMethod.Get, $"/api/v2/filters/keywords/{keywordId}"), Is.EqualTo(HttpStatusCode.OK));
        Assert.That((await nia.GetJsonAsync($"/api/v2/filters/keywords/{keywordId}")).GetProperty("keyword").GetString(), Is.EqualTo("season finale"));

        var post = (await oz.PostJsonAsync("/api/v1/statuses", new { status = "the finale!" })).GetProperty("id").GetString();
        var entry = await nia.PostJsonAsync($"/api/v2/filters/{filterId}/statuses", new { status_id = post });
        var entryId = entry.GetProperty("id").GetString();
        var read = await nia.GetJsonAsync($"/api/v2/filters/statuses/{entryId}");
        Assert.That(read.GetProperty("status_id").GetString(), Is.EqualTo(post));
        Assert.That(await StatusOfAsync(oz.Api, HttpMethod.Get, $"/api/v2/filters/statuses/{entryId}"), Is.EqualTo(HttpStatusCode.NotFound));
    }

    [Test]
    public async Task V1_filters_are_one_keyword_filters_created_changed_and_deleted_by_their_owner_only()
    {
        var (pat, quin) = (await _instance.CreateMemberAsync("pat"), await _instance.CreateMemberAsync("quin"));
        var created = await pat.PostJsonAsync("/api/v1/filters", new { phrase = "finale", context = new[] { "home", "thread" }, whole_word = false });
        var id = created.GetProperty("id").GetString();
        Assert.Multiple(() =>
        {
            Assert.That(created.GetProperty("phrase").GetString(), Is.EqualTo("finale"));
            Assert.That(created.GetProperty("context").EnumerateArray().Select(c => c.GetString()), Is.EqualTo(new[] { "home", "thread" }));
            Assert.That(created.GetProperty("whole_word").GetBoolean(), Is.False);
            Assert.That(created.GetProperty("irreversible").GetBoolean(), Is.False);
            Assert.That(created.GetProperty("expires_at").ValueKind, Is.EqualTo(JsonValueKind.Null));
        });
        // The same filter in v2: titled by its phrase, one keyword whose id is the v1 id.
        var v2 = (await pat.GetJsonAsync("/api/v2/filters")).EnumerateArray().Single();
        Assert.That(v2.GetProperty("title").GetString(), Is.EqualTo("finale"));
        Assert.That(v2.GetProperty("keywords")[0].GetProperty("id").GetString(), Is.EqualTo(id));
        Assert.That(v2.GetProperty("filter_action").GetString(), Is.EqualTo("warn"));

        using (var put = await pat.Api.PutAsJsonAsync(new Uri($"/api/v1/filters/{id}", UriKind.Relative), new { phrase = "season finale", irreversible = true, expires_in = 3600 }))
        {
            var changed = await Api.JsonAsync(put);
            Assert.That(changed.GetProperty("phrase").GetString(), Is.EqualTo("season finale"));
            Assert.That(changed.GetProperty("irreversible").GetBoolean(), Is.True);
            Assert.That(changed.GetProperty("expires_at").ValueKind, Is.EqualTo(JsonValueKind.String));
            Assert.That(changed.GetProperty("context").GetArrayLength(), Is.EqualTo(2), "left out, the context stays");
        }
        Assert.That((await pat.GetJsonAsync($"/api/v1/filters/{id}")).GetProperty("phrase").GetString(), Is.EqualTo("season finale"));
        Assert.That((await pat.GetJsonAsync("/api/v2/filters")).EnumerateArray().Single().GetProperty("filter_action").GetString(), Is.EqualTo("hide"));

        // Another member's filter does not exist for them; bad input changes nothing.
        Assert.That(await StatusOfAsync(quin.Api, HttpMethod.Get, $"/api/v1/filters/{id}"), Is.EqualTo(HttpStatusCode.NotFound));
        Assert.That(await StatusOfAsync(quin.Api, HttpMethod.Put, $"/api/v1/filters/{id}", new { phrase = "mine" }), Is.EqualTo(HttpStatusCode.NotFound));
        Assert.That(await StatusOfAsync(quin.Api, HttpMethod.Delete, $"/api/v1/filters/{id}"), Is.EqualTo(HttpStatusCode.NotFound));
        Assert.That(await StatusOfAsync(pat.Api, HttpMethod.Post, "/api/v1/filters", new { phrase = " ", context = new[] { "home" } }), Is.EqualTo(HttpStatusCode.UnprocessableEntity));
        Assert.That(await StatusOfAsync(pat.Api, HttpMethod.Post, "/api/v1/filters", new { phrase = "x", context = new[] { "everywhere" } }), Is.EqualTo(HttpStatusCode.UnprocessableEntity));
        Assert.That(await StatusOfAsync(pat.Api, HttpMethod.Post, "/api/v1/filters", new { phrase = "x" }), Is.EqualTo(HttpStatusCode.UnprocessableEntity));
        Assert.That(await StatusOfAsync(pat.Api, HttpMethod.Put, $"/api/v1/filters/{id}", new { expires_in = "tomorrow" }), Is.EqualTo(HttpStatusCode.UnprocessableEntity));
        using var readOnly = await ClientWithScopesAsync(pat, "read:filters");
        Assert.That(await StatusOfAsync(readOnly, HttpMethod.Delete, $"/api/v1/filters/{id}"), Is.EqualTo(HttpStatusCode.Forbidden));
        Assert.That((await pat.GetJsonAsync("/api/v1/filters")).GetArrayLength(), Is.EqualTo(1));

        // Deleting the only keyword deletes the filter; a v2 filter with more keywords keeps the others.
        Assert.That((await pat.Api.DeleteAsync(new Uri($"/api/v1/filters/{id}", UriKind.Relative))).StatusCode, Is.EqualTo(HttpStatusCode.OK));
        Assert.That((await pat.GetJsonAsync("/api/v2/filters")).GetArrayLength(), Is.Zero);
        var two = await pat.PostJsonAsync("/api/v2/filters", new
        {
            title = "Two", context = new[] { "home" }, keywords_attributes = new[] { new { keyword = "one" }, new { keyword = "two" } },
        });
        await pat.Api.DeleteAsync(new Uri($"/api/v1/filters/{two.GetProperty("keywords")[0].GetProperty("id").GetString()}", UriKind.Relative));
        var left = (await pat.GetJsonAsync("/api/v2/filters")).EnumerateArray().Single();
        Assert.That(left.GetProperty("keywords").EnumerateArray().Select(k => k.GetProperty("keyword").GetString()), Is.EqualTo(new[] { "two" }));
    }

    /// <summary>
    /// The calls the audited clients make on start and on their main screens, each answered 200 with JSON of the
    /// documented kind (list or object). The list is the condensed result of reading their sources.
    /// </summary>
    [Test]
    public async Task Start_up_calls_of_real_clients_answer_json_of_the_documented_kind()
    {
        var pia = await _instance.CreateMemberAsync("pia");
        var status = (await pia.PostJsonAsync("/api/v1/statuses", new { status = "hello #start" })).GetProperty("id").GetString();
        var me = Id(pia);
        var lists = new[]
        {
            "/api/v1/custom_emojis", "/api/v1/announcements", "/api/v1/filters", "/api/v2/filters", "/api/v1/followed_tags", "/api/v1/lists",
            "/api/v1/trends/tags", "/api/v1/trends/statuses", "/api/v1/trends/links", "/api/v1/trends", "/api/v1/suggestions", "/api/v2/suggestions",
            "/api/v1/directory", "/api/v1/featured_tags", "/api/v1/featured_tags/suggestions", "/api/v1/endorsements", "/api/v1/conversations",
            "/api/v1/scheduled_statuses", "/api/v1/follow_requests", "/api/v1/domain_blocks", "/api/v1/mutes", "/api/v1/blocks", "/api/v1/bookmarks",
            "/api/v1/favourites", "/api/v1/notifications", "/api/v1/instance/peers", "/api/v1/instance/rules", "/api/v1/instance/domain_blocks",
            "/api/v1/instance/languages", $"/api/v1/accounts/{me}/lists", $"/api/v1/accounts/{me}/featured_tags", $"/api/v1/accounts/{me}/endorsements",
            $"/api/v1/accounts/{me}/statuses?pinned=true", $"/api/v1/accounts/relationships?id[]={me}&with_suspended=true",
            $"/api/v1/accounts/familiar_followers?id[]={me}", "/api/v1/timelines/home", "/api/v1/timelines/public?local=true", "/api/v1/timelines/tag/start",
            $"/api/v1/statuses/{status}/history", $"/api/v1/statuses?id[]={status}", $"/api/v1/accounts?id[]={me}",
        };
        var objects = new[]
        {
            "/api/v1/instance", "/api/v2/instance", "/api/v1/instance/extended_description", "/api/v1/instance/translation_languages",
            "/api/v1/preferences", "/api/v1/accounts/verify_credentials", "/api/v1/markers?timeline[]=home&timeline[]=notifications",
            "/api/v1/notifications/unread_count", "/api/v1/tags/start", "/api/v2/search?q=start", $"/api/v1/statuses/{status}/source",
            $"/api/v1/statuses/{status}/context", "/nodeinfo/2.0",
        };
        foreach (var (paths, kind) in new[] { (lists, JsonValueKind.Array), (objects, JsonValueKind.Object) })
            foreach (var path in paths)
            {
                var response = await pia.Api.GetAsync(new Uri(path, UriKind.Relative));
                var text = await response.Content.ReadAsStringAsync();
                Assert.That(response.StatusCode, Is.EqualTo(HttpStatusCode.OK), $"{path}: {text}");
                Assert.That(response.Content.Headers.ContentType?.MediaType, Is.EqualTo("application/json"), path);
                Assert.That(JsonDocument.Parse(text).RootElement.ValueKind, Is.EqualTo(kind), path);
            }
        Assert.That((await pia.GetJsonAsync("/api/v1/instance/translation_languages")).EnumerateObject().Count(), Is.Zero, "no translation service");

        // What Fellows does not serve (4.3 notification requests and grouped notifications, translation without a
        // service, removed or unknown paths) is a JSON 404 the apps treat as "not supported", never a 405 or a 500.
        foreach (var (method, path) in new[]
        {
            (HttpMethod.Get, "/api/v2/notifications/policy"), (HttpMethod.Get, "/api/v1/notifications/requests"), (HttpMethod.Get, "/api/v2/notifications"),
            (HttpMethod.Post, $"/api/v1/statuses/{status}/translate"), (HttpMethod.Get, $"/api/v1/statuses/{status}/card"),
            (HttpMethod.Post, "/api/v1/announcements/1/dismiss"), (HttpMethod.Put, "/api/v1/announcements/1/reactions/%F0%9F%91%8D"),
            (HttpMethod.Get, "/api/v1/timelines/link?url=https%3A%2F%2Fexample.com"), (HttpMethod.Patch, "/api/v1/suggestions"),
            (HttpMethod.Get, "/api/v1/push/subscription"),
        })
        {
            using var request = new HttpRequestMessage(method, new Uri(path, UriKind.Relative));
            var response = await pia.Api.SendAsync(request);
            Assert.That(response.StatusCode, Is.EqualTo(HttpStatusCode.NotFound), $"{method} {path}");
            Assert.That(JsonDocument.Parse(await response.Content.ReadAsStringAsync()).RootElement.TryGetProperty("error", out _), Is.True, $"{method} {path}");
        }
    }
}
