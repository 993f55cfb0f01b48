using System.Net;
using System.Net.Http.Json;
using System.Text.Json;
using Fellows.Server.Features.Auth;
using Microsoft.Extensions.DependencyInjection;
using NUnit.Framework;

namespace Fellows.Server.Tests.ClientApi;

/// <summary>The Mastodon-compatible statuses, accounts and timelines endpoints on one instance.</summary>
public class StatusApiTests
{
    FellowsInstance _instance = null!;

    [OneTimeSetUp]
    public async Task StartAsync() => _instance = await FellowsInstance.StartAsync("api");

    [OneTimeTearDown]
    public async Task StopAsync() => await _instance.DisposeAsync();


    static Task<HttpResponseMessage> PostStatus(Member m, object body) => m.Api.PostAsJsonAsync(new Uri("/api/v1/statuses", UriKind.Relative), body);

    [Test]
    public async Task Context_lists_visible_ancestors_and_descendants_in_order()
    {
        var una = await _instance.CreateMemberAsync("una");
        var vic = await _instance.CreateMemberAsync("vic");
        var wes = await _instance.CreateMemberAsync("wes");
        await vic.PostJsonAsync($"/api/v1/accounts/{una.AccountId}/follow");
        async Task<string> PostAsync(Member m, string text, string? replyTo = null, string visibility = "public") =>
            (await m.PostJsonAsync("/api/v1/statuses", new { status = text, in_reply_to_id = replyTo, visibility })).GetProperty("id").GetString()!;
        static string[] Ids(JsonElement list) => list.EnumerateArray().Select(s => s.GetProperty("id").GetString()!).ToArray();

        var root = await PostAsync(una, "Root");
        var first = await PostAsync(vic, "@una first reply", root);
        var second = await PostAsync(una, "@vic second reply", first);
        var hidden = await PostAsync(una, "followers only reply", first, "private");
        var aside = await PostAsync(wes, "@vic aside", first);
        var deeper = await PostAsync(vic, "@una deeper", second);
        await PostAsync(una, "Unrelated");

        var forVic = await vic.GetJsonAsync($"/api/v1/statuses/{first}/context");
        var forWes = await wes.GetJsonAsync($"/api/v1/statuses/{first}/context");
        var ofDeeper = await wes.GetJsonAsync($"/api/v1/statuses/{deeper}/context");
        Assert.Multiple(() =>
        {
            Assert.That(Ids(forVic.GetProperty("ancestors")), Is.EqualTo(new[] { root }));
            Assert.That(Ids(forVic.GetProperty("descendants")), Is.EqualTo(new[] { second, hidden, aside, deeper }), "a follower sees the followers-only reply");
            Assert.That(Ids(forWes.GetProperty("descendants")), Is.EqualTo(new[] { second, aside, deeper }), "a stranger does not");
            Assert.That(Ids(ofDeeper.GetProperty("ancestors")), Is.EqualTo(new[] { root, first, second }));
            Assert.That(Ids(ofDeeper.GetProperty("descendants")), Is.Empty);
        });
    }

    [Test]
    public async Task AccountStatuses_paged_with_link_header_and_filters()
    {
        var ed = await _instance.CreateMemberAsync("ed");
        var ids = new List<string>();
        for (var i = 0; i < 3; i++)
            ids.Add((await Api.JsonAsync(await PostStatus(ed, new { status = $"post {i}" }))).GetProperty("id").GetString()!);
        var reply = await Api.JsonAsync(await PostStatus(ed, new { status = "a reply", in_reply_to_id = ids[0] }));

        var first = await ed.Api.GetAsync(new Uri($"/api/v1/accounts/{ed.AccountId}/statuses?limit=2", UriKind.Relative));
        var page = await Api.JsonAsync(first);
        Assert.That(page.EnumerateArray().Select(s => s.GetProperty("id").GetString()), Is.EqualTo(new[] { reply.GetProperty("id").GetString(), ids[2] }));
        var link = first.Headers.GetValues("Link").Single();
        Assert.That(link, Does.Contain($"max_id={ids[2]}").And.Contain("rel=\"next\"").And.Contain("limit=2").And.StartWith($"<{_instance.BaseUrl}/"));

        var next = await Api.JsonAsync(await ed.Api.GetAsync(new Uri($"/api/v1/accounts/{ed.AccountId}/statuses?limit=2&max_id={ids[2]}", UriKind.Relative)));
        Assert.That(next.EnumerateArray().Select(s => s.GetProperty("id").GetString()), Is.EqualTo(new[] { ids[1], ids[0] }));

        var oldestFirst = await Api.JsonAsync(await ed.Api.GetAsync(new Uri($"/api/v1/accounts/{ed.AccountId}/statuses?limit=2&min_id={ids[0]}", UriKind.Relative)));
        Assert.That(oldestFirst.EnumerateArray().Select(s => s.GetProperty("id").GetString()), Is.EqualTo(new[] { ids[2], ids[1] }), "min_id gives the page just after, newest first");

        var noReplies = await Api.JsonAsync(await ed.Api.GetAsync(new Uri($"/api/v1/accounts/{ed.AccountId}/statuses?exclude_replies=true", UriKind.Relative)));
        Assert.That(noReplies.EnumerateArray().Count(), Is.EqualTo(3));
    }

    [Test]
    public async Task CreateStatus_without_token_or_with_bad_input_gets_json_errors()
    {
        var anonymous = await _instance.Client.PostAsJsonAsync(new Uri("/api/v1/statuses", UriKind.Relative), new { status = "hi" });
        Assert.That(anonymous.StatusCode, Is.EqualTo(HttpStatusCode.Unauthorized));
        Assert.That((await anonymous.Content.ReadFromJsonAsync<JsonElement>()).GetProperty("error").GetString(), Is.Not.Empty);

        var fay = await _instance.CreateMemberAsync("fay");
        var blank = await PostStatus(fay, new { status = "   " });
        Assert.That(blank.StatusCode, Is.EqualTo(HttpStatusCode.UnprocessableEntity));
        var badVisibility = await PostStatus(fay, new { status = "x", visibility = "everyone" });
        Assert.That(badVisibility.StatusCode, Is.EqualTo(HttpStatusCode.UnprocessableEntity));
        var missingParent = await PostStatus(fay, new { status = "x", in_reply_to_id = "999999" });
        Assert.That(missingParent.StatusCode, Is.EqualTo(HttpStatusCode.NotFound));
        var notJson = await fay.Api.PostAsync(new Uri("/api/v1/statuses", UriKind.Relative), new StringContent("{oops", System.Text.Encoding.UTF8, "application/json"));
        Assert.That(notJson.StatusCode, Is.EqualTo(HttpStatusCode.BadRequest));
        // On its own connection: the server answers 413 without reading the body and then closes that connection.
        using var separate = new HttpClient { BaseAddress = new Uri(_instance.BaseUrl) };
        separate.DefaultRequestHeaders.Authorization = fay.Api.DefaultRequestHeaders.Authorization;
        separate.DefaultRequestHeaders.ExpectContinue = true; // the body is only sent if the server wants it
        var huge = await separate.PostAsync(new Uri("/api/v1/statuses", UriKind.Relative),
            new StringContent("{\"status\":\"" + new string('a', 2 * 1024 * 1024) + "\"}", System.Text.Encoding.UTF8, "application/json"));
        Assert.That(huge.StatusCode, Is.EqualTo(HttpStatusCode.RequestEntityTooLarge));
        var form = await fay.Api.PostAsync(new Uri("/api/v1/statuses", UriKind.Relative),
            new FormUrlEncodedContent(new Dictionary<string, string> { ["status"] = "from a form", ["sensitive"] = "1", ["spoiler_text"] = "cw" }));
        var fromForm = await Api.JsonAsync(form);
        Assert.That(fromForm.GetProperty("sensitive").GetBoolean(), Is.True);
        Assert.That(fromForm.GetProperty("spoiler_text").GetString(), Is.EqualTo("cw"));
    }

    [Test]
    public async Task ReadOnly_token_cannot_post()
    {
        var gus = await _instance.CreateMemberAsync("gus");
        var token = await _instance.Services.GetRequiredService<TokenService>().CreateAsync(gus.AccountId, null, [Scopes.Read], CancellationToken.None);
        using var client = new HttpClient { BaseAddress = new Uri(_instance.BaseUrl) };
        client.DefaultRequestHeaders.Authorization = new System.Net.Http.Headers.AuthenticationHeaderValue("Bearer", token);
        var response = await client.PostAsJsonAsync(new Uri("/api/v1/statuses", UriKind.Relative), new { status = "nope" });
        Assert.That(response.StatusCode, Is.EqualTo(HttpStatusCode.Forbidden));
        var home = await client.GetAsync(new Uri("/api/v1/timelines/home", UriKind.Relative));
        Assert.That(home.StatusCode, Is.EqualTo(HttpStatusCode.OK));
    }

    [Test]
    public async Task Boost_and_unboost_local_post_updates_counts_for_author_only()
    {
        var hal = await _instance.CreateMemberAsync("hal");
        var ivy = await _instance.CreateMemberAsync("ivy");
        var post = await Api.JsonAsync(await PostStatus(hal, new { status = "boost me" }));
        var id = post.GetProperty("id").GetString();
        var boost = await Api.JsonAsync(await ivy.Api.PostAsync(new Uri($"/api/v1/statuses/{id}/reblog", UriKind.Relative), null));
        Assert.That(boost.GetProperty("reblog").GetProperty("id").GetString(), Is.EqualTo(id));
        Assert.That(boost.GetProperty("reblog").GetProperty("reblogged").GetBoolean(), Is.True);
        var again = await Api.JsonAsync(await ivy.Api.PostAsync(new Uri($"/api/v1/statuses/{id}/reblog", UriKind.Relative), null));
        Assert.That(again.GetProperty("id").GetString(), Is.EqualTo(boost.GetProperty("id").GetString()), "boosting twice returns the same boost");

        Assert.That((await Api.JsonAsync(await hal.Api.GetAsync(new Uri($"/api/v1/statuses/{id}", UriKind.Relative)))).GetProperty("reblogs_count").GetInt32(), Is.EqualTo(1));
        Assert.That((await Api.JsonAsync(await ivy.Api.GetAsync(new Uri($"/api/v1/statuses/{id}", UriKind.Relative)))).GetProperty("reblogs_count").GetInt32(), Is.Zero);

        var undone = await Api.JsonAsync(await ivy.Api.PostAsync(new Uri($"/api/v1/statuses/{id}/unreblog", UriKind.Relative), null));
        Assert.That(undone.GetProperty("reblogged").GetBoolean(), Is.False);
        Assert.That((await Api.JsonAsync(await hal.Api.GetAsync(new Uri($"/api/v1/statuses/{id}", UriKind.Relative)))).GetProperty("reblogs_count").GetInt32(), Is.Zero);
        var privatePost = await Api.JsonAsync(await PostStatus(hal, new { status = "members", visibility = "private" }));
        var refused = await hal.Api.PostAsync(new Uri($"/api/v1/statuses/{privatePost.GetProperty("id").GetString()}/reblog", UriKind.Relative), null);
        Assert.That(refused.StatusCode, Is.EqualTo(HttpStatusCode.Forbidden));
    }
}
