using System.Net;
using System.Net.Http.Json;
using System.Text.Json;
using NUnit.Framework;

namespace Fellows.Server.Tests.ClientApi;

/// <summary>Filters v2: CRUD, keywords and statuses, and the <c>filtered</c> results statuses carry for the member.</summary>
public class FilterApiTests
{
    static readonly string[] HomeAndPublic = ["home", "public"];
    static readonly string[] UnknownContext = ["everywhere"];

    FellowsInstance _instance = null!;

    [OneTimeSetUp]
    public async Task StartAsync() => _instance = await FellowsInstance.StartAsync("filters");

    [OneTimeTearDown]
    public async Task StopAsync() => await _instance.DisposeAsync();

    static JsonElement? Find(JsonElement page, string id) =>
        page.EnumerateArray().Where(s => s.GetProperty("id").GetString() == id).Select(s => (JsonElement?)s).FirstOrDefault();

    [Test]
    public async Task Keyword_and_status_filters_mark_matching_posts_for_the_member_only()
    {
        var eve = await _instance.CreateMemberAsync("eve");
        var fin = await _instance.CreateMemberAsync("fin");
        await eve.PostJsonAsync($"/api/v1/accounts/{fin.AccountId}/follow");
        var spoiler = await fin.PostJsonAsync("/api/v1/statuses", new { status = "The finale of the series was great" });
        var partial = await fin.PostJsonAsync("/api/v1/statuses", new { status = "Seriously, bring snacks" });
        var other = await fin.PostJsonAsync("/api/v1/statuses", new { status = "Meeting moved to Friday" });

        var filter = await eve.PostJsonAsync("/api/v2/filters", new
        {
            title = "TV", context = HomeAndPublic, filter_action = "warn",
            keywords_attributes = new[] { new { keyword = "series", whole_word = true } },
        });
        var filterId = filter.GetProperty("id").GetString();
        Assert.That(filter.GetProperty("keywords")[0].GetProperty("keyword").GetString(), Is.EqualTo("series"));
        await eve.PostJsonAsync($"/api/v2/filters/{filterId}/statuses", new { status_id = other.GetProperty("id").GetString() });

        var home = await eve.GetJsonAsync("/api/v1/timelines/home");
        var matched = Find(home, spoiler.GetProperty("id").GetString()!)!.Value.GetProperty("filtered");
        Assert.Multiple(() =>
        {
            Assert.That(matched.GetArrayLength(), Is.EqualTo(1));
            Assert.That(matched[0].GetProperty("filter").GetProperty("title").GetString(), Is.EqualTo("TV"));
            Assert.That(matched[0].GetProperty("keyword_matches")[0].GetString(), Is.EqualTo("series"));
            Assert.That(Find(home, partial.GetProperty("id").GetString()!)!.Value.GetProperty("filtered").GetArrayLength(), Is.Zero, "whole word only");
            Assert.That(Find(home, other.GetProperty("id").GetString()!)!.Value.GetProperty("filtered")[0].GetProperty("status_matches")[0].GetString(),
                Is.EqualTo(other.GetProperty("id").GetString()));
        });
        var finOwn = await fin.GetJsonAsync($"/api/v1/statuses/{spoiler.GetProperty("id").GetString()}");
        Assert.That(finOwn.GetProperty("filtered").GetArrayLength(), Is.Zero, "filters are the member's own");

        // Change the action and drop the keyword; v1 view; other members cannot touch it.
        var keywordId = filter.GetProperty("keywords")[0].GetProperty("id").GetString();
        var updated = await Api.JsonAsync(await eve.Api.PutAsJsonAsync(new Uri($"/api/v2/filters/{filterId}", UriKind.Relative), new
        {
            filter_action = "hide", keywords_attributes = new[] { new { id = keywordId, _destroy = "true" } },
        }));
        Assert.That(updated.GetProperty("filter_action").GetString(), Is.EqualTo("hide"));
        Assert.That(updated.GetProperty("keywords").GetArrayLength(), Is.Zero);
        Assert.That((await eve.GetJsonAsync("/api/v1/filters")).GetArrayLength(), Is.Zero);
        Assert.That((await fin.Api.DeleteAsync(new Uri($"/api/v2/filters/{filterId}", UriKind.Relative))).StatusCode, Is.EqualTo(HttpStatusCode.NotFound));
        Assert.That((int)(await eve.Api.PostAsJsonAsync(new Uri("/api/v2/filters", UriKind.Relative), new { title = "x", context = UnknownContext })).StatusCode, Is.EqualTo(422));
        Assert.That((await eve.Api.DeleteAsync(new Uri($"/api/v2/filters/{filterId}", UriKind.Relative))).StatusCode, Is.EqualTo(HttpStatusCode.OK));
        Assert.That((await eve.GetJsonAsync("/api/v2/filters")).GetArrayLength(), Is.Zero);
    }
}
