using Fellows.Server.Features.Accounts;
using Fellows.Server.Features.Statuses;

namespace Fellows.Server.Features.Federation;

/// <summary>Finds the accounts a member's text mentions, asking remote servers (WebFinger) for ones we don't know.</summary>
public sealed class MentionResolver(RemoteActors actors)
{
    const int MaxMentions = 50;

    /// <summary>Mentioned accounts keyed by lower-case acct as typed (<c>user</c> or <c>user@domain</c>); unresolvable ones are left out.</summary>
    public async Task<IReadOnlyDictionary<string, Account>> ResolveAsync(IReadOnlyList<MentionToken> mentions, CancellationToken ct)
    {
        var result = new Dictionary<string, Account>(StringComparer.OrdinalIgnoreCase);
        foreach (var mention in mentions.Take(MaxMentions))
        {
            var account = await actors.ResolveHandleAsync(mention.Username, mention.Domain, ct);
            if (account is not null && account.DeletedAt is null && account.SuspendedAt is null)
                result[mention.Acct.ToLowerInvariant()] = account;
        }
        return result;
    }
}
