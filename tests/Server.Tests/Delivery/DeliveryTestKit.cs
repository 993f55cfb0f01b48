using System.Text.Json;
using Dapper;
using Fellows.Server.Features.Delivery;
using Npgsql;

namespace Fellows.Server.Tests.Delivery;

/// <summary>Rows and helpers the delivery tests share.</summary>
static class DeliveryTestKit
{
    public sealed record DeliveryRow
    {
        public required long Id { get; init; }
        public required string InboxUrl { get; init; }
        public required string Host { get; init; }
        public required short State { get; init; }
        public required int Attempts { get; init; }
        public required DateTimeOffset NextAttemptAt { get; init; }
        public DateTimeOffset? LastAttemptAt { get; init; }
        public DateTimeOffset? LockedUntil { get; init; }
        public int? LastStatus { get; init; }
        public DateTimeOffset? CompletedAt { get; init; }
    }

    public sealed record HostRow
    {
        public required string Host { get; init; }
        public required int ConsecutiveFailures { get; init; }
        public DateTimeOffset? CircuitOpenUntil { get; init; }
        public DateTimeOffset? LastSuccessAt { get; init; }
        public DateTimeOffset? LastFailureAt { get; init; }
    }

    public static string Body(string id, string actor) =>
        JsonSerializer.Serialize(new Dictionary<string, object>
        {
            ["@context"] = "https://www.w3.org/ns/activitystreams",
            ["id"] = id,
            ["type"] = "Create",
            ["actor"] = actor,
        });

    public static async Task<long> EnqueueAsync(NpgsqlDataSource db, OutboxWriter writer, OutgoingActivity activity)
    {
        await using var conn = await db.OpenConnectionAsync();
        await using var tx = await conn.BeginTransactionAsync();
        var id = await writer.EnqueueAsync(conn, tx, activity, CancellationToken.None);
        await tx.CommitAsync();
        return id;
    }

    public static async Task<List<DeliveryRow>> DeliveriesOfAsync(string connectionString, string activityId)
    {
        await using var conn = new NpgsqlConnection(connectionString);
        return (await conn.QueryAsync<DeliveryRow>(
            """
            SELECT d.id, d.inbox_url, d.host, d.state, d.attempts, d.next_attempt_at, d.last_attempt_at, d.locked_until,
                   d.last_status, d.completed_at
            FROM deliveries d JOIN outbox_activities o ON o.id = d.outbox_activity_id
            WHERE o.activity_id = @activityId ORDER BY d.id
            """, new { activityId })).ToList();
    }

    public static async Task<HostRow?> HostAsync(string connectionString, string host)
    {
        await using var conn = new NpgsqlConnection(connectionString);
        return await conn.QuerySingleOrDefaultAsync<HostRow>(
            "SELECT host, consecutive_failures, circuit_open_until, last_success_at, last_failure_at FROM remote_hosts WHERE host = @host", new { host });
    }

    /// <summary>Polls <paramref name="condition"/> until it holds; fails the test after <paramref name="seconds"/>.</summary>
    public static async Task WaitUntilAsync(Func<Task<bool>> condition, string what, double seconds = 15)
    {
        var deadline = DateTime.UtcNow.AddSeconds(seconds);
        while (!await condition())
        {
            if (DateTime.UtcNow > deadline) NUnit.Framework.Assert.Fail($"Timed out waiting for {what}");
            await Task.Delay(50);
        }
    }

    /// <summary>Inserts remote accounts with SQL and has them follow <paramref name="targetAccountId"/>.</summary>
    public static async Task AddRemoteFollowersAsync(string connectionString, long targetAccountId, IEnumerable<(string Username, string Domain, string Inbox, string? SharedInbox)> followers)
    {
        await using var conn = new NpgsqlConnection(connectionString);
        await conn.OpenAsync();
        await using var tx = await conn.BeginTransactionAsync();
        foreach (var f in followers)
        {
            var id = await conn.ExecuteScalarAsync<long>(
                """
                INSERT INTO accounts (username, domain, uri, inbox_url, shared_inbox_url)
                VALUES (@username, @domain, 'https://' || @domain || '/users/' || @username, @inbox, @sharedInbox)
                RETURNING id
                """, new { username = f.Username, domain = f.Domain, inbox = f.Inbox, sharedInbox = f.SharedInbox }, tx);
            await conn.ExecuteAsync("INSERT INTO follows (account_id, target_account_id) VALUES (@id, @target)", new { id, target = targetAccountId }, tx);
        }
        await tx.CommitAsync();
    }
}
