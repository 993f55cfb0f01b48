namespace Fellows.Server.Features.Accounts;

/// <summary>An account row: a member of this instance (Domain null) or a remote actor we know of.</summary>
public sealed record Account
{
    public required long Id { get; init; }
    public required string Username { get; init; }
    public string? Domain { get; init; }
    public required string Uri { get; init; }
    public string? Url { get; init; }
    public required string ActorType { get; init; }
    public required string DisplayName { get; init; }
    public required string Note { get; init; }
    public string? AvatarUrl { get; init; }
    public string? HeaderUrl { get; init; }
    public string? InboxUrl { get; init; }
    public string? SharedInboxUrl { get; init; }
    public string? OutboxUrl { get; init; }
    public string? FollowersUrl { get; init; }
    public string? FollowingUrl { get; init; }
    public string? FeaturedUrl { get; init; }
    public required bool Locked { get; init; }
    public required bool Bot { get; init; }
    public required bool Discoverable { get; init; }
    public required bool Indexable { get; init; }
    public required string[] AlsoKnownAs { get; init; }
    public long? MovedToAccountId { get; init; }
    public required string Fields { get; init; }
    public required DateTimeOffset CreatedAt { get; init; }
    public required DateTimeOffset UpdatedAt { get; init; }
    public DateTimeOffset? FetchedAt { get; init; }
    public DateTimeOffset? SuspendedAt { get; init; }
    public DateTimeOffset? DeletedAt { get; init; }

    public bool IsLocal => Domain is null;

    /// <summary>Profile fields stored as a JSON array of <c>{name, value}</c>; a malformed value reads as none.</summary>
    public static IReadOnlyList<(string Name, string Value)> ParseFields(string json)
    {
        try
        {
            using var doc = System.Text.Json.JsonDocument.Parse(json);
            return doc.RootElement.ValueKind != System.Text.Json.JsonValueKind.Array ? [] : doc.RootElement.EnumerateArray()
                .Where(f => f.ValueKind == System.Text.Json.JsonValueKind.Object)
                .Select(f => (
                    f.TryGetProperty("name", out var n) && n.ValueKind == System.Text.Json.JsonValueKind.String ? n.GetString()! : "",
                    f.TryGetProperty("value", out var v) && v.ValueKind == System.Text.Json.JsonValueKind.String ? v.GetString()! : ""))
                .ToList();
        }
        catch (System.Text.Json.JsonException) { return []; }
    }

    /// <summary>user for members, user@domain for remote accounts (Mastodon's <c>acct</c>).</summary>
    public string Acct => Domain is null ? Username : $"{Username}@{Domain}";
}

/// <summary>A key of an account: the private half is present only for members of this instance.</summary>
public sealed record AccountKey
{
    public required string KeyId { get; init; }
    public required long AccountId { get; init; }
    public required string Kind { get; init; }
    public required string PublicKey { get; init; }
    public string? PrivateKey { get; init; }
}
