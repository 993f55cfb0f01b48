namespace Fellows.Server.Features.Notifications;

static class NotificationQueries
{
    /// <summary>
    /// The post @statusId and the posts above it in its thread, for muted conversations: a member who muted a thread
    /// (by any post in the chain up to its first) hears nothing more from it. Bounded, so a cycle can't run away.
    /// </summary>
    const string ThreadOfStatus = """
        WITH RECURSIVE thread(id, parent, depth) AS (
            SELECT id, in_reply_to_id, 0 FROM statuses WHERE id = @statusId
            UNION ALL
            SELECT p.id, p.in_reply_to_id, t.depth + 1 FROM statuses p JOIN thread t ON p.id = t.parent WHERE t.depth < 500)
        """;

    const string NotInMutedThread = "NOT EXISTS (SELECT 1 FROM conversation_mutes cm JOIN thread t ON t.id = cm.root_status_id WHERE cm.account_id = r.id)";

    /// <summary>Ids come from the event's time so notifications page in the order things happened.</summary>
    public const string Insert = $"""
        {ThreadOfStatus}
        INSERT INTO notifications (id, account_id, from_account_id, type, status_id, created_at)
        SELECT fellows_id(@now), r.id, @from, @type, @statusId, @now
        FROM accounts r
        WHERE r.id = ANY(@recipients) AND r.domain IS NULL AND r.deleted_at IS NULL AND r.id <> @from
          AND NOT EXISTS (SELECT 1 FROM blocks b WHERE (b.account_id = r.id AND b.target_account_id = @from)
                                                 OR (b.account_id = @from AND b.target_account_id = r.id))
          AND {NotInMutedThread}
        ON CONFLICT DO NOTHING
        """;

    public const string InsertForSubscribers = $"""
        {ThreadOfStatus}
        INSERT INTO notifications (id, account_id, from_account_id, type, status_id, created_at)
        SELECT fellows_id(@now), f.account_id, @from, 'status', @statusId, @now
        FROM follows f JOIN accounts r ON r.id = f.account_id
        WHERE f.target_account_id = @from AND f.notify AND r.domain IS NULL AND r.deleted_at IS NULL
          AND NOT EXISTS (SELECT 1 FROM blocks b WHERE (b.account_id = r.id AND b.target_account_id = @from)
                                                 OR (b.account_id = @from AND b.target_account_id = r.id))
          AND {NotInMutedThread}
        ON CONFLICT DO NOTHING
        """;

    public const string Withdraw = """
        DELETE FROM notifications
        WHERE account_id = @recipient AND from_account_id = @from AND type = @type
          AND status_id IS NOT DISTINCT FROM @statusId
        """;

    /// <summary>Accounts the member muted with their notifications.</summary>
    const string NotMuted = $"""
        NOT EXISTS (SELECT 1 FROM mutes mu WHERE mu.account_id = @me AND mu.target_account_id = n.from_account_id
                    AND mu.notifications AND {Follows.FollowQueries.ActiveMute})
        """;

    /// <summary>Nothing from an account on a server the member blocked (InitPlan first: most block none).</summary>
    const string NotDomainBlocked = """
        (NOT EXISTS (SELECT 1 FROM account_domain_blocks d0 WHERE d0.account_id = @me)
         OR NOT EXISTS (SELECT 1 FROM accounts fa JOIN account_domain_blocks d ON d.account_id = @me AND d.domain = lower(fa.domain)
                        WHERE fa.id = n.from_account_id))
        """;

    /// <summary>
    /// A member's notifications, newest first, paged by id. Hidden: those from accounts either side now blocks and
    /// those whose status is gone or no longer visible to the member.
    /// </summary>
    public static readonly string Page = $"""
        SELECT n.id, n.type, n.from_account_id, n.status_id, n.created_at
        FROM notifications n
        LEFT JOIN statuses s ON s.id = n.status_id
        WHERE n.account_id = @me
          AND (@types::text[] IS NULL OR n.type = ANY(@types))
          AND (@excludeTypes::text[] IS NULL OR n.type <> ALL(@excludeTypes))
          AND (@fromAccount::bigint IS NULL OR n.from_account_id = @fromAccount)
          AND (@id::bigint IS NULL OR n.id = @id)
          {Mastodon.PageRequest.Conditions("n.id")}
          AND (n.status_id IS NULL OR (s.deleted_at IS NULL AND (s.visibility <= 1 OR s.account_id = @me
               OR (s.visibility = 2 AND EXISTS (SELECT 1 FROM follows f WHERE f.account_id = @me AND f.target_account_id = s.account_id))
               OR EXISTS (SELECT 1 FROM mentions m WHERE m.status_id = s.id AND m.account_id = @me))))
          AND NOT EXISTS (SELECT 1 FROM blocks b WHERE (b.account_id = @me AND b.target_account_id = n.from_account_id)
                                                 OR (b.account_id = n.from_account_id AND b.target_account_id = @me))
          AND {NotMuted}
          AND {NotDomainBlocked}
        {Mastodon.PageRequest.OrderAndLimit("n.id")}
        """;

    public const string Dismiss = "DELETE FROM notifications WHERE account_id = @me AND id = @id";

    public const string Clear = "DELETE FROM notifications WHERE account_id = @me";

    public const string UnreadCount = $"""
        SELECT count(*) FROM (
            SELECT 1 FROM notifications n
            WHERE n.account_id = @me AND n.id > coalesce(@lastReadId, 0)
              AND NOT EXISTS (SELECT 1 FROM blocks b WHERE (b.account_id = @me AND b.target_account_id = n.from_account_id)
                                                     OR (b.account_id = n.from_account_id AND b.target_account_id = @me))
              AND {NotMuted}
              AND {NotDomainBlocked}
            LIMIT @limit) x
        """;
}
