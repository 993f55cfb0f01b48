using Dapper;
using Fellows.Server.Database;
using Npgsql;

namespace Fellows.Server.Features.Inbox;

/// <summary>
/// Applies stored inbound activities: woken by NOTIFY on commit, with a poll as a safety net; claims in batches
/// with SKIP LOCKED so several nodes share the work; a lease returns a crashed claim to the pool.
/// </summary>
public sealed class InboxWorker(NpgsqlDataSource db, InboxProcessor processor, InboxSignals signals, TimeProvider clock, ILogger<InboxWorker> logger) : BackgroundService
{
    static readonly TimeSpan Lease = TimeSpan.FromMinutes(5);
    static readonly TimeSpan Poll = TimeSpan.FromSeconds(5);

    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
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

    public async Task<int> ProcessBatchAsync(CancellationToken ct)
    {
        var now = clock.GetUtcNow();
        List<InboxItem> items;
        await using (var conn = await db.OpenConnectionAsync(ct))
        {
            items = (await conn.QueryAsync<InboxItem>(new CommandDefinition(InboxQueries.Claim,
                new { now, leaseUntil = now + Lease, batch = 20 }, cancellationToken: ct))).ToList();
        }
        foreach (var item in items.OrderBy(i => i.Id))
        {
            string? error = null;
            try
            {
                error = await processor.ProcessAsync(item, ct);
            }
            catch (Exception e) when (e is NpgsqlException or InvalidOperationException or System.Text.Json.JsonException or HttpRequestException or FormatException)
            {
                error = e.Message;
                logger.LogWarning(e, "Applying {Type} {Id} failed", item.ActivityType, item.ActivityId);
            }
            await using var conn = await db.OpenConnectionAsync(ct);
            if (error is null)
                await conn.ExecuteAsync(new CommandDefinition(InboxQueries.Done, new { id = item.Id, now = clock.GetUtcNow() }, cancellationToken: ct));
            else
                await conn.ExecuteAsync(new CommandDefinition(InboxQueries.Failed, new
                {
                    id = item.Id, error,
                    retryAt = clock.GetUtcNow() + TimeSpan.FromSeconds(30 * Math.Pow(4, Math.Min(item.Attempts, 5))),
                }, cancellationToken: ct));
        }
        return items.Count;
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
