using System.Globalization;
using Fellows.Server.Common;
using Fellows.Server.Features.Auth;

namespace Fellows.Server.Features.Streaming;

/// <summary>
/// One stream a connection listens to: its name (<c>user</c>, <c>public:local</c>, <c>hashtag</c>, …) and, for
/// <c>hashtag</c> and <c>list</c>, the tag (compared case-insensitively) or list id.
/// </summary>
public sealed record StreamSubscription(string Name, string? Parameter)
{
    public const string User = "user";
    public const string UserNotification = "user:notification";
    public const string Public = "public";
    public const string PublicLocal = "public:local";
    public const string PublicRemote = "public:remote";
    public const string PublicMedia = "public:media";
    public const string PublicLocalMedia = "public:local:media";
    public const string PublicRemoteMedia = "public:remote:media";
    public const string Hashtag = "hashtag";
    public const string HashtagLocal = "hashtag:local";
    public const string List = "list";
    public const string Direct = "direct";

    /// <summary>The <c>stream</c> array of each WebSocket message: the name, then the tag or list id.</summary>
    public string[] StreamArray { get; } = Parameter is null ? [Name] : [Name, Parameter];

    /// <summary>Tag as matched against status tags (lower case); null for other streams.</summary>
    public string? TagKey => Name is Hashtag or HashtagLocal ? Parameter?.ToLowerInvariant() : null;

    public bool Equals(StreamSubscription? other) =>
        other is not null && Name == other.Name && string.Equals(Parameter, other.Parameter, StringComparison.OrdinalIgnoreCase);

    public override int GetHashCode() => HashCode.Combine(Name, Parameter?.ToLowerInvariant());

    /// <summary>
    /// Checks a requested stream as Mastodon does: a known name, a tag for hashtag streams, a list id for lists, and a
    /// token whose scopes cover it (<c>read</c>, or <c>read:notifications</c> for notifications, <c>read:statuses</c>
    /// for the rest). Lists do not exist yet, so a list stream is refused as not found.
    /// </summary>
    public static Result<StreamSubscription> Resolve(string? stream, string? tag, string? list, IReadOnlyCollection<string> scopes)
    {
        var name = stream?.Trim() ?? "";
        string? parameter = null;
        switch (name)
        {
            case User or UserNotification or Public or PublicLocal or PublicRemote or PublicMedia or PublicLocalMedia or PublicRemoteMedia or Direct:
                break;
            case Hashtag or HashtagLocal:
                parameter = tag?.Trim().TrimStart('#');
                if (string.IsNullOrEmpty(parameter)) return Error.Validation("No tag for stream provided");
                if (parameter.Length > 100 || !parameter.All(c => char.IsLetterOrDigit(c) || c == '_'))
                    return Error.Validation("Invalid tag for stream");
                break;
            case List:
                if (string.IsNullOrWhiteSpace(list)) return Error.Validation("No list for stream provided");
                // No lists are stored yet, so no member owns the one asked for (Mastodon's answer to a list not theirs).
                return Error.NotFound("Not authorized to stream this list");
            default:
                return Error.Validation("Unknown stream type");
        }
        var required = name == UserNotification ? "read:notifications" : "read:statuses";
        if (!Scopes.Covers(scopes, required)) return new Error(ErrorKind.Unauthorized, "Access token does not have the required scopes");
        return new StreamSubscription(name, parameter);
    }

    public override string ToString() => Parameter is null ? Name : string.Create(CultureInfo.InvariantCulture, $"{Name}:{Parameter}");
}
