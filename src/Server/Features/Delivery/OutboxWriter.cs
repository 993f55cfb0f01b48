using Dapper;
using Npgsql;

namespace Fellows.Server.Features.Delivery;

/// <summary>
/// Queues an outgoing activity inside the caller's transaction (the transactional outbox): the state change and
/// the activity commit together or not at all, so a crash can neither lose a delivery nor send one for a change
/// that never happened.
/// </summary>
public sealed class OutboxWriter(TimeProvider clock)
{
    /// <summary>
    /// Inserts <paramref name="activity"/> into the outbox on <paramref name="conn"/> within <paramref name="tx"/> and
    /// notifies the fan-out worker when that transaction commits. Returns the outbox row id; an activity id already
    /// queued returns the existing row's id and queues nothing more.
    /// </summary>
    public async Task<long> EnqueueAsync(NpgsqlConnection conn, NpgsqlTransaction tx, OutgoingActivity activity, CancellationToken ct)
    {
        ArgumentNullException.ThrowIfNull(tx);
        return await conn.ExecuteScalarAsync<long>(new CommandDefinition(DeliveryQueries.InsertOutbox, new
        {
            activityId = activity.ActivityId,
            actorAccountId = activity.ActorAccountId,
            body = activity.Body,
            toFollowersOf = activity.ToFollowersOf.Distinct().ToArray(),
            toActorUris = activity.ToActorUris.Distinct(StringComparer.Ordinal).ToArray(),
            toInboxes = activity.ToInboxes.Distinct(StringComparer.Ordinal).ToArray(),
            now = clock.GetUtcNow(),
        }, tx, cancellationToken: ct));
    }
}
