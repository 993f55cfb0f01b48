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
}
