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
