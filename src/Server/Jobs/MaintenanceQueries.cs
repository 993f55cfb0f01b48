namespace Fellows.Server.Jobs;

static class MaintenanceQueries
{
    // A worker that died holding claims: give them back now rather than at the next claim that happens by.
    public const string ReleaseExpiredLeases = """
        UPDATE deliveries SET locked_until = NULL
        WHERE state = 0 AND locked_until IS NOT NULL AND locked_until <= @now
        """;

    public const string AnyDeliveryDue = """
        SELECT EXISTS (SELECT 1 FROM deliveries WHERE state = 0 AND next_attempt_at <= @now AND locked_until IS NULL)
        """;

    public const string AnyOutboxPending = "SELECT EXISTS (SELECT 1 FROM outbox_activities WHERE fanned_out_at IS NULL)";

    public const string NotifyDelivery = "NOTIFY fellows_delivery";

    public const string NotifyOutbox = "NOTIFY fellows_outbox";

    // Pruning deletes in slices so no single statement holds locks for long on a busy table.
    public const string PruneDelivered = """
        DELETE FROM deliveries WHERE id IN (
            SELECT id FROM deliveries WHERE state = 1 AND completed_at < @before LIMIT @limit)
        """;

    public const string PruneDead = """
        DELETE FROM deliveries WHERE id IN (
            SELECT id FROM deliveries WHERE state = 2 AND completed_at < @before LIMIT @limit)
        """;

    public const string PruneInbox = """
        DELETE FROM inbox_activities WHERE id IN (
            SELECT id FROM inbox_activities WHERE state <> 0 AND coalesce(processed_at, received_at) < @before LIMIT @limit)
        """;

    // An outbox row goes once nothing of it is pending; what is left of its deliveries goes with it (cascade).
    public const string PruneOutbox = """
        DELETE FROM outbox_activities WHERE id IN (
            SELECT o.id FROM outbox_activities o
            WHERE o.fanned_out_at < @before
              AND NOT EXISTS (SELECT 1 FROM deliveries d WHERE d.outbox_activity_id = o.id AND d.state = 0)
            LIMIT @limit)
        """;

    // Sign-in leftovers: codes (kept a day past expiry, so a late replay still revokes what the code issued),
    // ended browser sessions and old throttle counters. Apps are never pruned.
    public const string PruneAuthorizationCodes = """
        DELETE FROM oauth_authorization_codes WHERE id IN (
            SELECT id FROM oauth_authorization_codes WHERE expires_at < @before LIMIT @limit)
        """;

    public const string PruneWebSessions = """
        DELETE FROM web_sessions WHERE id IN (
            SELECT id FROM web_sessions WHERE expires_at < @before OR revoked_at < @before LIMIT @limit)
        """;

    public const string PruneSignInThrottle = """
        DELETE FROM sign_in_throttle WHERE key IN (
            SELECT key FROM sign_in_throttle WHERE window_started_at < @before LIMIT @limit)
        """;

    public const string PruneIdempotencyKeys = """
        DELETE FROM status_idempotency WHERE (account_id, key) IN (
            SELECT account_id, key FROM status_idempotency WHERE created_at < @before LIMIT @limit)
        """;

    public const string PruneScheduledIdempotencyKeys = """
        DELETE FROM scheduled_status_idempotency WHERE (account_id, key) IN (
            SELECT account_id, key FROM scheduled_status_idempotency WHERE created_at < @before LIMIT @limit)
        """;

    // Home feed upkeep (migration 0023): each member's feed keeps its newest @keep rows. The first statement, for the
    // next @members local members after @after, moves home_feed_bounds.complete_from up to just above the first row
    // past the kept ones, so the feed still holds every candidate from complete_from on and reads older than that go
    // to the computed query; it never moves complete_from down. Rows are not deleted here: the second statement
    // deletes what lies below complete_from afterwards, once the raised bound is committed, so no reader ever sees a
    // feed missing rows it claims to hold. Returns the last member of the batch (null when none is left).
    public const string HomeFeedRaiseBounds = """
        WITH members AS (
            SELECT account_id FROM users WHERE account_id > @after ORDER BY account_id LIMIT @members),
        cut AS (
            SELECT m.account_id, d.status_id + 1 AS complete_from
            FROM members m
            CROSS JOIN LATERAL (SELECT h.status_id FROM home_feed h WHERE h.account_id = m.account_id
                                ORDER BY h.status_id DESC OFFSET @keep LIMIT 1) d),
        raised AS (
            INSERT INTO home_feed_bounds (account_id, complete_from)
            SELECT account_id, complete_from FROM cut ORDER BY account_id
            ON CONFLICT (account_id) DO UPDATE SET complete_from = EXCLUDED.complete_from
            WHERE home_feed_bounds.complete_from < EXCLUDED.complete_from
            RETURNING 1)
        SELECT (SELECT max(account_id) FROM members) AS last, (SELECT count(*) FROM raised)::int AS raised
        """;

    // Rows below a member's complete_from are never read (the page reads only from there on, the computed query
    // answers below it, a follow's backfill starts there), so they go: at most @limit at a time, for the members
    // (@after, @last]. Rows another transaction holds (an unfollow removing them too, say) are skipped rather than
    // waited for; the next run takes them.
    public const string HomeFeedDeleteBelowBounds = """
        DELETE FROM home_feed WHERE (account_id, status_id) IN (
            SELECT h.account_id, h.status_id
            FROM home_feed_bounds b JOIN home_feed h ON h.account_id = b.account_id AND h.status_id < b.complete_from
            WHERE b.account_id > @after AND b.account_id <= @last
            LIMIT @limit
            FOR UPDATE OF h SKIP LOCKED)
        """;
}
