using Dapper;
using Microsoft.Extensions.Options;
using Npgsql;
using Quartz;

namespace Fellows.Server.Jobs;

/// <summary>
/// Wakes the delivery workers for anything due and hands back claims whose lease ran out. The workers find due
/// work on their own poll; this is the cluster-wide safety net, run by one node at a time.
/// </summary>
[DisallowConcurrentExecution]
public sealed class RetrySweepJob(NpgsqlDataSource db, TimeProvider clock, ILogger<RetrySweepJob> log) : IJob
{
    public static readonly JobKey Key = new("retry-sweep", "maintenance");

    public async ValueTask Execute(IJobExecutionContext context, CancellationToken cancellationToken = default)
    {
        var ct = cancellationToken;
        var now = clock.GetUtcNow();
        await using var conn = await db.OpenConnectionAsync(ct);
        var released = await conn.ExecuteAsync(new CommandDefinition(MaintenanceQueries.ReleaseExpiredLeases, new { now }, cancellationToken: ct));
        if (released > 0 && log.IsEnabled(LogLevel.Information)) log.LogInformation("Released {Count} delivery claims whose lease expired", released);
        if (released > 0 || await conn.ExecuteScalarAsync<bool>(new CommandDefinition(MaintenanceQueries.AnyDeliveryDue, new { now }, cancellationToken: ct)))
            await conn.ExecuteAsync(new CommandDefinition(MaintenanceQueries.NotifyDelivery, cancellationToken: ct));
        if (await conn.ExecuteScalarAsync<bool>(new CommandDefinition(MaintenanceQueries.AnyOutboxPending, cancellationToken: ct)))
            await conn.ExecuteAsync(new CommandDefinition(MaintenanceQueries.NotifyOutbox, cancellationToken: ct));
    }
}

/// <summary>Deletes what the queues no longer need: delivered and dead deliveries, processed inbound activities, finished outbox rows; and expired sign-in codes, sessions and throttle counters.</summary>
[DisallowConcurrentExecution]
public sealed class PruneJob(NpgsqlDataSource db, TimeProvider clock, IOptions<JobsOptions> options, ILogger<PruneJob> log) : IJob
{
    public static readonly JobKey Key = new("prune", "maintenance");
    const int Slice = 5000;

    public async ValueTask Execute(IJobExecutionContext context, CancellationToken cancellationToken = default)
    {
        var ct = cancellationToken;
        var o = options.Value;
        var now = clock.GetUtcNow();
        var delivered = await DeleteAllAsync(MaintenanceQueries.PruneDelivered, now - o.KeepDelivered, ct);
        var dead = await DeleteAllAsync(MaintenanceQueries.PruneDead, now - o.KeepDead, ct);
        var inbox = await DeleteAllAsync(MaintenanceQueries.PruneInbox, now - o.KeepProcessedInbox, ct);
        var outbox = await DeleteAllAsync(MaintenanceQueries.PruneOutbox, now - o.KeepOutbox, ct);
        var signIn = await DeleteAllAsync(MaintenanceQueries.PruneAuthorizationCodes, now - TimeSpan.FromDays(1), ct)
            + await DeleteAllAsync(MaintenanceQueries.PruneWebSessions, now - TimeSpan.FromDays(1), ct)
            + await DeleteAllAsync(MaintenanceQueries.PruneSignInThrottle, now - TimeSpan.FromDays(1), ct)
            + await DeleteAllAsync(MaintenanceQueries.PruneIdempotencyKeys, now - TimeSpan.FromDays(1), ct)
            + await DeleteAllAsync(MaintenanceQueries.PruneScheduledIdempotencyKeys, now - TimeSpan.FromDays(1), ct);
        if (delivered + dead + inbox + outbox + signIn > 0 && log.IsEnabled(LogLevel.Information))
            log.LogInformation("Pruned {Delivered} delivered and {Dead} dead deliveries, {Inbox} inbound and {Outbox} outbound activities, {SignIn} sign-in leftovers",
                delivered, dead, inbox, outbox, signIn);
    }

    async Task<int> DeleteAllAsync(string sql, DateTimeOffset before, CancellationToken ct)
    {
        var total = 0;
        int deleted;
        do
        {
            await using var conn = await db.OpenConnectionAsync(ct);
            deleted = await conn.ExecuteAsync(new CommandDefinition(sql, new { before, limit = Slice }, cancellationToken: ct, commandTimeout: 300));
            total += deleted;
        } while (deleted == Slice && !ct.IsCancellationRequested);
        return total;
    }
}

/// <summary>Refreshes remote actors whose stored copy is stale, through <see cref="IRemoteActorRefresher"/>.</summary>
[DisallowConcurrentExecution]
public sealed class StaleActorRefreshJob(IRemoteActorRefresher refresher, TimeProvider clock, IOptions<JobsOptions> options, ILogger<StaleActorRefreshJob> log) : IJob
{
    public static readonly JobKey Key = new("stale-actor-refresh", "maintenance");

    public async ValueTask Execute(IJobExecutionContext context, CancellationToken cancellationToken = default)
    {
        var o = options.Value;
        var refreshed = await refresher.RefreshStaleAsync(clock.GetUtcNow() - o.ActorStaleAfter, o.ActorRefreshBatch, cancellationToken);
        if (refreshed > 0 && log.IsEnabled(LogLevel.Information)) log.LogInformation("Refreshed {Count} stale remote actors", refreshed);
    }
}
