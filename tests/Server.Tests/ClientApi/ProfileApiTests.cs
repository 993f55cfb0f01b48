using System.Net;
using System.Net.Http.Json;
using NUnit.Framework;

namespace Fellows.Server.Tests.ClientApi;

/// <summary>update_credentials and the member's posting defaults, on one instance.</summary>
public class ProfileApiTests
{
    FellowsInstance _instance = null!;

    [OneTimeSetUp]
    public async Task StartAsync() => _instance = await FellowsInstance.StartAsync("profiles");

    [OneTimeTearDown]
    public async Task StopAsync() => await _instance.DisposeAsync();

    static Uri Path(string path) => new(path, UriKind.Relative);

    [Test]
    public async Task Form_update_sets_name_bio_fields_and_defaults_and_verify_credentials_shows_the_source()
    {
        var ivy = await _instance.CreateMemberAsync("ivy");
        // Fetched once before the change, so a cached copy would show the old profile.
        using (var before = new HttpRequestMessage(HttpMethod.Get, ivy.ActorId))
        {
            before.Headers.Accept.ParseAdd("application/activity+json");
            Assert.That((await Api.JsonAsync(await _instance.Client.SendAsync(before))).TryGetProperty("name", out _), Is.False);
            Assert.That((await _instance.Client.GetAsync(new Uri($"/.well-known/webfinger?resource=acct:ivy@{_instance.Domain}", UriKind.Relative))).IsSuccessStatusCode, Is.True);
        }
        using var form = new FormUrlEncodedContent(new Dictionary<string, string>
        {
            ["display_name"] = "Ivy of the Bakery",
            ["note"] = "We bake on Tuesdays #bread https://bakery.example",
            ["locked"] = "1",
            ["bot"] = "false",
            ["fields_attributes[0][name]"] = "Shift",
            ["fields_attributes[0][value]"] = "Tuesday mornings",
            ["fields_attributes[1][name]"] = "Site",
            ["fields_attributes[1][value]"] = "https://bakery.example/ivy",
            ["source[privacy]"] = "unlisted",
            ["source[sensitive]"] = "true",
            ["source[language]"] = "en",
        });
        var updated = await Api.JsonAsync(await ivy.Api.PatchAsync(Path("/api/v1/accounts/update_credentials"), form));
        Assert.Multiple(() =>
        {
            Assert.That(updated.GetProperty("display_name").GetString(), Is.EqualTo("Ivy of the Bakery"));
            Assert.That(updated.GetProperty("locked").GetBoolean(), Is.True);
            Assert.That(updated.GetProperty("note").GetString(), Does.Contain("class=\"mention hashtag\"").And.Contain("href=\"https://bakery.example\""));
            Assert.That(updated.GetProperty("fields")[1].GetProperty("value").GetString(), Does.StartWith("<a href=\"https://bakery.example/ivy\""));
            var source = updated.GetProperty("source");
            Assert.That(source.GetProperty("note").GetString(), Is.EqualTo("We bake on Tuesdays #bread https://bakery.example"));
            Assert.That(source.GetProperty("privacy").GetString(), Is.EqualTo("unlisted"));
            Assert.That(source.GetProperty("sensitive").GetBoolean(), Is.True);
            Assert.That(source.GetProperty("language").GetString(), Is.EqualTo("en"));
            Assert.That(source.GetProperty("fields")[1].GetProperty("value").GetString(), Is.EqualTo("https://bakery.example/ivy"));
        });

        // The defaults apply to a post that does not say otherwise.
        var post = await ivy.PostJsonAsync("/api/v1/statuses", new { status = "fresh loaves" });
        Assert.That(post.GetProperty("visibility").GetString(), Is.EqualTo("unlisted"));
        Assert.That(post.GetProperty("sensitive").GetBoolean(), Is.True);
        Assert.That(post.GetProperty("language").GetString(), Is.EqualTo("en"));

        // The actor document federates the new profile.
        using var actorRequest = new HttpRequestMessage(HttpMethod.Get, ivy.ActorId);
        actorRequest.Headers.Accept.ParseAdd("application/activity+json");
        var actor = await Api.JsonAsync(await _instance.Client.SendAsync(actorRequest));
        Assert.That(actor.GetProperty("name").GetString(), Is.EqualTo("Ivy of the Bakery"));
        Assert.That(actor.GetProperty("manuallyApprovesFollowers").GetBoolean(), Is.True);
        Assert.That(actor.GetProperty("attachment").GetArrayLength(), Is.EqualTo(2));
    }

    [Test]
    public async Task Json_update_with_field_array_replaces_fields_and_leaves_the_rest()
    {
        var jo = await _instance.CreateMemberAsync("jo");
        await Api.JsonAsync(await jo.Api.PatchAsJsonAsync(Path("/api/v1/accounts/update_credentials"),
            new { display_name = "Jo", fields_attributes = new[] { new { name = "Role", value = "Treasurer" } } }));
        var second = await Api.JsonAsync(await jo.Api.PatchAsJsonAsync(Path("/api/v1/accounts/update_credentials"), new { note = "Keeps the books" }));
        Assert.Multiple(() =>
        {
            Assert.That(second.GetProperty("display_name").GetString(), Is.EqualTo("Jo"), "untouched by the second update");
            Assert.That(second.GetProperty("fields").GetArrayLength(), Is.EqualTo(1));
            Assert.That(second.GetProperty("fields")[0].GetProperty("name").GetString(), Is.EqualTo("Role"));
            Assert.That(second.GetProperty("source").GetProperty("note").GetString(), Is.EqualTo("Keeps the books"));
        });
        var cleared = await Api.JsonAsync(await jo.Api.PatchAsJsonAsync(Path("/api/v1/accounts/update_credentials"),
            new { fields_attributes = new Dictionary<string, object> { ["0"] = new { name = "", value = "" } } }));
        Assert.That(cleared.GetProperty("fields").GetArrayLength(), Is.Zero, "blank fields are dropped");
    }

    [Test]
    public async Task Bad_updates_are_refused_with_422_and_change_nothing()
    {
        var kim = await _instance.CreateMemberAsync("kim");
        await Api.JsonAsync(await kim.Api.PatchAsJsonAsync(Path("/api/v1/accounts/update_credentials"), new { display_name = "Kim" }));
        var tooLong = await kim.Api.PatchAsJsonAsync(Path("/api/v1/accounts/update_credentials"),
            new { display_name = new string('k', 31), note = "should not be saved" });
        Assert.That(tooLong.StatusCode, Is.EqualTo(HttpStatusCode.UnprocessableEntity));
        Assert.That((await Api.JsonAsync(await kim.Api.GetAsync(Path("/api/v1/accounts/verify_credentials"))))
            .GetProperty("source").GetProperty("note").GetString(), Is.Empty);
        var fiveFields = await kim.Api.PatchAsJsonAsync(Path("/api/v1/accounts/update_credentials"),
            new { fields_attributes = Enumerable.Range(0, 5).Select(i => new { name = $"n{i}", value = "v" }).ToArray() });
        Assert.That(fiveFields.StatusCode, Is.EqualTo(HttpStatusCode.UnprocessableEntity));
        var badPrivacy = await kim.Api.PatchAsJsonAsync(Path("/api/v1/accounts/update_credentials"), new { source = new { privacy = "everyone" } });
        Assert.That(badPrivacy.StatusCode, Is.EqualTo(HttpStatusCode.UnprocessableEntity));
        var anonymous = await _instance.Client.PatchAsJsonAsync(Path("/api/v1/accounts/update_credentials"), new { display_name = "x" });
        Assert.That(anonymous.StatusCode, Is.EqualTo(HttpStatusCode.Unauthorized));
        var me = await kim.GetJsonAsync("/api/v1/accounts/verify_credentials");
        Assert.That(me.GetProperty("display_name").GetString(), Is.EqualTo("Kim"));
    }

    [Test]
    public async Task Account_counters_kept_by_triggers_match_a_recount_and_survive_account_deletion()
    {
        var lou = await _instance.CreateMemberAsync("lou");
        var max = await _instance.CreateMemberAsync("max");
        var ids = new List<string>();
        foreach (var visibility in new[] { "public", "unlisted", "private", "public" })
            ids.Add((await lou.PostJsonAsync("/api/v1/statuses", new { status = $"a {visibility} post", visibility })).GetProperty("id").GetString()!);
        await Api.JsonAsync(await lou.Api.DeleteAsync(Path($"/api/v1/statuses/{ids[3]}")));
        await max.PostJsonAsync($"/api/v1/accounts/{lou.AccountId}/follow");
        await max.PostJsonAsync($"/api/v1/statuses/{ids[0]}/reblog");

        var me = await lou.GetJsonAsync("/api/v1/accounts/verify_credentials");
        Assert.Multiple(() =>
        {
            Assert.That(me.GetProperty("statuses_count").GetInt32(), Is.EqualTo(2), "public and unlisted, not deleted");
            Assert.That(me.GetProperty("followers_count").GetInt32(), Is.EqualTo(1));
        });
        var maxSelf = await max.GetJsonAsync("/api/v1/accounts/verify_credentials");
        Assert.That(maxSelf.GetProperty("following_count").GetInt32(), Is.EqualTo(1));
        Assert.That(maxSelf.GetProperty("statuses_count").GetInt32(), Is.EqualTo(1), "the boost");

        await max.PostJsonAsync($"/api/v1/accounts/{lou.AccountId}/unfollow");
        Assert.That((await lou.GetJsonAsync("/api/v1/accounts/verify_credentials")).GetProperty("followers_count").GetInt32(), Is.Zero);

        // Removing an account with its posts and follows (cascades fire the triggers) leaves every counter equal to a recount.
        await max.PostJsonAsync($"/api/v1/accounts/{lou.AccountId}/follow");
        await using var conn = new Npgsql.NpgsqlConnection(_instance.ConnectionString);
        await conn.OpenAsync();
        await using (var delete = new Npgsql.NpgsqlCommand("DELETE FROM accounts WHERE id = @id", conn))
        {
            delete.Parameters.AddWithValue("id", lou.AccountId);
            await delete.ExecuteNonQueryAsync();
        }
        await using var recount = new Npgsql.NpgsqlCommand("""
            SELECT count(*) FROM accounts a LEFT JOIN account_stats st ON st.account_id = a.id
            WHERE coalesce(st.followers_count, 0) <> (SELECT count(*) FROM follows f WHERE f.target_account_id = a.id)
               OR coalesce(st.following_count, 0) <> (SELECT count(*) FROM follows f WHERE f.account_id = a.id)
               OR coalesce(st.statuses_count, 0) <> (SELECT count(*) FROM statuses s WHERE s.account_id = a.id AND s.deleted_at IS NULL AND s.visibility <= 1)
            """, conn);
        Assert.That(await recount.ExecuteScalarAsync(), Is.Zero);
        Assert.That((await max.GetJsonAsync("/api/v1/accounts/verify_credentials")).GetProperty("following_count").GetInt32(), Is.Zero);
    }
}
