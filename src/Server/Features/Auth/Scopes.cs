namespace Fellows.Server.Features.Auth;

/// <summary>OAuth scopes as Mastodon defines them: a top-level scope grants every granular scope beneath it.</summary>
public static class Scopes
{
    public const string Read = "read";
    public const string Write = "write";
    public const string Follow = "follow";
    public const string Push = "push";
    public const string Admin = "admin";

    public static readonly string[] CommandLineDefault = [Read, Write, Follow, Push];

    /// <summary>True when <paramref name="granted"/> covers <paramref name="required"/> (e.g. "write" covers "write:statuses").</summary>
    public static bool Covers(IEnumerable<string> granted, string required)
    {
        var parent = required.Split(':', 2)[0];
        foreach (var g in granted)
        {
            if (g == required || g == parent) return true;
            // "follow" is the legacy umbrella for relationship scopes.
            if (g == Follow && required is "read:follows" or "write:follows" or "read:blocks" or "write:blocks" or "read:mutes" or "write:mutes")
                return true;
            // admin:read covers admin:read:accounts and so on.
            if (required.StartsWith(g + ":", StringComparison.Ordinal)) return true;
        }
        return false;
    }
}
