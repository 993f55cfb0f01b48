using System.Threading.Channels;
using Dapper;
using Npgsql;

namespace Fellows.Server.Features.Inbox;

/// <summary>
/// Wake-ups for the inbox worker. A stored activity wakes this node's worker directly and the other nodes through
/// one NOTIFY per burst, not one per activity: a transaction that NOTIFYs holds PostgreSQL's database-wide notify
/// lock through its commit and WAL flush, so a NOTIFY in every inbox insert queued all inbox POSTs behind the disk,
/// one flush each (about 300 a second on the benchmark machine). A NOTIFY lost to a crash is covered by the
/// worker's poll, as before.
/// </summary>
public sealed class InboxSignals(NpgsqlDataSource db, ILogger<InboxSignals> logger)
{
    public const string NotifyChannel = "fellows_inbox";

    /// <summary>The least time between two NOTIFYs this node sends; a burst of stored activities costs one per interval.</summary>
    static readonly TimeSpan NotifySpacing = TimeSpan.FromMilliseconds(50);

    readonly Channel<bool> _wake = Channel.CreateBounded<bool>(new BoundedChannelOptions(1) { FullMode = BoundedChannelFullMode.DropWrite });
    int _pending;
    int _notifying;

    /// <summary>An activity was committed to <c>inbox_activities</c>: wake the local worker now, the other nodes soon.</summary>
    public void ActivityStored()
    {
        _wake.Writer.TryWrite(true);
        Volatile.Write(ref _pending, 1);
        StartNotifying();
    }

    /// <summary>Another node stored something (its NOTIFY arrived): look again.</summary>
    public void WakeLocal() => _wake.Writer.TryWrite(true);

    /// <summary>
    /// Waits for a wake-up or <paramref name="timeout"/> (wall clock: it bounds how long a lost wake-up delays work);
    /// true when woken.
    /// </summary>
    public async Task<bool> WaitAsync(TimeSpan timeout, CancellationToken ct)
    {
        if (_wake.Reader.TryRead(out _)) return true;
        using var timer = CancellationTokenSource.CreateLinkedTokenSource(ct);
        timer.CancelAfter(timeout);
        try
        {
            await _wake.Reader.WaitToReadAsync(timer.Token);
            _wake.Reader.TryRead(out _);
            return true;
        }
        catch (OperationCanceledException) when (!ct.IsCancellationRequested)
        {
            return false;
        }
    }

    void StartNotifying()
    {
        if (Interlocked.CompareExchange(ref _notifying, 1, 0) == 0)
            _ = Task.Run(NotifyOthersAsync);
    }

    async Task NotifyOthersAsync()
    {
        try
        {
            while (Interlocked.Exchange(ref _pending, 0) == 1)
            {
                try
                {
                    await using var conn = await db.OpenConnectionAsync();
                    await conn.ExecuteAsync(new CommandDefinition($"NOTIFY {NotifyChannel}"));
                }
                catch (Exception e) when (e is NpgsqlException or TimeoutException or InvalidOperationException or ObjectDisposedException)
                {
                    // The other nodes' polls find the work anyway.
                    logger.LogDebug(e, "Could not NOTIFY {Channel}", NotifyChannel);
                }
                await Task.Delay(NotifySpacing);
            }
        }
        finally
        {
            Volatile.Write(ref _notifying, 0);
            // An activity stored between the last look and clearing the flag would otherwise go unannounced.
            if (Volatile.Read(ref _pending) == 1) StartNotifying();
        }
    }
}
