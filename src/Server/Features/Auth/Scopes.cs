namespace Fellows.Server.Features.Auth;

/// <summary>
/// OAuth scopes as Mastodon defines them. A top-level scope grants every granular scope beneath it
/// (<c>read</c> covers <c>read:statuses</c>, <c>admin:read</c> covers <c>admin:read:accounts</c>); the legacy
/// <c>follow</c> covers the relationship scopes; <c>profile</c> (only who the member is) is inside <c>read:accounts</c>.
/// </summary>
public static class Scopes
{
    public const string Read = "read";
    public const string Write = "write";
    public const string Follow = "follow";
    public const string Push = "push";
    public const string Profile = "profile";
    public const string Admin = "admin";

    public static readonly string[] CommandLineDefault = [Read, Write, Follow, Push];

    /// <summary>Every scope an app may register or request, in the order the metadata document lists them.</summary>
    public static readonly IReadOnlyList<string> Known =
    [
        Read, "read:accounts", "read:blocks", "read:bookmarks", "read:favourites", "read:filters", "read:follows",
        "read:lists", "read:mutes", "read:notifications", "read:search", "read:statuses",
        Write, "write:accounts", "write:blocks", "write:bookmarks", "write:conversations", "write:favourites",
        "write:filters", "write:follows", "write:lists", "write:media", "write:mutes", "write:notifications",
        "write:reports", "write:statuses",
        Follow, Push, Profile,
        "admin:read", "admin:read:accounts", "admin:read:reports", "admin:read:domain_allows", "admin:read:domain_blocks",
        "admin:read:ip_blocks", "admin:read:email_domain_blocks", "admin:read:canonical_email_blocks",
        "admin:write", "admin:write:accounts", "admin:write:reports", "admin:write:domain_allows", "admin:write:domain_blocks",
        "admin:write:ip_blocks", "admin:write:email_domain_blocks", "admin:write:canonical_email_blocks",
    ];

    static readonly HashSet<string> KnownSet = new(Known, StringComparer.Ordinal);

    /// <summary>What the deprecated <c>follow</c> scope still grants.</summary>
    static readonly HashSet<string> FollowCovers = new(StringComparer.Ordinal)
    {
        "read:follows", "write:follows", "read:blocks", "write:blocks", "read:mutes", "write:mutes",
    };

    public static bool IsKnown(string scope) => KnownSet.Contains(scope);

    /// <summary>A scope parameter: separated by spaces, or by literal pluses as some clients send them in JSON.</summary>
    public static string[] Parse(string? value) =>
        (value ?? "").Split([' ', '+', '\t', '\n', '\r'], StringSplitOptions.RemoveEmptyEntries).Distinct(StringComparer.Ordinal).ToArray();

    /// <summary>True when the single scope <paramref name="granted"/> covers <paramref name="required"/>.</summary>
    public static bool Covers(string granted, string required)
    {
        if (granted == required) return true;
        // "read" covers "read:statuses"; "admin:read" covers "admin:read:accounts"; "admin" (command-line tokens) all admin scopes.
        if (required.Length > granted.Length && required.StartsWith(granted, StringComparison.Ordinal) && required[granted.Length] == ':')
            return true;
        if (granted == Follow && FollowCovers.Contains(required)) return true;
        if (required == Profile && granted is Read or "read:accounts") return true;
        return false;
    }

    /// <summary>True when <paramref name="granted"/> covers <paramref name="required"/> (e.g. "write" covers "write:statuses").</summary>
    public static bool Covers(IEnumerable<string> granted, string required) => granted.Any(g => Covers(g, required));

    /// <summary>True when every requested scope is covered by one the app (or an earlier grant) holds.</summary>
    public static bool AllCovered(IReadOnlyCollection<string> granted, IEnumerable<string> requested) =>
        requested.All(r => Covers(granted, r));
}
