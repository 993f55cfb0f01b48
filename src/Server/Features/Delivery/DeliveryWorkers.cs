using Microsoft.Extensions.Options;
using Npgsql;

namespace Fellows.Server.Features.Delivery;

/// <summary>Fans out queued activities whenever one is committed (NOTIFY) and on every poll.</summary>
public sealed class FanOutWorker(FanOut fanOut, DeliverySignals signals, IOptions<DeliveryOptions> options, ILogger<FanOutWorker> log) : BackgroundService
{
    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        if (!options.Value.WorkersEnabled) return;
        var pause = options.Value.PollInterval;
        while (!stoppingToken.IsCancellationRequested)
        {
            try
            {
                // A full batch means there may be more: go again without waiting.
                if (await fanOut.RunOnceAsync(stoppingToken) >= options.Value.FanOutBatchSize) continue;
                await signals.WaitFanOutAsync(pause, stoppingToken);
            }
            catch (OperationCanceledException) when (stoppingToken.IsCancellationRequested)
            {
                return;
            }
            catch (Exception e) when (e is NpgsqlException or InvalidOperationException or TimeoutException)
            {
                log.LogWarning(e, "Fan-out failed; retrying after the poll interval");
                await WorkerDelay.QuietlyAsync(pause, stoppingToken);
            }
        }
    }
}

/// <summary>
/// Keeps up to <see cref="DeliveryOptions.Parallelism"/> sends in flight: claims as many due deliveries as there are
/// free slots (at most a batch), starts them, and claims again as slots free up, so one slow host never holds up
/// the rest. Sleeps when nothing is due until a NOTIFY, a finished send, or the poll interval.
/// </summary>
public sealed class DeliveryWorker(DeliveryProcessor processor, DeliverySignals signals, IOptions<DeliveryOptions> options, ILogger<DeliveryWorker> log) : BackgroundService
{
    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        var o = options.Value;
        if (!o.WorkersEnabled) return;
        var inFlight = new HashSet<Task>();
        try
        {
            while (!stoppingToken.IsCancellationRequested)
            {
                inFlight.RemoveWhere(t => t.IsCompleted);
                var free = o.Parallelism - inFlight.Count;
                IReadOnlyList<ClaimedDelivery> claimed = [];
                if (free > 0)
                {
                    try
                    {
                        claimed = await processor.ClaimAsync(Math.Min(free, o.BatchSize), stoppingToken);
                    }
                    catch (Exception e) when (e is NpgsqlException or TimeoutException && !stoppingToken.IsCancellationRequested)
                    {
                        log.LogWarning(e, "Claiming deliveries failed; retrying after the poll interval");
                        await WorkerDelay.QuietlyAsync(o.PollInterval, stoppingToken);
                        continue;
                    }
                    foreach (var claim in claimed)
                        inFlight.Add(RunAsync(claim, stoppingToken));
                }
                if (claimed.Count > 0 && claimed.Count == free) 
                {
                    // Every slot is busy: wait for one to finish before claiming more.
                    await Task.WhenAny(inFlight);
                }
                else if (claimed.Count == 0)
                {
                    // Nothing due (or no slot free): wait for work, a free slot, or the poll.
                    var wake = signals.WaitDeliveryAsync(o.PollInterval, stoppingToken);
                    if (inFlight.Count > 0) await Task.WhenAny(inFlight.Append(wake));
                    else await wake;
                }
                // Otherwise the claim came back short of free slots but not empty: loop to see whether more are due.
            }
        }
        catch (OperationCanceledException) when (stoppingToken.IsCancellationRequested)
        {
        }
        // In-flight sends see the cancellation and give their claims back; wait for them to record it.
        await Task.WhenAll(inFlight);
    }

    async Task RunAsync(ClaimedDelivery claim, CancellationToken ct)
    {
        await Task.Yield();
        try
        {
            await processor.ProcessAsync(claim, ct);
        }
        catch (Exception e)
        {
            // Recording failed (database away): the lease runs out and the delivery is claimed again.
            log.LogWarning(e, "Recording delivery {Id} failed", claim.Job.DeliveryId);
        }
    }
}

static class WorkerDelay
{
    public static async Task QuietlyAsync(TimeSpan delay, CancellationToken ct)
    {
        try { await Task.Delay(delay, ct); }
        catch (OperationCanceledException) { }
    }
}
