using System.Text.Json;
using Fellows.Federation.Json;

namespace Fellows.Federation.Vocabulary;

/// <summary>A <c>Mention</c> tag: the actor mentioned and the handle shown for it.</summary>
public sealed record MentionTag(string Href, string? Name);

/// <summary>A <c>Hashtag</c> tag. <see cref="Name"/> keeps the leading '#' when the sender included it.</summary>
public sealed record HashtagTag(string? Href, string Name);

/// <summary>A custom emoji (<c>toot:Emoji</c>): its shortcode with colons, e.g. <c>:blobcat:</c>, and image address.</summary>
public sealed record CustomEmoji(string Name, string IconUrl, string? Id);

/// <summary>The <c>tag</c> array of an object or actor, split by kind. Unknown tag types are skipped.</summary>
public sealed record TagSet(IReadOnlyList<MentionTag> Mentions, IReadOnlyList<HashtagTag> Hashtags, IReadOnlyList<CustomEmoji> Emoji)
{
    /// <summary>No tags.</summary>
    public static TagSet Empty { get; } = new([], [], []);

    /// <summary>Reads the <c>tag</c> property of <paramref name="element"/>.</summary>
    public static TagSet Read(JsonElement element)
    {
        if (!element.TryGetValue("tag", out _))
        {
            return Empty;
        }

        List<MentionTag>? mentions = null;
        List<HashtagTag>? hashtags = null;
        List<CustomEmoji>? emoji = null;
        foreach (var tag in element.GetItems("tag"))
        {
            if (tag.ValueKind != JsonValueKind.Object)
            {
                continue;
            }

            var name = tag.GetString("name");
            if (tag.HasType("Mention"))
            {
                if (JsonLd.HttpUrl(tag.GetString("href")) is { } href)
                {
                    (mentions ??= []).Add(new MentionTag(href, name));
                }
            }
            else if (tag.HasType("Hashtag"))
            {
                if (!string.IsNullOrWhiteSpace(name))
                {
                    (hashtags ??= []).Add(new HashtagTag(JsonLd.HttpUrl(tag.GetString("href")), name));
                }
            }
            else if (tag.HasType("Emoji"))
            {
                if (!string.IsNullOrWhiteSpace(name) && tag.GetImageUrl("icon") is { } icon)
                {
                    (emoji ??= []).Add(new CustomEmoji(name, icon, tag.GetString("id")));
                }
            }
        }

        return new TagSet(mentions ?? [], hashtags ?? [], emoji ?? []);
    }
}

/// <summary>
/// What a featured hashtags collection (Mastodon's <c>toot:featuredTags</c> on an actor) holds: the names of its
/// <c>Hashtag</c> items, without the leading '#', at most as many as asked for, duplicates (by case) once. Mastodon
/// serves a <c>Collection</c> with the items inline; an <c>OrderedCollection</c>, or items on an embedded
/// <c>first</c> page, read the same. When the items are only on a <c>first</c> page named by id,
/// <see cref="FirstPage"/> is that id, for the caller to fetch (from the collection's origin only) and read again.
/// </summary>
public sealed record FeaturedTagCollection(IReadOnlyList<string> Names, string? FirstPage)
{
    /// <summary>Reads a featured tags collection, taking at most <paramref name="max"/> names.</summary>
    public static FeaturedTagCollection Read(JsonElement collection, int max)
    {
        if (collection.ValueKind != JsonValueKind.Object)
        {
            return new FeaturedTagCollection([], null);
        }

        var items = collection.GetItems("items").Concat(collection.GetItems("orderedItems")).ToList();
        string? firstPage = null;
        if (items.Count == 0 && collection.TryGetValue("first", out var first))
        {
            if (first.ValueKind == JsonValueKind.Object && (first.TryGetValue("items", out _) || first.TryGetValue("orderedItems", out _)))
            {
                items = first.GetItems("items").Concat(first.GetItems("orderedItems")).ToList();
            }
            else
            {
                firstPage = JsonLd.HttpUrl(first.AsId());
            }
        }

        var names = new List<string>();
        var seen = new HashSet<string>(StringComparer.OrdinalIgnoreCase);
        foreach (var item in items)
        {
            if (names.Count >= max)
            {
                break;
            }

            if (item.ValueKind != JsonValueKind.Object || !item.HasType("Hashtag") || item.GetString("name") is not { } raw)
            {
                continue;
            }

            var name = raw.Trim().TrimStart('#');
            if (name.Length > 0 && seen.Add(name))
            {
                names.Add(name);
            }
        }

        return new FeaturedTagCollection(names, names.Count == 0 ? firstPage : null);
    }
}
