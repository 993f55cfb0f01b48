using Dapper;
using Fellows.Server.Configuration;
using Fellows.Server.Features.Accounts;
using Fellows.Federation.Html;
using Fellows.Server.Features.Filters;
using Fellows.Server.Features.Mastodon;
using Fellows.Server.Features.Media;
using Npgsql;

namespace Fellows.Server.Features.Statuses;

/// <summary>
/// Turns status rows into Mastodon API entities for one viewer, in a fixed number of queries however many
/// statuses there are (no per-row lookups on timeline pages).
/// </summary>
public sealed class StatusPresenter(NpgsqlDataSource db, AccountPresenter accounts, MediaPresenter media, InstanceUrls urls, TimeProvider clock)
{
    public async Task<ApiStatus> PresentAsync(Status status, long? viewer, CancellationToken ct) =>
        (await PresentManyAsync([status], viewer, ct))[0];

    /// <summary>Attachments by id (for edit history, where a version may show media no longer on the post).</summary>
    public async Task<IReadOnlyDictionary<long, ApiMediaAttachment>> PresentMediaAsync(long[] ids, CancellationToken ct)
    {
        if (ids.Length == 0) return new Dictionary<long, ApiMediaAttachment>();
        await using var conn = await db.OpenConnectionAsync(ct);
        return (await conn.QueryAsync<MediaRow>(new CommandDefinition(MediaQueries.ByIds, new { ids }, cancellationToken: ct)))
            .ToDictionary(m => m.Id, media.Present);
    }

    public async Task<IReadOnlyList<ApiStatus>> PresentManyAsync(IReadOnlyList<Status> statuses, long? viewer, CancellationToken ct)
    {
        if (statuses.Count == 0) return [];
        await using var conn = await db.OpenConnectionAsync(ct);
        return await PresentManyAsync(conn, statuses, viewer, ct);
    }

    /// <summary>As above, on a connection the caller already holds (a timeline that has just read its page).</summary>
    public async Task<IReadOnlyList<ApiStatus>> PresentManyAsync(NpgsqlConnection conn, IReadOnlyList<Status> statuses, long? viewer, CancellationToken ct)
    {
        if (statuses.Count == 0) return [];

        // Boosts show the boosted status inside; load those originals too.
        var reblogIds = statuses.Where(s => s.ReblogOfId is not null).Select(s => s.ReblogOfId!.Value).Distinct().ToArray();
        var originals = reblogIds.Length == 0
            ? new Dictionary<long, Status>()
            : (await conn.QueryAsync<Status>(new CommandDefinition(StatusQueries.ManyByIds, new { ids = reblogIds }, cancellationToken: ct)))
                .ToDictionary(s => s.Id);
        var all = statuses.Concat(originals.Values).ToList();
        var ids = all.Select(s => s.Id).Distinct().ToArray();

        // Mentions, attachments, tags and the viewer's own marks on the page (favourited, boosted, pinned, bookmarked,
        // muted thread) in one round trip: a page is presented in a fixed handful of them.
        ILookup<long, MentionRow> mentions;
        ILookup<long, MediaRow> attachments;
        ILookup<long, TagRow> tags;
        HashSet<long> favourited = [], reblogged = [], pinned = [], bookmarked = [], muted = [];
        await using (var batch = await conn.QueryMultipleAsync(new CommandDefinition(viewer is null ? PageParts : PagePartsForViewer, new { ids, viewer }, cancellationToken: ct)))
        {
            mentions = (await batch.ReadAsync<MentionRow>()).ToLookup(m => m.StatusId);
            attachments = (await batch.ReadAsync<MediaRow>()).ToLookup(m => m.StatusId!.Value);
            tags = (await batch.ReadAsync<TagRow>()).ToLookup(t => t.StatusId);
            if (viewer is not null)
                foreach (var (kind, id) in await batch.ReadAsync<(int, long)>())
                    (kind switch { 0 => favourited, 1 => reblogged, 2 => pinned, 3 => bookmarked, _ => muted }).Add(id);
        }
        var filters = ActiveFilters.None;
        if (viewer is not null)
        {
            filters = await ActiveFilters.LoadAsync(conn, viewer.Value, clock.GetUtcNow(), ct);
        }
        // A motion's status shows it as a poll, so any Mastodon app can take part.
        // Ordinary polls first; a motion's poll (a mirrored motion may have both) is the one that counts.
        var polls = new Dictionary<long, Motions.ApiPoll>(await Polls.PollService.ForStatusesAsync(conn, ids, viewer, clock.GetUtcNow(), ct));
        foreach (var (statusId, motionPoll) in await Motions.MotionPolls.ForStatusesAsync(conn, ids, viewer, clock.GetUtcNow(), ct))
            polls[statusId] = motionPoll;
        var accountEntities = await accounts.PresentManyAsync(conn, all.Select(s => s.AccountId).Distinct().ToArray(), viewer, ct);

        ApiStatus Build(Status s, ApiStatus? reblog) => new()
        {
            Id = ApiResults.Id(s.Id),
            CreatedAt = ApiResults.Date(s.CreatedAt),
            InReplyToId = s.InReplyToId is { } r ? ApiResults.Id(r) : null,
            InReplyToAccountId = s.InReplyToAccountId is { } ra ? ApiResults.Id(ra) : null,
            Sensitive = s.Sensitive,
            SpoilerText = s.SpoilerText,
            Visibility = s.VisibilityLevel.ToApi(),
            Language = s.Language,
            Uri = s.Uri,
            Url = s.Url ?? s.Uri,
            RepliesCount = s.RepliesCount,
            // Humane defaults: boost and favourite counts are for the author's eyes, not a public scoreboard.
            ReblogsCount = viewer == s.AccountId ? s.ReblogsCount : 0,
            FavouritesCount = viewer == s.AccountId ? s.FavouritesCount : 0,
            EditedAt = ApiResults.Date(s.EditedAt),
            Favourited = favourited.Contains(s.Id),
            Reblogged = reblogged.Contains(s.Id),
            Muted = muted.Contains(s.Id),
            Bookmarked = bookmarked.Contains(s.Id),
            Pinned = pinned.Contains(s.Id),
            Content = s.ReblogOfId is null ? s.Content : "",
            Filtered = s.AccountId == viewer || filters.IsEmpty ? [] : filters.Match(s.Id, $"{s.SpoilerText} {RemoteHtml.ToPlainText(s.Content)}"),
            Reblog = reblog,
            Application = null,
            Account = accountEntities[s.AccountId],
            MediaAttachments = attachments[s.Id].Select(media.Present).ToList(),
            Mentions = mentions[s.Id].Select(m => new ApiMention(ApiResults.Id(m.AccountId), m.Username,
                m.Url ?? m.Uri, m.Domain is null ? m.Username : $"{m.Username}@{m.Domain}")).ToList(),
            Tags = tags[s.Id].Select(t => new ApiTag(t.Name.ToLowerInvariant(), urls.Tag(t.Name))).ToList(),
            Emojis = [],
            Card = null,
            Poll = polls.GetValueOrDefault(s.Id),
        };

        return statuses.Select(s =>
            Build(s, s.ReblogOfId is { } o && originals.TryGetValue(o, out var original) ? Build(original, null) : null)).ToList();
    }

    static readonly string ViewerMarks = $"""
        SELECT 0, status_id FROM ({StatusQueries.ViewerFavourited}) q0
        UNION ALL SELECT 1, reblog_of_id FROM ({StatusQueries.ViewerReblogged}) q1
        UNION ALL SELECT 2, status_id FROM ({StatusQueries.ViewerPinned}) q2
        UNION ALL SELECT 3, status_id FROM ({StatusQueries.ViewerBookmarked}) q3
        UNION ALL SELECT 4, start FROM ({ConversationMuteQueries.MutedAmong}) q4
        """;

    // After ViewerMarks: static fields initialise in the order they are written.
    const string PageParts = $"{StatusQueries.MentionsOf};\n{MediaQueries.OfStatuses};\n{StatusQueries.TagsOf}";
    static readonly string PagePartsForViewer = $"{PageParts};\n{ViewerMarks}";

    sealed record MentionRow
    {
        public required long StatusId { get; init; }
        public required long AccountId { get; init; }
        public required string Username { get; init; }
        public string? Domain { get; init; }
        public required string Uri { get; init; }
        public string? Url { get; init; }
    }

    sealed record TagRow
    {
        public required long StatusId { get; init; }
        public required string Name { get; init; }
    }
}
