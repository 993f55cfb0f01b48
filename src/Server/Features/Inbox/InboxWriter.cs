using Dapper;
using Fellows.Server.Database;
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
    readonly GroupedCalls<InboxRow, bool?> _calls;

    public InboxWriter(NpgsqlDataSource db, InboxSignals signals, ILogger<InboxWriter> logger)
    {
        (_db, _signals, _logger) = (db, signals, logger);
        _calls = new GroupedCalls<InboxRow, bool?>(WriteAsync, MaxBatch);
    }

    /// <summary>The number of INSERT transactions committed so far (a test and diagnostics figure).</summary>
    public long Commits => _calls.Batches;

    /// <summary>
    /// Stores <paramref name="row"/> durably; true when it was new, false when its activity id was already stored
    /// (a replay, or a concurrent duplicate delivery). Throws when it could not be stored: the caller must not
    /// answer 202 then. A client that goes away does not take the row back: it may commit anyway, and a retry is
    /// then a replay.
    /// </summary>
    public async Task<bool> StoreAsync(InboxRow row, CancellationToken ct) =>
        await _calls.CallAsync(row, ct) ?? throw new InvalidOperationException($"{row.ActivityId} could not be stored");

    /// <summary>For each row: true stored, false already there, null not stored (an error).</summary>
    async Task<IReadOnlyList<bool?>> WriteAsync(IReadOnlyList<InboxRow> batch, CancellationToken ct)
    {
        bool?[] isNew;
        try
        {
            isNew = Match(batch, await InsertAsync(batch, ct));
        }
        catch (Exception e) when (batch.Count > 1 && e is NpgsqlException or TimeoutException)
        {
            // One bad row (say, its recipient deleted meanwhile) must not refuse every POST of its batch: write
            // them one by one, so only that one fails. Its POST is answered 503 and the sender tries again.
            _logger.LogDebug(e, "Inbox batch of {Count} failed; storing its rows one by one", batch.Count);
            isNew = new bool?[batch.Count];
            for (var i = 0; i < batch.Count; i++)
            {
                try { isNew[i] = Match([batch[i]], await InsertAsync([batch[i]], ct))[0]; }
                catch (Exception one) when (one is NpgsqlException or TimeoutException)
                {
                    _logger.LogWarning(one, "Could not store {Type} {Id}", batch[i].ActivityType, batch[i].ActivityId);
                    isNew[i] = null;
                }
            }
        }
        if (isNew.Contains(true)) _signals.ActivityStored();
        return isNew;
    }

    /// <summary>Rows of the same activity id in one batch: the first is the one stored, the rest are replays.</summary>
    static bool?[] Match(IReadOnlyList<InboxRow> batch, HashSet<string> stored)
    {
        var isNew = new bool?[batch.Count];
        for (var i = 0; i < batch.Count; i++) isNew[i] = stored.Remove(batch[i].ActivityId);
        return isNew;
    }

    async Task<HashSet<string>> InsertAsync(IReadOnlyList<InboxRow> batch, CancellationToken ct)
    {
        var n = batch.Count;
        var (ids, types, actors, keys, recipients, bodies, times) =
            (new string[n], new string[n], new string[n], new string?[n], new long?[n], new string[n], new DateTimeOffset[n]);
        for (var i = 0; i < n; i++)
        {
            var row = batch[i];
            (ids[i], types[i], actors[i], keys[i], recipients[i], bodies[i], times[i]) =
                (row.ActivityId, row.ActivityType, row.ActorUri, row.KeyId, row.RecipientAccountId, row.Body, row.ReceivedAt);
        }
        await using var conn = await _db.OpenConnectionAsync(ct);
        await using var results = await conn.QueryMultipleAsync(new CommandDefinition(InboxQueries.GenericPlan + InboxQueries.InsertMany,
            new { ids, types, actors, keys, recipients, bodies, times }, cancellationToken: ct));
        await results.ReadAsync<string>();
        return (await results.ReadAsync<string>()).ToHashSet(StringComparer.Ordinal);
    }

    public ValueTask DisposeAsync() => _calls.DisposeAsync();
}
