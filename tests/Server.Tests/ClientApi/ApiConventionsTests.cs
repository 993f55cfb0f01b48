using System.Globalization;
using System.Net;
using System.Net.Http.Json;
using System.Text.Json;
using NUnit.Framework;

// Expected values read best inline in assertions; each runs once.
#pragma warning disable CA1861

namespace Fellows.Server.Tests.ClientApi;

/// <summary>What clients rely on across the API: JSON 404s, CORS, rate limits, and entity fields with the right types.</summary>
public class ApiConventionsTests
{
    FellowsInstance _instance = null!;
    FellowsInstance _limited = null!;

    [OneTimeSetUp]
    public async Task StartAsync()
    {
        _instance = await FellowsInstance.StartAsync("conventions");
        _limited = await FellowsInstance.StartAsync("limited", settings: new Dictionary<string, string?> { ["RateLimits:PermitLimit"] = "3" });
    }

    [OneTimeTearDown]
    public async Task StopAsync()
    {
        await _instance.DisposeAsync();
        await _limited.DisposeAsync();
    }

    static async Task AssertJsonNotFoundAsync(HttpResponseMessage response)
    {
        var body = await response.Content.ReadAsStringAsync();
        Assert.That(response.StatusCode, Is.EqualTo(HttpStatusCode.NotFound), $"{response.RequestMessage?.Method} {response.RequestMessage?.RequestUri}: {body}");
        Assert.That(response.Content.Headers.ContentType?.MediaType, Is.EqualTo("application/json"));
        Assert.That(JsonDocument.Parse(body).RootElement.GetProperty("error").GetString(), Is.EqualTo("Record not found"));
    }

    [TestCase("GET", "/api/v1/unknown")]
    [TestCase("POST", "/api/v2/unknown/deeper")]
    [TestCase("GET", "/api/v1/admin/canonical_email_blocks")]
    [TestCase("DELETE", "/api/v1/timelines/home")]
    [TestCase("PUT", "/api/v1/statuses")]
    [TestCase("PATCH", "/api/v1/instance")]
    public async Task Unserved_api_paths_and_methods_answer_json_404(string method, string path)
    {
        var member = await _instance.CreateMemberAsync($"nf{Math.Abs(HashCode.Combine(method, path)) % 100000}");
        using var request = new HttpRequestMessage(new HttpMethod(method), new Uri(path, UriKind.Relative));
        await AssertJsonNotFoundAsync(await member.Api.SendAsync(request));
        using var anonymous = new HttpRequestMessage(new HttpMethod(method), new Uri(path, UriKind.Relative));
        await AssertJsonNotFoundAsync(await _instance.Client.SendAsync(anonymous));
    }

    [Test]
    public async Task Missing_records_answer_json_404()
    {
        var member = await _instance.CreateMemberAsync("ghost");
        await AssertJsonNotFoundAsync(await member.Api.GetAsync(new Uri("/api/v1/statuses/123456789", UriKind.Relative)));
        await AssertJsonNotFoundAsync(await member.Api.GetAsync(new Uri("/api/v1/accounts/not-a-number", UriKind.Relative)));
        await AssertJsonNotFoundAsync(await member.Api.GetAsync(new Uri("/api/v1/notifications/123", UriKind.Relative)));
    }

    [Test]
    public async Task Browser_clients_get_cors_with_paging_and_rate_limit_headers_exposed()
    {
        using var preflight = new HttpRequestMessage(HttpMethod.Options, new Uri("/api/v1/statuses", UriKind.Relative));
        preflight.Headers.Add("Origin", "https://elk.example");
        preflight.Headers.Add("Access-Control-Request-Method", "POST");
        preflight.Headers.Add("Access-Control-Request-Headers", "authorization,content-type");
        var answer = await _instance.Client.SendAsync(preflight);
        Assert.That((int)answer.StatusCode, Is.EqualTo(204));
        Assert.That(answer.Headers.GetValues("Access-Control-Allow-Origin"), Is.EqualTo(new[] { "*" }));
        Assert.That(string.Join(",", answer.Headers.GetValues("Access-Control-Allow-Methods")), Does.Contain("POST"));
        Assert.That(string.Join(",", answer.Headers.GetValues("Access-Control-Allow-Headers")).ToLowerInvariant(), Does.Contain("authorization"));

        foreach (var path in new[] { "/api/v1/timelines/public", "/.well-known/nodeinfo", "/.well-known/webfinger?resource=acct:nobody@" + _instance.Domain, "/nodeinfo/2.1" })
        {
            using var get = new HttpRequestMessage(HttpMethod.Get, new Uri(path, UriKind.Relative));
            get.Headers.Add("Origin", "https://elk.example");
            var response = await _instance.Client.SendAsync(get);
            Assert.That(response.Headers.GetValues("Access-Control-Allow-Origin"), Is.EqualTo(new[] { "*" }), path);
            var exposed = string.Join(",", response.Headers.GetValues("Access-Control-Expose-Headers"));
            Assert.That(exposed, Does.Contain("Link").And.Contain("X-RateLimit-Remaining").And.Contain("X-RateLimit-Reset"), path);
        }
    }

    [Test]
    public async Task Api_responses_carry_rate_limit_headers_that_count_down()
    {
        var member = await _instance.CreateMemberAsync("counter");
        var first = await member.Api.GetAsync(new Uri("/api/v1/timelines/home", UriKind.Relative));
        var second = await member.Api.GetAsync(new Uri("/api/v1/timelines/home", UriKind.Relative));
        int Remaining(HttpResponseMessage r) => int.Parse(r.Headers.GetValues("X-RateLimit-Remaining").Single(), CultureInfo.InvariantCulture);
        Assert.That(first.Headers.GetValues("X-RateLimit-Limit").Single(), Is.EqualTo("100000"));
        Assert.That(Remaining(second), Is.EqualTo(Remaining(first) - 1));
        var reset = first.Headers.GetValues("X-RateLimit-Reset").Single();
        Assert.That(reset, Does.Match(@"^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{3}Z$"));
        Assert.That(DateTimeOffset.Parse(reset, CultureInfo.InvariantCulture), Is.GreaterThan(DateTimeOffset.UtcNow).And.LessThanOrEqualTo(DateTimeOffset.UtcNow.AddMinutes(5)));
    }

    [Test]
    public async Task Over_the_limit_a_token_gets_429_json_while_others_go_on()
    {
        var busy = await _limited.CreateMemberAsync("busy");
        var calm = await _limited.CreateMemberAsync("calm");
        // The window may roll over mid-test; then the fresh window's permits are used up the same way.
        HttpResponseMessage? refused = null;
        for (var i = 0; i < 8 && refused is null; i++)
        {
            var response = await busy.Api.GetAsync(new Uri("/api/v1/timelines/home", UriKind.Relative));
            if (response.StatusCode == HttpStatusCode.TooManyRequests) refused = response;
            else Assert.That(response.StatusCode, Is.EqualTo(HttpStatusCode.OK));
        }
        Assert.That(refused, Is.Not.Null, "the fourth call in a window is refused");
        Assert.That(refused!.Content.Headers.ContentType?.MediaType, Is.EqualTo("application/json"));
        Assert.That((await refused.Content.ReadFromJsonAsync<JsonElement>()).GetProperty("error").GetString(), Is.EqualTo("Too many requests"));
        Assert.That(refused.Headers.GetValues("X-RateLimit-Remaining").Single(), Is.EqualTo("0"));
        Assert.That(refused.Headers.RetryAfter, Is.Not.Null);

        var other = await calm.Api.GetAsync(new Uri("/api/v1/timelines/home", UriKind.Relative));
        Assert.That(other.StatusCode, Is.EqualTo(HttpStatusCode.OK), "limits are per token");
        // Federation is not behind the client API's limit.
        var actor = await _limited.Client.GetAsync(new Uri("/.well-known/nodeinfo", UriKind.Relative));
        Assert.That(actor.StatusCode, Is.EqualTo(HttpStatusCode.OK));
        Assert.That(actor.Headers.Contains("X-RateLimit-Limit"), Is.False);
    }

    [Test]
    public async Task Entities_have_every_field_with_mastodon_types()
    {
        var ivy = await _instance.CreateMemberAsync("ivy");
        var status = await ivy.PostJsonAsync("/api/v1/statuses", new { status = "Fields check #coop" });
        var account = status.GetProperty("account");

        Assert.That(account.GetProperty("display_name").ValueKind, Is.EqualTo(JsonValueKind.String));
        Assert.That(account.GetProperty("emojis").GetArrayLength(), Is.Zero);
        Assert.That(account.GetProperty("fields").ValueKind, Is.EqualTo(JsonValueKind.Array));
        foreach (var key in new[] { "avatar", "avatar_static", "header", "header_static", "url", "uri" })
            Assert.That(account.GetProperty(key).GetString(), Does.StartWith(_instance.BaseUrl + "/"), key);
        var dateFormat = @"^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{3}Z$";
        Assert.That(account.GetProperty("created_at").GetString(), Does.Match(dateFormat));
        Assert.That(account.GetProperty("last_status_at").GetString(), Does.Match(@"^\d{4}-\d{2}-\d{2}$"));

        Assert.That(status.GetProperty("id").GetString(), Does.Match(@"^\d+$"));
        Assert.That(status.GetProperty("created_at").GetString(), Does.Match(dateFormat));
        Assert.That(status.GetProperty("edited_at").ValueKind, Is.EqualTo(JsonValueKind.Null));
        Assert.That(status.GetProperty("emojis").GetArrayLength(), Is.Zero);
        Assert.That(status.GetProperty("filtered").GetArrayLength(), Is.Zero);
        Assert.That(status.GetProperty("media_attachments").GetArrayLength(), Is.Zero);
        Assert.That(status.GetProperty("spoiler_text").GetString(), Is.EqualTo(""));
        Assert.That(status.GetProperty("reblog").ValueKind, Is.EqualTo(JsonValueKind.Null));
        Assert.That(status.GetProperty("tags")[0].GetProperty("url").GetString(), Does.StartWith(_instance.BaseUrl + "/tags/"));

        // The default pictures those URLs point at are served.
        foreach (var key in new[] { "avatar", "header" })
        {
            var image = await _instance.Client.GetAsync(new Uri(account.GetProperty(key).GetString()!));
            Assert.That(image.StatusCode, Is.EqualTo(HttpStatusCode.OK), key);
            Assert.That(image.Content.Headers.ContentType?.MediaType, Is.EqualTo("image/png"), key);
            var bytes = await image.Content.ReadAsByteArrayAsync();
            Assert.That(bytes.Take(4), Is.EqualTo(new byte[] { 0x89, (byte)'P', (byte)'N', (byte)'G' }), key);
        }
    }
}
