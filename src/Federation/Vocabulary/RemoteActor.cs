using System.Diagnostics.CodeAnalysis;
using System.Text.Json;
using Fellows.Federation.Json;

namespace Fellows.Federation.Vocabulary;

/// <summary>An RSA (or other PEM) key published under <c>publicKey</c>, used for HTTP signatures.</summary>
public sealed record PublicKeyInfo(string Id, string? Owner, string PublicKeyPem);

/// <summary>A FEP-521a <c>Multikey</c> from <c>assertionMethod</c>, e.g. an Ed25519 key for RFC 9421 or object integrity proofs.</summary>
public sealed record MultikeyInfo(string Id, string? Controller, string PublicKeyMultibase);

/// <summary>A profile metadata field (<c>PropertyValue</c>). <see cref="Value"/> is untrusted HTML.</summary>
public sealed record ProfileField(string Name, string Value);

/// <summary>
/// A remote actor (Person, Service, Application, Group, Organization) as read from its JSON document.
/// HTML fields (<see cref="Summary"/>, field values) are as sent: run them through
/// <see cref="Html.RemoteHtml.Sanitize"/> before storing or showing them.
/// </summary>
public sealed record RemoteActor
{
    /// <summary>The types an actor document may have.</summary>
    public static readonly IReadOnlySet<string> ActorTypes =
        new HashSet<string>(StringComparer.Ordinal) { "Person", "Service", "Application", "Group", "Organization" };

    public required string Id { get; init; }
    public required string Type { get; init; }
    public string? PreferredUsername { get; init; }
    public string? Name { get; init; }
    public string? Summary { get; init; }
    public string? Url { get; init; }
    public string? IconUrl { get; init; }
    public string? ImageUrl { get; init; }
    public required string Inbox { get; init; }
    public string? Outbox { get; init; }
    public string? SharedInbox { get; init; }
    public string? Followers { get; init; }
    public string? Following { get; init; }
    public string? Featured { get; init; }
    public string? FeaturedTags { get; init; }
    public bool ManuallyApprovesFollowers { get; init; }

    /// <summary>Mastodon's opt-in to directory listing; null when the server does not say.</summary>
    public bool? Discoverable { get; init; }

    /// <summary>Mastodon's opt-in to full-text search indexing; null (treat as no) when the server does not say.</summary>
    public bool? Indexable { get; init; }

    public DateTimeOffset? Published { get; init; }
    public IReadOnlyList<string> AlsoKnownAs { get; init; } = [];
    public string? MovedTo { get; init; }

    /// <summary>The first usable <c>publicKey</c>; null when the actor publishes none.</summary>
    public PublicKeyInfo? PublicKey => PublicKeys.Count > 0 ? PublicKeys[0] : null;

    /// <summary>All keys under <c>publicKey</c> (some servers publish an array).</summary>
    public IReadOnlyList<PublicKeyInfo> PublicKeys { get; init; } = [];

    public IReadOnlyList<MultikeyInfo> AssertionMethods { get; init; } = [];
    public IReadOnlyList<ProfileField> Fields { get; init; } = [];
    public IReadOnlyList<CustomEmoji> Emoji { get; init; } = [];

    /// <summary>Reads an actor document. Fails when it is not an actor type or lacks an http(s) <c>id</c> or <c>inbox</c>.</summary>
    public static bool TryRead(JsonElement json, [NotNullWhen(true)] out RemoteActor? actor, [NotNullWhen(false)] out string? error)
    {
        actor = null;
        if (json.ValueKind != JsonValueKind.Object)
        {
            error = "actor is not a JSON object";
            return false;
        }

        var id = JsonLd.HttpUrl(json.GetString("id"));
        if (id is null)
        {
            error = "actor has no http(s) id";
            return false;
        }

        var type = json.GetPrimaryType();
        if (type is null || !ActorTypes.Contains(type))
        {
            // A type list like ["Person", "Bot"] still counts when one entry is an actor type.
            type = null;
            foreach (var candidate in json.GetTypes())
            {
                if (ActorTypes.Contains(candidate))
                {
                    type = candidate;
                    break;
                }
            }

            if (type is null)
            {
                error = "not an actor type";
                return false;
            }
        }

        var inbox = JsonLd.HttpUrl(json.GetId("inbox"));
        if (inbox is null)
        {
            error = "actor has no http(s) inbox";
            return false;
        }

        var endpoints = json.GetObject("endpoints");
        var tags = TagSet.Read(json);

        actor = new RemoteActor
        {
            Id = id,
            Type = type,
            PreferredUsername = json.GetString("preferredUsername"),
            Name = json.GetNaturalLanguage("name"),
            Summary = json.GetNaturalLanguage("summary"),
            Url = json.GetUrl("url"),
            IconUrl = json.GetImageUrl("icon"),
            ImageUrl = json.GetImageUrl("image"),
            Inbox = inbox,
            Outbox = JsonLd.HttpUrl(json.GetId("outbox")),
            // Misskey also repeats sharedInbox at the top level; older forks sent only that.
            SharedInbox = JsonLd.HttpUrl((endpoints is { } e ? e.GetId("sharedInbox") : null) ?? json.GetId("sharedInbox")),
            Followers = JsonLd.HttpUrl(json.GetId("followers")),
            Following = JsonLd.HttpUrl(json.GetId("following")),
            Featured = JsonLd.HttpUrl(json.GetId("featured")),
            FeaturedTags = JsonLd.HttpUrl(json.GetId("featuredTags")),
            ManuallyApprovesFollowers = json.GetBoolean("manuallyApprovesFollowers") ?? false,
            Discoverable = json.GetBoolean("discoverable"),
            Indexable = json.GetBoolean("indexable"),
            Published = json.GetDateTime("published"),
            AlsoKnownAs = json.GetIds("alsoKnownAs"),
            MovedTo = JsonLd.HttpUrl(json.GetId("movedTo")),
            PublicKeys = ReadPublicKeys(json),
            AssertionMethods = ReadMultikeys(json),
            Fields = ReadFields(json),
            Emoji = tags.Emoji,
        };
        error = null;
        return true;
    }

    private static List<PublicKeyInfo> ReadPublicKeys(JsonElement json)
    {
        var keys = new List<PublicKeyInfo>(1);
        foreach (var key in json.GetItems("publicKey"))
        {
            if (key.GetString("id") is { } keyId && key.GetString("publicKeyPem") is { Length: > 0 } pem)
            {
                keys.Add(new PublicKeyInfo(keyId, key.GetId("owner"), pem));
            }
        }

        return keys;
    }

    private static List<MultikeyInfo> ReadMultikeys(JsonElement json)
    {
        var keys = new List<MultikeyInfo>();
        foreach (var key in json.GetItems("assertionMethod"))
        {
            // Only embedded Multikeys are usable without another fetch; bare key ids are skipped.
            if (key.HasType("Multikey")
                && key.GetString("id") is { } keyId
                && key.GetString("publicKeyMultibase") is { Length: > 0 } multibase)
            {
                keys.Add(new MultikeyInfo(keyId, key.GetId("controller"), multibase));
            }
        }

        return keys;
    }

    private static List<ProfileField> ReadFields(JsonElement json)
    {
        var fields = new List<ProfileField>();
        foreach (var item in json.GetItems("attachment"))
        {
            if (item.HasType("PropertyValue") && item.GetString("name") is { } name && item.GetString("value") is { } value)
            {
                fields.Add(new ProfileField(name, value));
            }
        }

        return fields;
    }
}
