using Fellows.Server.Database;
using Npgsql;

namespace Fellows.Server.Features.Delivery;

/// <summary>
/// Holds one connection open with <c>LISTEN fellows_outbox</c> and <c>LISTEN fellows_delivery</c> and turns
/// notifications (sent on commit by whichever node wrote the rows) into wake-ups. When the connection drops it
/// reconnects with a growing pause and wakes both workers, since notifications sent meanwhile are lost.
/// </summary>
public sealed class NotificationListener(NpgsqlDataSource db, DeliverySignals signals, ILogger<NotificationListener> log) : BackgroundService
{
    protected override Task ExecuteAsync(CancellationToken stoppingToken) =>
        PostgresListener.RunAsync(db, [DeliverySignals.OutboxChannel, DeliverySignals.DeliveryChannel], e => signals.Wake(e.Channel),
            () =>
            {
                signals.WakeFanOut();
                signals.WakeDelivery();
            }, log, stoppingToken);
}
