using Dapper;
using Npgsql;

namespace Fellows.Server.Features.Delivery;

/// <summary>Where an actor takes deliveries. <see cref="Domain"/> is null for a member of this instance.</summary>
public sealed record ActorInbox(string ActorUri, string? InboxUrl, string? SharedInboxUrl, string? Domain);

/// <summary>
/// Resolves an actor the fan-out could not find in <c>accounts</c>. The default looks in the database only; the
/// remote implementation fetches the actor (and stores it). Called inside the fan-out transaction, which holds
/// the lock on one outbox row, so implementations should bound their own time.
/// </summary>
public interface IActorInboxResolver
{
    Task<ActorInbox?> ResolveAsync(string actorUri, CancellationToken ct);
}

/// <summary>Database-only resolution: an actor nobody has fetched yet is not delivered to.</summary>
public sealed class DatabaseActorInboxResolver(NpgsqlDataSource db) : IActorInboxResolver
{
    public async Task<ActorInbox?> ResolveAsync(string actorUri, CancellationToken ct)
    {
        await using var conn = await db.OpenConnectionAsync(ct);
        return await conn.QuerySingleOrDefaultAsync<ActorInbox>(new CommandDefinition(
            DeliveryQueries.ActorInboxByUri, new { uri = actorUri }, cancellationToken: ct));
    }
}
