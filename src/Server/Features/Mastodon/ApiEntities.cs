using System.Text.Json.Serialization;

namespace Fellows.Server.Features.Mastodon;

// Entities of the Mastodon client API. Every field a client decodes is present with the right type:
// empty strings and arrays rather than nulls where Mastodon sends them.

public sealed record ApiField(string Name, string Value, string? VerifiedAt);

public sealed record ApiEmoji(string Shortcode, string Url, string StaticUrl, bool VisibleInPicker);

public sealed record ApiAccountSource(string Privacy, bool Sensitive, string Language, string Note, IReadOnlyList<ApiField> Fields, int FollowRequestsCount);

public sealed record ApiAccount
{
    public required string Id { get; init; }
    public required string Username { get; init; }
    public required string Acct { get; init; }
    public required string DisplayName { get; init; }
    public required bool Locked { get; init; }
    public required bool Bot { get; init; }
    public required bool Discoverable { get; init; }
    public required bool Indexable { get; init; }
    public required bool Group { get; init; }
    public required string CreatedAt { get; init; }
    public required string Note { get; init; }
    public required string Url { get; init; }
    public required string Uri { get; init; }
    public required string Avatar { get; init; }
    public required string AvatarStatic { get; init; }
    public required string Header { get; init; }
    public required string HeaderStatic { get; init; }
    public required int FollowersCount { get; init; }
    public required int FollowingCount { get; init; }
    public required int StatusesCount { get; init; }
    public required string? LastStatusAt { get; init; }
    public required bool HideCollections { get; init; }
    public required bool Noindex { get; init; }
    public required IReadOnlyList<ApiEmoji> Emojis { get; init; }
    public required IReadOnlyList<ApiField> Fields { get; init; }
    public ApiAccount? Moved { get; init; }

    /// <summary>What a Fellows profile shows in place of follower counts (an extension; apps ignore it).</summary>
    public ApiAccountFellows? Fellows { get; init; }

    [JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)]
    public ApiAccountSource? Source { get; init; }
}

/// <summary>Commitments this server knows the account has kept and still has open, from deliberation outcomes.</summary>
public sealed record ApiAccountFellows(int CommitmentsKept, int CommitmentsOpen);

public sealed record ApiMention(string Id, string Username, string Url, string Acct);

public sealed record ApiTag(string Name, string Url);

public sealed record ApiApplication(string Name, string? Website);

public sealed record ApiStatus
{
    public required string Id { get; init; }
    public required string CreatedAt { get; init; }
    public required string? InReplyToId { get; init; }
    public required string? InReplyToAccountId { get; init; }
    public required bool Sensitive { get; init; }
    public required string SpoilerText { get; init; }
    public required string Visibility { get; init; }
    public required string? Language { get; init; }
    public required string Uri { get; init; }
    public required string? Url { get; init; }
    public required int RepliesCount { get; init; }
    public required int ReblogsCount { get; init; }
    public required int FavouritesCount { get; init; }
    public required string? EditedAt { get; init; }
    public required bool Favourited { get; init; }
    public required bool Reblogged { get; init; }
    public required bool Muted { get; init; }
    public required bool Bookmarked { get; init; }
    public required bool Pinned { get; init; }
    public required string Content { get; init; }
    public required IReadOnlyList<object> Filtered { get; init; }
    public required ApiStatus? Reblog { get; init; }
    public required ApiApplication? Application { get; init; }
    public required ApiAccount Account { get; init; }
    public required IReadOnlyList<object> MediaAttachments { get; init; }
    public required IReadOnlyList<ApiMention> Mentions { get; init; }
    public required IReadOnlyList<ApiTag> Tags { get; init; }
    public required IReadOnlyList<ApiEmoji> Emojis { get; init; }
    public required object? Card { get; init; }
    public required object? Poll { get; init; }

    [JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)]
    public string? Text { get; init; }
}

public sealed record ApiRelationship
{
    public required string Id { get; init; }
    public required bool Following { get; init; }
    public required bool ShowingReblogs { get; init; }
    public required bool Notifying { get; init; }
    /// <summary>The languages the member wants from this account (follow with <c>languages[]</c>); null for all.</summary>
    public required IReadOnlyList<string>? Languages { get; init; }
    public required bool FollowedBy { get; init; }
    public required bool Blocking { get; init; }
    public required bool BlockedBy { get; init; }
    public required bool Muting { get; init; }
    public required bool MutingNotifications { get; init; }
    public required bool Requested { get; init; }
    public required bool RequestedBy { get; init; }
    public required bool DomainBlocking { get; init; }
    public required bool Endorsed { get; init; }
    public required string Note { get; init; }
}
