using System.Net;
using System.Net.Http.Json;
using System.Text.Json;
using NUnit.Framework;

namespace Fellows.Server.Tests.ClientApi;

/// <summary>Lists: CRUD, members (followed accounts only), list timelines, exclusive lists, and unfollow taking people off.</summary>
public class ListApiTests
{
    FellowsInstance _instance = null!;

    [OneTimeSetUp]
    public async Task StartAsync() => _instance = await FellowsInstance.StartAsync("lists");

    [OneTimeTearDown]
    public async Task StopAsync() => await _instance.DisposeAsync();

    static IEnumerable<string?> Ids(JsonElement page) => page.EnumerateArray().Select(s => s.GetProperty("id").GetString());

    [Test]
    public async Task Lists_hold_followed_accounts_and_give_their_own_timeline()
    {
        var ana = await _instance.CreateMemberAsync("ana");
        var ben = await _instance.CreateMemberAsync("ben");
        var cy = await _instance.CreateMemberAsync("cy");
        await ana.PostJsonAsync($"/api/v1/accounts/{ben.AccountId}/follow");
        await ana.PostJsonAsync($"/api/v1/accounts/{cy.AccountId}/follow");

        var list = await ana.PostJsonAsync("/api/v1/lists", new { title = "Kitchen rota", replies_policy = "list" });
        var listId = list.GetProperty("id").GetString();
        Assert.That(list.GetProperty("replies_policy").GetString(), Is.EqualTo("list"));
        await ana.PostJsonAsync($"/api/v1/lists/{listId}/accounts", new { account_ids = new[] { ben.AccountId.ToString(System.Globalization.CultureInfo.InvariantCulture) } });
        var stranger = await _instance.CreateMemberAsync("dee");
        var notFollowed = await ana.Api.PostAsJsonAsync(new Uri($"/api/v1/lists/{listId}/accounts", UriKind.Relative), new { account_ids = new[] { stranger.AccountId.ToString(System.Globalization.CultureInfo.InvariantCulture) } });
        Assert.That(notFollowed.StatusCode, Is.EqualTo(HttpStatusCode.NotFound));

        var benPost = await ben.PostJsonAsync("/api/v1/statuses", new { status = "Soup on Thursday" });
        await cy.PostJsonAsync("/api/v1/statuses", new { status = "Not on the list" });
        Assert.That(Ids(await ana.GetJsonAsync($"/api/v1/timelines/list/{listId}")), Is.EqualTo(new[] { benPost.GetProperty("id").GetString() }));
        Assert.That((await ana.GetJsonAsync($"/api/v1/lists/{listId}/accounts")).EnumerateArray().Single().GetProperty("username").GetString(), Is.EqualTo("ben"));
        Assert.That((await ana.GetJsonAsync($"/api/v1/accounts/{ben.AccountId}/lists")).EnumerateArray().Single().GetProperty("title").GetString(), Is.EqualTo("Kitchen rota"));

        // Exclusive: ben's posts leave the home timeline.
        Assert.That(Ids(await ana.GetJsonAsync("/api/v1/timelines/home")), Does.Contain(benPost.GetProperty("id").GetString()));
        await Api.JsonAsync(await ana.Api.PutAsJsonAsync(new Uri($"/api/v1/lists/{listId}", UriKind.Relative), new { exclusive = true }));
        Assert.That(Ids(await ana.GetJsonAsync("/api/v1/timelines/home")), Does.Not.Contain(benPost.GetProperty("id").GetString()));

        // Someone else's list is nobody else's business; unfollowing takes ben off.
        Assert.That((await ben.Api.GetAsync(new Uri($"/api/v1/timelines/list/{listId}", UriKind.Relative))).StatusCode, Is.EqualTo(HttpStatusCode.NotFound));
        await ana.PostJsonAsync($"/api/v1/accounts/{ben.AccountId}/unfollow");
        Assert.That((await ana.GetJsonAsync($"/api/v1/lists/{listId}/accounts")).GetArrayLength(), Is.Zero);

        Assert.That((int)(await ana.Api.PostAsJsonAsync(new Uri("/api/v1/lists", UriKind.Relative), new { title = " " })).StatusCode, Is.EqualTo(422));
        Assert.That((int)(await ana.Api.PostAsJsonAsync(new Uri("/api/v1/lists", UriKind.Relative), new { title = "x", replies_policy = "all" })).StatusCode, Is.EqualTo(422));
        Assert.That((await ana.Api.DeleteAsync(new Uri($"/api/v1/lists/{listId}", UriKind.Relative))).StatusCode, Is.EqualTo(HttpStatusCode.OK));
        Assert.That((await ana.GetJsonAsync("/api/v1/lists")).GetArrayLength(), Is.Zero);
    }
}
