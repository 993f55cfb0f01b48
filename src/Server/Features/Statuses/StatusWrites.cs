using Dapper;
using Fellows.Server.Configuration;
using Fellows.Server.Features.Notifications;
using Npgsql;

namespace Fellows.Server.Features.Statuses;

/// <summary>Storing a status and its hashtags, the same for a member's post, a boost, and a note from elsewhere.</summary>
public static class StatusWrites
{
    /// <summary>Inserts <paramref name="status"/>; false when a status with its uri is already stored.</summary>
    public static async Task<bool> InsertStatusAsync(this NpgsqlConnection conn, Status status, NpgsqlTransaction? tx, CancellationToken ct) =>
        await conn.ExecuteAsync(new CommandDefinition(StatusQueries.Insert + " ON CONFLICT (uri) DO NOTHING", status, tx, cancellationToken: ct)) > 0;

    /// <summary>
    /// Inserts <paramref name="boost"/> of <paramref name="original"/> and, when it is new, counts it on the original
    /// and tells the original's author; false when a boost with its uri is already stored (a replayed Announce).
    /// </summary>
    public static async Task<bool> InsertBoostAsync(this NpgsqlConnection conn, Status boost, Status original, DateTimeOffset now,
        NpgsqlTransaction tx, CancellationToken ct)
    {
        if (!await conn.InsertStatusAsync(boost, tx, ct)) return false;
        await conn.ExecuteAsync(new CommandDefinition(StatusQueries.IncrementReblogs, new { id = original.Id }, tx, cancellationToken: ct));
        await conn.NotifyAsync(tx, original.AccountId, boost.AccountId, NotificationType.Reblog, original.Id, now, ct);
        return true;
    }

    /// <summary>A local account's new boost (a member's, or a group's announce), with its id and addresses made here.</summary>
    public static async Task<Status> InsertLocalBoostAsync(this NpgsqlConnection conn, InstanceUrls urls, Accounts.Account booster, Status original,
        DateTimeOffset now, NpgsqlTransaction tx, CancellationToken ct)
    {
        var id = await conn.ExecuteScalarAsync<long>(new CommandDefinition(StatusQueries.NextId, new { at = now }, tx, cancellationToken: ct));
        var boost = Status.Boost(id, urls.StatusActivity(booster.Username, id), urls.StatusPage(booster.Username, id), booster.Id, original.Id,
            Visibility.Public, local: true, now);
        // Its uri is made from a new id, so it is always new.
        await conn.InsertBoostAsync(boost, original, now, tx, ct);
        return boost;
    }

    /// <summary>
    /// Records the accounts a member's post mentions, leaving out anyone on either side of a block with the author
    /// (they are not told, and the post is not sent to them); returns those recorded.
    /// </summary>
    public static async Task<List<Accounts.Account>> AddMentionsAsync(this NpgsqlConnection conn, long statusId, long authorId,
        IEnumerable<Accounts.Account> mentioned, NpgsqlTransaction tx, CancellationToken ct)
    {
        var candidates = mentioned.DistinctBy(a => a.Id).ToList();
        var blocked = (await conn.QueryAsync<long>(new CommandDefinition(StatusQueries.BlockedAmong,
            new { me = authorId, ids = candidates.Select(a => a.Id).ToArray() }, tx, cancellationToken: ct))).ToHashSet();
        var kept = candidates.Where(a => !blocked.Contains(a.Id)).ToList();
        foreach (var a in kept)
            await conn.ExecuteAsync(new CommandDefinition(StatusQueries.InsertMention, new { statusId, accountId = a.Id }, tx, cancellationToken: ct));
        return kept;
    }

    /// <summary>Links <paramref name="statusId"/> to each hashtag, creating tags on first use.</summary>
    public static async Task AddTagsAsync(this NpgsqlConnection conn, long statusId, IEnumerable<string> names, NpgsqlTransaction? tx, CancellationToken ct)
    {
        foreach (var name in names)
        {
            var tagId = await conn.ExecuteScalarAsync<long>(new CommandDefinition(StatusQueries.UpsertTag, new { name }, tx, cancellationToken: ct));
            await conn.ExecuteAsync(new CommandDefinition(StatusQueries.InsertStatusTag, new { statusId, tagId }, tx, cancellationToken: ct));
        }
    }

    /// <summary>
    /// Records a remote note's attachments by their own URLs (http or https only, at most eight). Files are not
    /// copied here; clients load them from their server. The type follows the media type, as Mastodon's does.
    /// </summary>
    public static async Task AddRemoteAttachmentsAsync(this NpgsqlConnection conn, Status status, IEnumerable<Fellows.Federation.Vocabulary.MediaAttachment> attachments,
        NpgsqlTransaction? tx, CancellationToken ct)
    {
        var position = 0;
        foreach (var a in attachments.Take(8))
        {
            if (!Uri.TryCreate(a.Url, UriKind.Absolute, out var url) || url.Scheme is not ("https" or "http") || a.Url.Length > 2048) continue;
            var type = (a.MediaType ?? "").Split('/')[0] switch
            {
                "image" => a.MediaType == "image/gif" ? "gifv" : "image",
                "video" => "video",
                "audio" => "audio",
                _ => a.Type switch { "Image" => "image", "Video" => "video", "Audio" => "audio", _ => "unknown" },
            };
            var alt = Fellows.Federation.Html.RemoteHtml.ToPlainText(a.Name ?? "");
            await conn.ExecuteAsync(new CommandDefinition("""
                INSERT INTO media_attachments (account_id, status_id, type, state, remote_url, content_type, width, height, description, blurhash, position, created_at)
                VALUES (@accountId, @statusId, @type, 1, @url, @mediaType, @width, @height, @description, @blurhash, @position, @createdAt)
                """, new
            {
                accountId = status.AccountId, statusId = status.Id, type, url = a.Url,
                mediaType = a.MediaType is { Length: <= 100 } mt ? mt : null,
                width = a.Width is > 0 and < 100_000 ? a.Width : null,
                height = a.Height is > 0 and < 100_000 ? a.Height : null,
                description = alt.Length > 1500 ? alt[..1500] : alt,
                blurhash = a.Blurhash is { Length: <= 100 } bh ? bh : null,
                position = position++,
                createdAt = status.CreatedAt,
            }, tx, cancellationToken: ct));
        }
    }
}
