namespace Fellows.Server.Features.Follows;

static class FollowQueries
{
    public const string InsertFollow = """
        INSERT INTO follows (account_id, target_account_id, uri, show_reblogs, notify, created_at)
        VALUES (@accountId, @targetId, @uri, @showReblogs, @notify, @now)
        ON CONFLICT (account_id, target_account_id) DO UPDATE SET show_reblogs = excluded.show_reblogs, notify = excluded.notify
        """;

    public const string InsertRequest = """
        INSERT INTO follow_requests (account_id, target_account_id, uri, show_reblogs, notify, created_at)
        VALUES (@accountId, @targetId, @uri, @showReblogs, @notify, @now)
        ON CONFLICT (account_id, target_account_id) DO UPDATE SET uri = excluded.uri, show_reblogs = excluded.show_reblogs, notify = excluded.notify
        """;

    public const string SetLanguages = """
        UPDATE follows SET languages = @languages WHERE account_id = @accountId AND target_account_id = @targetId;
        UPDATE follow_requests SET languages = @languages WHERE account_id = @accountId AND target_account_id = @targetId;
        """;

    public const string FindFollow = "SELECT id, account_id, target_account_id, uri, show_reblogs, notify FROM follows WHERE account_id = @accountId AND target_account_id = @targetId";
    public const string FindRequest = "SELECT id, account_id, target_account_id, uri, show_reblogs, notify FROM follow_requests WHERE account_id = @accountId AND target_account_id = @targetId";
    public const string RequestToByUri = "SELECT id, account_id, target_account_id, uri, show_reblogs, notify FROM follow_requests WHERE target_account_id = @targetId AND uri = @uri";
    public const string DeleteFollow = "DELETE FROM follows WHERE account_id = @accountId AND target_account_id = @targetId RETURNING uri";
    public const string DeleteRequest = "DELETE FROM follow_requests WHERE account_id = @accountId AND target_account_id = @targetId RETURNING uri";

    /// <summary>A pending request becomes a follow: what happens when the target accepts.</summary>
    public const string PromoteRequest = """
        WITH r AS (DELETE FROM follow_requests WHERE account_id = @accountId AND target_account_id = @targetId RETURNING *)
        INSERT INTO follows (account_id, target_account_id, uri, show_reblogs, notify, languages, created_at)
        SELECT account_id, target_account_id, uri, show_reblogs, notify, languages, @now FROM r
        ON CONFLICT (account_id, target_account_id) DO NOTHING
        RETURNING id
        """;

    /// <summary>A block ends every follow and request between the two, both ways.</summary>
    public const string InsertBlock = """
        INSERT INTO blocks (account_id, target_account_id, uri, created_at) VALUES (@accountId, @targetId, @uri, @now)
        ON CONFLICT (account_id, target_account_id) DO NOTHING;
        DELETE FROM follows WHERE (account_id = @accountId AND target_account_id = @targetId) OR (account_id = @targetId AND target_account_id = @accountId);
        DELETE FROM follow_requests WHERE (account_id = @accountId AND target_account_id = @targetId) OR (account_id = @targetId AND target_account_id = @accountId);
        """;

    /// <summary>
    /// A mute still in force. Expiry is compared with the database's clock: it only ever hides posts, so it needs no
    /// business time.
    /// </summary>
    public const string ActiveMute = "(mu.expires_at IS NULL OR mu.expires_at > statement_timestamp())";

    public const string InsertMute = """
        INSERT INTO mutes (id, account_id, target_account_id, notifications, expires_at, created_at)
        VALUES (fellows_id(@now), @accountId, @targetId, @notifications, @expiresAt, @now)
        ON CONFLICT (account_id, target_account_id) DO UPDATE SET notifications = excluded.notifications, expires_at = excluded.expires_at
        """;

    public const string DeleteMute = "DELETE FROM mutes WHERE account_id = @accountId AND target_account_id = @targetId";

    public const string FindBlock = "SELECT uri FROM blocks WHERE account_id = @accountId AND target_account_id = @targetId";
    public const string DeleteBlock = "DELETE FROM blocks WHERE account_id = @accountId AND target_account_id = @targetId RETURNING uri";

    /// <summary>
    /// What the member (@me) has to do with each account: Mastodon's Relationship. Follow options come from the follow,
    /// or from the pending request while it waits; with neither they are off (false, no languages).
    /// </summary>
    public const string Relationships = $"""
        SELECT t.id,
               f.id IS NOT NULL AS following, coalesce(f.show_reblogs, fr.show_reblogs, false) AS showing_reblogs,
               coalesce(f.notify, fr.notify, false) AS notifying,
               CASE WHEN f.id IS NOT NULL THEN f.languages ELSE fr.languages END AS languages,
               EXISTS (SELECT 1 FROM follows x WHERE x.account_id = t.id AND x.target_account_id = @me) AS followed_by,
               EXISTS (SELECT 1 FROM blocks b WHERE b.account_id = @me AND b.target_account_id = t.id) AS blocking,
               EXISTS (SELECT 1 FROM blocks b WHERE b.account_id = t.id AND b.target_account_id = @me) AS blocked_by,
               fr.id IS NOT NULL AS requested,
               EXISTS (SELECT 1 FROM follow_requests y WHERE y.account_id = t.id AND y.target_account_id = @me) AS requested_by,
               t.domain IS NOT NULL AND EXISTS (SELECT 1 FROM account_domain_blocks d WHERE d.account_id = @me AND d.domain = lower(t.domain)) AS domain_blocking,
               mu.id IS NOT NULL AS muting, coalesce(mu.notifications, false) AS muting_notifications,
               EXISTS (SELECT 1 FROM account_pins p WHERE p.account_id = @me AND p.target_account_id = t.id) AS endorsed,
               coalesce((SELECT n.comment FROM account_notes n WHERE n.account_id = @me AND n.target_account_id = t.id), '') AS note
        FROM accounts t
        LEFT JOIN follows f ON f.account_id = @me AND f.target_account_id = t.id
        LEFT JOIN follow_requests fr ON fr.account_id = @me AND fr.target_account_id = t.id
        LEFT JOIN mutes mu ON mu.account_id = @me AND mu.target_account_id = t.id AND {ActiveMute}
        WHERE t.id = ANY(@ids)
        """;

    /// <summary>True when @me blocked the server of account @targetId (a member's own domain block).</summary>
    public const string DomainBlocked = """
        SELECT EXISTS (SELECT 1 FROM account_domain_blocks d JOIN accounts t ON lower(t.domain) = d.domain
                       WHERE d.account_id = @me AND t.id = @targetId)
        """;
}

public sealed record FollowRow
{
    public required long Id { get; init; }
    public required long AccountId { get; init; }
    public required long TargetAccountId { get; init; }
    public string? Uri { get; init; }
    public required bool ShowReblogs { get; init; }
    public required bool Notify { get; init; }
}
