using System.Buffers;
using System.Globalization;
using System.Text;
using System.Text.Json;
using System.Text.Json.Nodes;
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
public sealed class StatusPresenter(NpgsqlDataSource db, AccountPresenter accounts, MediaPresenter media, InstanceUrls urls, TimeProvider clock,
    RenderedStatuses rendered, Microsoft.Extensions.Options.IOptions<Microsoft.AspNetCore.Http.Json.JsonOptions> jsonOptions)
{
    readonly JsonSerializerOptions _json = jsonOptions.Value.SerializerOptions;

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

    /// <summary>
    /// A page of statuses as the JSON array the API answers: the same entities as <see cref="PresentManyAsync(NpgsqlConnection, IReadOnlyList{Status}, long?, CancellationToken)"/>,
    /// assembled from <see cref="RenderedStatuses"/> where a status's and its author's rows are unchanged since they
    /// were rendered. One round trip reads the rows' versions with the viewer's marks; only what changed is rendered
    /// again (for no viewer, so the part suits everyone). The viewer's own posts show their counts and the viewer's
    /// own view of their account (with its follower count); moved accounts (the target shows inside) are presented
    /// in full, as are all pages when the cache is off.
    /// </summary>
    public async Task<IResult> RespondAsync(NpgsqlConnection conn, IReadOnlyList<Status> statuses, long? viewer, CancellationToken ct)
    {
        const string contentType = "application/json; charset=utf-8";
        if (statuses.Count == 0) return Results.Bytes("[]"u8.ToArray(), contentType);
        if (!rendered.Enabled) return Results.Bytes(JsonSerializer.SerializeToUtf8Bytes(await PresentManyAsync(conn, statuses, viewer, ct), _json), contentType);

        var ids = statuses.Select(s => s.Id).Concat(statuses.Where(s => s.ReblogOfId is not null).Select(s => s.ReblogOfId!.Value)).Distinct().ToArray();
        Dictionary<long, RowVersion> versions;
        HashSet<long> favourited = [], reblogged = [], pinned = [], bookmarked = [], muted = [];
        var hasFilters = false;
        await using (var batch = await conn.QueryMultipleAsync(new CommandDefinition(viewer is null ? Versions : VersionsForViewer, new { ids, viewer }, cancellationToken: ct)))
        {
            versions = (await batch.ReadAsync<RowVersion>()).ToDictionary(v => v.Id);
            if (viewer is not null)
            {
                foreach (var (kind, id) in await batch.ReadAsync<(int, long)>())
                    (kind switch { 0 => favourited, 1 => reblogged, 2 => pinned, 3 => bookmarked, _ => muted }).Add(id);
                hasFilters = await batch.ReadSingleAsync<bool>();
            }
        }

        // Presented in full (below, with any row that could not be composed): moved authors, rows gone meanwhile.
        bool Whole(Status s) => !versions.TryGetValue(s.Id, out var v) || v.Moved || (s.ReblogOfId is { } o && versions.TryGetValue(o, out var ov) && ov.Moved);

        // Parts for everything else, rendering the missing ones for no viewer in one presentation.
        var composed = statuses.Where(s => !Whole(s)).ToList();
        var partIds = composed.Select(s => s.Id).Concat(composed.Where(s => s.ReblogOfId is not null && versions.ContainsKey(s.ReblogOfId.Value))
            .Select(s => s.ReblogOfId!.Value)).Distinct().ToArray();
        var parts = new Dictionary<long, RenderedStatuses.StatusPart>();
        var accountParts = new Dictionary<long, RenderedStatuses.AccountPart>();
        var missing = new List<long>();
        foreach (var id in partIds)
        {
            var v = versions[id];
            if (rendered.Status(id, v.Version) is { } part) parts[id] = part;
            else missing.Add(id);
            if (!accountParts.ContainsKey(v.AccountId) && rendered.Account(v.AccountId, v.AccountVersion, v.StatsVersion) is { } account)
                accountParts[v.AccountId] = account;
        }
        if (missing.Count > 0)
        {
            // Read again, not taken from the page's rows: a part is kept under the version read above, so what it is
            // rendered from must be at least that recent (an edit committed between the page query and the versions
            // would otherwise be kept as the old text under the new version).
            var known = (await conn.QueryAsync<Status>(new CommandDefinition(StatusQueries.ManyByIds, new { ids = missing.ToArray() }, cancellationToken: ct)))
                .ToDictionary(s => s.Id);
            // Rendered as plain posts: a boost's own part leaves its reblog out, and the boosted post has its own part.
            var rows = missing.Where(known.ContainsKey).Select(id => known[id] with { ReblogOfId = null }).ToList();
            foreach (var (row, entity) in rows.Zip(await PresentManyAsync(conn, rows, null, ct)))
            {
                var v = versions[row.Id];
                var node = JsonSerializer.SerializeToNode(entity, _json)!.AsObject();
                if (!accountParts.ContainsKey(row.AccountId))
                    rendered.Keep(row.AccountId, accountParts[row.AccountId] = new RenderedStatuses.AccountPart(v.AccountVersion, v.StatsVersion,
                        JsonSerializer.SerializeToUtf8Bytes(node["account"], _json)));
                foreach (var key in PerViewer) node.Remove(key);
                var json = JsonSerializer.SerializeToUtf8Bytes(node, _json);
                rendered.Keep(row.Id, parts[row.Id] = new RenderedStatuses.StatusPart(v.Version, json[..^1], FilterText(known[row.Id]), entity.Poll is not null));
            }
        }
        var authorsMissing = partIds.Select(id => versions[id]).Where(v => !accountParts.ContainsKey(v.AccountId)).DistinctBy(v => v.AccountId).ToDictionary(v => v.AccountId);
        if (authorsMissing.Count > 0)
            foreach (var (id, entity) in await accounts.PresentManyAsync(conn, authorsMissing.Keys.ToArray(), null, ct))
                rendered.Keep(id, accountParts[id] = new RenderedStatuses.AccountPart(authorsMissing[id].AccountVersion, authorsMissing[id].StatsVersion,
                    JsonSerializer.SerializeToUtf8Bytes(entity, _json)));
        // The viewer's own account as they see it (their follower count shows), kept apart from everyone else's view.
        RenderedStatuses.AccountPart? self = null;
        if (viewer is { } me && partIds.Select(id => versions[id]).FirstOrDefault(v => v.AccountId == me) is { } mine)
        {
            self = rendered.OwnAccount(me, mine.AccountVersion, mine.StatsVersion);
            if (self is null && (await accounts.PresentManyAsync(conn, [me], me, ct)).TryGetValue(me, out var entity))
                rendered.KeepOwn(me, self = new RenderedStatuses.AccountPart(mine.AccountVersion, mine.StatsVersion, JsonSerializer.SerializeToUtf8Bytes(entity, _json)));
        }

        var now = clock.GetUtcNow();
        var withPolls = parts.Where(p => p.Value.HasPoll).Select(p => p.Key).ToArray();
        var polls = new Dictionary<long, Motions.ApiPoll>();
        if (withPolls.Length > 0)
        {
            foreach (var (statusId, poll) in await Polls.PollService.ForStatusesAsync(conn, withPolls, viewer, now, ct)) polls[statusId] = poll;
            foreach (var (statusId, poll) in await Motions.MotionPolls.ForStatusesAsync(conn, withPolls, viewer, now, ct)) polls[statusId] = poll;
        }
        var filters = hasFilters && viewer is not null ? await ActiveFilters.LoadAsync(conn, viewer.Value, now, ct) : ActiveFilters.None;

        bool Composable(long id) => versions.TryGetValue(id, out var v) && parts.ContainsKey(id)
            && (v.AccountId == viewer ? self : accountParts.GetValueOrDefault(v.AccountId)) is not null;
        var whole = statuses.Where(s => Whole(s) || !Composable(s.Id) || (s.ReblogOfId is { } o && versions.ContainsKey(o) && !Composable(o))).ToList();
        var wholeEntities = whole.Count == 0 ? new Dictionary<long, ApiStatus>()
            : (await PresentManyAsync(conn, whole, viewer, ct)).Zip(whole).ToDictionary(p => p.Second.Id, p => p.First);

        var output = new ArrayBufferWriter<byte>(statuses.Count * 2048);
        void Write(ReadOnlySpan<byte> bytes) => output.Write(bytes);
        void WriteBool(bool value) => Write(value ? "true"u8 : "false"u8);
        void Compose(long id)
        {
            var (v, part) = (versions[id], parts[id]);
            var own = v.AccountId == viewer;
            Write(part.Json);
            Write(",\"account\":"u8);
            Write((own ? self! : accountParts[v.AccountId]).Json);
            // Boost and favourite counts are the author's to see (humane defaults).
            Write(",\"reblogs_count\":"u8);
            Write(Encoding.ASCII.GetBytes((own ? v.ReblogsCount : 0).ToString(CultureInfo.InvariantCulture)));
            Write(",\"favourites_count\":"u8);
            Write(Encoding.ASCII.GetBytes((own ? v.FavouritesCount : 0).ToString(CultureInfo.InvariantCulture)));
            Write(",\"favourited\":"u8);
            WriteBool(favourited.Contains(id));
            Write(",\"reblogged\":"u8);
            WriteBool(reblogged.Contains(id));
            Write(",\"muted\":"u8);
            WriteBool(muted.Contains(id));
            Write(",\"bookmarked\":"u8);
            WriteBool(bookmarked.Contains(id));
            Write(",\"pinned\":"u8);
            WriteBool(pinned.Contains(id));
            Write(",\"filtered\":"u8);
            if (own || filters.IsEmpty) Write("[]"u8);
            else Write(JsonSerializer.SerializeToUtf8Bytes(filters.Match(id, part.FilterText), _json));
            Write(",\"poll\":"u8);
            Write(polls.TryGetValue(id, out var poll) ? JsonSerializer.SerializeToUtf8Bytes(poll, _json) : "null"u8);
        }

        Write("["u8);
        for (var i = 0; i < statuses.Count; i++)
        {
            if (i > 0) Write(","u8);
            var s = statuses[i];
            if (wholeEntities.TryGetValue(s.Id, out var entity))
            {
                Write(JsonSerializer.SerializeToUtf8Bytes(entity, _json));
                continue;
            }
            Compose(s.Id);
            Write(",\"reblog\":"u8);
            if (s.ReblogOfId is { } original && Composable(original))
            {
                Compose(original);
                Write(",\"reblog\":null}"u8);
            }
            else Write("null"u8);
            Write("}"u8);
        }
        Write("]"u8);
        return Results.Bytes(output.WrittenMemory.ToArray(), contentType);
    }

    /// <summary>Keys of a status entity that differ by viewer or are written beside the part.</summary>
    static readonly string[] PerViewer = ["account", "reblogs_count", "favourites_count", "favourited", "reblogged", "muted", "bookmarked", "pinned", "filtered", "poll", "reblog"];

    static string FilterText(Status s) => $"{s.SpoilerText} {RemoteHtml.ToPlainText(s.Content)}";

    /// <summary>What a rendered part depends on (the status row, its author's row and counters) and the counts its author sees.</summary>
    sealed record RowVersion
    {
        public required long Id { get; init; }
        public required long Version { get; init; }
        public required long AccountId { get; init; }
        public required long AccountVersion { get; init; }
        public required long StatsVersion { get; init; }
        public required bool Moved { get; init; }
        public required int ReblogsCount { get; init; }
        public required int FavouritesCount { get; init; }
    }

    const string Versions = """
        SELECT s.id, s.xmin::text::bigint AS version, s.account_id, a.xmin::text::bigint AS account_version,
               coalesce(st.xmin::text::bigint, 0) AS stats_version, a.moved_to_account_id IS NOT NULL AS moved,
               s.reblogs_count, s.favourites_count
        FROM statuses s JOIN accounts a ON a.id = s.account_id LEFT JOIN account_stats st ON st.account_id = s.account_id
        WHERE s.id = ANY(@ids)
        """;

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
    static readonly string VersionsForViewer = $"{Versions};\n{ViewerMarks};\nSELECT EXISTS (SELECT 1 FROM filters WHERE account_id = @viewer)";

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
