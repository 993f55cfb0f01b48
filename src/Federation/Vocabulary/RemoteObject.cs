using System.Diagnostics.CodeAnalysis;
using System.Text.Json;
using Fellows.Federation.Json;

namespace Fellows.Federation.Vocabulary;

/// <summary>A media attachment (Document, Image, Video, Audio, or a Lemmy Link), read or written. <see cref="Name"/> is the alt text.</summary>
public sealed record MediaAttachment(
    string Type,
    string? MediaType,
    string Url,
    string? Name,
    int? Width,
    int? Height,
    string? Blurhash);

/// <summary>One choice of a poll and its vote count, when the server shares it.</summary>
public sealed record PollOption(string Name, long? Votes);

/// <summary>The poll part of a <c>Question</c>.</summary>
/// <param name="Options">The choices, in order.</param>
/// <param name="Multiple">True for <c>anyOf</c> (several choices allowed), false for <c>oneOf</c>.</param>
/// <param name="EndTime">When voting ends.</param>
/// <param name="Closed">True when the poll says it has closed (Mastodon sends a timestamp, some servers <c>true</c>).</param>
/// <param name="ClosedAt">When it closed, if <c>closed</c> was a timestamp.</param>
/// <param name="VotersCount">Mastodon's count of distinct voters (differs from the vote total for multiple-choice polls).</param>
public sealed record PollInfo(
    IReadOnlyList<PollOption> Options,
    bool Multiple,
    DateTimeOffset? EndTime,
    bool Closed,
    DateTimeOffset? ClosedAt,
    long? VotersCount);

/// <summary>
/// A remote post-like object: Note, Article, Page, Question, Video, Event and so on, or a Tombstone.
/// <see cref="Content"/>, <see cref="Summary"/> and <see cref="Name"/> are untrusted HTML as sent: run them through
/// <see cref="Html.RemoteHtml.Sanitize"/> before storing or showing them.
/// </summary>
public sealed record RemoteObject
{
    public required string Id { get; init; }
    public required string Type { get; init; }

    /// <summary>
    /// The author. When <c>attributedTo</c> is an array (PeerTube lists the account and its channel), the entry typed
    /// Person (or another non-Group actor) wins; otherwise the first.
    /// </summary>
    public string? AttributedTo { get; init; }

    /// <summary>Every id in <c>attributedTo</c>, in document order.</summary>
    public IReadOnlyList<string> AttributedToAll { get; init; } = [];

    public string? Name { get; init; }
    public string? Content { get; init; }

    /// <summary>The <c>contentMap</c> as language → HTML; empty when absent.</summary>
    public IReadOnlyDictionary<string, string> ContentMap { get; init; } = new Dictionary<string, string>();

    /// <summary>The language of <see cref="Content"/>, when a single-entry <c>contentMap</c> names it.</summary>
    public string? Language { get; init; }

    public string? MediaType { get; init; }
    public string? Summary { get; init; }
    public bool Sensitive { get; init; }
    public string? InReplyTo { get; init; }
    public DateTimeOffset? Published { get; init; }
    public DateTimeOffset? Updated { get; init; }
    public string? Url { get; init; }
    public IReadOnlyList<string> To { get; init; } = [];
    public IReadOnlyList<string> Cc { get; init; } = [];

    /// <summary>FEP-1b12 <c>audience</c>: the group (Lemmy community) the object belongs to.</summary>
    public string? Audience { get; init; }

    /// <summary>The thread: <c>context</c>, or Mastodon's older <c>conversation</c>.</summary>
    public string? Context { get; init; }

    public IReadOnlyList<MentionTag> Mentions { get; init; } = [];
    public IReadOnlyList<HashtagTag> Hashtags { get; init; } = [];
    public IReadOnlyList<CustomEmoji> Emoji { get; init; } = [];
    public IReadOnlyList<MediaAttachment> Attachments { get; init; } = [];

    /// <summary>The id of the <c>replies</c> collection.</summary>
    public string? Replies { get; init; }

    /// <summary>The quoted post: FEP-044f <c>quote</c>, <c>quoteUrl</c>, Misskey's <c>_misskey_quote</c> or Fedibird's <c>quoteUri</c>.</summary>
    public string? Quote { get; init; }

    /// <summary>The poll when <see cref="Type"/> is Question.</summary>
    public PollInfo? Poll { get; init; }

    /// <summary>For a Tombstone, the type the object had.</summary>
    public string? FormerType { get; init; }

    /// <summary>True for a Tombstone.</summary>
    public bool IsTombstone => Type == "Tombstone";

    /// <summary>True when <see cref="To"/> or <see cref="Cc"/> addresses the public collection, in any of its spellings.</summary>
    public bool IsPublic => Addressing.IsPublic(To) || Addressing.IsPublic(Cc);

    /// <summary>Reads an object document. Fails when it has no http(s) <c>id</c> or no <c>type</c>, or is an actor or activity.</summary>
    public static bool TryRead(JsonElement json, [NotNullWhen(true)] out RemoteObject? value, [NotNullWhen(false)] out string? error)
    {
        value = null;
        if (json.ValueKind != JsonValueKind.Object)
        {
            error = "object is not a JSON object";
            return false;
        }

        var id = JsonLd.HttpUrl(json.GetString("id"));
        if (id is null)
        {
            error = "object has no http(s) id";
            return false;
        }

        var type = json.GetPrimaryType();
        if (type is null)
        {
            error = "object has no type";
            return false;
        }

        if (RemoteActor.ActorTypes.Contains(type))
        {
            error = $"{type} is an actor, not an object";
            return false;
        }

        var tags = TagSet.Read(json);
        var attributedToAll = json.GetIds("attributedTo");
        var contentMap = json.GetLanguageMap("contentMap");

        value = new RemoteObject
        {
            Id = id,
            Type = type,
            AttributedTo = PickAuthor(json, attributedToAll),
            AttributedToAll = attributedToAll,
            Name = json.GetNaturalLanguage("name"),
            Content = json.GetNaturalLanguage("content"),
            ContentMap = contentMap,
            Language = contentMap.Count == 1 ? contentMap.Keys.First() : null,
            MediaType = json.GetString("mediaType"),
            Summary = NullIfEmpty(json.GetNaturalLanguage("summary")),
            Sensitive = json.GetBoolean("sensitive") ?? false,
            InReplyTo = json.GetId("inReplyTo"),
            Published = json.GetDateTime("published"),
            Updated = json.GetDateTime("updated"),
            Url = json.GetUrl("url"),
            To = json.GetIds("to"),
            Cc = json.GetIds("cc"),
            Audience = json.GetId("audience"),
            Context = json.GetId("context") ?? json.GetId("conversation"),
            Mentions = tags.Mentions,
            Hashtags = tags.Hashtags,
            Emoji = tags.Emoji,
            Attachments = ReadAttachments(json),
            Replies = json.GetId("replies"),
            Quote = json.GetId("quote") ?? json.GetId("quoteUrl") ?? json.GetId("_misskey_quote") ?? json.GetId("quoteUri"),
            Poll = type == "Question" ? ReadPoll(json) : null,
            FormerType = json.GetString("formerType"),
        };
        error = null;
        return true;
    }

    private static string? PickAuthor(JsonElement json, IReadOnlyList<string> all)
    {
        if (all.Count <= 1)
        {
            return all.Count == 1 ? all[0] : null;
        }

        // PeerTube: [{type: Person, id: account}, {type: Group, id: channel}]; the person is who wrote it.
        foreach (var item in json.GetItems("attributedTo"))
        {
            if (item.ValueKind == JsonValueKind.Object
                && item.GetPrimaryType() is { } itemType
                && itemType != "Group"
                && RemoteActor.ActorTypes.Contains(itemType)
                && item.AsId() is { } author)
            {
                return author;
            }
        }

        return all[0];
    }

    private static List<MediaAttachment> ReadAttachments(JsonElement json)
    {
        var attachments = new List<MediaAttachment>();
        foreach (var item in json.GetItems("attachment"))
        {
            if (item.ValueKind != JsonValueKind.Object || item.HasType("PropertyValue"))
            {
                continue;
            }

            var url = item.GetUrl("url") ?? JsonLd.HttpUrl(item.GetString("href"));
            if (url is null)
            {
                continue;
            }

            attachments.Add(new MediaAttachment(
                item.GetPrimaryType() ?? "Document",
                item.GetString("mediaType"),
                url,
                NullIfEmpty(item.GetNaturalLanguage("name")),
                ToInt(item.GetInt64("width")),
                ToInt(item.GetInt64("height")),
                item.GetString("blurhash")));
        }

        return attachments;
    }

    private static PollInfo? ReadPoll(JsonElement json)
    {
        var multiple = json.TryGetValue("anyOf", out _);
        var options = new List<PollOption>();
        foreach (var item in json.GetItems(multiple ? "anyOf" : "oneOf"))
        {
            if (item.ValueKind == JsonValueKind.Object && item.GetNaturalLanguage("name") is { } name)
            {
                var votes = item.GetObject("replies") is { } replies ? replies.GetInt64("totalItems") : null;
                options.Add(new PollOption(name, votes));
            }
        }

        if (options.Count == 0)
        {
            return null;
        }

        var closedAt = json.GetDateTime("closed");
        var closed = closedAt is not null || json.GetBoolean("closed") == true;
        return new PollInfo(options, multiple, json.GetDateTime("endTime"), closed, closedAt, json.GetInt64("votersCount"));
    }

    private static int? ToInt(long? value) => value is >= 0 and <= int.MaxValue ? (int)value : null;

    private static string? NullIfEmpty(string? text) => string.IsNullOrEmpty(text) ? null : text;
}

/// <summary>Helpers for <c>to</c>/<c>cc</c> addressing.</summary>
public static class Addressing
{
    /// <summary>
    /// True when <paramref name="recipients"/> contain the public collection. JSON-LD allows the compact forms
    /// <c>as:Public</c> and <c>Public</c>, and some servers send them.
    /// </summary>
    public static bool IsPublic(IReadOnlyList<string> recipients)
    {
        foreach (var recipient in recipients)
        {
            if (recipient is ActivityStreams.Public or "as:Public" or "Public")
            {
                return true;
            }
        }

        return false;
    }
}
