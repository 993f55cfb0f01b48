using System.Net;
using Fellows.Federation.Http;
using NUnit.Framework;

namespace Fellows.Federation.Tests.Http;

/// <summary>
/// The SSRF guard in the connect step, against a real server on loopback. To stand in for a
/// "public" host we cannot use a real one (no network here), so the internal
/// <c>EndPointFilter</c> hook allows exactly one loopback port and refuses every other address.
/// </summary>
public class OutboundHandlerTests
{
    private LoopbackServer _allowed = null!;
    private LoopbackServer _internal = null!;

    [OneTimeSetUp]
    public async Task StartServers()
    {
        _allowed = await LoopbackServer.StartAsync();
        _internal = await LoopbackServer.StartAsync();
    }

    [OneTimeTearDown]
    public async Task StopServers()
    {
        await _allowed.DisposeAsync();
        await _internal.DisposeAsync();
    }

    [Test]
    public void HttpClient_loopback_when_private_networks_refused_throws_BlockedAddressException()
    {
        var options = TestClients.Options(o => o.AllowPrivateNetworks = false);
        using var http = FederationHttp.CreateClient(options);

        var e = Assert.ThrowsAsync<HttpRequestException>(() => http.GetAsync(_internal.Url("/anything")));

        Assert.That(e!.InnerException, Is.InstanceOf<BlockedAddressException>());
        Assert.That(_internal.RequestsTo("/anything"), Is.Empty);
    }

    [Test]
    public void HttpClient_hostname_resolving_to_loopback_throws_BlockedAddressException()
    {
        // "localhost" goes through our own resolution, so the resolved address is what is judged.
        var options = TestClients.Options(o => o.AllowPrivateNetworks = false);
        using var http = FederationHttp.CreateClient(options);

        var e = Assert.ThrowsAsync<HttpRequestException>(() => http.GetAsync(new Uri($"http://localhost:{_internal.Port}/by-name")));

        Assert.That(BlockedAddressException.IsCause(e), Is.True);
        Assert.That(_internal.RequestsTo("/by-name"), Is.Empty);
    }

    [Test]
    public async Task FetchAsync_loopback_when_private_networks_refused_returns_BlockedAddress()
    {
        _internal.MapObject("/direct", _internal.Url("/direct").AbsoluteUri);
        var (client, http, _) = TestClients.Create(o => o.AllowPrivateNetworks = false);
        using var _1 = http;

        using var result = await client.FetchAsync(_internal.Url("/direct"), null, CancellationToken.None);

        Assert.That(result.Failure, Is.EqualTo(FetchFailure.BlockedAddress), result.ToString());
        Assert.That(_internal.RequestsTo("/direct"), Is.Empty);
    }

    [Test]
    public async Task FetchAsync_redirect_from_allowed_host_to_loopback_returns_BlockedAddress()
    {
        var target = _internal.Url("/secret");
        _internal.MapObject("/secret", target.AbsoluteUri);
        _allowed.MapStatus("/hop", 302, r => r.Headers.Location = target.AbsoluteUri);
        var allowedPort = _allowed.Port;
        var (client, http, _) = TestClients.Create(o =>
        {
            o.AllowPrivateNetworks = false;
            o.EndPointFilter = ep => ep.Port == allowedPort;
        });
        using var _1 = http;

        using var result = await client.FetchAsync(_allowed.Url("/hop"), null, CancellationToken.None);

        Assert.That(result.Failure, Is.EqualTo(FetchFailure.BlockedAddress), result.ToString());
        Assert.That(_allowed.RequestsTo("/hop"), Has.Length.EqualTo(1), "the allowed host was reached");
        Assert.That(_internal.RequestsTo("/secret"), Is.Empty, "the internal host was not");
        Assert.That(client.IsCircuitOpen(_allowed.Host), Is.False);
    }

    [Test]
    public async Task PostAsync_loopback_when_private_networks_refused_returns_permanent_blocked()
    {
        var (client, http, _) = TestClients.Create(o => o.AllowPrivateNetworks = false);
        using var _1 = http;

        var result = await client.PostAsync(_internal.Url("/inbox-blocked"), "{}"u8.ToArray(), new TestSigner(), CancellationToken.None);

        Assert.That(result.Outcome, Is.EqualTo(DeliveryOutcome.Permanent));
        Assert.That(result.BlockedAddress, Is.True);
    }

    [Test]
    public async Task HttpClient_request_sends_fellows_user_agent()
    {
        _allowed.MapStatus("/ua", 204);
        using var http = FederationHttp.CreateClient(TestClients.Options());

        using var response = await http.GetAsync(_allowed.Url("/ua"));

        Assert.That(response.StatusCode, Is.EqualTo(HttpStatusCode.NoContent));
        Assert.That(_allowed.RequestsTo("/ua").Single().UserAgent, Is.EqualTo("Fellows/1.2.3 (+https://fellows.test/)"));
    }
}
