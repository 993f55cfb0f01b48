using Fellows.Federation.Vocabulary;
using Fellows.Server.Configuration;
using Fellows.Server.Features.Accounts;

namespace Fellows.Server.Features.ActivityPub;

/// <summary>The ActivityPub document of a local actor: a member (Person) or the instance actor (Application).</summary>
public sealed class ActorDocuments(AccountService accounts, InstanceUrls urls)
{
    public async Task<LocalActor?> BuildAsync(Account account, CancellationToken ct)
    {
        if (!account.IsLocal) return null;
        var keys = await accounts.KeysOfAsync(account.Id, ct);
        var rsa = keys.FirstOrDefault(k => k.Kind == "rsa");
        if (rsa is null) return null;
        var isInstance = account.Uri == urls.InstanceActor;
        string? movedTo = null;
        if (account.MovedToAccountId is { } movedId)
            movedTo = (await accounts.FindAsync(movedId, ct))?.Uri;
        return new LocalActor
        {
            Id = account.Uri,
            Type = account.ActorType,
            PreferredUsername = account.Username,
            Name = account.DisplayName.Length > 0 ? account.DisplayName : null,
            SummaryHtml = account.Note.Length > 0 ? account.Note : null,
            Url = account.Url,
            Inbox = account.InboxUrl!,
            Outbox = account.OutboxUrl!,
            Followers = isInstance ? null : account.FollowersUrl,
            Following = isInstance ? null : account.FollowingUrl,
            Featured = isInstance ? null : account.FeaturedUrl,
            FeaturedTags = isInstance ? null : urls.FeaturedTags(account.Username),
            SharedInbox = urls.SharedInbox,
            ManuallyApprovesFollowers = account.Locked,
            Discoverable = account.Discoverable && !isInstance,
            Indexable = account.Indexable && !isInstance,
            Published = account.CreatedAt,
            Icon = account.AvatarUrl is { } avatar ? new ImageRef(avatar) : null,
            Image = account.HeaderUrl is { } header ? new ImageRef(header) : null,
            AlsoKnownAs = account.AlsoKnownAs,
            MovedTo = movedTo,
            PublicKeyPem = rsa.PublicKey,
            PublicKeyId = rsa.KeyId,
            Multikeys = keys.Where(k => k.Kind == "ed25519").Select(k => new LocalMultikey(k.KeyId, k.PublicKey)).ToList(),
            Fields = ParseFields(account.Fields),
        };
    }

    static List<ProfileField> ParseFields(string json) =>
        Account.ParseFields(json).Select(f => new ProfileField(f.Name, f.Value)).ToList();
}
