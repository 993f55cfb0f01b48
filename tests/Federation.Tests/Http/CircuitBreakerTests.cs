using Fellows.Federation.Http;
using NUnit.Framework;

namespace Fellows.Federation.Tests.Http;

/// <summary>Uses the default breaker settings: 50 % failures over at least 10 calls in 30 s.</summary>
public class CircuitBreakerTests
{
    private LoopbackServer _server = null!;

    [SetUp]
    public async Task StartServer() => _server = await LoopbackServer.StartAsync();

    [TearDown]
    public async Task StopServer() => await _server.DisposeAsync();

    private static Task<DeliveryResult> Post(ActivityPubClient client, Uri inbox) =>
        client.PostAsync(inbox, "{}"u8.ToArray(), new TestSigner(), CancellationToken.None);

    [Test]
    public async Task PostAsync_repeated_server_errors_open_circuit()
    {
        _server.MapStatus("/inbox", 500);
        var (client, http, _) = TestClients.Create();
        using var _1 = http;

        for (var i = 0; i < 10; i++)
        {
            await Post(client, _server.Url("/inbox"));
        }

        Assert.That(client.IsCircuitOpen(_server.Host), Is.True);
        var refused = await Post(client, _server.Url("/inbox"));
        Assert.That(refused.Outcome, Is.EqualTo(DeliveryOutcome.Retryable));
        Assert.That(refused.CircuitOpen, Is.True);
        Assert.That(refused.RetryAfter, Is.GreaterThan(TimeSpan.Zero));
        Assert.That(_server.RequestsTo("/inbox"), Has.Length.EqualTo(10), "nothing sent while open");

        using var fetch = await client.FetchAsync(_server.Url("/object"), null, CancellationToken.None);
        Assert.That(fetch.Failure, Is.EqualTo(FetchFailure.CircuitOpen), "fetches share the host's breaker");
    }

    [Test]
    public async Task PostAsync_repeated_client_errors_keep_circuit_closed()
    {
        _server.MapStatus("/inbox-404", 404);
        var (client, http, _) = TestClients.Create();
        using var _1 = http;

        for (var i = 0; i < 12; i++)
        {
            await Post(client, _server.Url("/inbox-404"));
        }

        Assert.That(client.IsCircuitOpen(_server.Host), Is.False);
        Assert.That(_server.RequestsTo("/inbox-404"), Has.Length.EqualTo(12));
    }

    [Test]
    public void IsCircuitOpen_unknown_host_returns_false()
    {
        var (client, http, _) = TestClients.Create();
        using var _1 = http;

        Assert.That(client.IsCircuitOpen("never.example"), Is.False);
    }
}
