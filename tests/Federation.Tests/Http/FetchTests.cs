using System.Text;
using Fellows.Federation.Http;
using Microsoft.AspNetCore.Http;
using NUnit.Framework;

namespace Fellows.Federation.Tests.Http;

public class FetchTests
{
    private LoopbackServer _server = null!;
    private LoopbackServer _other = null!;
    private ActivityPubClient _client = null!;
    private HttpClient _http = null!;

    [OneTimeSetUp]
    public async Task StartServers()
    {
        _server = await LoopbackServer.StartAsync();
        _other = await LoopbackServer.StartAsync();
    }

    [OneTimeTearDown]
    public async Task StopServers()
    {
        await _server.DisposeAsync();
        await _other.DisposeAsync();
    }

    [SetUp]
    public void CreateClient() => (_client, _http, _) = TestClients.Create(o => o.FetchTimeout = TimeSpan.FromSeconds(1));

    [TearDown]
    public void DisposeClient() => _http.Dispose();

    private Task<FetchResult> Fetch(Uri id) => _client.FetchAsync(id, null, CancellationToken.None);

    [Test]
    public async Task FetchAsync_matching_document_returns_ok_with_accept_header()
    {
        var id = _server.Url("/notes/1");
        _server.MapObject("/notes/1", id.AbsoluteUri);

        using var result = await Fetch(id);

        Assert.That(result.IsOk, Is.True, result.ToString());
        Assert.That(result.FinalUri, Is.EqualTo(id));
        Assert.That(result.Document!.RootElement.GetProperty("type").GetString(), Is.EqualTo("Note"));
        var request = _server.RequestsTo("/notes/1").Single();
        Assert.That(request.Accept, Is.EqualTo(ActivityPubClient.AcceptHeader));
        Assert.That(request.TestScheme, Is.Null, "unsigned without a signer");
    }

    [Test]
    public async Task FetchAsync_with_signer_signs_with_default_scheme()
    {
        var id = _server.Url("/notes/signed");
        _server.MapObject("/notes/signed", id.AbsoluteUri);

        using var result = await _client.FetchAsync(id, new TestSigner(), CancellationToken.None);

        Assert.That(result.IsOk, Is.True, result.ToString());
        Assert.That(_server.RequestsTo("/notes/signed").Single().TestScheme, Is.EqualTo("Rfc9421"));
    }

    [TestCase("application/ld+json; profile=\"https://www.w3.org/ns/activitystreams\"")]
    [TestCase("application/ld+json")]
    [TestCase("application/activity+json; charset=utf-8")]
    public async Task FetchAsync_activity_media_types_return_ok(string contentType)
    {
        var path = $"/media/{Guid.NewGuid():N}";
        _server.MapObject(path, _server.Url(path).AbsoluteUri, contentType);

        using var result = await Fetch(_server.Url(path));

        Assert.That(result.IsOk, Is.True, result.ToString());
    }

    [TestCase("text/html")]
    [TestCase("application/json")]
    [TestCase("text/plain")]
    public async Task FetchAsync_other_media_type_returns_NotActivityJson(string contentType)
    {
        var path = $"/media/{Guid.NewGuid():N}";
        _server.MapObject(path, _server.Url(path).AbsoluteUri, contentType);

        using var result = await Fetch(_server.Url(path));

        Assert.That(result.Failure, Is.EqualTo(FetchFailure.NotActivityJson), result.ToString());
    }

    [Test]
    public async Task FetchAsync_body_over_limit_with_content_length_returns_TooLarge()
    {
        var big = new byte[2 * 1024 * 1024];
        _server.Map("/big", async ctx =>
        {
            ctx.Response.ContentType = "application/activity+json";
            ctx.Response.ContentLength = big.Length;
            await ctx.Response.Body.WriteAsync(big);
        });

        using var result = await Fetch(_server.Url("/big"));

        Assert.That(result.Failure, Is.EqualTo(FetchFailure.TooLarge), result.ToString());
    }

    [Test]
    public async Task FetchAsync_chunked_body_over_limit_returns_TooLarge()
    {
        var id = _server.Url("/chunked");
        _server.Map("/chunked", async ctx =>
        {
            // No Content-Length: Kestrel sends it chunked, so only counting while reading can catch it.
            ctx.Response.ContentType = "application/activity+json";
            await ctx.Response.WriteAsync($$"""{"id":"{{id.AbsoluteUri}}","padding":" """);
            var filler = Encoding.ASCII.GetBytes(new string('x', 64 * 1024));
            for (var i = 0; i < 32; i++)
            {
                await ctx.Response.Body.WriteAsync(filler);
                await ctx.Response.Body.FlushAsync();
            }

            await ctx.Response.WriteAsync("\"}");
        });

        using var result = await Fetch(id);

        Assert.That(result.Failure, Is.EqualTo(FetchFailure.TooLarge), result.ToString());
    }

    [Test]
    public async Task FetchAsync_id_on_other_host_returns_IdMismatch()
    {
        _server.MapObject("/spoof", "https://victim.example/users/alice");

        using var result = await Fetch(_server.Url("/spoof"));

        Assert.That(result.Failure, Is.EqualTo(FetchFailure.IdMismatch), result.ToString());
    }

    [Test]
    public async Task FetchAsync_id_on_same_host_refetches_canonical_id()
    {
        var canonical = _server.Url("/objects/canonical");
        _server.MapObject("/objects/alias", canonical.AbsoluteUri);
        _server.MapObject("/objects/canonical", canonical.AbsoluteUri);

        using var result = await Fetch(_server.Url("/objects/alias"));

        Assert.That(result.IsOk, Is.True, result.ToString());
        Assert.That(result.FinalUri, Is.EqualTo(canonical));
        Assert.That(_server.RequestsTo("/objects/canonical"), Has.Length.EqualTo(1));
    }

    [Test]
    public async Task FetchAsync_refetched_id_still_differs_returns_IdMismatch()
    {
        _server.MapObject("/chain/a", _server.Url("/chain/b").AbsoluteUri);
        _server.MapObject("/chain/b", _server.Url("/chain/c").AbsoluteUri);
        _server.MapObject("/chain/c", _server.Url("/chain/c").AbsoluteUri);

        using var result = await Fetch(_server.Url("/chain/a"));

        Assert.That(result.Failure, Is.EqualTo(FetchFailure.IdMismatch), result.ToString());
        Assert.That(_server.RequestsTo("/chain/c"), Is.Empty, "only one refetch");
    }

    [Test]
    public async Task FetchAsync_redirect_to_other_origin_claiming_original_id_returns_IdMismatch()
    {
        // The other origin cannot speak for the first one, even when the first redirected to it.
        var id = _server.Url("/moved");
        _server.MapStatus("/moved", 302, r => r.Headers.Location = _other.Url("/fake").AbsoluteUri);
        _other.MapObject("/fake", id.AbsoluteUri);

        using var result = await Fetch(id);

        Assert.That(result.Failure, Is.EqualTo(FetchFailure.IdMismatch), result.ToString());
    }

    [Test]
    public async Task FetchAsync_same_origin_redirect_is_followed()
    {
        var id = _server.Url("/short");
        _server.MapStatus("/short", 301, r => r.Headers.Location = "/long");
        _server.MapObject("/long", id.AbsoluteUri);

        using var result = await Fetch(id);

        Assert.That(result.IsOk, Is.True, result.ToString());
        Assert.That(result.FinalUri, Is.EqualTo(id));
    }

    [Test]
    public async Task FetchAsync_endless_redirects_returns_Malformed()
    {
        _server.MapStatus("/loop", 302, r => r.Headers.Location = "/loop");

        using var result = await Fetch(_server.Url("/loop"));

        Assert.That(result.Failure, Is.EqualTo(FetchFailure.Malformed), result.ToString());
        Assert.That(_server.RequestsTo("/loop"), Has.Length.EqualTo(4), "first request and three redirects");
    }

    [TestCase(410, FetchFailure.Gone)]
    [TestCase(404, FetchFailure.NotFound)]
    [TestCase(401, FetchFailure.Unauthorized)]
    [TestCase(418, FetchFailure.HttpError)]
    public async Task FetchAsync_status_returns_failure_kind(int status, FetchFailure expected)
    {
        var path = $"/status/{status}";
        _server.MapStatus(path, status);

        using var result = await Fetch(_server.Url(path));

        Assert.That(result.Failure, Is.EqualTo(expected), result.ToString());
        Assert.That(result.StatusCode, Is.EqualTo(status));
    }

    [Test]
    public async Task FetchAsync_server_error_is_retried_once()
    {
        var id = _server.Url("/flaky");
        var calls = 0;
        _server.Map("/flaky", ctx =>
        {
            if (Interlocked.Increment(ref calls) == 1)
            {
                ctx.Response.StatusCode = 503;
                return Task.CompletedTask;
            }

            ctx.Response.ContentType = "application/activity+json";
            return ctx.Response.WriteAsync($$"""{"id":"{{id.AbsoluteUri}}"}""");
        });

        using var result = await Fetch(id);

        Assert.That(result.IsOk, Is.True, result.ToString());
        Assert.That(calls, Is.EqualTo(2));
    }

    [TestCase("not json")]
    [TestCase("[1,2,3]")]
    [TestCase("""{"type":"Note"}""")]
    [TestCase("""{"id":42}""")]
    public async Task FetchAsync_unusable_json_returns_Malformed(string body)
    {
        var path = $"/bad/{Guid.NewGuid():N}";
        _server.MapJson(path, body);

        using var result = await Fetch(_server.Url(path));

        Assert.That(result.Failure, Is.EqualTo(FetchFailure.Malformed), result.ToString());
    }

    [Test]
    public async Task FetchAsync_too_deep_json_returns_Malformed()
    {
        var id = _server.Url("/deep");
        var deep = new string('[', 100) + new string(']', 100);
        _server.MapJson("/deep", $$"""{"id":"{{id.AbsoluteUri}}","x":{{deep}}}""");

        using var result = await Fetch(id);

        Assert.That(result.Failure, Is.EqualTo(FetchFailure.Malformed), result.ToString());
    }

    [Test]
    public async Task FetchAsync_slow_server_returns_Timeout()
    {
        var (client, http, _) = TestClients.Create(o =>
        {
            o.FetchTimeout = TimeSpan.FromMilliseconds(300);
            o.FetchRetries = 0;
        });
        using var _1 = http;
        _server.Map("/slow", async ctx =>
        {
            try
            {
                await Task.Delay(TimeSpan.FromSeconds(3), ctx.RequestAborted);
            }
            catch (OperationCanceledException)
            {
                // The client gave up, as it should.
            }
        });

        using var result = await client.FetchAsync(_server.Url("/slow"), null, CancellationToken.None);

        Assert.That(result.Failure, Is.EqualTo(FetchFailure.Timeout), result.ToString());
    }

    [Test]
    public async Task FetchAsync_connection_refused_returns_Unreachable()
    {
        var id = new Uri($"http://127.0.0.1:{LoopbackServer.UnusedPort()}/nobody");

        using var result = await Fetch(id);

        Assert.That(result.Failure, Is.EqualTo(FetchFailure.Unreachable), result.ToString());
    }

    [Test]
    public void FetchAsync_cancelled_by_caller_throws()
    {
        _server.Map("/wait", ctx => Task.Delay(TimeSpan.FromSeconds(2), ctx.RequestAborted).ContinueWith(_ => { }, TaskScheduler.Default));
        using var cts = new CancellationTokenSource(TimeSpan.FromMilliseconds(100));

        Assert.That(
            async () => await _client.FetchAsync(_server.Url("/wait"), null, cts.Token),
            Throws.InstanceOf<OperationCanceledException>());
    }
}
