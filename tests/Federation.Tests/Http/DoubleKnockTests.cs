using Fellows.Federation.Http;
using Fellows.Federation.Signatures;
using Microsoft.AspNetCore.Http;
using NUnit.Framework;

namespace Fellows.Federation.Tests.Http;

/// <summary>The server here understands only Cavage signatures and answers anything else with <c>status</c>.</summary>
public class DoubleKnockTests
{
    private LoopbackServer _server = null!;

    [OneTimeSetUp]
    public async Task StartServer() => _server = await LoopbackServer.StartAsync();

    [OneTimeTearDown]
    public async Task StopServer() => await _server.DisposeAsync();

    private static string Schemes(RecordedRequest[] requests) => string.Join(',', requests.Select(r => r.TestScheme));

    private void MapCavageOnly(string path, int refusal, Func<HttpContext, Task> accepted) =>
        _server.Map(path, ctx =>
        {
            if (ctx.Request.Headers["X-Test-Scheme"] != "Cavage")
            {
                ctx.Response.StatusCode = refusal;
                return Task.CompletedTask;
            }

            return accepted(ctx);
        });

    [Test]
    public async Task FetchAsync_host_refusing_rfc9421_knocks_twice_then_remembers_cavage()
    {
        var id = _server.Url("/knock/actor");
        MapCavageOnly("/knock/actor", 401, ctx =>
        {
            ctx.Response.ContentType = "application/activity+json";
            return ctx.Response.WriteAsync($$"""{"id":"{{id.AbsoluteUri}}","type":"Person"}""");
        });
        var (client, http, schemes) = TestClients.Create();
        using var _1 = http;
        var signer = new TestSigner();

        using (var first = await client.FetchAsync(id, signer, CancellationToken.None))
        {
            Assert.That(first.IsOk, Is.True, first.ToString());
        }

        Assert.That(Schemes(_server.RequestsTo("/knock/actor")), Is.EqualTo("Rfc9421,Cavage"));
        Assert.That(schemes.Get(_server.Host), Is.EqualTo(SignatureScheme.Cavage));

        using (var second = await client.FetchAsync(id, signer, CancellationToken.None))
        {
            Assert.That(second.IsOk, Is.True, second.ToString());
        }

        Assert.That(Schemes(_server.RequestsTo("/knock/actor")), Is.EqualTo("Rfc9421,Cavage,Cavage"));
    }

    [Test]
    public async Task FetchAsync_forbidden_for_rfc9421_knocks_again()
    {
        var id = _server.Url("/knock/forbidden");
        MapCavageOnly("/knock/forbidden", 403, ctx =>
        {
            ctx.Response.ContentType = "application/activity+json";
            return ctx.Response.WriteAsync($$"""{"id":"{{id.AbsoluteUri}}"}""");
        });
        var (client, http, _) = TestClients.Create();
        using var _1 = http;

        using var result = await client.FetchAsync(id, new TestSigner(), CancellationToken.None);

        Assert.That(result.IsOk, Is.True, result.ToString());
        Assert.That(_server.RequestsTo("/knock/forbidden"), Has.Length.EqualTo(2));
    }

    [Test]
    public async Task FetchAsync_both_schemes_refused_returns_Unauthorized_and_remembers_nothing()
    {
        _server.MapStatus("/knock/never", 401);
        var (client, http, schemes) = TestClients.Create();
        using var _1 = http;

        using var result = await client.FetchAsync(_server.Url("/knock/never"), new TestSigner(), CancellationToken.None);

        Assert.That(result.Failure, Is.EqualTo(FetchFailure.Unauthorized));
        Assert.That(_server.RequestsTo("/knock/never"), Has.Length.EqualTo(2));
        Assert.That(schemes.Get(_server.Host), Is.Null);
    }

    [Test]
    public async Task FetchAsync_remembered_scheme_is_tried_first()
    {
        var id = _server.Url("/knock/remembered");
        _server.MapObject("/knock/remembered", id.AbsoluteUri);
        var (client, http, schemes) = TestClients.Create();
        using var _1 = http;
        schemes.Remember(_server.Host, SignatureScheme.Cavage);

        using var result = await client.FetchAsync(id, new TestSigner(), CancellationToken.None);

        Assert.That(result.IsOk, Is.True);
        Assert.That(_server.RequestsTo("/knock/remembered").Single().TestScheme, Is.EqualTo("Cavage"));
    }

    [Test]
    public async Task PostAsync_host_refusing_rfc9421_knocks_twice_then_remembers_cavage()
    {
        MapCavageOnly("/knock/inbox", 401, ctx =>
        {
            ctx.Response.StatusCode = 202;
            return Task.CompletedTask;
        });
        var (client, http, schemes) = TestClients.Create();
        using var _1 = http;
        var signer = new TestSigner();
        var body = """{"type":"Follow"}"""u8.ToArray();

        var first = await client.PostAsync(_server.Url("/knock/inbox"), body, signer, CancellationToken.None);
        var second = await client.PostAsync(_server.Url("/knock/inbox"), body, signer, CancellationToken.None);

        Assert.That(first.Outcome, Is.EqualTo(DeliveryOutcome.Delivered));
        Assert.That(first.Scheme, Is.EqualTo(SignatureScheme.Cavage));
        Assert.That(second.Outcome, Is.EqualTo(DeliveryOutcome.Delivered));
        Assert.That(Schemes(_server.RequestsTo("/knock/inbox")), Is.EqualTo("Rfc9421,Cavage,Cavage"));
        Assert.That(schemes.Get(_server.Host), Is.EqualTo(SignatureScheme.Cavage));
        Assert.That(signer.Signed.Select(s => s.BodyLength), Is.All.EqualTo(body.Length), "the signer saw the body every time");
    }

    [Test]
    public async Task PostAsync_forbidden_does_not_knock_again()
    {
        MapCavageOnly("/knock/blocked-inbox", 403, _ => Task.CompletedTask);
        var (client, http, _) = TestClients.Create();
        using var _1 = http;

        var result = await client.PostAsync(_server.Url("/knock/blocked-inbox"), "{}"u8.ToArray(), new TestSigner(), CancellationToken.None);

        Assert.That(result.Outcome, Is.EqualTo(DeliveryOutcome.Permanent));
        Assert.That(_server.RequestsTo("/knock/blocked-inbox"), Has.Length.EqualTo(1));
    }
}
