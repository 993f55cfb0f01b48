using Fellows.Federation;
using Fellows.Federation.Vocabulary;
using Fellows.Server.Configuration;
using Fellows.Server.Features.Accounts;
using Fellows.Server.Features.Statuses;

namespace Fellows.Server.Features.Federation;

/// <summary>The ActivityPub form of a local status and who it is addressed to, in one place for every route that shows it.</summary>
public sealed class NoteBuilder(InstanceUrls urls)
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

    public LocalNote Build(Account author, Status status, string? inReplyToUri, IReadOnlyList<Account> mentioned, IReadOnlyList<string> tags)
    {
        var (to, cc) = Address(status.VisibilityLevel, urls.Followers(author.Username), mentioned.Select(m => m.Uri));
        return new LocalNote
        {
            Id = status.Uri,
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
        };
    }
}
