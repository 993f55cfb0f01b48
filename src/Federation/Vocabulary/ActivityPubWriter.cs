using System.Buffers;
using System.Globalization;
using System.Text.Encodings.Web;
using System.Text.Json;
using System.Text.Json.Nodes;

namespace Fellows.Federation.Vocabulary;

/// <summary>
/// Builds the JSON documents we publish: actors, notes, activities, tombstones and collections. Properties are always
/// written in the same order, so the output of a given input is byte-for-byte stable and can be pinned by snapshot
/// tests. Top-level builders add <c>@context</c>; pass <c>withContext: false</c> when embedding one document in another.
/// </summary>
public static class ActivityPubWriter
{
    /// <summary>The W3C security vocabulary, for <c>publicKey</c>.</summary>
    public const string SecurityContext = "https://w3id.org/security/v1";

    /// <summary>The Multikey vocabulary, for FEP-521a <c>assertionMethod</c>.</summary>
    public const string MultikeyContext = "https://w3id.org/security/multikey/v1";

    /// <summary>Mastodon's extension namespace.</summary>
    public const string TootNamespace = "http://joinmastodon.org/ns#";

    // The relaxed encoder leaves '<', '>', '&' and non-ASCII text readable. That is safe here: these documents are
    // served as application/activity+json, never inlined into an HTML page.
    private static readonly JsonSerializerOptions Compact = new() { Encoder = JavaScriptEncoder.UnsafeRelaxedJsonEscaping };
    private static readonly JsonSerializerOptions Indented = new() { Encoder = JavaScriptEncoder.UnsafeRelaxedJsonEscaping, WriteIndented = true };

    /// <summary>Serialises <paramref name="document"/> compactly (or indented for humans).</summary>
    public static string Serialize(JsonNode document, bool indented = false) =>
        document.ToJsonString(indented ? Indented : Compact);

    /// <summary>Serialises <paramref name="document"/> to UTF-8, as it goes on the wire and into signatures.</summary>
    public static byte[] SerializeToUtf8(JsonNode document)
    {
        var buffer = new ArrayBufferWriter<byte>();
        using (var writer = new Utf8JsonWriter(buffer, new JsonWriterOptions { Encoder = JavaScriptEncoder.UnsafeRelaxedJsonEscaping }))
        {
            document.WriteTo(writer);
        }

        return buffer.WrittenSpan.ToArray();
    }

    /// <summary>The <c>@context</c> for actor documents: AS, security and Multikey vocabularies, and the Mastodon terms.</summary>
    public static JsonArray ActorContext() =>
    [
        ActivityStreams.Context,
        SecurityContext,
        MultikeyContext,
        new JsonObject
        {
            ["manuallyApprovesFollowers"] = "as:manuallyApprovesFollowers",
            ["toot"] = TootNamespace,
            ["featured"] = IdTerm("toot:featured"),
            ["featuredTags"] = IdTerm("toot:featuredTags"),
            ["alsoKnownAs"] = IdTerm("as:alsoKnownAs"),
            ["movedTo"] = IdTerm("as:movedTo"),
            ["schema"] = "http://schema.org#",
            ["PropertyValue"] = "schema:PropertyValue",
            ["value"] = "schema:value",
            ["discoverable"] = "toot:discoverable",
            ["indexable"] = "toot:indexable",
            ["Emoji"] = "toot:Emoji",
            ["Hashtag"] = "as:Hashtag",
            ["sensitive"] = "as:sensitive",
        },
    ];

    /// <summary>The <c>@context</c> for notes and activities: AS plus the extension terms notes use.</summary>
    public static JsonArray ObjectContext() =>
    [
        ActivityStreams.Context,
        new JsonObject
        {
            ["sensitive"] = "as:sensitive",
            ["Hashtag"] = "as:Hashtag",
            ["toot"] = TootNamespace,
            ["Emoji"] = "toot:Emoji",
            ["blurhash"] = "toot:blurhash",
            ["votersCount"] = "toot:votersCount",
        },
    ];

    /// <summary>An actor document (Person, Group, Application, Service).</summary>
    public static JsonObject Actor(LocalActor actor)
    {
        var json = new JsonObject
        {
            ["@context"] = ActorContext(),
            ["id"] = actor.Id,
            ["type"] = actor.Type,
            ["preferredUsername"] = actor.PreferredUsername,
        };
        AddIf(json, "name", actor.Name);
        AddIf(json, "summary", actor.SummaryHtml);
        AddIf(json, "url", actor.Url);
        json["inbox"] = actor.Inbox;
        json["outbox"] = actor.Outbox;
        AddIf(json, "followers", actor.Followers);
        AddIf(json, "following", actor.Following);
        AddIf(json, "featured", actor.Featured);
        AddIf(json, "featuredTags", actor.FeaturedTags);
        if (actor.SharedInbox is not null)
        {
            json["endpoints"] = new JsonObject { ["sharedInbox"] = actor.SharedInbox };
        }

        json["manuallyApprovesFollowers"] = actor.ManuallyApprovesFollowers;
        json["discoverable"] = actor.Discoverable;
        json["indexable"] = actor.Indexable;
        AddIf(json, "published", actor.Published);
        if (actor.Icon is not null)
        {
            json["icon"] = Image(actor.Icon);
        }

        if (actor.Image is not null)
        {
            json["image"] = Image(actor.Image);
        }

        if (actor.AlsoKnownAs.Count > 0)
        {
            json["alsoKnownAs"] = Strings(actor.AlsoKnownAs);
        }

        AddIf(json, "movedTo", actor.MovedTo);
        json["publicKey"] = new JsonObject
        {
            ["id"] = actor.PublicKeyId ?? actor.Id + "#main-key",
            ["owner"] = actor.Id,
            ["publicKeyPem"] = actor.PublicKeyPem,
        };
        if (actor.Multikeys.Count > 0)
        {
            var keys = new JsonArray();
            foreach (var key in actor.Multikeys)
            {
                keys.Add(new JsonObject
                {
                    ["id"] = key.Id,
                    ["type"] = "Multikey",
                    ["controller"] = actor.Id,
                    ["publicKeyMultibase"] = key.PublicKeyMultibase,
                });
            }

            json["assertionMethod"] = keys;
        }

        // Mastodon reads profile fields from attachment and emoji from tag; write both, even empty, as it does.
        var fields = new JsonArray();
        foreach (var field in actor.Fields)
        {
            fields.Add(new JsonObject { ["type"] = "PropertyValue", ["name"] = field.Name, ["value"] = field.Value });
        }

        json["attachment"] = fields;
        json["tag"] = Tags([], [], actor.Emoji);
        return json;
    }

    /// <summary>A Note (or Article, Question) document.</summary>
    public static JsonObject Note(LocalNote note, bool withContext = true)
    {
        var json = Start(withContext, ObjectContext, note.Id, note.Type);
        json["attributedTo"] = note.AttributedTo;
        json["summary"] = note.Summary is { Length: > 0 } ? note.Summary : null;
        json["sensitive"] = note.Sensitive;
        json["inReplyTo"] = note.InReplyTo;
        json["published"] = Timestamp(note.Published);
        AddIf(json, "updated", note.Updated);
        AddIf(json, "url", note.Url);
        json["to"] = Strings(note.To);
        json["cc"] = Strings(note.Cc);
        AddIf(json, "audience", note.Audience);
        AddIf(json, "context", note.Context);
        json["content"] = note.ContentHtml;
        if (note.Language is { Length: > 0 } language)
        {
            json["contentMap"] = new JsonObject { [language] = note.ContentHtml };
        }

        json["attachment"] = Attachments(note.Attachments);
        json["tag"] = Tags(note.Mentions, note.Hashtags, note.Emoji);
        AddIf(json, "replies", note.Replies);
        if (note.Poll is { } poll)
        {
            var options = new JsonArray();
            foreach (var option in poll.Options)
            {
                var item = new JsonObject { ["type"] = "Note", ["name"] = option.Name };
                if (option.Votes is { } votes)
                {
                    item["replies"] = new JsonObject { ["type"] = "Collection", ["totalItems"] = votes };
                }

                options.Add(item);
            }

            json[poll.Multiple ? "anyOf" : "oneOf"] = options;
            AddIf(json, "endTime", poll.EndTime);
            AddIf(json, "closed", poll.ClosedAt);
            json["votersCount"] = poll.VotersCount;
        }

        return json;
    }

    /// <summary>
    /// Create of a poll vote the way Mastodon sends one: a Note whose <c>name</c> is the chosen option's title, in
    /// reply to the Question, addressed only to the poll's author (one such Note per chosen option).
    /// </summary>
    public static JsonObject PollVote(string id, string voter, string questionId, string questionAuthor, string optionName, DateTimeOffset published)
    {
        var note = Start(false, PlainContext, id, "Note");
        note["name"] = optionName;
        note["attributedTo"] = voter;
        note["inReplyTo"] = questionId;
        note["to"] = Strings([questionAuthor]);
        note["published"] = Timestamp(published);
        return Activity(PlainContext, "Create", id + "/activity", voter, note, [questionAuthor], null, published);
    }

    /// <summary>A Tombstone standing in for a deleted object.</summary>
    public static JsonObject Tombstone(string id, string? formerType = null, DateTimeOffset? deleted = null, bool withContext = false)
    {
        var json = Start(withContext, ObjectContext, id, "Tombstone");
        AddIf(json, "formerType", formerType);
        AddIf(json, "deleted", deleted);
        return json;
    }

    /// <summary>
    /// Any activity. <paramref name="activityObject"/> is an id (string) or an embedded document; embedded documents
    /// must not carry their own <c>@context</c>. The context is plain ActivityStreams, which is what Mastodon sends for
    /// Follow, Accept, Like and the like; <see cref="Create"/> and <see cref="Update(string, LocalNote)"/> add the
    /// extension terms an embedded post uses.
    /// </summary>
    public static JsonObject Activity(
        string type,
        string id,
        string actor,
        JsonNode? activityObject,
        IReadOnlyList<string>? to = null,
        IReadOnlyList<string>? cc = null,
        DateTimeOffset? published = null,
        string? target = null,
        bool withContext = true) =>
        Activity(withContext ? PlainContext : null, type, id, actor, activityObject, to, cc, published, target);

    private static JsonObject Activity(
        Func<JsonNode>? context,
        string type,
        string id,
        string actor,
        JsonNode? activityObject,
        IReadOnlyList<string>? to = null,
        IReadOnlyList<string>? cc = null,
        DateTimeOffset? published = null,
        string? target = null)
    {
        var json = Start(context is not null, context ?? PlainContext, id, type);
        json["actor"] = actor;
        AddIf(json, "published", published);
        if (to is { Count: > 0 })
        {
            json["to"] = Strings(to);
        }

        if (cc is { Count: > 0 })
        {
            json["cc"] = Strings(cc);
        }

        if (activityObject is not null)
        {
            json["object"] = activityObject;
        }

        AddIf(json, "target", target);
        return json;
    }

    /// <summary>Create of <paramref name="note"/>, addressed as the note is.</summary>
    public static JsonObject Create(string id, LocalNote note) =>
        Activity(ObjectContext, "Create", id, note.AttributedTo, Note(note, withContext: false), note.To, note.Cc, note.Published);

    /// <summary>Update of <paramref name="note"/> (an edit), addressed as the note is.</summary>
    public static JsonObject Update(string id, LocalNote note) =>
        Activity(ObjectContext, "Update", id, note.AttributedTo, Note(note, withContext: false), note.To, note.Cc, note.Updated ?? note.Published);

    /// <summary>Update of an actor profile, sent to followers.</summary>
    public static JsonObject Update(string id, LocalActor actor, IReadOnlyList<string> to)
    {
        var embedded = Actor(actor);
        embedded.Remove("@context");
        return Activity(ActorContext, "Update", id, actor.Id, embedded, to);
    }

    /// <summary>Delete of an object, with a Tombstone so receivers need not fetch it (it is gone anyway).</summary>
    public static JsonObject Delete(string id, string actor, string objectId, IReadOnlyList<string> to, IReadOnlyList<string>? cc = null) =>
        Activity("Delete", id, actor, Tombstone(objectId), to, cc);

    /// <summary>Follow of <paramref name="followee"/>.</summary>
    public static JsonObject Follow(string id, string actor, string followee) =>
        Activity("Follow", id, actor, followee, to: [followee]);

    /// <summary>
    /// Accept of a Follow. The Follow is embedded whole: Mastodon and others match it by its id, and some check its
    /// actor and object too.
    /// </summary>
    public static JsonObject Accept(string id, string actor, string followId, string follower) =>
        Activity("Accept", id, actor, EmbeddedFollow(followId, follower, actor), to: [follower]);

    /// <summary>Reject of a Follow, embedded as in <see cref="Accept"/>.</summary>
    public static JsonObject Reject(string id, string actor, string followId, string follower) =>
        Activity("Reject", id, actor, EmbeddedFollow(followId, follower, actor), to: [follower]);

    /// <summary>Undo of an earlier activity of ours (Follow, Like, Announce, Block), embedded without context.</summary>
    public static JsonObject Undo(string id, string actor, JsonObject undone, IReadOnlyList<string>? to = null)
    {
        undone.Remove("@context");
        return Activity("Undo", id, actor, undone, to);
    }

    /// <summary>Like of an object.</summary>
    public static JsonObject Like(string id, string actor, string objectId, string objectAuthor) =>
        Activity("Like", id, actor, objectId, to: [objectAuthor]);

    /// <summary>Announce (boost) of an object.</summary>
    public static JsonObject Announce(string id, string actor, string objectId, IReadOnlyList<string> to, IReadOnlyList<string> cc, DateTimeOffset published) =>
        Activity("Announce", id, actor, objectId, to, cc, published);

    /// <summary>Block of an actor (sent to that actor's server so it can hide us from them).</summary>
    public static JsonObject Block(string id, string actor, string blocked) =>
        Activity("Block", id, actor, blocked, to: [blocked]);

    /// <summary>Move of an account: <c>object</c> is the old actor, <c>target</c> the new one.</summary>
    public static JsonObject Move(string id, string actor, string target, IReadOnlyList<string> to) =>
        Activity("Move", id, actor, actor, to, target: target);

    /// <summary>
    /// Flag (report) of an account and some of its posts. Sent from the instance actor, as Mastodon does, so the
    /// reporter stays anonymous to the other server.
    /// </summary>
    public static JsonObject Flag(string id, string instanceActor, string reported, IReadOnlyList<string> postIds, string? comment)
    {
        var objects = new JsonArray { reported };
        foreach (var post in postIds)
        {
            objects.Add(post);
        }

        var json = Activity("Flag", id, instanceActor, objects);
        AddIf(json, "content", comment);
        return json;
    }

    /// <summary>An OrderedCollection. Omit <paramref name="totalItems"/> to hide the count (e.g. private followers).</summary>
    public static JsonObject OrderedCollection(string id, long? totalItems = null, string? first = null, string? last = null, IReadOnlyList<JsonNode>? orderedItems = null)
    {
        var json = Start(true, PlainContext, id, "OrderedCollection");
        if (totalItems is { } total)
        {
            json["totalItems"] = total;
        }

        AddIf(json, "first", first);
        AddIf(json, "last", last);
        if (orderedItems is not null)
        {
            json["orderedItems"] = Nodes(orderedItems);
        }

        return json;
    }

    /// <summary>An OrderedCollectionPage.</summary>
    public static JsonObject OrderedCollectionPage(LocalCollectionPage page)
    {
        // Pages of ids need only ActivityStreams; pages embedding activities (outbox) need the post terms.
        var embeds = page.OrderedItems.Any(item => item is JsonObject);
        var json = Start(true, embeds ? ObjectContext : PlainContext, page.Id, "OrderedCollectionPage");
        if (page.TotalItems is { } total)
        {
            json["totalItems"] = total;
        }

        json["partOf"] = page.PartOf;
        AddIf(json, "next", page.Next);
        AddIf(json, "prev", page.Prev);
        json["orderedItems"] = Nodes(page.OrderedItems);
        return json;
    }

    /// <summary>Media attachments as Mastodon writes them: type, <c>mediaType</c>, <c>url</c>, <c>name</c> (the description), <c>blurhash</c>, size.</summary>
    public static JsonArray Attachments(IReadOnlyList<MediaAttachment> media)
    {
        ArgumentNullException.ThrowIfNull(media);
        var attachments = new JsonArray();
        foreach (var item in media)
        {
            var json = new JsonObject { ["type"] = item.Type };
            AddIf(json, "mediaType", item.MediaType);
            json["url"] = item.Url;
            AddIf(json, "name", item.Name);
            AddIf(json, "blurhash", item.Blurhash);
            if (item.Width is { } width)
            {
                json["width"] = width;
            }

            if (item.Height is { } height)
            {
                json["height"] = height;
            }

            attachments.Add(json);
        }

        return attachments;
    }

    /// <summary>Formats a timestamp as servers expect: UTC, whole seconds, <c>Z</c> suffix.</summary>
    public static string Timestamp(DateTimeOffset value) =>
        value.UtcDateTime.ToString("yyyy-MM-dd'T'HH:mm:ss'Z'", CultureInfo.InvariantCulture);

    private static JsonObject EmbeddedFollow(string followId, string follower, string followee) => new()
    {
        ["id"] = followId,
        ["type"] = "Follow",
        ["actor"] = follower,
        ["object"] = followee,
    };

    private static JsonNode PlainContext() => JsonValue.Create(ActivityStreams.Context);

    private static JsonObject Start(bool withContext, Func<JsonNode> context, string id, string type)
    {
        var json = new JsonObject();
        if (withContext)
        {
            json["@context"] = context();
        }

        json["id"] = id;
        json["type"] = type;
        return json;
    }

    private static JsonArray Tags(IReadOnlyList<MentionTag> mentions, IReadOnlyList<HashtagTag> hashtags, IReadOnlyList<CustomEmoji> emoji)
    {
        var tags = new JsonArray();
        foreach (var mention in mentions)
        {
            tags.Add(new JsonObject { ["type"] = "Mention", ["href"] = mention.Href, ["name"] = mention.Name });
        }

        foreach (var hashtag in hashtags)
        {
            var name = hashtag.Name.StartsWith('#') ? hashtag.Name : "#" + hashtag.Name;
            tags.Add(new JsonObject { ["type"] = "Hashtag", ["href"] = hashtag.Href, ["name"] = name });
        }

        foreach (var item in emoji)
        {
            var tag = new JsonObject();
            AddIf(tag, "id", item.Id);
            tag["type"] = "Emoji";
            tag["name"] = item.Name;
            tag["icon"] = new JsonObject { ["type"] = "Image", ["url"] = item.IconUrl };
            tags.Add(tag);
        }

        return tags;
    }

    private static JsonObject Image(ImageRef image)
    {
        var json = new JsonObject { ["type"] = "Image" };
        AddIf(json, "mediaType", image.MediaType);
        json["url"] = image.Url;
        return json;
    }

    private static JsonObject IdTerm(string id) => new() { ["@id"] = id, ["@type"] = "@id" };

    private static JsonArray Strings(IReadOnlyList<string> values)
    {
        var array = new JsonArray();
        foreach (var value in values)
        {
            array.Add(value);
        }

        return array;
    }

    private static JsonArray Nodes(IReadOnlyList<JsonNode> values)
    {
        var array = new JsonArray();
        foreach (var value in values)
        {
            // A node can have one parent; copy so callers may reuse theirs.
            array.Add(value.Parent is null ? value : value.DeepClone());
        }

        return array;
    }

    private static void AddIf(JsonObject json, string name, string? value)
    {
        if (value is not null)
        {
            json[name] = value;
        }
    }

    private static void AddIf(JsonObject json, string name, DateTimeOffset? value)
    {
        if (value is { } timestamp)
        {
            json[name] = Timestamp(timestamp);
        }
    }
}
