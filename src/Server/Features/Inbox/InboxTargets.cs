using Dapper;
using Fellows.Server.Database;
using Fellows.Server.Features.Delivery;
using Npgsql;

namespace Fellows.Server.Features.Inbox;

/// <summary>What the inbox needs to know before checking a signature: is the sender's domain suspended, and who is the addressee.</summary>
public sealed record InboxTarget
{
    public required bool Blocked { get; init; }
    public long? RecipientId { get; init; }
}

/// <summary>
/// The inbox's door check, asked of the database for each POST but answered for all concurrent POSTs in one round
/// trip (<see cref="GroupedCalls{TIn,TOut}"/>). It reads the tables every time, not a cache, so a domain suspended a
/// moment ago is refused at once.
/// </summary>
public sealed class InboxTargets : IAsyncDisposable
{
    const int MaxBatch = 256;
    readonly NpgsqlDataSource _db;
    readonly GroupedCalls<(string ActorHost, string? Username), InboxTarget> _calls;

    public InboxTargets(NpgsqlDataSource db)
    {
        _db = db;
        _calls = new GroupedCalls<(string, string?), InboxTarget>(LookUpAsync, MaxBatch);
    }

    /// <summary>Whether <paramref name="actorHost"/> (or a parent domain) is suspended, and the local account <paramref name="username"/> if one was named.</summary>
    public Task<InboxTarget> FindAsync(string actorHost, string? username, CancellationToken ct) => _calls.CallAsync((actorHost, username), ct);

    async Task<IReadOnlyList<InboxTarget>> LookUpAsync(IReadOnlyList<(string ActorHost, string? Username)> batch, CancellationToken ct)
    {
        var usernames = batch.Select(b => b.Username).ToArray();
        var candidateOrds = new List<int>();
        var candidates = new List<string>();
        for (var i = 0; i < batch.Count; i++)
        {
            foreach (var candidate in RemoteHost.BlockCandidates(batch[i].ActorHost))
            {
                candidateOrds.Add(i + 1);
                candidates.Add(candidate);
            }
        }
        await using var conn = await _db.OpenConnectionAsync(ct);
        await using var results = await conn.QueryMultipleAsync(new CommandDefinition(InboxQueries.GenericPlan + InboxQueries.Targets,
            new { usernames, candidateOrds = candidateOrds.ToArray(), candidates = candidates.ToArray() }, cancellationToken: ct));
        await results.ReadAsync<string>();
        var rows = await results.ReadAsync<(long Ord, bool Blocked, long? RecipientId)>();
        var targets = new InboxTarget[batch.Count];
        foreach (var row in rows) targets[row.Ord - 1] = new InboxTarget { Blocked = row.Blocked, RecipientId = row.RecipientId };
        return targets;
    }

    public ValueTask DisposeAsync() => _calls.DisposeAsync();
}
