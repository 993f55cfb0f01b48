using System.Text.Json;
using Fellows.Federation.Json;
using Fellows.Federation.Vocabulary;
using NUnit.Framework;

namespace Fellows.Federation.Tests.Vocabulary;

#pragma warning disable CA1861 // expected arrays inline read best in tests

public class JsonLdTests
{
    private static JsonElement Root(string json)
    {
        using var document = JsonDocument.Parse(json);
        return document.RootElement.Clone();
    }

    [Test]
    public void GetUrl_array_prefers_text_html_link()
    {
        var root = Root("""{"url": [{"type": "Link", "mediaType": "application/x-mpegURL", "href": "https://v.example/a.m3u8"}, {"type": "Link", "mediaType": "text/html", "href": "https://v.example/watch/1"}]}""");

        Assert.That(root.GetUrl("url"), Is.EqualTo("https://v.example/watch/1"));
    }

    [Test]
    public void GetUrl_array_without_html_takes_first_http()
    {
        var root = Root("""{"url": ["magnet:?xt=1", {"href": "https://v.example/file.mp4", "mediaType": "video/mp4"}]}""");

        Assert.That(root.GetUrl("url"), Is.EqualTo("https://v.example/file.mp4"));
    }

    [Test]
    public void GetNaturalLanguage_prefers_plain_then_requested_language_then_und_then_first()
    {
        Assert.That(Root("""{"name": "plain", "nameMap": {"en": "map"}}""").GetNaturalLanguage("name"), Is.EqualTo("plain"));
        Assert.That(Root("""{"nameMap": {"de": "Hallo", "en": "Hello"}}""").GetNaturalLanguage("name", "en"), Is.EqualTo("Hello"));
        Assert.That(Root("""{"nameMap": {"de": "Hallo", "und": "Hi"}}""").GetNaturalLanguage("name"), Is.EqualTo("Hi"));
        Assert.That(Root("""{"nameMap": {"de": "Hallo", "fr": "Salut"}}""").GetNaturalLanguage("name"), Is.EqualTo("Hallo"));
    }

    [Test]
    public void HasType_matches_prefixed_and_full_iri_forms()
    {
        Assert.That(Root("""{"type": "as:Note"}""").HasType("Note"), Is.True);
        Assert.That(Root("""{"type": ["https://www.w3.org/ns/activitystreams#Note"]}""").HasType("Note"), Is.True);
        Assert.That(Root("""{"type": ["Note", "https://x.example/ns#Post"]}""").GetPrimaryType(), Is.EqualTo("Note"));
        Assert.That(Root("""{"type": "as:Note"}""").GetPrimaryType(), Is.EqualTo("Note"));
    }

    [Test]
    public void GetIds_mixes_strings_objects_and_links()
    {
        var root = Root("""{"to": ["https://a.example/1", {"id": "https://a.example/2"}, {"type": "Link", "href": "https://a.example/3"}, null, 4, ""]}""");

        Assert.That(root.GetIds("to"), Is.EqualTo(new[] { "https://a.example/1", "https://a.example/2", "https://a.example/3" }));
    }

    [TestCase("true", true)]
    [TestCase("\"true\"", true)]
    [TestCase("\"False\"", false)]
    [TestCase("false", false)]
    public void GetBoolean_accepts_booleans_and_strings(string value, bool expected)
    {
        Assert.That(Root($$"""{"b": {{value}}}""").GetBoolean("b"), Is.EqualTo(expected));
    }

    [Test]
    public void GetDateTime_normalises_offset_to_utc()
    {
        var value = Root("""{"published": "2024-05-01T14:00:00+02:00"}""").GetDateTime("published");

        Assert.That(value, Is.EqualTo(new DateTimeOffset(2024, 5, 1, 12, 0, 0, TimeSpan.Zero)));
        Assert.That(value!.Value.Offset, Is.EqualTo(TimeSpan.Zero));
    }

    [Test]
    public void GetImageUrl_object_with_link_url()
    {
        var root = Root("""{"icon": {"type": "Image", "url": {"type": "Link", "href": "https://a.example/i.png"}}}""");

        Assert.That(root.GetImageUrl("icon"), Is.EqualTo("https://a.example/i.png"));
    }

    [TestCase("https://www.w3.org/ns/activitystreams#Public")]
    [TestCase("as:Public")]
    [TestCase("Public")]
    public void Addressing_IsPublic_accepts_compact_forms(string recipient)
    {
        Assert.That(Addressing.IsPublic([recipient]), Is.True);
    }
}
