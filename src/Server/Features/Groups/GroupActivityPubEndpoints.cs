using System.Text.Json.Nodes;
using Dapper;
using Fellows.Federation.Deliberation;
using Fellows.Federation.Groups;
using Fellows.Federation.Proofs;
using Fellows.Federation.Signatures;
using Fellows.Federation.Vocabulary;
using Fellows.Server.Configuration;
using Fellows.Server.Features.Accounts;
using Fellows.Server.Features.ActivityPub;
using Npgsql;

namespace Fellows.Server.Features.Groups;

/// <summary>
/// What other servers fetch about a group beyond its actor document: its members collection and membership
/// attestations. Both say who belongs to a co-op, so they are served only to signed requests from the group's own
/// members, from the member asked about, or from an allied instance (one whose motions we mirror or which our
/// motions name); anyone else gets 401 (unsigned) or 403.
/// </summary>
public static class GroupActivityPubEndpoints
{
    const int PageSize = 40;

    /// <summary>How long an attestation counts: a day, so a member who leaves stops being vouched for soon.</summary>
    public static readonly TimeSpan AttestationLifetime = TimeSpan.FromDays(1);

    public static void MapGroupActivityPubEndpoints(this IEndpointRouteBuilder app)
    {
        var group = app.MapGroup("").WithTags("ActivityPub").AddEndpointFilter<FetchAuthorization>();
        group.MapGet("/users/{username}/members", Members).WithName("GroupMembersCollection");
        group.MapGet("/users/{username}/membership", Membership).WithName("GroupMembershipAttestation");
    }

    public static string MembersUrl(InstanceUrls urls, string username) => urls.Actor(username) + "/members";

    public static string MembershipUrl(InstanceUrls urls, string username) => urls.Actor(username) + "/membership";

    /// <summary>Adds the group's collections (or, on the instance actor, its co-op group) to a local actor document.</summary>
    public static JsonObject Extend(JsonObject actor, Account account, InstanceUrls urls, GroupService groups)
    {
        var coop = account.Uri == urls.InstanceActor ? groups.CoopUri : null;
        if (account.ActorType != "Group" && coop is null) return actor;
        if (actor["@context"] is JsonArray context) context.Add(DeliberationVocabulary.ContextUrl(urls.Base));
        if (coop is not null)
        {
            actor[MembershipAttestation.CoopProperty] = coop;
            return actor;
        }
        actor[MembershipAttestation.MembersProperty] = MembersUrl(urls, account.Username);
        actor[MembershipAttestation.EndpointProperty] = MembershipUrl(urls, account.Username);
        return actor;
    }

    static async Task<(Account? Group, GroupRow? Row, IResult? Refusal)> AuthorizeAsync(string username, HttpContext context, AccountService accounts,
        GroupService groups, NpgsqlDataSource db, string? about, CancellationToken ct)
    {
        var account = await accounts.FindLocalAsync(username, ct);
        if (account is null || account.ActorType != "Group" || account.DeletedAt is not null) return (null, null, Results.NotFound());
        var row = await groups.FindAsync(account.Id, ct);
        if (row is null) return (null, null, Results.NotFound());
        var signer = FetchAuthorization.SignerOf(context);
        if (signer is null)
            return (null, null, Results.Json(new { error = "who belongs to a co-op is told only to signed requests from its members and allies" }, statusCode: 401));
        await using var conn = await db.OpenConnectionAsync(ct);
        var allowed = signer.Uri == about
            || await GroupService.IsMemberAsync(conn, null, row, signer.Id, ct)
            || (Uri.TryCreate(signer.Uri, UriKind.Absolute, out var origin)
                && await conn.ExecuteScalarAsync<bool>(new CommandDefinition(GroupQueries.IsAlliedOrigin,
                    new { origin = origin.GetLeftPart(UriPartial.Authority) }, cancellationToken: ct)));
        return allowed
            ? (account, row, null)
            : (null, null, Results.Json(new { error = "only the group's members and allied co-ops may see who belongs to it" }, statusCode: 403));
    }

    public static async Task<IResult> Members(string username, long? max_id, string? page, HttpContext context, AccountService accounts, GroupService groups,
        NpgsqlDataSource db, InstanceUrls urls, CancellationToken ct)
    {
        var (account, row, refusal) = await AuthorizeAsync(username, context, accounts, groups, db, about: null, ct);
        if (refusal is not null) return refusal;
        var id = MembersUrl(urls, account!.Username);
        var total = await groups.MemberCountAsync(row!, ct);
        if (page is null && max_id is null)
            return ActivityPubEndpoints.Json(ActivityPubWriter.OrderedCollection(id, total, first: $"{id}?page=true"));
        var members = await groups.MembersAsync(row!, max_id, PageSize, ct);
        return ActivityPubEndpoints.Json(ActivityPubWriter.OrderedCollectionPage(new LocalCollectionPage
        {
            Id = max_id is null ? $"{id}?page=true" : $"{id}?page=true&max_id={max_id}",
            PartOf = id,
            TotalItems = total,
            OrderedItems = members.Select(m => (JsonNode)JsonValue.Create(m.Uri)!).ToList(),
            Next = members.Count == PageSize ? $"{id}?page=true&max_id={members[^1].AccountId}" : null,
        }));
    }

    /// <summary>
    /// A signed <c>fellows:Membership</c> attestation that <c>member</c> belongs to the group, or 404 when they do not.
    /// </summary>
    public static async Task<IResult> Membership(string username, string? member, HttpContext context, AccountService accounts, GroupService groups,
        NpgsqlDataSource db, InstanceUrls urls, TimeProvider clock, CancellationToken ct)
    {
        if (string.IsNullOrEmpty(member) || !Uri.TryCreate(member, UriKind.Absolute, out _))
            return Results.Json(new { error = "member must be an actor id" }, statusCode: 400);
        var (account, row, refusal) = await AuthorizeAsync(username, context, accounts, groups, db, about: member, ct);
        if (refusal is not null) return refusal;
        await using var conn = await db.OpenConnectionAsync(ct);
        var memberAccount = await conn.QuerySingleOrDefaultAsync<Account>(new CommandDefinition(AccountQueries.ByUri, new { uri = member }, cancellationToken: ct));
        if (memberAccount is null || !await GroupService.IsMemberAsync(conn, null, row!, memberAccount.Id, ct))
            return Results.Json(new { error = "not a member of this group" }, statusCode: 404);
        var key = await conn.QuerySingleAsync<(string KeyId, string Seed)>(new CommandDefinition(
            "SELECT key_id, private_key FROM account_keys WHERE account_id = @id AND kind = 'ed25519' AND private_key IS NOT NULL",
            new { id = account!.Id }, cancellationToken: ct));
        var now = clock.GetUtcNow();
        var attestation = new MembershipAttestation(MembershipAttestation.UrlFor(MembershipUrl(urls, account.Username), member), account.Uri, member,
            now, now + AttestationLifetime);
        var signed = IntegrityProof.Sign(attestation.ToDocument(DeliberationVocabulary.ContextUrl(urls.Base)),
            SigningKey.FromEd25519Seed(key.KeyId, Convert.FromBase64String(key.Seed)), key.KeyId, now);
        return ActivityPubEndpoints.Json(signed);
    }
}
