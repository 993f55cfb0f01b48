using Microsoft.Extensions.Options;

namespace Fellows.Server.Configuration;

/// <summary>Every URL this instance mints, in one place, so ids never drift between endpoints and documents.</summary>
public sealed class InstanceUrls(IOptions<InstanceOptions> options)
{
    readonly string _base = options.Value.BaseUrl;

    public string Base => _base;
    public string Domain => options.Value.Domain;
    public string SharedInbox => $"{_base}/inbox";
    public string InstanceActor => $"{_base}/actor";
    public string InstanceActorKey => $"{_base}/actor#main-key";
    public string InstanceActorInbox => $"{_base}/actor/inbox";
    public string InstanceActorOutbox => $"{_base}/actor/outbox";

    public string Actor(string username) => $"{_base}/users/{username}";
    public string Profile(string username) => $"{_base}/@{username}";
    public string RsaKeyId(string username) => $"{Actor(username)}#main-key";
    public string Ed25519KeyId(string username) => $"{Actor(username)}#ed25519-key";
    public string Inbox(string username) => $"{Actor(username)}/inbox";
    public string Outbox(string username) => $"{Actor(username)}/outbox";
    public string Followers(string username) => $"{Actor(username)}/followers";
    public string Following(string username) => $"{Actor(username)}/following";
    public string Featured(string username) => $"{Actor(username)}/collections/featured";
    public string FeaturedTags(string username) => $"{Actor(username)}/collections/tags";
    public string Status(string username, long id) => $"{Actor(username)}/statuses/{id}";
    public string StatusPage(string username, long id) => $"{Profile(username)}/{id}";
    public string StatusActivity(string username, long id) => $"{Status(username, id)}/activity";
    public string StatusReplies(string username, long id) => $"{Status(username, id)}/replies";
    public string Tag(string name) => $"{_base}/tags/{Uri.EscapeDataString(name.ToLowerInvariant())}";

    /// <summary>A fresh id for an activity that has no object of its own (Follow, Like, Undo, Accept, …).</summary>
    public string NewActivity(string username, string kind) => $"{Actor(username)}#{kind}/{Guid.NewGuid():N}";
}
