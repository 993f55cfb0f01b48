using System.Globalization;
using Fellows.Server.Common;
using Dapper;
using Fellows.Server.Features.Auth;
using Npgsql;

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
    /// for the rest). A list stream also needs <see cref="OwnedAsync"/>: only the list's owner may hear it.
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
                // Whether the member owns it is asked of the database (OwnedAsync); an id that is no number is nobody's.
                if (!long.TryParse(list.Trim(), NumberStyles.None, CultureInfo.InvariantCulture, out var listId) || listId <= 0)
                    return Error.NotFound(NotYourList);
                parameter = listId.ToString(CultureInfo.InvariantCulture);
                break;
            default:
                return Error.Validation("Unknown stream type");
        }
        var required = name == UserNotification ? "read:notifications" : "read:statuses";
        if (!Scopes.Covers(scopes, required)) return new Error(ErrorKind.Unauthorized, "Access token does not have the required scopes");
        return new StreamSubscription(name, parameter);
    }

    const string NotYourList = "Not authorized to stream this list";

    /// <summary>The list id of a <c>list</c> stream; null for other streams.</summary>
    public long? ListId => Name == List && long.TryParse(Parameter, NumberStyles.None, CultureInfo.InvariantCulture, out var id) ? id : null;

    /// <summary>
    /// Refuses a list stream whose list <paramref name="viewer"/> does not own, as Mastodon does (404 whether it is
    /// someone else's or none at all); other streams pass unchanged.
    /// </summary>
    public static async Task<Result<StreamSubscription>> OwnedAsync(Result<StreamSubscription> requested, long viewer, NpgsqlDataSource db, CancellationToken ct)
    {
        if (!requested.IsOk || requested.Value.ListId is not { } id) return requested;
        await using var conn = await db.OpenConnectionAsync(ct);
        var owned = await conn.ExecuteScalarAsync<bool>(new CommandDefinition(Lists.ListQueries.Owns, new { id, viewer }, cancellationToken: ct));
        return owned ? requested : Error.NotFound(NotYourList);
    }

    public override string ToString() => Parameter is null ? Name : string.Create(CultureInfo.InvariantCulture, $"{Name}:{Parameter}");
}
