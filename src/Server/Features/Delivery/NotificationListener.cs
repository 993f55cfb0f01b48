using Npgsql;

namespace Fellows.Server.Features.Delivery;

/// <summary>
/// Holds one connection open with <c>LISTEN fellows_outbox</c> and <c>LISTEN fellows_delivery</c> and turns
/// notifications (sent on commit by whichever node wrote the rows) into wake-ups. When the connection drops it
/// reconnects with a growing pause and wakes both workers, since notifications sent meanwhile are lost.
/// </summary>
public sealed class NotificationListener(NpgsqlDataSource db, DeliverySignals signals, ILogger<NotificationListener> log) : BackgroundService
{
    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        var pause = TimeSpan.FromMilliseconds(250);
        while (!stoppingToken.IsCancellationRequested)
        {
            try
            {
                await using var conn = await db.OpenConnectionAsync(stoppingToken);
                conn.Notification += (_, e) => signals.Wake(e.Channel);
                await using (var cmd = new NpgsqlCommand($"LISTEN {DeliverySignals.OutboxChannel}; LISTEN {DeliverySignals.DeliveryChannel}", conn))
                    await cmd.ExecuteNonQueryAsync(stoppingToken);
                pause = TimeSpan.FromMilliseconds(250);
                signals.WakeFanOut();
                signals.WakeDelivery();
                while (!stoppingToken.IsCancellationRequested)
                {
                    // A half-open TCP connection never reports anything; a quiet minute is checked with a query.
                    if (await conn.WaitAsync(TimeSpan.FromMinutes(1), stoppingToken)) continue;
                    await using var ping = new NpgsqlCommand("SELECT 1", conn);
                    await ping.ExecuteScalarAsync(stoppingToken);
                }
            }
            catch (OperationCanceledException) when (stoppingToken.IsCancellationRequested)
            {
                return;
            }
            catch (Exception e) when (e is NpgsqlException or InvalidOperationException or IOException or TimeoutException)
            {
                log.LogWarning(e, "Delivery notification connection lost; reconnecting in {Pause}", pause);
                try { await Task.Delay(pause, stoppingToken); }
                catch (OperationCanceledException) { return; }
                pause = TimeSpan.FromTicks(Math.Min(pause.Ticks * 2, TimeSpan.FromSeconds(30).Ticks));
            }
        }
    }
}
