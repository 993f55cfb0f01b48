using System.Collections.Concurrent;
using System.Text.Json;
using Dapper;
using Fellows.Federation.Groups;
using Fellows.Federation.Http;
using Fellows.Federation.Proofs;
using Fellows.Server.Features.Accounts;
using Fellows.Server.Features.Federation;
using Fellows.Server.Features.Instance;
using Npgsql;

namespace Fellows.Server.Features.Groups;

/// <summary>
/// Checks that a remote voter is vouched for by the co-op of the allied instance a motion names: the allied actor
/// leads to its co-op Group (itself, or the instance actor's <c>coop</c>), the group's <c>membership</c> endpoint is
/// asked, with a signed GET, for an attestation about the voter, and the attestation's integrity proof must verify
/// with the group's own Ed25519 key. Answers are cached (an hour when vouched, a minute when not).
/// </summary>
/// <remarks>
/// An ally whose actor points to no co-op group (a server that is not Fellows) cannot vouch for anyone; its voters
/// are then taken on the strength of their origin, as before vouching existed, and the log says so.
/// </remarks>
public sealed class CoopVouching(NpgsqlDataSource db, ActivityPubClient client, InstanceActor instance, RemoteActors actors,
    TimeProvider clock, ILogger<CoopVouching> logger)
{
    static readonly TimeSpan VouchedFor = TimeSpan.FromHours(1);
    static readonly TimeSpan RefusedFor = TimeSpan.FromMinutes(1);
    static readonly TimeSpan EndpointsFor = TimeSpan.FromHours(1);

    readonly ConcurrentDictionary<string, (string? Group, string? Endpoint, DateTimeOffset At)> _endpoints = new(StringComparer.Ordinal);

    /// <summary>Null when <paramref name="voter"/> may vote for <paramref name="alliedActor"/>'s co-op; otherwise why not.</summary>
    public async Task<string?> CheckAsync(string alliedActor, Account voter, CancellationToken ct)
    {
        var now = clock.GetUtcNow();
        await using (var conn = await db.OpenConnectionAsync(ct))
        {
            var cached = await conn.QuerySingleOrDefaultAsync<(bool Vouched, string Detail, DateTime CheckedAt)?>(new CommandDefinition(GroupQueries.FindVouch,
                new { coop = alliedActor, member = voter.Uri }, cancellationToken: ct));
            if (cached is { } c && now - new DateTimeOffset(c.CheckedAt, TimeSpan.Zero) < (c.Vouched ? VouchedFor : RefusedFor))
                return c.Vouched ? null : c.Detail;
        }
        var (group, endpoint) = await EndpointAsync(alliedActor, ct);
        if (endpoint is null || group is null)
        {
            if (logger.IsEnabled(LogLevel.Information))
                logger.LogInformation("Allied actor {Ally} names no co-op group that vouches; {Voter} is taken on its origin", alliedActor, voter.Uri);
            return null;
        }
        var (vouched, detail, attestation) = await AskAsync(group, endpoint, voter, now, ct);
        await using (var conn = await db.OpenConnectionAsync(ct))
        {
            await conn.ExecuteAsync(new CommandDefinition(GroupQueries.UpsertVouch,
                new { coop = alliedActor, member = voter.Uri, vouched, detail, attestation, now }, cancellationToken: ct));
        }
        return vouched ? null : detail;
    }

    async Task<(string? Group, string? Endpoint)> EndpointAsync(string alliedActor, CancellationToken ct)
    {
        var now = clock.GetUtcNow();
        if (_endpoints.TryGetValue(alliedActor, out var known) && now - known.At < EndpointsFor) return (known.Group, known.Endpoint);
        string? group = null, endpoint = null;
        using (var ally = await FetchAsync(alliedActor, ct))
        {
            if (ally?.Document is { } doc)
            {
                var root = doc.RootElement;
                group = IsGroup(root) ? alliedActor : String(root, MembershipAttestation.CoopProperty);
                if (group == alliedActor) endpoint = String(root, MembershipAttestation.EndpointProperty);
            }
            else return (null, null); // not cached: the ally may be back shortly
        }
        // The co-op group must be the ally's own: another origin cannot vouch for its members.
        if (group is not null && !RemoteActors.SameOrigin(group, alliedActor)) group = null;
        if (group is not null && endpoint is null)
        {
            using var groupDoc = await FetchAsync(group, ct);
            if (groupDoc?.Document is { } doc && IsGroup(doc.RootElement)) endpoint = String(doc.RootElement, MembershipAttestation.EndpointProperty);
        }
        if (endpoint is not null && !RemoteActors.SameOrigin(endpoint, group!)) endpoint = null;
        _endpoints[alliedActor] = (group, endpoint, now);
        return (group, endpoint);
    }

    async Task<(bool Vouched, string Detail, string? Attestation)> AskAsync(string group, string endpoint, Account voter, DateTimeOffset now, CancellationToken ct)
    {
        var url = MembershipAttestation.UrlFor(endpoint, voter.Uri);
        using var fetched = await FetchAsync(url, ct);
        if (fetched is null) return (false, "Your co-op's vouching could not be checked: its address is not valid.", null);
        if (fetched.StatusCode is 404 or 410)
            return (false, $"Your co-op ({group}) does not vouch for you as a member, so you are not eligible to take a stance.", null);
        if (!fetched.IsOk) return (false, $"Your co-op's vouching could not be checked ({fetched.Message}).", null);
        var root = fetched.Document!.RootElement;
        if (!MembershipAttestation.TryRead(root, out var attestation, out var error))
            return (false, $"Your co-op's membership attestation is malformed: {error}.", null);
        if (attestation.Group != group || attestation.Member != voter.Uri)
            return (false, "Your co-op's membership attestation is about someone else.", null);
        if (attestation.EndTime <= now)
            return (false, "Your co-op's membership attestation has expired.", null);
        var verification = await IntegrityProof.VerifyAsync(root, (keyId, c) => actors.GetKeyAsync(keyId, refresh: false, c), ct: ct);
        if (!verification.VouchesFor(group))
            return (false, $"Your co-op's membership attestation is not signed by the co-op group: {verification.Reason}.", null);
        return (true, "", root.GetRawText());
    }

    async Task<FetchResult?> FetchAsync(string uri, CancellationToken ct) =>
        Uri.TryCreate(uri, UriKind.Absolute, out var parsed) ? await client.FetchAsync(parsed, instance.Signer, ct) : null;

    static bool IsGroup(JsonElement actor) =>
        actor.TryGetProperty("type", out var type) && (type.ValueKind == JsonValueKind.String
            ? type.GetString() == "Group"
            : type.ValueKind == JsonValueKind.Array && type.EnumerateArray().Any(t => t.ValueKind == JsonValueKind.String && t.GetString() == "Group"));

    static string? String(JsonElement document, string name) =>
        document.TryGetProperty(name, out var value) && value.ValueKind == JsonValueKind.String ? value.GetString() : null;
}
