using Dapper;
using Fellows.Federation;
using Fellows.Federation.Vocabulary;
using Fellows.Server.Configuration;
using Fellows.Server.Features.Accounts;
using Fellows.Server.Features.Media;
using Fellows.Server.Features.Statuses;
using Npgsql;

namespace Fellows.Server.Features.Federation;

/// <summary>The ActivityPub form of a local status and who it is addressed to, in one place for every route that shows it.</summary>
public sealed class NoteBuilder(InstanceUrls urls, MediaStore media)
{
    /// <summary>Addressing by visibility, as Mastodon does it (so Mastodon reads our visibility back the same way).</summary>
    public static (List<string> To, List<string> Cc) Address(Visibility visibility, string followersUrl, IEnumerable<string> mentionedActorIds)
    {
        var mentioned = mentionedActorIds.Distinct().ToList();
        return visibility switch
        {
            Visibility.Public => ([ActivityStreams.Public], [followersUrl, .. mentioned]),
            Visibility.Unlisted => ([followersUrl], [ActivityStreams.Public, .. mentioned]),
            Visibility.Private => ([followersUrl], mentioned),
            _ => (mentioned, []),
        };
    }

    public LocalNote Build(Account author, Status status, string? inReplyToUri, IReadOnlyList<Account> mentioned, IReadOnlyList<string> tags,
        IReadOnlyList<MediaRow>? attachments = null, LocalPoll? poll = null)
    {
        var (to, cc) = Address(status.VisibilityLevel, urls.Followers(author.Username), mentioned.Select(m => m.Uri));
        return new LocalNote
        {
            Id = status.Uri,
            // A post with a poll is a Question, as Mastodon sends it.
            Type = poll is null ? "Note" : "Question",
            Poll = poll,
            AttributedTo = author.Uri,
            ContentHtml = status.Content,
            Language = status.Language,
            Summary = status.SpoilerText.Length > 0 ? status.SpoilerText : null,
            Sensitive = status.Sensitive,
            InReplyTo = inReplyToUri,
            Published = status.CreatedAt,
            Updated = status.EditedAt,
            Url = status.Url,
            To = to,
            Cc = cc,
            Mentions = mentioned.Select(m => new MentionTag(m.Uri, "@" + m.Acct + (m.IsLocal ? "@" + urls.Domain : ""))).ToList(),
            Hashtags = tags.Select(t => new HashtagTag(urls.Tag(t), "#" + t)).ToList(),
            Replies = urls.StatusReplies(author.Username, status.Id),
            Attachments = Attachments(attachments ?? []),
        };
    }

    /// <summary>Processed uploads as ActivityPub attachments (Mastodon's <c>Document</c> with media type, size and description).</summary>
    public IReadOnlyList<MediaAttachment> Attachments(IEnumerable<MediaRow> rows) =>
        rows.Where(m => m.FilePath is not null).Select(m => new MediaAttachment(
            "Document", m.ContentType, media.Url(m.FilePath!), m.Description.Length > 0 ? m.Description : null, m.Width, m.Height, m.Blurhash)).ToList();

    /// <summary>Notes for a page of one author's statuses, loading mentions and tags for all of them in two queries.</summary>
    public async Task<IReadOnlyList<LocalNote>> BuildManyAsync(NpgsqlConnection conn, Account author, IReadOnlyList<Status> statuses, CancellationToken ct,
        NpgsqlTransaction? tx = null)
    {
        var ids = statuses.Select(s => s.Id).ToArray();
        var mentions = (await conn.QueryAsync<long, Account, (long StatusId, Account Account)>(new CommandDefinition(
                $"SELECT m.status_id, {AccountQueries.Columns} FROM mentions m JOIN accounts a ON a.id = m.account_id WHERE m.status_id = ANY(@ids)",
                new { ids }, tx, cancellationToken: ct), (statusId, account) => (statusId, account), splitOn: "id"))
            .ToLookup(m => m.StatusId, m => m.Account);
        var tags = (await conn.QueryAsync<(long StatusId, string Name)>(new CommandDefinition(
                "SELECT st.status_id, t.name FROM status_tags st JOIN tags t ON t.id = st.tag_id WHERE st.status_id = ANY(@ids)",
                new { ids }, tx, cancellationToken: ct)))
            .ToLookup(t => t.StatusId, t => t.Name);
        var attachments = (await conn.QueryAsync<MediaRow>(new CommandDefinition(MediaQueries.OfStatuses, new { ids }, tx, cancellationToken: ct)))
            .ToLookup(m => m.StatusId!.Value);
        var polls = await Polls.PollService.DocumentsAsync(conn, ids, tx, ct);
        return statuses.Select(s => Build(author, s, s.InReplyToUri, mentions[s.Id].ToList(), tags[s.Id].ToList(), attachments[s.Id].ToList(),
            polls.GetValueOrDefault(s.Id))).ToList();
    }
}
