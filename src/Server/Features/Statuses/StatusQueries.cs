namespace Fellows.Server.Features.Statuses;

static class StatusQueries
{
    public const string Columns = """
        s.id, s.uri, s.url, s.account_id, s.in_reply_to_id, s.in_reply_to_uri, s.in_reply_to_account_id, s.reblog_of_id,
        s.content, s.source_text, s.spoiler_text, s.sensitive, s.visibility, s.language, s.local, s.created_at, s.edited_at,
        s.deleted_at, s.replies_count, s.reblogs_count, s.favourites_count
        """;

    /// <summary>
    /// Who may see a status: public and unlisted to anyone the author has not blocked; followers-only to the
    /// author, followers and those mentioned; direct to the author and those mentioned. @viewer may be null.
    /// </summary>
    public const string VisibleTo = """
        s.deleted_at IS NULL
        AND (s.visibility <= 1
             OR s.account_id = @viewer
             OR (s.visibility = 2 AND EXISTS (SELECT 1 FROM follows f WHERE f.account_id = @viewer AND f.target_account_id = s.account_id))
             OR EXISTS (SELECT 1 FROM mentions m WHERE m.status_id = s.id AND m.account_id = @viewer))
        AND NOT EXISTS (SELECT 1 FROM blocks b WHERE b.account_id = s.account_id AND b.target_account_id = @viewer)
        """;

    public const string ById = $"SELECT {Columns} FROM statuses s WHERE s.id = @id";
    public const string ByUri = $"SELECT {Columns} FROM statuses s WHERE s.uri = @uri";
    public const string VisibleById = $"SELECT {Columns} FROM statuses s WHERE s.id = @id AND {VisibleTo}";
    public const string ManyByIds = $"SELECT {Columns} FROM statuses s WHERE s.id = ANY(@ids)";

    public const string Insert = """
        INSERT INTO statuses (id, uri, url, account_id, in_reply_to_id, in_reply_to_uri, in_reply_to_account_id, reblog_of_id,
                              content, source_text, spoiler_text, sensitive, visibility, language, local, created_at)
        VALUES (@id, @uri, @url, @accountId, @inReplyToId, @inReplyToUri, @inReplyToAccountId, @reblogOfId,
                @content, @sourceText, @spoilerText, @sensitive, @visibility, @language, @local, @createdAt)
        """;

    public const string NextId = "SELECT fellows_id(@at)";

    public const string BlockedAmong = """
        SELECT target_account_id FROM blocks WHERE account_id = @me AND target_account_id = ANY(@ids)
        UNION SELECT account_id FROM blocks WHERE target_account_id = @me AND account_id = ANY(@ids)
        """;

    public const string InsertMention = "INSERT INTO mentions (status_id, account_id) VALUES (@statusId, @accountId) ON CONFLICT DO NOTHING";

    public const string UpsertTag = """
        WITH ins AS (
            INSERT INTO tags (name) VALUES (@name) ON CONFLICT (lower(name)) DO NOTHING RETURNING id)
        SELECT id FROM ins UNION ALL SELECT id FROM tags WHERE lower(name) = lower(@name) LIMIT 1
        """;

    public const string InsertStatusTag = "INSERT INTO status_tags (status_id, tag_id) VALUES (@statusId, @tagId) ON CONFLICT DO NOTHING";

    public const string IncrementReplies = "UPDATE statuses SET replies_count = replies_count + 1 WHERE id = @id";
    public const string DecrementReplies = "UPDATE statuses SET replies_count = greatest(replies_count - 1, 0) WHERE id = @id";

    public const string SoftDelete = "UPDATE statuses SET deleted_at = @now WHERE id = @id AND deleted_at IS NULL";

    public const string InsertTombstone = """
        INSERT INTO tombstones (uri, account_id, former_type, deleted_at) VALUES (@uri, @accountId, 'Note', @now)
        ON CONFLICT (uri) DO NOTHING
        """;

    public const string MentionsOf = """
        SELECT m.status_id, a.id AS account_id, a.username, a.domain, a.uri, a.url
        FROM mentions m JOIN accounts a ON a.id = m.account_id
        WHERE m.status_id = ANY(@ids)
        """;

    public const string TagsOf = """
        SELECT st.status_id, t.name FROM status_tags st JOIN tags t ON t.id = st.tag_id WHERE st.status_id = ANY(@ids)
        """;

    public const string ViewerFavourited = "SELECT status_id FROM favourites WHERE account_id = @viewer AND status_id = ANY(@ids)";
    public const string ViewerReblogged = "SELECT reblog_of_id FROM statuses WHERE account_id = @viewer AND reblog_of_id = ANY(@ids) AND deleted_at IS NULL";
    public const string ViewerBookmarked = "SELECT status_id FROM bookmarks WHERE account_id = @viewer AND status_id = ANY(@ids)";
    public const string ViewerPinned = "SELECT status_id FROM status_pins WHERE account_id = @viewer AND status_id = ANY(@ids)";

    public const string InsertFavourite = """
        INSERT INTO favourites (account_id, status_id, uri, created_at) VALUES (@accountId, @statusId, @uri, @now)
        ON CONFLICT (account_id, status_id) DO NOTHING RETURNING id
        """;
    public const string DeleteFavourite = "DELETE FROM favourites WHERE account_id = @accountId AND status_id = @statusId RETURNING uri";
    public const string IncrementFavourites = "UPDATE statuses SET favourites_count = favourites_count + 1 WHERE id = @id";
    public const string DecrementFavourites = "UPDATE statuses SET favourites_count = greatest(favourites_count - 1, 0) WHERE id = @id";
    public const string IncrementReblogs = "UPDATE statuses SET reblogs_count = reblogs_count + 1 WHERE id = @id";
    public const string DecrementReblogs = "UPDATE statuses SET reblogs_count = greatest(reblogs_count - 1, 0) WHERE id = @id";

    public const string ReblogBy = $"SELECT {Columns} FROM statuses s WHERE s.account_id = @accountId AND s.reblog_of_id = @statusId AND s.deleted_at IS NULL";

    /// <summary>
    /// A status's thread for @viewer: ancestors and descendants (100 levels each way) joined to statuses by id, since an
    /// OR of two IN lists would scan the whole table; an id on both sides (a reply cycle in hostile data) counts once,
    /// as an ancestor.
    /// </summary>
    public const string Context = $"""
        WITH RECURSIVE ancestors(id, in_reply_to_id, depth) AS (
            SELECT s.id, s.in_reply_to_id, 0 FROM statuses s WHERE s.id = @id
            UNION ALL
            SELECT p.id, p.in_reply_to_id, a.depth + 1 FROM statuses p JOIN ancestors a ON p.id = a.in_reply_to_id WHERE a.depth < 100
        ),
        descendants(id, depth) AS (
            SELECT s.id, 0 FROM statuses s WHERE s.id = @id
            UNION ALL
            SELECT c.id, d.depth + 1 FROM statuses c JOIN descendants d ON c.in_reply_to_id = d.id WHERE d.depth < 100
        ),
        thread(id, is_ancestor) AS (
            SELECT id, bool_or(is_ancestor) FROM (
                SELECT id, true AS is_ancestor FROM ancestors
                UNION ALL
                SELECT id, false FROM descendants) both_ways
            WHERE id <> @id
            GROUP BY id
        )
        SELECT s.id, t.is_ancestor FROM thread t JOIN statuses s ON s.id = t.id
        WHERE {VisibleTo}
        ORDER BY s.id
        """;
}
