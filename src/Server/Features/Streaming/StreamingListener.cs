using Npgsql;

namespace Fellows.Server.Features.Streaming;

/// <summary>
/// Holds one connection with <c>LISTEN fellows_stream</c> and hands each announced event to the hub. Every node runs
/// one, so a post written through any node reaches the streams open on all of them. Events announced while the
/// connection is down are lost (clients reload their timelines on reconnect); it reconnects with a growing pause.
/// </summary>
public sealed class StreamingListener(NpgsqlDataSource db, StreamingHub hub, ILogger<StreamingListener> log) : BackgroundService
{
    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        var pause = TimeSpan.FromMilliseconds(250);
        while (!stoppingToken.IsCancellationRequested)
        {
            try
            {
                await using var conn = await db.OpenConnectionAsync(stoppingToken);
                conn.Notification += (_, e) =>
                {
                    if (StreamEvent.Parse(e.Payload) is { } streamEvent) hub.Post(streamEvent);
                    else log.LogDebug("Ignored a malformed stream event: {Payload}", e.Payload);
                };
                await using (var cmd = new NpgsqlCommand($"LISTEN {StreamEvent.Channel}", conn))
                    await cmd.ExecuteNonQueryAsync(stoppingToken);
                pause = TimeSpan.FromMilliseconds(250);
                hub.MarkListening();
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
                log.LogWarning(e, "Streaming notification connection lost; reconnecting in {Pause}", pause);
                try { await Task.Delay(pause, stoppingToken); }
                catch (OperationCanceledException) { return; }
                pause = TimeSpan.FromTicks(Math.Min(pause.Ticks * 2, TimeSpan.FromSeconds(30).Ticks));
            }
        }
    }
}
