using System.Threading.Channels;
using Dapper;
using Npgsql;

namespace Fellows.Server.Features.Inbox;

/// <summary>A verified inbound activity on its way into <c>inbox_activities</c>.</summary>
public sealed record InboxRow(string ActivityId, string ActivityType, string ActorUri, string? KeyId, long? RecipientAccountId,
    string Body, DateTimeOffset ReceivedAt);

/// <summary>
/// Group commit for the inboxes: concurrent POSTs hand their rows to one writer, which stores everything waiting
/// with one multi-row INSERT in one transaction and then answers each POST. Each commit costs a WAL flush (1.5 to 5 ms
/// on the benchmark machine's disk), so one commit per activity bounded the inbox by the disk; one per batch lets
/// the flush serve every POST that arrived while the previous batch was being written. Nothing waits on purpose:
/// at low load a batch is one row and is written at once; under load the batches grow by themselves.
/// A POST is completed only after its batch has committed, so a 202 still means the activity is durable.
/// </summary>
public sealed class InboxWriter : IAsyncDisposable
{
    /// <summary>Most rows in one INSERT; bounds the statement (1 MiB bodies at worst) and the wait of the last row.</summary>
    public const int MaxBatch = 256;

    readonly NpgsqlDataSource _db;
    readonly InboxSignals _signals;
    readonly ILogger<InboxWriter> _logger;
    readonly Channel<Pending> _queue = Channel.CreateUnbounded<Pending>(new UnboundedChannelOptions { SingleReader = true });
    readonly CancellationTokenSource _stopping = new();
    readonly Task _loop;

    public InboxWriter(NpgsqlDataSource db, InboxSignals signals, ILogger<InboxWriter> logger)
    {
        (_db, _signals, _logger) = (db, signals, logger);
        _loop = Task.Run(WriteLoopAsync);
    }

    /// <summary>The number of INSERT transactions committed so far (a test and diagnostics figure).</summary>
    public long Commits => Interlocked.Read(ref _commits);
    long _commits;

    /// <summary>
    /// Stores <paramref name="row"/> durably; true when it was new, false when its activity id was already stored
    /// (a replay, or a concurrent duplicate delivery). Throws when it could not be stored: the caller must not
    /// answer 202 then.
    /// </summary>
    public Task<bool> StoreAsync(InboxRow row, CancellationToken ct)
    {
        var pending = new Pending(row);
        if (!_queue.Writer.TryWrite(pending)) throw new InvalidOperationException("The inbox writer has stopped.");
        // A client that goes away does not take the row back: it may commit anyway, and a retry is then a replay.
        return pending.Done.Task.WaitAsync(ct);
    }

    async Task WriteLoopAsync()
    {
        var batch = new List<Pending>(MaxBatch);
        var reader = _queue.Reader;
        try
        {
            while (await reader.WaitToReadAsync(_stopping.Token))
            {
                batch.Clear();
                while (batch.Count < MaxBatch && reader.TryRead(out var pending)) batch.Add(pending);
                await WriteAsync(batch);
            }
        }
        catch (OperationCanceledException) when (_stopping.IsCancellationRequested) { }
        finally
        {
            var stopped = new InvalidOperationException("The inbox writer has stopped.");
            foreach (var pending in batch) pending.Done.TrySetException(stopped);
            while (reader.TryRead(out var left)) left.Done.TrySetException(stopped);
        }
    }

    async Task WriteAsync(List<Pending> batch)
    {
        try
        {
            var stored = await InsertAsync(batch);
            Complete(batch, stored);
        }
        catch (Exception e) when (batch.Count > 1 && e is NpgsqlException or TimeoutException or InvalidOperationException)
        {
            // One bad row (say, its recipient deleted meanwhile) must not refuse every POST of its batch:
            // write them one by one, so only that one fails.
            _logger.LogDebug(e, "Inbox batch of {Count} failed; storing its rows one by one", batch.Count);
            foreach (var pending in batch)
            {
                List<Pending> single = [pending];
                try { Complete(single, await InsertAsync(single)); }
                catch (Exception one) when (one is NpgsqlException or TimeoutException or InvalidOperationException)
                {
                    pending.Done.TrySetException(one);
                }
            }
        }
        catch (Exception e) when (e is NpgsqlException or TimeoutException or InvalidOperationException or OperationCanceledException)
        {
            foreach (var pending in batch) pending.Done.TrySetException(e);
        }
    }

    void Complete(List<Pending> batch, HashSet<string> stored)
    {
        // Rows of the same activity id in one batch: the first one the database stored is "new", the rest replays.
        var any = false;
        foreach (var pending in batch)
        {
            var isNew = stored.Remove(pending.Row.ActivityId);
            any |= isNew;
            pending.Done.TrySetResult(isNew);
        }
        if (any) _signals.ActivityStored();
    }

    async Task<HashSet<string>> InsertAsync(List<Pending> batch)
    {
        var n = batch.Count;
        var (ids, types, actors, keys, recipients, bodies, times) =
            (new string[n], new string[n], new string[n], new string?[n], new long?[n], new string[n], new DateTimeOffset[n]);
        for (var i = 0; i < n; i++)
        {
            var row = batch[i].Row;
            (ids[i], types[i], actors[i], keys[i], recipients[i], bodies[i], times[i]) =
                (row.ActivityId, row.ActivityType, row.ActorUri, row.KeyId, row.RecipientAccountId, row.Body, row.ReceivedAt);
        }
        await using var conn = await _db.OpenConnectionAsync(_stopping.Token);
        var stored = await conn.QueryAsync<string>(new CommandDefinition(InboxQueries.InsertMany,
            new { ids, types, actors, keys, recipients, bodies, times }, cancellationToken: _stopping.Token));
        Interlocked.Increment(ref _commits);
        return stored.ToHashSet(StringComparer.Ordinal);
    }

    public async ValueTask DisposeAsync()
    {
        _queue.Writer.TryComplete();
        // Let the rows already handed over be written before the data source goes away.
        try { await _loop.WaitAsync(TimeSpan.FromSeconds(5)); }
        catch (TimeoutException) { await _stopping.CancelAsync(); }
        await _stopping.CancelAsync();
        await _loop;
        _stopping.Dispose();
    }

    sealed record Pending(InboxRow Row)
    {
        public TaskCompletionSource<bool> Done { get; } = new(TaskCreationOptions.RunContinuationsAsynchronously);
    }
}
