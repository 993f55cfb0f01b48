using Dapper;
using Fellows.Server.Features.Statuses;
using Npgsql;

namespace Fellows.Server.Features.Conversations;

/// <summary>
/// Direct messages grouped per member, as Mastodon's conversations: each local participant of a direct post gets
/// (or has updated) the row for its thread and the other participants; unread for everyone but the sender.
/// </summary>
public static class ConversationWrites
{
    /// <summary>The first post of the thread a post belongs to (a hundred steps up at most).</summary>
    const string Root = """
        WITH RECURSIVE up(id, parent, depth) AS (
            SELECT s.id, s.in_reply_to_id, 0 FROM statuses s WHERE s.id = @id
            UNION ALL
            SELECT s.id, s.in_reply_to_id, up.depth + 1 FROM statuses s JOIN up ON s.id = up.parent WHERE up.depth < 100)
        SELECT id FROM up ORDER BY depth DESC LIMIT 1
        """;

    const string Upsert = """
        INSERT INTO conversations (id, account_id, root_status_id, participant_ids, last_status_id, unread, updated_at)
        SELECT fellows_id(@now), a.id, @root, @others, @statusId, @unread, @now FROM accounts a WHERE a.id = @accountId AND a.domain IS NULL
        ON CONFLICT (account_id, root_status_id, participant_ids) DO UPDATE SET
            last_status_id = greatest(conversations.last_status_id, excluded.last_status_id),
            unread = CASE WHEN excluded.last_status_id >= conversations.last_status_id THEN excluded.unread ELSE conversations.unread END,
            updated_at = excluded.updated_at
        RETURNING id
        """;

    /// <summary>
    /// Records <paramref name="status"/> (direct) for each local account among <paramref name="participantIds"/> (the
    /// author first, then those addressed), and tells each one's streams of the conversation it touched.
    /// </summary>
    public static async Task RecordAsync(NpgsqlConnection conn, NpgsqlTransaction tx, Status status,
        IReadOnlyList<long> participantIds, DateTimeOffset now, CancellationToken ct)
    {
        var everyone = participantIds.Distinct().ToList();
        var root = await conn.ExecuteScalarAsync<long>(new CommandDefinition(Root, new { id = status.Id }, tx, cancellationToken: ct));
        foreach (var accountId in everyone)
        {
            var others = everyone.Where(p => p != accountId).Order().ToArray();
            var id = await conn.ExecuteScalarAsync<long?>(new CommandDefinition(Upsert, new
            {
                now, accountId, root, others, statusId = status.Id, unread = accountId != status.AccountId,
            }, tx, cancellationToken: ct));
            if (id is { } conversationId)
            {
                await conn.ExecuteAsync(new CommandDefinition(Streaming.StreamingSql.Notify, new
                {
                    payload = $$"""{"event":"conversation","account_id":{{accountId}},"conversation_id":{{conversationId}},"status_id":{{status.Id}}}""",
                }, tx, cancellationToken: ct));
            }
        }
    }
}
