using Npgsql;

namespace Fellows.Server.Database;

/// <summary>
/// One connection held open with <c>LISTEN</c> on some channels, for a background service: each notification is
/// handed to a callback; a half-open connection is caught by a query after a quiet minute; a lost connection is
/// reopened with a growing pause (250 ms to 30 s). Notifications sent while it was down are lost, so
/// <c>onListening</c> runs after every (re)connect for the caller to catch up.
/// </summary>
public static class PostgresListener
{
    /// <param name="onLost">Called when the connection fails, before the pause: from then until <paramref name="onListening"/>
    /// runs again, notifications are being missed.</param>
    public static async Task RunAsync(NpgsqlDataSource db, IReadOnlyList<string> channels, Action<NpgsqlNotificationEventArgs> onNotification,
        Action? onListening, ILogger log, CancellationToken ct, Action? onLost = null)
    {
        var pause = TimeSpan.FromMilliseconds(250);
        while (!ct.IsCancellationRequested)
        {
            try
            {
                await using var conn = await db.OpenConnectionAsync(ct);
                conn.Notification += (_, e) => onNotification(e);
                await using (var cmd = new NpgsqlCommand(string.Concat(channels.Select(c => $"LISTEN {c};")), conn))
                    await cmd.ExecuteNonQueryAsync(ct);
                pause = TimeSpan.FromMilliseconds(250);
                onListening?.Invoke();
                while (!ct.IsCancellationRequested)
                {
                    if (await conn.WaitAsync(TimeSpan.FromMinutes(1), ct)) continue;
                    await using var ping = new NpgsqlCommand("SELECT 1", conn);
                    await ping.ExecuteScalarAsync(ct);
                }
            }
            catch (OperationCanceledException) when (ct.IsCancellationRequested)
            {
                return;
            }
            catch (Exception e) when (e is NpgsqlException or InvalidOperationException or IOException or TimeoutException)
            {
                onLost?.Invoke();
                log.LogWarning(e, "Listening on {Channels} failed; reconnecting in {Pause}", string.Join(", ", channels), pause);
                try { await Task.Delay(pause, ct); }
                catch (OperationCanceledException) { return; }
                pause = TimeSpan.FromTicks(Math.Min(pause.Ticks * 2, TimeSpan.FromSeconds(30).Ticks));
            }
        }
    }
}
