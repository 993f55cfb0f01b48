using System.Text;
using Dapper;
using Npgsql;

namespace Fellows.Server.Tests;

/// <summary>
/// What the federation queues of some instances hold: for a test that timed out waiting on federation to say where
/// the activity stopped (not delivered, delivered but failed in the inbox, or processed to something else).
/// </summary>
public static class FederationTrace
{
    public static async Task<string> DescribeAsync(params FellowsInstance[] instances)
    {
        var text = new StringBuilder();
        foreach (var instance in instances)
        {
            await using var conn = new NpgsqlConnection(instance.ConnectionString);
            text.AppendLine($"--- {instance.Name} ({instance.Domain})");
            foreach (var d in await conn.QueryAsync("""
                SELECT d.id, o.body::jsonb ->> 'type' AS activity_type, d.inbox_url, d.state, d.attempts, d.last_status, d.last_error, d.created_at, d.completed_at
                FROM deliveries d JOIN outbox_activities o ON o.id = d.outbox_activity_id ORDER BY d.id DESC LIMIT 15
                """))
                text.AppendLine($"delivery {d.id} {d.activity_type} -> {d.inbox_url}: state {d.state}, attempts {d.attempts}, last {d.last_status} {d.last_error} (created {d.created_at:HH:mm:ss.fff}, done {d.completed_at:HH:mm:ss.fff})");
            foreach (var i in await conn.QueryAsync("""
                SELECT id, activity_type, actor_uri, state, attempts, last_error, received_at, processed_at FROM inbox_activities ORDER BY id DESC LIMIT 15
                """))
                text.AppendLine($"inbox {i.id} {i.activity_type} from {i.actor_uri}: state {i.state}, attempts {i.attempts}, {i.last_error} (received {i.received_at:HH:mm:ss.fff}, processed {i.processed_at:HH:mm:ss.fff})");
        }
        return text.ToString();
    }
}
