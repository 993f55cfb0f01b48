using System.Net;
using System.Net.Http.Headers;
using System.Text.Json;
using Fellows.Federation.Deliberation;
using NUnit.Framework;

namespace Fellows.Server.Tests.Deliberation;

public class DeliberationContextTests
{
    private FellowsInstance _instance = null!;

    [OneTimeSetUp]
    public async Task StartAsync() => _instance = await FellowsInstance.StartAsync("ldcontext");

    [OneTimeTearDown]
    public async Task StopAsync() => await _instance.DisposeAsync();

    [Test]
    public async Task Get_context_is_json_ld_cacheable_and_the_embedded_bytes()
    {
        using var response = await _instance.Client.GetAsync(new Uri(DeliberationVocabulary.ContextPath, UriKind.Relative));
        var body = await response.Content.ReadAsByteArrayAsync();

        Assert.Multiple(() =>
        {
            Assert.That(response.StatusCode, Is.EqualTo(HttpStatusCode.OK));
            Assert.That(response.Content.Headers.ContentType?.MediaType, Is.EqualTo("application/ld+json"));
            Assert.That(response.Headers.CacheControl?.Public, Is.True);
            Assert.That(response.Headers.CacheControl?.MaxAge, Is.EqualTo(TimeSpan.FromDays(1)));
            Assert.That(response.Headers.ETag, Is.Not.Null);
            Assert.That(response.Headers.GetValues("Access-Control-Allow-Origin").Single(), Is.EqualTo("*"));
            Assert.That(body, Is.EqualTo(DeliberationVocabulary.ContextDocument.ToArray()));
        });
        using var document = JsonDocument.Parse(body);
        Assert.That(document.RootElement.GetProperty("@context").GetProperty("fellows").GetString(), Is.EqualTo(DeliberationVocabulary.Namespace));
    }

    [Test]
    public async Task Get_context_with_its_etag_is_not_modified()
    {
        using var first = await _instance.Client.GetAsync(new Uri(DeliberationVocabulary.ContextPath, UriKind.Relative));
        using var request = new HttpRequestMessage(HttpMethod.Get, new Uri(DeliberationVocabulary.ContextPath, UriKind.Relative));
        request.Headers.IfNoneMatch.Add(first.Headers.ETag!);

        using var second = await _instance.Client.SendAsync(request);
        var body = await second.Content.ReadAsByteArrayAsync();

        Assert.Multiple(() =>
        {
            Assert.That(second.StatusCode, Is.EqualTo(HttpStatusCode.NotModified));
            Assert.That(body, Is.Empty);
        });
    }

    [Test]
    public async Task Get_context_with_a_stale_etag_sends_it_again()
    {
        using var request = new HttpRequestMessage(HttpMethod.Get, new Uri(DeliberationVocabulary.ContextPath, UriKind.Relative));
        request.Headers.IfNoneMatch.Add(new EntityTagHeaderValue("\"stale\""));

        using var response = await _instance.Client.SendAsync(request);

        Assert.That(response.StatusCode, Is.EqualTo(HttpStatusCode.OK));
    }
}
