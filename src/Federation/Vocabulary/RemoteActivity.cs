using System.Diagnostics.CodeAnalysis;
using System.Text.Json;
using Fellows.Federation.Json;

namespace Fellows.Federation.Vocabulary;

/// <summary>
/// A remote activity as it arrives in an inbox. The embedded <see cref="Object"/> is a view into the parsed
/// <see cref="JsonDocument"/> and is valid only while that document is alive; call <see cref="JsonElement.Clone"/>
/// to keep it longer.
/// </summary>
public sealed record RemoteActivity
{
    /// <summary>
    /// How deep activities may embed activities before we stop reading them: Undo(Accept(Follow)) is the deepest
    /// shape in common use. Anything deeper is left as a raw element.
    /// </summary>
    public const int MaxEmbedding = 3;

    /// <summary>The activity id; null for the rare transient activity that has none.</summary>
    public string? Id { get; init; }

    public required string Type { get; init; }
    public required string Actor { get; init; }

    /// <summary>The id of the object, whether it was sent as a bare id or embedded.</summary>
    public string? ObjectId { get; init; }

    /// <summary>Every object id when <c>object</c> is an array (Flag lists the reported account and posts).</summary>
    public IReadOnlyList<string> ObjectIds { get; init; } = [];

    /// <summary>The raw <c>object</c> value: a string, an embedded object, or an array.</summary>
    public JsonElement? Object { get; init; }

    /// <summary>The embedded object when <c>object</c> was sent as an object rather than an id.</summary>
    public JsonElement? EmbeddedObject { get; init; }

    /// <summary>
    /// When the embedded object is itself an activity (Undo of a Follow or Like, Accept/Reject of a Follow,
    /// Announce of a Create as Lemmy communities send), that activity, read the same way.
    /// </summary>
    public RemoteActivity? InnerActivity { get; init; }

    public string? Target { get; init; }
    public IReadOnlyList<string> To { get; init; } = [];
    public IReadOnlyList<string> Cc { get; init; } = [];
    public string? Audience { get; init; }
    public DateTimeOffset? Published { get; init; }

    /// <summary><c>content</c>, used by EmojiReact, Misskey's reaction Likes (<c>_misskey_reaction</c>) and Flag comments.</summary>
    public string? Content { get; init; }

    /// <summary>Custom emoji tags, for EmojiReact with a custom emoji.</summary>
    public IReadOnlyList<CustomEmoji> Emoji { get; init; } = [];

    /// <summary>True when <see cref="To"/> or <see cref="Cc"/> addresses the public collection.</summary>
    public bool IsPublic => Addressing.IsPublic(To) || Addressing.IsPublic(Cc);

    /// <summary>Reads an activity. Fails when it has no <c>type</c> or no <c>actor</c>.</summary>
    public static bool TryRead(JsonElement json, [NotNullWhen(true)] out RemoteActivity? activity, [NotNullWhen(false)] out string? error) =>
        TryRead(json, 0, out activity, out error);

    private static bool TryRead(JsonElement json, int depth, [NotNullWhen(true)] out RemoteActivity? activity, [NotNullWhen(false)] out string? error)
    {
        activity = null;
        if (json.ValueKind != JsonValueKind.Object)
        {
            error = "activity is not a JSON object";
            return false;
        }

        var type = json.GetPrimaryType();
        if (type is null)
        {
            error = "activity has no type";
            return false;
        }

        // An embedded actor object is allowed; Pleroma and some relays send one.
        var actor = JsonLd.HttpUrl(json.GetId("actor"));
        if (actor is null)
        {
            error = "activity has no http(s) actor";
            return false;
        }

        JsonElement? raw = json.TryGetValue("object", out var objectValue) ? objectValue : null;
        JsonElement? embedded = raw is { ValueKind: JsonValueKind.Object } ? raw : null;

        RemoteActivity? inner = null;
        if (embedded is { } candidate
            && depth + 1 < MaxEmbedding
            && candidate.TryGetValue("actor", out _)
            && TryRead(candidate, depth + 1, out var parsed, out _))
        {
            inner = parsed;
        }

        var tags = json.TryGetValue("tag", out _) ? TagSet.Read(json) : TagSet.Empty;
        activity = new RemoteActivity
        {
            Id = json.GetString("id"),
            Type = type,
            Actor = actor,
            ObjectId = raw?.AsId(),
            ObjectIds = json.GetIds("object"),
            Object = raw,
            EmbeddedObject = embedded,
            InnerActivity = inner,
            Target = json.GetId("target"),
            To = json.GetIds("to"),
            Cc = json.GetIds("cc"),
            Audience = json.GetId("audience"),
            Published = json.GetDateTime("published"),
            Content = json.GetNaturalLanguage("content") ?? json.GetString("_misskey_reaction"),
            Emoji = tags.Emoji,
        };
        error = null;
        return true;
    }
}
