using Fellows.Federation.Http;
using NUnit.Framework;

namespace Fellows.Federation.Tests.Http;

public class FederationHttpOptionsTests
{
    [Test]
    public void Validate_defaults_returns_no_errors() =>
        Assert.That(new FederationHttpOptions { Domain = "coop.example" }.Validate(), Is.Empty);

    [Test]
    public void Validate_bad_values_returns_errors()
    {
        var options = new FederationHttpOptions
        {
            Domain = " ",
            MaxResponseBytes = 0,
            CircuitFailureRatio = 1.5,
            FetchTimeout = TimeSpan.Zero,
        };

        Assert.That(options.Validate(), Has.Count.EqualTo(4));
    }

    [Test]
    public void UserAgent_names_version_and_domain() =>
        Assert.That(
            new FederationHttpOptions { Domain = "coop.example", Version = "0.4.0" }.UserAgent,
            Is.EqualTo("Fellows/0.4.0 (+https://coop.example/)"));

    [Test]
    public void Constructor_invalid_options_throws()
    {
        using var http = new HttpClient();

        Assert.That(
            () => new ActivityPubClient(http, new FederationHttpOptions { MaxRedirects = -1 }, TimeProvider.System, new InMemorySignatureSchemePreferences()),
            Throws.ArgumentException);
    }

    [TestCase("https://Example.COM/users/a", "example.com")]
    [TestCase("https://example.com:8443/users/a", "example.com:8443")]
    [TestCase("http://127.0.0.1:5000/x", "127.0.0.1:5000")]
    public void HostKey_uri_returns_lowercase_host_and_nondefault_port(string uri, string expected) =>
        Assert.That(ActivityPubClient.HostKey(new Uri(uri)), Is.EqualTo(expected));
}
