using Fellows.Server.Features.Statuses;

namespace Fellows.Server.Features.ActivityPub;

static class ActivityPubQueries
{
    /// <summary>Only public and unlisted posts are ever served to the network without knowing who asks.</summary>
    public const string OutboxPage = $"""
        SELECT {StatusQueries.Columns} FROM statuses s
        WHERE s.account_id = @accountId AND s.deleted_at IS NULL AND s.visibility <= 1
          AND (@maxId::bigint IS NULL OR s.id < @maxId)
        ORDER BY s.id DESC LIMIT @limit
        """;

    public const string AnonymousStatus = $"SELECT {StatusQueries.Columns} FROM statuses s WHERE s.id = @id AND s.deleted_at IS NULL AND s.visibility <= 1";

    public const string OutboxCount = "SELECT count(*) FROM statuses WHERE account_id = @accountId AND deleted_at IS NULL AND visibility <= 1";

    public const string FollowersPage = """
        SELECT a.uri, f.id FROM follows f JOIN accounts a ON a.id = f.account_id
        WHERE f.target_account_id = @accountId AND (@maxId::bigint IS NULL OR f.id < @maxId)
        ORDER BY f.id DESC LIMIT @limit
        """;

    public const string FollowersCount = "SELECT count(*) FROM follows WHERE target_account_id = @accountId";

    public const string FollowingPage = """
        SELECT a.uri, f.id FROM follows f JOIN accounts a ON a.id = f.target_account_id
        WHERE f.account_id = @accountId AND (@maxId::bigint IS NULL OR f.id < @maxId)
        ORDER BY f.id DESC LIMIT @limit
        """;

    public const string FollowingCount = "SELECT count(*) FROM follows WHERE account_id = @accountId";

    public const string Pinned = $"""
        SELECT {StatusQueries.Columns} FROM statuses s JOIN status_pins p ON p.status_id = s.id
        WHERE p.account_id = @accountId AND s.deleted_at IS NULL AND s.visibility <= 1
        ORDER BY p.created_at DESC LIMIT 20
        """;

    public const string PublicReplies = """
        SELECT s.uri FROM statuses s
        WHERE s.in_reply_to_id = @statusId AND s.deleted_at IS NULL AND s.visibility <= 1
        ORDER BY s.id LIMIT 100
        """;

    public const string Tombstone = "SELECT former_type, deleted_at FROM tombstones WHERE uri = @uri";

}
