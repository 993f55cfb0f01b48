using Fellows.Federation.Http;
using Microsoft.AspNetCore.Http;
using NUnit.Framework;

namespace Fellows.Federation.Tests.Http;

/// <summary>
/// Two loopback servers play two domains: <c>_home</c> is where handles are asked, <c>_web</c> is
/// where an account may really live. Each answers WebFinger from a table keyed by resource.
/// </summary>
public class WebFingerTests
{
    private LoopbackServer _home = null!;
    private LoopbackServer _web = null!;
    private readonly Dictionary<string, string> _homeJrd = new(StringComparer.Ordinal);
    private readonly Dictionary<string, string> _webJrd = new(StringComparer.Ordinal);
    private WebFingerClient _webFinger = null!;
    private HttpClient _http = null!;

    [OneTimeSetUp]
    public async Task StartServers()
    {
        _home = await LoopbackServer.StartAsync();
        _web = await LoopbackServer.StartAsync();
        _home.Map("/.well-known/webfinger", ctx => Answer(ctx, _homeJrd));
        _web.Map("/.well-known/webfinger", ctx => Answer(ctx, _webJrd));
    }

    [OneTimeTearDown]
    public async Task StopServers()
    {
        await _home.DisposeAsync();
        await _web.DisposeAsync();
    }

    [SetUp]
    public void CreateClient()
    {
        ActivityPubClient client;
        (client, _http, _) = TestClients.Create();
        _webFinger = new WebFingerClient(client, _ => "http");
    }

    [TearDown]
    public void DisposeClient() => _http.Dispose();

    private static Task Answer(HttpContext ctx, Dictionary<string, string> table)
    {
        if (!table.TryGetValue(ctx.Request.Query["resource"].ToString(), out var jrd))
        {
            ctx.Response.StatusCode = 404;
            return Task.CompletedTask;
        }

        ctx.Response.ContentType = "application/jrd+json; charset=utf-8";
        return ctx.Response.WriteAsync(jrd);
    }

    private static string Jrd(string subject, string actor, string type = "application/activity+json", string aliases = "[]") =>
        $$"""
        {
          "subject": "{{subject}}",
          "aliases": {{aliases}},
          "links": [
            { "rel": "http://webfinger.net/rel/profile-page", "type": "text/html", "href": "https://example.test/@x" },
            { "rel": "self", "type": {{System.Text.Json.JsonSerializer.Serialize(type)}}, "href": "{{actor}}" }
          ]
        }
        """;

    [TestCase("alice@{0}")]
    [TestCase("@alice@{0}")]
    [TestCase("acct:alice@{0}")]
    public async Task ResolveAsync_known_handle_returns_actor(string format)
    {
        var actor = _home.Url("/users/alice").AbsoluteUri;
        _homeJrd[$"acct:alice@{_home.Host}"] = Jrd($"acct:alice@{_home.Host}", actor);

        var result = await _webFinger.ResolveAsync(string.Format(System.Globalization.CultureInfo.InvariantCulture, format, _home.Host), CancellationToken.None);

        Assert.That(result.IsOk, Is.True, result.Message);
        Assert.That(result.ActorId, Is.EqualTo(new Uri(actor)));
        Assert.That(result.Subject, Is.EqualTo($"acct:alice@{_home.Host}"));
    }

    [Test]
    public async Task ResolveAsync_with_aliases_returns_aliases_and_ld_json_self_link()
    {
        var actor = _home.Url("/users/bob").AbsoluteUri;
        var aliases = $"""["{actor}", "{_home.Url("/@bob").AbsoluteUri}"]""";
        _homeJrd[$"acct:bob@{_home.Host}"] = Jrd(
            $"acct:bob@{_home.Host}",
            actor,
            "application/ld+json; profile=\"https://www.w3.org/ns/activitystreams\"",
            aliases);

        var result = await _webFinger.ResolveAsync($"bob@{_home.Host}", CancellationToken.None);

        Assert.That(result.IsOk, Is.True, result.Message);
        Assert.That(result.ActorId, Is.EqualTo(new Uri(actor)));
        Assert.That(result.Aliases, Is.EquivalentTo(new[] { actor, _home.Url("/@bob").AbsoluteUri }));
    }

    [Test]
    public async Task ResolveAsync_subject_on_other_host_confirmed_there_returns_that_account()
    {
        // carol@home is served by web: home names the subject, web must confirm it.
        var actor = _web.Url("/users/carol").AbsoluteUri;
        var subject = $"acct:carol@{_web.Host}";
        _homeJrd[$"acct:carol@{_home.Host}"] = Jrd(subject, actor, aliases: $"""["acct:carol@{_home.Host}"]""");
        _webJrd[subject] = Jrd(subject, actor);

        var result = await _webFinger.ResolveAsync($"carol@{_home.Host}", CancellationToken.None);

        Assert.That(result.IsOk, Is.True, result.Message);
        Assert.That(result.Subject, Is.EqualTo(subject));
        Assert.That(result.ActorId, Is.EqualTo(new Uri(actor)));
    }

    [Test]
    public async Task ResolveAsync_subject_other_host_names_differently_returns_SubjectMismatch()
    {
        var named = $"acct:dave@{_web.Host}";
        _homeJrd[$"acct:dave@{_home.Host}"] = Jrd(named, _web.Url("/users/dave").AbsoluteUri);
        _webJrd[named] = Jrd($"acct:mallory@{_web.Host}", _web.Url("/users/mallory").AbsoluteUri);

        var result = await _webFinger.ResolveAsync($"dave@{_home.Host}", CancellationToken.None);

        Assert.That(result.Failure, Is.EqualTo(WebFingerFailure.SubjectMismatch), result.Message);
        Assert.That(result.ActorId, Is.Null);
    }

    [Test]
    public async Task ResolveAsync_subject_unknown_on_its_host_returns_SubjectMismatch()
    {
        _homeJrd[$"acct:erin@{_home.Host}"] = Jrd($"acct:erin@{_web.Host}", _web.Url("/users/erin").AbsoluteUri);

        var result = await _webFinger.ResolveAsync($"erin@{_home.Host}", CancellationToken.None);

        Assert.That(result.Failure, Is.EqualTo(WebFingerFailure.SubjectMismatch), result.Message);
    }

    [Test]
    public async Task ResolveAsync_unknown_account_returns_NotFound()
    {
        var result = await _webFinger.ResolveAsync($"nobody@{_home.Host}", CancellationToken.None);

        Assert.That(result.Failure, Is.EqualTo(WebFingerFailure.NotFound), result.Message);
    }

    [Test]
    public async Task ResolveAsync_without_activitypub_link_returns_NoActorLink()
    {
        _homeJrd[$"acct:frank@{_home.Host}"] = Jrd($"acct:frank@{_home.Host}", "https://example.test/frank", "text/html");

        var result = await _webFinger.ResolveAsync($"frank@{_home.Host}", CancellationToken.None);

        Assert.That(result.Failure, Is.EqualTo(WebFingerFailure.NoActorLink), result.Message);
    }

    [TestCase("")]
    [TestCase("alice")]
    [TestCase("alice@")]
    [TestCase("@example.com")]
    [TestCase("alice@exa/mple.com")]
    [TestCase("alice@example.com/path")]
    public async Task ResolveAsync_invalid_handle_returns_InvalidHandle(string handle)
    {
        var result = await _webFinger.ResolveAsync(handle, CancellationToken.None);

        Assert.That(result.Failure, Is.EqualTo(WebFingerFailure.InvalidHandle), result.Message);
    }

    [Test]
    public async Task ResolveAsync_loopback_when_private_networks_refused_returns_Unreachable_blocked()
    {
        var (client, http, _) = TestClients.Create(o => o.AllowPrivateNetworks = false);
        using var _1 = http;
        var webFinger = new WebFingerClient(client, _ => "http");

        var result = await webFinger.ResolveAsync($"alice@{_home.Host}", CancellationToken.None);

        Assert.That(result.Failure, Is.EqualTo(WebFingerFailure.Unreachable));
        Assert.That(result.Transport, Is.EqualTo(FetchFailure.BlockedAddress));
    }
}
