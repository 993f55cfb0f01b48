using System.Net;
using System.Text.Json;
using NUnit.Framework;

namespace Fellows.Server.Tests.ClientApi;

/// <summary>The instance documents and the small endpoints clients call at start, read as raw JSON.</summary>
public class InstanceApiTests
{
    FellowsInstance _instance = null!;

    [OneTimeSetUp]
    public async Task StartAsync() => _instance = await FellowsInstance.StartAsync("instanceapi", settings: new Dictionary<string, string?>
    {
        ["Instance:Name"] = "Harbour Co-op",
        ["Instance:ContactEmail"] = "hello@harbour.test",
        ["Instance:Rules:0"] = "Members decide",
    });

    [OneTimeTearDown]
    public async Task StopAsync() => await _instance.DisposeAsync();

    async Task<JsonElement> GetAsync(string path) => await Api.JsonAsync(await _instance.Client.GetAsync(new Uri(path, UriKind.Relative)));

    async Task ExecuteAsync(string sql)
    {
        await using var conn = new Npgsql.NpgsqlConnection(_instance.ConnectionString);
        await conn.OpenAsync();
        await using var cmd = new Npgsql.NpgsqlCommand(sql, conn);
        await cmd.ExecuteNonQueryAsync();
    }

    [Test]
    public async Task V2_instance_has_the_fields_clients_read_in_mastodon_spelling()
    {
        var v2 = await GetAsync("/api/v2/instance");
        Assert.That(v2.GetProperty("domain").GetString(), Is.EqualTo(_instance.Domain));
        Assert.That(v2.GetProperty("title").GetString(), Is.EqualTo("Harbour Co-op"));
        Assert.That(v2.GetProperty("version").GetString(), Is.EqualTo($"4.2.0 (compatible; Fellows {FellowsVersion.Current})"));
        Assert.That(v2.GetProperty("api_versions").GetProperty("mastodon").GetInt32(), Is.EqualTo(1));
        var thumbnail = v2.GetProperty("thumbnail");
        Assert.That(thumbnail.GetProperty("url").GetString(), Does.StartWith(_instance.BaseUrl + "/"));
        Assert.That(thumbnail.GetProperty("versions").GetProperty("@1x").GetString(), Is.EqualTo(thumbnail.GetProperty("url").GetString()));
        var configuration = v2.GetProperty("configuration");
        Assert.That(configuration.GetProperty("urls").GetProperty("streaming").GetString(), Is.EqualTo($"ws://{_instance.Domain}"));
        Assert.That(configuration.GetProperty("statuses").GetProperty("max_characters").GetInt32(), Is.EqualTo(5000));
        Assert.That(configuration.GetProperty("statuses").GetProperty("characters_reserved_per_url").GetInt32(), Is.EqualTo(23));
        Assert.That(configuration.GetProperty("media_attachments").GetProperty("supported_mime_types").GetArrayLength(), Is.GreaterThan(0));
        Assert.That(configuration.GetProperty("polls").GetProperty("max_options").GetInt32(), Is.GreaterThan(1));
        Assert.That(configuration.GetProperty("accounts").GetProperty("max_pinned_statuses").GetInt32(), Is.GreaterThan(0));
        Assert.That(configuration.GetProperty("translation").GetProperty("enabled").GetBoolean(), Is.False);
        Assert.That(v2.GetProperty("registrations").GetProperty("enabled").GetBoolean(), Is.True, "the default is sign-up with approval");
        Assert.That(v2.GetProperty("registrations").GetProperty("approval_required").GetBoolean(), Is.True);
        Assert.That(v2.GetProperty("contact").GetProperty("email").GetString(), Is.EqualTo("hello@harbour.test"));
        Assert.That(v2.GetProperty("contact").GetProperty("account").ValueKind, Is.EqualTo(JsonValueKind.Null));
        var rule = v2.GetProperty("rules").EnumerateArray().Single();
        Assert.That(rule.GetProperty("id").GetString(), Is.EqualTo("1"));
        Assert.That(rule.GetProperty("text").GetString(), Is.EqualTo("Members decide"));
        Assert.That(v2.GetProperty("usage").GetProperty("users").GetProperty("active_month").ValueKind, Is.EqualTo(JsonValueKind.Number));

        // NodeInfo names the same Mastodon version, so clients that detect by NodeInfo agree with those reading this.
        var nodeinfo = await GetAsync("/nodeinfo/2.1");
        var upstream = nodeinfo.GetProperty("metadata").GetProperty("upstream");
        Assert.That(upstream.GetProperty("name").GetString(), Is.EqualTo("mastodon"));
        Assert.That(upstream.GetProperty("version").GetString(), Is.EqualTo("4.2.0"));
    }

    [Test]
    public async Task V1_instance_counts_members_posts_and_peers_but_not_blocked_domains()
    {
        var member = await _instance.CreateMemberAsync("counted");
        await member.PostJsonAsync("/api/v1/statuses", new { status = "counted post" });
        await ExecuteAsync("""
            INSERT INTO accounts (username, domain, uri) VALUES ('far', 'far.example', 'https://far.example/users/far');
            INSERT INTO accounts (username, domain, uri) VALUES ('shut', 'shut.example', 'https://shut.example/users/shut');
            INSERT INTO domain_blocks (domain) VALUES ('shut.example');
            """);

        var v1 = await GetAsync("/api/v1/instance");
        Assert.That(v1.GetProperty("uri").GetString(), Is.EqualTo(_instance.Domain));
        Assert.That(v1.GetProperty("urls").GetProperty("streaming_api").GetString(), Is.EqualTo($"ws://{_instance.Domain}"));
        Assert.That(v1.GetProperty("stats").GetProperty("user_count").GetInt32(), Is.GreaterThanOrEqualTo(1));
        Assert.That(v1.GetProperty("stats").GetProperty("status_count").GetInt32(), Is.GreaterThanOrEqualTo(1));
        Assert.That(v1.GetProperty("stats").GetProperty("domain_count").GetInt32(), Is.GreaterThanOrEqualTo(1));
        Assert.That(v1.GetProperty("thumbnail").GetString(), Does.StartWith(_instance.BaseUrl + "/"));
        Assert.That(v1.GetProperty("registrations").GetBoolean(), Is.True, "the default is sign-up with approval");
        Assert.That(v1.GetProperty("email").GetString(), Is.EqualTo("hello@harbour.test"));

        var peers = (await GetAsync("/api/v1/instance/peers")).EnumerateArray().Select(p => p.GetString()).ToList();
        Assert.That(peers, Does.Contain("far.example").And.Not.Contain("shut.example"));

        var week = (await GetAsync("/api/v1/instance/activity"))[0];
        Assert.That(int.Parse(week.GetProperty("statuses").GetString()!, System.Globalization.CultureInfo.InvariantCulture), Is.GreaterThanOrEqualTo(1));
        Assert.That(int.Parse(week.GetProperty("registrations").GetString()!, System.Globalization.CultureInfo.InvariantCulture), Is.GreaterThanOrEqualTo(1));
        var monday = DateTimeOffset.FromUnixTimeSeconds(long.Parse(week.GetProperty("week").GetString()!, System.Globalization.CultureInfo.InvariantCulture));
        Assert.That(monday.DayOfWeek, Is.EqualTo(DayOfWeek.Monday));
        Assert.That(monday, Is.LessThanOrEqualTo(DateTimeOffset.UtcNow).And.GreaterThan(DateTimeOffset.UtcNow.AddDays(-7)));
    }

    [Test]
    public async Task Preferences_need_a_token_and_lists_are_present_but_empty()
    {
        var anonymous = await _instance.Client.GetAsync(new Uri("/api/v1/preferences", UriKind.Relative));
        Assert.That(anonymous.StatusCode, Is.EqualTo(HttpStatusCode.Unauthorized));
        var member = await _instance.CreateMemberAsync("prefs");
        var preferences = await member.GetJsonAsync("/api/v1/preferences");
        Assert.That(preferences.GetProperty("posting:default:visibility").GetString(), Is.EqualTo("public"));
        Assert.That(preferences.GetProperty("posting:default:sensitive").GetBoolean(), Is.False);
        Assert.That(preferences.GetProperty("reading:expand:media").GetString(), Is.EqualTo("default"));

        Assert.That((await member.GetJsonAsync("/api/v1/announcements")).GetArrayLength(), Is.Zero);
        foreach (var path in new[] { "/api/v1/custom_emojis", "/api/v1/trends", "/api/v1/trends/tags", "/api/v1/trends/statuses", "/api/v1/trends/links", "/api/v1/instance/domain_blocks" })
            Assert.That((await GetAsync(path)).GetArrayLength(), Is.Zero, path);
        Assert.That((await GetAsync("/api/v1/instance/extended_description")).GetProperty("updated_at").GetString(), Does.Match(@"^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{3}Z$"));
    }
}
