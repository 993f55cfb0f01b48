using Fellows.Federation.Http;
using NUnit.Framework;

namespace Fellows.Federation.Tests.Http;

public class DeliveryTests
{
    private LoopbackServer _server = null!;
    private ActivityPubClient _client = null!;
    private HttpClient _http = null!;

    [OneTimeSetUp]
    public async Task StartServer() => _server = await LoopbackServer.StartAsync();

    [OneTimeTearDown]
    public async Task StopServer() => await _server.DisposeAsync();

    [SetUp]
    public void CreateClient() => (_client, _http, _) = TestClients.Create();

    [TearDown]
    public void DisposeClient() => _http.Dispose();

    private Task<DeliveryResult> Post(Uri inbox) =>
        _client.PostAsync(inbox, """{"type":"Create"}"""u8.ToArray(), new TestSigner(), CancellationToken.None);

    [TestCase(202, DeliveryOutcome.Delivered)]
    [TestCase(200, DeliveryOutcome.Delivered)]
    [TestCase(400, DeliveryOutcome.Permanent)]
    [TestCase(404, DeliveryOutcome.Permanent)]
    [TestCase(410, DeliveryOutcome.Permanent)]
    [TestCase(408, DeliveryOutcome.Retryable)]
    [TestCase(500, DeliveryOutcome.Retryable)]
    [TestCase(503, DeliveryOutcome.Retryable)]
    [TestCase(302, DeliveryOutcome.Permanent)]
    public async Task PostAsync_status_returns_outcome(int status, DeliveryOutcome expected)
    {
        var path = $"/inbox/{status}";
        _server.MapStatus(path, status, r => r.Headers.Location = "/elsewhere");

        var result = await Post(_server.Url(path));

        Assert.That(result.Outcome, Is.EqualTo(expected), result.Message);
        Assert.That(result.StatusCode, Is.EqualTo(status));
    }

    [Test]
    public async Task PostAsync_sends_activity_json_body()
    {
        _server.MapStatus("/inbox/body", 202);

        await Post(_server.Url("/inbox/body"));

        var request = _server.RequestsTo("/inbox/body").Single();
        Assert.That(request.Method, Is.EqualTo("POST"));
        Assert.That(request.ContentType, Is.EqualTo("application/activity+json"));
        Assert.That(request.Body, Is.EqualTo("""{"type":"Create"}"""u8.ToArray()));
    }

    [Test]
    public async Task PostAsync_too_many_requests_returns_retryable_with_retry_after()
    {
        _server.MapStatus("/inbox/429", 429, r => r.Headers.RetryAfter = "120");

        var result = await Post(_server.Url("/inbox/429"));

        Assert.That(result.Outcome, Is.EqualTo(DeliveryOutcome.Retryable));
        Assert.That(result.RetryAfter, Is.EqualTo(TimeSpan.FromSeconds(120)));
        Assert.That(_server.RequestsTo("/inbox/429"), Has.Length.EqualTo(1), "no retry inside the client");
    }

    [Test]
    public async Task PostAsync_retry_after_date_returns_time_until_then()
    {
        var at = DateTimeOffset.UtcNow.AddMinutes(10);
        _server.MapStatus("/inbox/503-date", 503, r => r.Headers.RetryAfter = at.ToString("R"));

        var result = await Post(_server.Url("/inbox/503-date"));

        Assert.That(result.Outcome, Is.EqualTo(DeliveryOutcome.Retryable));
        Assert.That(result.RetryAfter, Is.EqualTo(TimeSpan.FromMinutes(10)).Within(TimeSpan.FromSeconds(5)));
    }

    [Test]
    public async Task PostAsync_server_error_is_not_retried()
    {
        _server.MapStatus("/inbox/500-once", 500);

        await Post(_server.Url("/inbox/500-once"));

        Assert.That(_server.RequestsTo("/inbox/500-once"), Has.Length.EqualTo(1));
    }

    [Test]
    public async Task PostAsync_connection_refused_returns_retryable()
    {
        var inbox = new Uri($"http://127.0.0.1:{LoopbackServer.UnusedPort()}/inbox");

        var result = await Post(inbox);

        Assert.That(result.Outcome, Is.EqualTo(DeliveryOutcome.Retryable), result.Message);
        Assert.That(result.StatusCode, Is.Null);
        Assert.That(result.BlockedAddress, Is.False);
    }

    [Test]
    public async Task PostAsync_slow_inbox_returns_retryable_timeout()
    {
        var (client, http, _) = TestClients.Create(o => o.PostTimeout = TimeSpan.FromMilliseconds(300));
        using var _1 = http;
        _server.Map("/inbox/slow", async ctx =>
        {
            try
            {
                await Task.Delay(TimeSpan.FromSeconds(3), ctx.RequestAborted);
            }
            catch (OperationCanceledException)
            {
                // Expected: the client gave up.
            }
        });

        var result = await client.PostAsync(_server.Url("/inbox/slow"), "{}"u8.ToArray(), new TestSigner(), CancellationToken.None);

        Assert.That(result.Outcome, Is.EqualTo(DeliveryOutcome.Retryable));
        Assert.That(result.Message, Does.Contain("Timed out"));
    }
}
