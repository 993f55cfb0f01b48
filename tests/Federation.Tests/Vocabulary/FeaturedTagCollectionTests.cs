using System.Text;
using System.Text.Json;
using Fellows.Federation.Json;
using Fellows.Federation.Vocabulary;
using NUnit.Framework;

#pragma warning disable CA1861 // expected arrays inline read best in tests

namespace Fellows.Federation.Tests.Vocabulary;

/// <summary>Reading an actor's featured hashtags collection (Mastodon's <c>toot:featuredTags</c>).</summary>
public class FeaturedTagCollectionTests
{
    static JsonDocument Parse(string json)
    {
        var result = JsonLimits.Parse(Encoding.UTF8.GetBytes(json));
        Assert.That(result.IsSuccess, Is.True, result.Error);
        return result.Document!;
    }

    [Test]
    public void Read_mastodon_collection_gives_names_without_hash_in_order()
    {
        using var doc = Fixture.Load("mastodon/featured_tags.json");
        var tags = FeaturedTagCollection.Read(doc.RootElement, 10);
        Assert.That(tags.Names, Is.EqualTo(new[] { "gardening", "Cooperatives", "seedswap" }));
        Assert.That(tags.FirstPage, Is.Null);
    }

    [Test]
    public void Read_takes_at_most_max_and_skips_other_types_blanks_and_repeats()
    {
        var items = string.Join(",", Enumerable.Range(0, 30).Select(i => $$"""{"type":"Hashtag","name":"#t{{i}}"}"""));
        using var doc = Parse($$"""
            {"type":"OrderedCollection","orderedItems":[
              {"type":"Mention","name":"@eve"}, "https://x.example/tags/bare", {"type":"Hashtag","name":"  #  "},
              {"type":"Hashtag"}, {"type":"Hashtag","name":42}, {"type":"Hashtag","name":"#Seeds"}, {"type":"Hashtag","name":"seeds"},
              {{items}}]}
            """);
        var tags = FeaturedTagCollection.Read(doc.RootElement, 10);
        Assert.That(tags.Names, Is.EqualTo(new[] { "Seeds", "t0", "t1", "t2", "t3", "t4", "t5", "t6", "t7", "t8" }));
    }

    [Test]
    public void Read_items_on_an_embedded_first_page_or_names_the_page_to_fetch()
    {
        using var embedded = Parse("""
            {"type":"Collection","first":{"type":"CollectionPage","items":[{"type":"Hashtag","name":"#paged"}]}}
            """);
        Assert.That(FeaturedTagCollection.Read(embedded.RootElement, 10).Names, Is.EqualTo(new[] { "paged" }));

        using var linked = Parse("""{"type":"Collection","totalItems":1,"first":"https://x.example/users/a/collections/tags?page=1"}""");
        var tags = FeaturedTagCollection.Read(linked.RootElement, 10);
        Assert.That(tags.Names, Is.Empty);
        Assert.That(tags.FirstPage, Is.EqualTo("https://x.example/users/a/collections/tags?page=1"));

        using var notHttp = Parse("""{"type":"Collection","first":"javascript:alert(1)"}""");
        Assert.That(FeaturedTagCollection.Read(notHttp.RootElement, 10).FirstPage, Is.Null);
    }

    [Test]
    public void Read_wrong_shapes_give_nothing()
    {
        // The bounded parser takes only objects; an array or a string (an item, say) is read with the plain one.
        foreach (var json in new[] { "[]", "\"x\"", "{}", """{"items":"nope"}""", """{"items":{"type":"Note","name":"#x"}}""" })
        {
            using var doc = json.StartsWith('{') ? Parse(json) : JsonDocument.Parse(json);
            var tags = FeaturedTagCollection.Read(doc.RootElement, 10);
            Assert.That(tags.Names, Is.Empty, json);
            Assert.That(tags.FirstPage, Is.Null, json);
        }
    }
}
