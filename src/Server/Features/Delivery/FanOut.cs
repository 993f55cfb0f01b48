using Dapper;
using Fellows.Server.Configuration;
using Microsoft.Extensions.Options;
using Npgsql;

namespace Fellows.Server.Features.Delivery;

/// <summary>
/// Turns queued activities into one delivery per remote inbox. For each outbox row, in one transaction: resolve the
/// recipients, drop local and suspended ones, collapse followers onto shared inboxes, insert the deliveries, mark
/// the row fanned out, and notify the delivery workers on commit.
/// </summary>
public sealed class FanOut(
    NpgsqlDataSource db,
    IActorInboxResolver resolver,
    DeliverySignals signals,
    IOptions<InstanceOptions> instance,
    IOptions<DeliveryOptions> options,
    TimeProvider clock,
    ILogger<FanOut> log)
{
    readonly string _ownHost = RemoteHost.Normalize(instance.Value.Domain);

    /// <summary>Fans out up to one batch of pending outbox rows; returns how many rows it fanned out.</summary>
    public async Task<int> RunOnceAsync(CancellationToken ct)
    {
        var done = 0;
        while (done < options.Value.FanOutBatchSize && await FanOutOneAsync(ct))
            done++;
        return done;
    }

    async Task<bool> FanOutOneAsync(CancellationToken ct)
    {
        await using var conn = await db.OpenConnectionAsync(ct);
        await using var tx = await conn.BeginTransactionAsync(ct);
        var row = await conn.QuerySingleOrDefaultAsync<DeliveryQueries.OutboxRow>(new CommandDefinition(DeliveryQueries.ClaimOutbox, transaction: tx, cancellationToken: ct));
        if (row is null) return false;

        var candidates = await ResolveAsync(conn, tx, row, ct);
        var targets = await DropSuspendedAsync(conn, tx, candidates, ct);
        var now = clock.GetUtcNow();
        var inserted = 0;
        if (targets.Count > 0)
        {
            inserted = await conn.ExecuteAsync(new CommandDefinition(DeliveryQueries.InsertDeliveries, new
            {
                outboxId = row.Id,
                inboxes = targets.Select(t => t.InboxUrl).ToArray(),
                hosts = targets.Select(t => t.Host).ToArray(),
                now,
            }, tx, cancellationToken: ct));
        }
        await conn.ExecuteAsync(new CommandDefinition(DeliveryQueries.MarkFannedOut, new { id = row.Id, now }, tx, cancellationToken: ct));
        if (inserted > 0)
            await conn.ExecuteAsync(new CommandDefinition(DeliveryQueries.NotifyDelivery, transaction: tx, cancellationToken: ct));
        await tx.CommitAsync(ct);
        if (inserted > 0) signals.WakeDelivery();
        if (log.IsEnabled(LogLevel.Debug)) log.LogDebug("Fanned out {Activity} to {Count} inboxes", row.ActivityId, inserted);
        return true;
    }

    sealed record Target(string InboxUrl, string Host, string? Domain);

    async Task<List<Target>> ResolveAsync(NpgsqlConnection conn, NpgsqlTransaction tx, DeliveryQueries.OutboxRow row, CancellationToken ct)
    {
        // Ordered so that the result does not depend on the order rows came back in.
        var byInbox = new SortedDictionary<string, Target>(StringComparer.Ordinal);

        void Add(string? inboxUrl, string? domain)
        {
            if (string.IsNullOrWhiteSpace(inboxUrl)) return;
            if (!Uri.TryCreate(inboxUrl, UriKind.Absolute, out var uri) || (uri.Scheme != Uri.UriSchemeHttps && uri.Scheme != Uri.UriSchemeHttp)) return;
            var host = RemoteHost.Of(uri);
            // Members of this instance are served by the caller, never over HTTP to ourselves.
            if (host == _ownHost) return;
            byInbox.TryAdd(uri.AbsoluteUri, new Target(uri.AbsoluteUri, host, domain is null ? null : RemoteHost.Normalize(domain)));
        }

        if (row.ToFollowersOf.Length > 0)
        {
            var followers = await conn.QueryAsync<DeliveryQueries.RecipientRow>(new CommandDefinition(
                DeliveryQueries.FollowerInboxes, new { followersOf = row.ToFollowersOf }, tx, cancellationToken: ct));
            foreach (var f in followers) Add(f.InboxUrl, f.Domain);
        }

        if (row.ToActorUris.Length > 0)
        {
            var known = (await conn.QueryAsync<DeliveryQueries.RecipientRow>(new CommandDefinition(
                DeliveryQueries.ActorInboxes, new { actorUris = row.ToActorUris }, tx, cancellationToken: ct))).ToList();
            foreach (var a in known.Where(a => a.Domain is not null && !a.Gone)) Add(a.InboxUrl, a.Domain);
            var knownUris = known.Select(a => a.ActorUri).ToHashSet(StringComparer.Ordinal);
            foreach (var uri in row.ToActorUris.Where(u => !knownUris.Contains(u)))
            {
                var resolved = await resolver.ResolveAsync(uri, ct);
                if (resolved is { Domain: not null }) Add(resolved.SharedInboxUrl ?? resolved.InboxUrl, resolved.Domain);
            }
        }

        foreach (var inbox in row.ToInboxes) Add(inbox, null);
        return [.. byInbox.Values];
    }

    /// <summary>Nothing goes to a suspended domain, whether the block names the actor's domain or the inbox's host.</summary>
    static async Task<List<Target>> DropSuspendedAsync(NpgsqlConnection conn, NpgsqlTransaction tx, List<Target> targets, CancellationToken ct)
    {
        if (targets.Count == 0) return targets;
        var candidates = targets
            .SelectMany(t => t.Domain is null ? RemoteHost.BlockCandidates(t.Host) : RemoteHost.BlockCandidates(t.Host).Concat(RemoteHost.BlockCandidates(t.Domain)))
            .Distinct(StringComparer.Ordinal)
            .ToArray();
        var blocked = (await conn.QueryAsync<string>(new CommandDefinition(DeliveryQueries.SuspendedDomains, new { candidates }, tx, cancellationToken: ct)))
            .ToHashSet(StringComparer.Ordinal);
        if (blocked.Count == 0) return targets;
        return targets
            .Where(t => !RemoteHost.BlockCandidates(t.Host).Any(blocked.Contains)
                        && (t.Domain is null || !RemoteHost.BlockCandidates(t.Domain).Any(blocked.Contains)))
            .ToList();
    }
}
