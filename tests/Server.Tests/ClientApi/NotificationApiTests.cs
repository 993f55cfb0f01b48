using System.Net;
using System.Net.Http.Json;
using System.Text.Json;
using Fellows.Server.Features.Auth;
using Microsoft.Extensions.DependencyInjection;
using NUnit.Framework;

// Expected values read best inline in assertions; each runs once.
#pragma warning disable CA1861

namespace Fellows.Server.Tests.ClientApi;

/// <summary>Notifications v1 on one instance: what makes them, filters, paging, dismissal, blocks, scopes.</summary>
public class NotificationApiTests
{
    FellowsInstance _instance = null!;

    [OneTimeSetUp]
    public async Task StartAsync() => _instance = await FellowsInstance.StartAsync("notify");

    [OneTimeTearDown]
    public async Task StopAsync() => await _instance.DisposeAsync();

    static async Task<(string Type, string Account, string? Status)[]> NotificationsAsync(Member member, string query = "")
    {
        var list = await member.GetJsonAsync("/api/v1/notifications" + query);
        return list.EnumerateArray().Select(n => (
            n.GetProperty("type").GetString()!,
            n.GetProperty("account").GetProperty("id").GetString()!,
            n.TryGetProperty("status", out var s) ? s.GetProperty("id").GetString() : null)).ToArray();
    }

    static string Id(Member m) => m.AccountId.ToString(System.Globalization.CultureInfo.InvariantCulture);

    static async Task<string> PostAsync(Member m, object body) =>
        (await m.PostJsonAsync("/api/v1/statuses", body)).GetProperty("id").GetString()!;

    [Test]
    public async Task Nobody_is_told_about_their_own_actions_and_types_filter()
    {
        var ann = await _instance.CreateMemberAsync("ann");
        var ben = await _instance.CreateMemberAsync("ben");
        var own = await PostAsync(ann, new { status = "talking to myself @ann" });
        await ann.PostJsonAsync($"/api/v1/statuses/{own}/favourite");
        Assert.That(await NotificationsAsync(ann), Is.Empty);

        await ben.PostJsonAsync($"/api/v1/accounts/{ann.AccountId}/follow");
        var mention = await PostAsync(ben, new { status = "@ann welcome" });
        await ben.PostJsonAsync($"/api/v1/statuses/{own}/favourite");
        await ben.PostJsonAsync($"/api/v1/statuses/{own}/reblog");
        var all = await NotificationsAsync(ann);
        Assert.That(all.Select(n => n.Type), Is.EqualTo(new[] { "reblog", "favourite", "mention", "follow" }));
        Assert.That(all.Select(n => n.Account), Is.All.EqualTo(Id(ben)));
        Assert.That(all.Select(n => n.Status), Is.EqualTo(new[] { own, own, mention, null }));

        Assert.That((await NotificationsAsync(ann, "?types[]=mention&types[]=follow")).Select(n => n.Type), Is.EqualTo(new[] { "mention", "follow" }));
        Assert.That((await NotificationsAsync(ann, "?exclude_types[]=reblog&exclude_types[]=favourite")).Select(n => n.Type), Is.EqualTo(new[] { "mention", "follow" }));
        Assert.That(await NotificationsAsync(ann, "?types[]=poll"), Is.Empty);
        Assert.That(await NotificationsAsync(ann, $"?account_id={ann.AccountId}"), Is.Empty);
        Assert.That(await NotificationsAsync(ann, "?account_id=bogus"), Is.Empty);
        Assert.That(await NotificationsAsync(ann, $"?account_id={ben.AccountId}"), Has.Length.EqualTo(4));
    }

    [Test]
    public async Task Notifications_page_with_link_headers_and_dismiss_and_clear()
    {
        var cy = await _instance.CreateMemberAsync("cy");
        var dee = await _instance.CreateMemberAsync("dee");
        var posts = new List<string>();
        for (var i = 0; i < 5; i++) posts.Add(await PostAsync(cy, new { status = $"idea {i}" }));
        foreach (var p in posts) await dee.PostJsonAsync($"/api/v1/statuses/{p}/favourite");

        var first = await cy.Api.GetAsync(new Uri("/api/v1/notifications?limit=2&types[]=favourite", UriKind.Relative));
        var page = await Api.JsonAsync(first);
        Assert.That(page.GetArrayLength(), Is.EqualTo(2));
        var link = first.Headers.GetValues("Link").Single();
        var oldest = page[1].GetProperty("id").GetString();
        Assert.That(link, Does.StartWith($"<{_instance.BaseUrl}/api/v1/notifications?").And.Contain($"max_id={oldest}").And.Contain("rel=\"next\"")
            .And.Contain("types%5B%5D=favourite").And.Contain("rel=\"prev\""));
        var next = await Api.JsonAsync(await cy.Api.GetAsync(new Uri(link.Split('>')[0].TrimStart('<'))));
        Assert.That(next.EnumerateArray().Select(n => n.GetProperty("status").GetProperty("id").GetString()), Is.EqualTo(new[] { posts[2], posts[1] }));

        var one = page[0].GetProperty("id").GetString();
        var fetched = await cy.GetJsonAsync($"/api/v1/notifications/{one}");
        Assert.That(fetched.GetProperty("type").GetString(), Is.EqualTo("favourite"));
        Assert.That((await dee.Api.GetAsync(new Uri($"/api/v1/notifications/{one}", UriKind.Relative))).StatusCode, Is.EqualTo(HttpStatusCode.NotFound),
            "another member cannot read it");
        Assert.That((await dee.Api.PostAsync(new Uri($"/api/v1/notifications/{one}/dismiss", UriKind.Relative), null)).StatusCode, Is.EqualTo(HttpStatusCode.NotFound),
            "nor dismiss it");
        await cy.PostJsonAsync($"/api/v1/notifications/{one}/dismiss");
        Assert.That((await cy.Api.GetAsync(new Uri($"/api/v1/notifications/{one}", UriKind.Relative))).StatusCode, Is.EqualTo(HttpStatusCode.NotFound));
        Assert.That(await NotificationsAsync(cy), Has.Length.EqualTo(4));

        var unread = await cy.GetJsonAsync("/api/v1/notifications/unread_count");
        Assert.That(unread.GetProperty("count").GetInt32(), Is.EqualTo(4));
        await cy.PostJsonAsync("/api/v1/markers", new Dictionary<string, object> { ["notifications"] = new { last_read_id = page[1].GetProperty("id").GetString() } });
        Assert.That((await cy.GetJsonAsync("/api/v1/notifications/unread_count")).GetProperty("count").GetInt32(), Is.Zero,
            "everything left is at or before the marker");

        await cy.PostJsonAsync("/api/v1/notifications/clear");
        Assert.That(await NotificationsAsync(cy), Is.Empty);
    }

    [Test]
    public async Task Blocks_stop_notifications_and_hide_earlier_ones()
    {
        var eve = await _instance.CreateMemberAsync("eve");
        var fox = await _instance.CreateMemberAsync("fox");
        var post = await PostAsync(eve, new { status = "proposal draft" });
        await fox.PostJsonAsync($"/api/v1/statuses/{post}/favourite");
        Assert.That(await NotificationsAsync(eve), Has.Length.EqualTo(1));

        await eve.PostJsonAsync($"/api/v1/accounts/{fox.AccountId}/block");
        Assert.That(await NotificationsAsync(eve), Is.Empty, "earlier notifications from a blocked account are hidden");
        await PostAsync(fox, new { status = "@eve hello?" });
        var reply = await fox.Api.PostAsJsonAsync(new Uri("/api/v1/statuses", UriKind.Relative), new { status = "@eve hey", in_reply_to_id = post });
        Assert.That(reply.StatusCode, Is.EqualTo(HttpStatusCode.NotFound), "a blocked account cannot see the post to reply");

        await eve.PostJsonAsync($"/api/v1/accounts/{fox.AccountId}/unblock");
        Assert.That((await NotificationsAsync(eve)).Select(n => n.Type), Is.EqualTo(new[] { "favourite" }),
            "nothing was recorded during the block; the earlier one shows again");

        // Blocked the other way round: fox blocks eve, and eve's actions towards fox are not told either.
        var foxPost = await PostAsync(fox, new { status = "mine" });
        await fox.PostJsonAsync($"/api/v1/accounts/{eve.AccountId}/block");
        await PostAsync(eve, new { status = "@fox are you there" });
        Assert.That(await NotificationsAsync(fox), Is.Empty);
        Assert.That(foxPost, Is.Not.Empty);
    }

    [Test]
    public async Task Follow_requests_and_post_subscriptions_are_told()
    {
        var gil = await _instance.CreateMemberAsync("gil", locked: true);
        var hana = await _instance.CreateMemberAsync("hana");
        await hana.PostJsonAsync($"/api/v1/accounts/{gil.AccountId}/follow");
        Assert.That((await NotificationsAsync(gil)).Select(n => n.Type), Is.EqualTo(new[] { "follow_request" }));
        await gil.PostJsonAsync($"/api/v1/follow_requests/{hana.AccountId}/authorize");
        Assert.That(await NotificationsAsync(gil), Is.Empty, "a request dealt with is no longer pending");

        // hana asks to be told when gil posts: new posts and self-replies, not replies to others or direct messages.
        await hana.PostJsonAsync($"/api/v1/accounts/{gil.AccountId}/follow", new { notify = true });
        var post = await PostAsync(gil, new { status = "new minutes are up" });
        await PostAsync(gil, new { status = "and a correction", in_reply_to_id = post });
        var other = await PostAsync(hana, new { status = "a question" });
        await PostAsync(gil, new { status = "answering hana", in_reply_to_id = other });
        await PostAsync(gil, new { status = "just for one person", visibility = "direct" });
        var told = await NotificationsAsync(hana, "?types[]=status");
        Assert.That(told, Has.Length.EqualTo(2));
        Assert.That(told.Select(n => n.Account), Is.All.EqualTo(Id(gil)));

        // Unfollowing withdraws the follow notification the followee had.
        var ida = await _instance.CreateMemberAsync("ida");
        await ida.PostJsonAsync($"/api/v1/accounts/{hana.AccountId}/follow");
        Assert.That((await NotificationsAsync(hana, "?types[]=follow")).Select(n => n.Account), Is.EqualTo(new[] { Id(ida) }));
        await ida.PostJsonAsync($"/api/v1/accounts/{hana.AccountId}/unfollow");
        Assert.That(await NotificationsAsync(hana, "?types[]=follow"), Is.Empty);
    }

    [Test]
    public async Task Deleted_and_private_statuses_do_not_leak_through_notifications()
    {
        var jo = await _instance.CreateMemberAsync("jo");
        var kai = await _instance.CreateMemberAsync("kai");
        var mention = await PostAsync(kai, new { status = "@jo look" });
        Assert.That(await NotificationsAsync(jo), Has.Length.EqualTo(1));
        await kai.Api.DeleteAsync(new Uri($"/api/v1/statuses/{mention}", UriKind.Relative));
        Assert.That(await NotificationsAsync(jo), Is.Empty, "the mention went with its status");

        // A private mention is visible to jo, so it is shown with its status.
        var secret = await PostAsync(kai, new { status = "@jo between us", visibility = "direct" });
        var told = await NotificationsAsync(jo);
        Assert.That(told.Select(n => n.Status), Is.EqualTo(new[] { secret }));
    }

    [Test]
    public async Task Scopes_and_bad_ids_get_json_errors()
    {
        var lee = await _instance.CreateMemberAsync("lee");
        var anonymous = await _instance.Client.GetAsync(new Uri("/api/v1/notifications", UriKind.Relative));
        Assert.That(anonymous.StatusCode, Is.EqualTo(HttpStatusCode.Unauthorized));
        Assert.That((await anonymous.Content.ReadFromJsonAsync<JsonElement>()).GetProperty("error").GetString(), Is.Not.Empty);

        var token = await _instance.Services.GetRequiredService<TokenService>().CreateAsync(lee.AccountId, null, ["read:statuses", "write:notifications"], CancellationToken.None);
        using var narrow = new HttpClient { BaseAddress = new Uri(_instance.BaseUrl) };
        narrow.DefaultRequestHeaders.Authorization = new System.Net.Http.Headers.AuthenticationHeaderValue("Bearer", token);
        Assert.That((await narrow.GetAsync(new Uri("/api/v1/notifications", UriKind.Relative))).StatusCode, Is.EqualTo(HttpStatusCode.Forbidden));
        Assert.That((await narrow.PostAsync(new Uri("/api/v1/notifications/clear", UriKind.Relative), null)).StatusCode, Is.EqualTo(HttpStatusCode.OK));

        Assert.That((await lee.Api.GetAsync(new Uri("/api/v1/notifications/-5", UriKind.Relative))).StatusCode, Is.EqualTo(HttpStatusCode.NotFound));
        Assert.That((await lee.Api.PostAsync(new Uri("/api/v1/notifications/abc/dismiss", UriKind.Relative), null)).StatusCode, Is.EqualTo(HttpStatusCode.NotFound));
        var badMarker = await lee.Api.PostAsJsonAsync(new Uri("/api/v1/markers", UriKind.Relative), new { home = new { last_read_id = "x" } });
        Assert.That(badMarker.StatusCode, Is.EqualTo(HttpStatusCode.UnprocessableEntity));
        var limit = await lee.Api.GetAsync(new Uri("/api/v1/notifications?limit=100000&max_id=zzz", UriKind.Relative));
        Assert.That(limit.StatusCode, Is.EqualTo(HttpStatusCode.OK));
    }
}
