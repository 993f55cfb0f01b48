namespace Fellows.Server.Features.Groups;

/// <summary>A row of <c>groups</c>: which local account is a group, and what kind.</summary>
public sealed record GroupRow
{
    public required long AccountId { get; init; }
    public required string Kind { get; init; }
    public long? CreatedBy { get; init; }
    public required DateTimeOffset CreatedAt { get; init; }

    public bool IsCoop => Kind == GroupKinds.Coop;
}

public static class GroupKinds
{
    public const string Coop = "coop";
    public const string Workgroup = "workgroup";
}

public static class GroupRoles
{
    public const string Member = "member";
    public const string Facilitator = "facilitator";
}

/// <summary>A member of a group as listed: account, actor id and role.</summary>
public sealed record GroupMemberRow
{
    public required long AccountId { get; init; }
    public required string Uri { get; init; }
    public required string Role { get; init; }
}

/// <summary>A group in the Fellows API (snake_case JSON).</summary>
public sealed record ApiGroup
{
    public required string Id { get; init; }
    public required string Username { get; init; }
    public required string Acct { get; init; }
    public required string DisplayName { get; init; }
    public required string Note { get; init; }
    public required string Uri { get; init; }
    public string? Url { get; init; }
    public required string Kind { get; init; }

    /// <summary><c>open</c> (a Follow joins) or <c>approved</c> (a facilitator approves each request).</summary>
    public required string Membership { get; init; }

    public required long MembersCount { get; init; }
    public required DateTimeOffset CreatedAt { get; init; }

    /// <summary>The caller's role (<c>member</c> or <c>facilitator</c>), or null when not a member.</summary>
    public string? Role { get; init; }

    /// <summary>True when the caller asked to join and waits for approval.</summary>
    public required bool Requested { get; init; }
}

/// <summary>A member in the Fellows API.</summary>
public sealed record ApiGroupMember(Mastodon.ApiAccount Account, string Role);
