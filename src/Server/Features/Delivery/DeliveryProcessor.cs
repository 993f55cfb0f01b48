using System.Text;
using Dapper;
using Microsoft.Extensions.Options;
using Npgsql;

namespace Fellows.Server.Features.Delivery;

/// <summary>
/// Claims due deliveries, hands them to the <see cref="IDeliverySender"/> and records what happened: delivered,
/// retry at a jittered later time, or dead; and keeps each host's circuit breaker.
/// </summary>
public sealed class DeliveryProcessor(
    NpgsqlDataSource db,
    IDeliverySender sender,
    IOptions<DeliveryOptions> options,
    TimeProvider clock,
    ILogger<DeliveryProcessor> log)
{
    readonly Random _random = Random.Shared;

    /// <summary>Claims up to <paramref name="limit"/> due deliveries under a lease.</summary>
    public async Task<IReadOnlyList<ClaimedDelivery>> ClaimAsync(int limit, CancellationToken ct)
    {
        var now = clock.GetUtcNow();
        await using var conn = await db.OpenConnectionAsync(ct);
        var rows = await conn.QueryAsync<DeliveryQueries.ClaimedRow>(new CommandDefinition(DeliveryQueries.Claim, new
        {
            now,
            leaseUntil = now + options.Value.LeaseDuration,
            limit,
        }, cancellationToken: ct));
        return rows.OrderBy(r => r.Id).Select(ToJob).ToList();
    }

    static ClaimedDelivery ToJob(DeliveryQueries.ClaimedRow row) => new(
        new DeliveryJob
        {
            DeliveryId = row.Id,
            InboxUrl = row.InboxUrl,
            Host = row.Host,
            Body = Encoding.UTF8.GetBytes(row.Body),
            ActorAccountId = row.ActorAccountId,
            ActivityId = row.ActivityId,
            Attempts = row.Attempts,
        },
        row.CreatedAt,
        // The wait before this attempt, which the decorrelated back-off grows from.
        row.LastAttemptAt is { } last ? row.NextAttemptAt - last : null);

    /// <summary>
    /// Sends one claimed delivery and records the outcome. When <paramref name="ct"/> is cancelled mid-send (the node
    /// is stopping) the claim is released without counting an attempt, so the delivery goes out after the restart.
    /// </summary>
    public async Task ProcessAsync(ClaimedDelivery claim, CancellationToken ct)
    {
        var job = claim.Job;
        DeliveryAttempt attempt;
        try
        {
            attempt = await sender.SendAsync(job, ct);
        }
        catch (OperationCanceledException) when (ct.IsCancellationRequested)
        {
            await ReleaseAsync(job.DeliveryId);
            return;
        }
        catch (Exception e)
        {
            // A sender is meant to return failures as values; one that throws still must not lose the delivery.
            log.LogWarning(e, "Delivery sender threw for {Inbox}", job.InboxUrl);
            attempt = DeliveryResponseClassifier.ClassifyFailure(e);
        }
        // Recording must finish even while stopping: an unrecorded success would be sent again.
        await RecordAsync(claim, attempt, CancellationToken.None);
    }

    /// <summary>Records the outcome of one attempt on the delivery row and on its host.</summary>
    public async Task RecordAsync(ClaimedDelivery claim, DeliveryAttempt attempt, CancellationToken ct)
    {
        var job = claim.Job;
        var o = options.Value;
        var now = clock.GetUtcNow();
        await using var conn = await db.OpenConnectionAsync(ct);
        await using var tx = await conn.BeginTransactionAsync(ct);
        switch (attempt)
        {
            case DeliveryAttempt.Delivered d:
                await conn.ExecuteAsync(new CommandDefinition(DeliveryQueries.MarkDelivered, new { id = job.DeliveryId, now, status = d.Status }, tx, cancellationToken: ct));
                await conn.ExecuteAsync(new CommandDefinition(DeliveryQueries.HostSucceeded, new { host = job.Host, now }, tx, cancellationToken: ct));
                break;

            case DeliveryAttempt.Permanent p:
                if (log.IsEnabled(LogLevel.Information))
                    log.LogInformation("Delivery to {Inbox} failed permanently: {Error}", job.InboxUrl, p.Error);
                await conn.ExecuteAsync(new CommandDefinition(DeliveryQueries.MarkDead, new { id = job.DeliveryId, now, status = p.Status, error = Truncate(p.Error) }, tx, cancellationToken: ct));
                // The host answered, so it is up: a refusal is about this request, not the host's health.
                await conn.ExecuteAsync(new CommandDefinition(DeliveryQueries.HostSucceeded, new { host = job.Host, now }, tx, cancellationToken: ct));
                break;

            case DeliveryAttempt.Retry r:
                var giveUpAt = claim.QueuedAt + o.MaxAge;
                if (now >= giveUpAt)
                {
                    if (log.IsEnabled(LogLevel.Information))
                        log.LogInformation("Giving up delivery to {Inbox} after {Attempts} attempts: {Error}", job.InboxUrl, job.Attempts + 1, r.Error);
                    await conn.ExecuteAsync(new CommandDefinition(DeliveryQueries.MarkDead, new { id = job.DeliveryId, now, status = r.Status, error = Truncate(r.Error) }, tx, cancellationToken: ct));
                }
                else
                {
                    // Retry-After is the server telling us when it can take it; otherwise back off with jitter.
                    // Either way the last try is made at the give-up time rather than skipped.
                    var delay = r.RetryAfter ?? Backoff.NextDelay(claim.PreviousDelay, o.BackoffBase, o.BackoffCap, _random);
                    var next = now + delay < giveUpAt ? now + delay : giveUpAt;
                    await conn.ExecuteAsync(new CommandDefinition(DeliveryQueries.ScheduleRetry, new { id = job.DeliveryId, now, next, status = r.Status, error = Truncate(r.Error) }, tx, cancellationToken: ct));
                }
                await RecordHostFailureAsync(conn, tx, job.Host, now, ct);
                break;
        }
        await tx.CommitAsync(ct);
    }

    async Task RecordHostFailureAsync(NpgsqlConnection conn, NpgsqlTransaction tx, string host, DateTimeOffset now, CancellationToken ct)
    {
        var o = options.Value;
        var failures = await conn.ExecuteScalarAsync<int>(new CommandDefinition(DeliveryQueries.HostFailed, new { host, now }, tx, cancellationToken: ct));
        if (failures < o.CircuitFailureThreshold) return;
        var openFor = Backoff.CircuitOpenFor(failures, o.CircuitFailureThreshold, o.CircuitOpenBase, o.CircuitOpenCap);
        var openUntil = now + openFor;
        await conn.ExecuteAsync(new CommandDefinition(DeliveryQueries.OpenCircuit, new { host, openUntil }, tx, cancellationToken: ct));
        var spreadSeconds = Math.Min(openFor.TotalSeconds / 10, 60);
        await conn.ExecuteAsync(new CommandDefinition(DeliveryQueries.PushBackHost, new { host, openUntil, now, spreadSeconds }, tx, cancellationToken: ct));
        if (failures == o.CircuitFailureThreshold)
            log.LogWarning("{Host} failed {Failures} times in a row; not delivering to it until {OpenUntil}", host, failures, openUntil);
    }

    async Task ReleaseAsync(long deliveryId)
    {
        try
        {
            await using var conn = await db.OpenConnectionAsync(CancellationToken.None);
            await conn.ExecuteAsync(new CommandDefinition(DeliveryQueries.Release, new { id = deliveryId }));
        }
        catch (NpgsqlException e)
        {
            // The lease runs out on its own; this only makes the delivery due again sooner.
            if (log.IsEnabled(LogLevel.Debug)) log.LogDebug(e, "Could not release delivery {Id}", deliveryId);
        }
    }

    static string Truncate(string error) => error.Length <= 1000 ? error : error[..1000];
}

/// <summary>A delivery this node holds a lease on, with what the back-off needs to know about it.</summary>
/// <param name="QueuedAt">When the delivery was created; it is given up <see cref="DeliveryOptions.MaxAge"/> later.</param>
/// <param name="PreviousDelay">The wait before this attempt; null before the first retry.</param>
public sealed record ClaimedDelivery(DeliveryJob Job, DateTimeOffset QueuedAt, TimeSpan? PreviousDelay);
