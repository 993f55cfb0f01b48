namespace Fellows.Server.Features.Statuses;

/// <summary>A status row.</summary>
public sealed record Status
{
    public required long Id { get; init; }
    public required string Uri { get; init; }
    public string? Url { get; init; }
    public required long AccountId { get; init; }
    public long? InReplyToId { get; init; }
    public string? InReplyToUri { get; init; }
    public long? InReplyToAccountId { get; init; }
    public long? ReblogOfId { get; init; }
    public required string Content { get; init; }
    public string? SourceText { get; init; }
    public required string SpoilerText { get; init; }
    public required bool Sensitive { get; init; }
    public required short Visibility { get; init; }
    public string? Language { get; init; }
    public required bool Local { get; init; }
    public required DateTimeOffset CreatedAt { get; init; }
    public DateTimeOffset? EditedAt { get; init; }
    public DateTimeOffset? DeletedAt { get; init; }
    public required int RepliesCount { get; init; }
    public required int ReblogsCount { get; init; }
    public required int FavouritesCount { get; init; }

    public Visibility VisibilityLevel => (Visibility)Visibility;

    /// <summary>A boost row: no text of its own, pointing at the status it boosts.</summary>
    public static Status Boost(long id, string uri, string? url, long accountId, long reblogOfId, Visibility visibility, bool local,
        DateTimeOffset createdAt) => new()
    {
        Id = id,
        Uri = uri,
        Url = url,
        AccountId = accountId,
        ReblogOfId = reblogOfId,
        Content = "",
        SpoilerText = "",
        Sensitive = false,
        Visibility = (short)visibility,
        Local = local,
        CreatedAt = createdAt,
        RepliesCount = 0,
        ReblogsCount = 0,
        FavouritesCount = 0,
    };
}
