using Dapper;
using Fellows.Server.Database;
using Npgsql;

namespace Fellows.Server.Features.Inbox;

/// <summary>
/// Applies stored inbound activities: woken by NOTIFY on commit, with a poll as a safety net; claims in batches
/// with SKIP LOCKED so several nodes share the work; a lease returns a crashed claim to the pool.
/// </summary>
/// <remarks>
/// <c>Inbox:WorkerEnabled=false</c> turns it off on a node: that node's inboxes still store what they accept and
/// other nodes apply it (tests use it to hold activities unapplied across a restart).
/// </remarks>
public sealed class InboxWorker(NpgsqlDataSource db, InboxProcessor processor, InboxSignals signals, TimeProvider clock,
    IConfiguration configuration, ILogger<InboxWorker> logger) : BackgroundService
{
    public const string EnabledSetting = "Inbox:WorkerEnabled";
    static readonly TimeSpan Lease = TimeSpan.FromMinutes(5);
    static readonly TimeSpan Poll = TimeSpan.FromSeconds(5);

    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        if (!configuration.GetValue(EnabledSetting, true)) return;
        _ = ListenAsync(stoppingToken);
        while (!stoppingToken.IsCancellationRequested)
        {
            try
            {
                while (await ProcessBatchAsync(stoppingToken) > 0) { }
            }
            catch (Exception e) when (e is NpgsqlException or TimeoutException or InvalidOperationException)
            {
                logger.LogWarning(e, "Inbox batch failed");
            }
            try { await signals.WaitAsync(Poll, stoppingToken); }
            catch (OperationCanceledException) { return; }
        }
    }

    // A reconnect wakes the worker too: announcements sent while the connection was down are lost.
    Task ListenAsync(CancellationToken ct) =>
        PostgresListener.RunAsync(db, [InboxSignals.NotifyChannel], _ => signals.WakeLocal(), signals.WakeLocal, logger, ct);

    /// <summary>Activities claimed at once; several actors' activities in one claim are what can run in parallel.</summary>
    public const int BatchSize = 64;

    /// <summary>
    /// Actors whose activities are applied at the same time. Applying is mostly waiting (on PostgreSQL, on fetches
    /// of remote actors and objects), so a few more than the cores keeps them busy.
    /// </summary>
    public const int Parallelism = 8;

    /// <summary>
    /// Claims a batch and applies it: the activities of one actor one after another in the order they arrived (a
    /// Create before its Update before its Delete), different actors in parallel. The next batch is claimed only
    /// when this one is done, so an actor's later activity never overtakes an earlier one on this node.
    /// </summary>
    public async Task<int> ProcessBatchAsync(CancellationToken ct)
    {
        var now = clock.GetUtcNow();
        List<InboxItem> items;
        await using (var conn = await db.OpenConnectionAsync(ct))
        {
            items = (await conn.QueryAsync<InboxItem>(new CommandDefinition(InboxQueries.Claim,
                new { now, leaseUntil = now + Lease, batch = BatchSize }, cancellationToken: ct))).ToList();
        }
        if (items.Count == 0) return 0;

        var done = new System.Collections.Concurrent.ConcurrentBag<long>();
        var byActor = items.GroupBy(i => i.ActorUri, StringComparer.Ordinal).Select(g => g.OrderBy(i => i.Id).ToList()).ToList();
        await Parallel.ForEachAsync(byActor, new ParallelOptions { MaxDegreeOfParallelism = Parallelism, CancellationToken = ct }, async (actorItems, token) =>
        {
            foreach (var item in actorItems)
            {
                if (await ApplyAsync(item, token)) done.Add(item.Id);
            }
        });

        // One commit marks the whole batch applied. A crash before it leaves them claimed; the lease returns them
        // and they are applied again, which every activity handler tolerates (they check what is already stored).
        if (!done.IsEmpty)
        {
            await using var conn = await db.OpenConnectionAsync(ct);
            await conn.ExecuteAsync(new CommandDefinition(InboxQueries.Done, new { ids = done.ToArray(), now = clock.GetUtcNow() }, cancellationToken: ct));
        }
        return items.Count;
    }

    /// <summary>Applies one activity; true when it is done with (applied or ignored), false when it was rescheduled.</summary>
    async Task<bool> ApplyAsync(InboxItem item, CancellationToken ct)
    {
        string? error;
        try
        {
            error = await processor.ProcessAsync(item, ct);
        }
        catch (Exception e) when (e is NpgsqlException or InvalidOperationException or System.Text.Json.JsonException or HttpRequestException or FormatException)
        {
            error = e.Message;
            logger.LogWarning(e, "Applying {Type} {Id} failed", item.ActivityType, item.ActivityId);
        }
        if (error is null) return true;
        await using var conn = await db.OpenConnectionAsync(ct);
        await conn.ExecuteAsync(new CommandDefinition(InboxQueries.Failed, new
        {
            id = item.Id, error,
            retryAt = clock.GetUtcNow() + TimeSpan.FromSeconds(30 * Math.Pow(4, Math.Min(item.Attempts, 5))),
        }, cancellationToken: ct));
        return false;
    }
}

public sealed record InboxItem
{
    public required long Id { get; init; }
    public required string ActivityId { get; init; }
    public required string ActivityType { get; init; }
    public required string ActorUri { get; init; }
    public long? RecipientAccountId { get; init; }
    public required string Body { get; init; }
    public required int Attempts { get; init; }
}
