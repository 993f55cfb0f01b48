namespace Fellows.Server.Features.Delivery;

/// <summary>
/// The outbound queue's SQL. Every time comparison takes <c>@now</c> from the injected clock rather than the
/// database's now(), so tests can move time and nodes agree with their own scheduling decisions.
/// </summary>
static class DeliveryQueries
{
    // ---- outbox ------------------------------------------------------------------------------------------

    // NOTIFY is transactional: it reaches listeners when the caller commits, and never if it rolls back.
    // A repeated activity id keeps the first row (the same activity queued twice is delivered once).
    public const string InsertOutbox = """
        WITH inserted AS (
            INSERT INTO outbox_activities (activity_id, actor_account_id, body, to_followers_of, to_actor_uris, to_inboxes, created_at)
            VALUES (@activityId, @actorAccountId, @body, @toFollowersOf, @toActorUris, @toInboxes, @now)
            ON CONFLICT (activity_id) DO NOTHING
            RETURNING id)
        SELECT id FROM inserted
        UNION ALL
        SELECT id FROM outbox_activities WHERE activity_id = @activityId AND NOT EXISTS (SELECT 1 FROM inserted);
        NOTIFY fellows_outbox;
        """;

    public sealed record OutboxRow
    {
        public required long Id { get; init; }
        public required string ActivityId { get; init; }
        public required long ActorAccountId { get; init; }
        public required long[] ToFollowersOf { get; init; }
        public required string[] ToActorUris { get; init; }
        public required string[] ToInboxes { get; init; }
    }

    // One row per transaction: a row whose fan-out fails rolls back alone and does not hold up the others.
    public const string ClaimOutbox = """
        SELECT id, activity_id, actor_account_id, to_followers_of, to_actor_uris, to_inboxes
        FROM outbox_activities
        WHERE fanned_out_at IS NULL
        ORDER BY id
        LIMIT 1
        FOR UPDATE SKIP LOCKED
        """;

    public sealed record RecipientRow
    {
        public string? ActorUri { get; init; }
        public required string? InboxUrl { get; init; }
        public required string? Domain { get; init; }
        public bool Gone { get; init; }
    }

    // Followers on other instances, one row per distinct inbox: a shared inbox stands for all its followers.
    public const string FollowerInboxes = """
        SELECT DISTINCT coalesce(a.shared_inbox_url, a.inbox_url) AS inbox_url, a.domain
        FROM follows f
        JOIN accounts a ON a.id = f.account_id
        WHERE f.target_account_id = ANY(@followersOf)
          AND a.domain IS NOT NULL
          AND a.deleted_at IS NULL
          AND a.suspended_at IS NULL
          AND coalesce(a.shared_inbox_url, a.inbox_url) IS NOT NULL
        """;

    public const string ActorInboxes = """
        SELECT a.uri AS actor_uri, coalesce(a.shared_inbox_url, a.inbox_url) AS inbox_url, a.domain,
               (a.deleted_at IS NOT NULL OR a.suspended_at IS NOT NULL) AS gone
        FROM accounts a
        WHERE a.uri = ANY(@actorUris)
        """;

    public const string ActorInboxByUri = """
        SELECT a.uri AS actor_uri, a.inbox_url, a.shared_inbox_url, a.domain
        FROM accounts a
        WHERE a.uri = @uri AND a.deleted_at IS NULL AND a.suspended_at IS NULL
        """;

    public const string SuspendedDomains = "SELECT domain FROM domain_blocks WHERE severity = 'suspend' AND domain = ANY(@candidates)";

    // A host whose circuit is open gets its new deliveries scheduled for when it closes, not claimed and skipped.
    public const string InsertDeliveries = """
        INSERT INTO deliveries (outbox_activity_id, inbox_url, host, next_attempt_at, created_at)
        SELECT @outboxId, r.inbox_url, r.host, greatest(@now, coalesce(h.circuit_open_until, @now)), @now
        FROM unnest(@inboxes::text[], @hosts::text[]) AS r (inbox_url, host)
        LEFT JOIN remote_hosts h ON h.host = r.host
        ON CONFLICT (outbox_activity_id, inbox_url) DO NOTHING
        """;

    public const string MarkFannedOut = "UPDATE outbox_activities SET fanned_out_at = @now WHERE id = @id";

    public const string NotifyDelivery = "NOTIFY fellows_delivery";

    public const string NotifyOutbox = "NOTIFY fellows_outbox";

    // ---- deliveries --------------------------------------------------------------------------------------

    public sealed record ClaimedRow
    {
        public required long Id { get; init; }
        public required string InboxUrl { get; init; }
        public required string Host { get; init; }
        public required int Attempts { get; init; }
        public required DateTimeOffset CreatedAt { get; init; }
        public required DateTimeOffset NextAttemptAt { get; init; }
        public required DateTimeOffset? LastAttemptAt { get; init; }
        public required string Body { get; init; }
        public required long ActorAccountId { get; init; }
        public required string ActivityId { get; init; }
    }

    // The lease (locked_until) is the claim: the row lock lasts only this statement, so sends happen outside any
    // transaction, and a node that dies mid-send gives its claims back when the lease runs out. Hosts with an open
    // circuit are skipped without spending an attempt (their rows are normally pushed past the opening already).
    public const string Claim = """
        WITH due AS (
            SELECT d.id
            FROM deliveries d
            WHERE d.state = 0
              AND d.next_attempt_at <= @now
              AND (d.locked_until IS NULL OR d.locked_until <= @now)
              AND NOT EXISTS (SELECT 1 FROM remote_hosts h WHERE h.host = d.host AND h.circuit_open_until > @now)
            ORDER BY d.next_attempt_at, d.id
            LIMIT @limit
            FOR UPDATE OF d SKIP LOCKED)
        UPDATE deliveries d
        SET locked_until = @leaseUntil
        FROM due, outbox_activities o
        WHERE d.id = due.id AND o.id = d.outbox_activity_id
        RETURNING d.id, d.inbox_url, d.host, d.attempts, d.created_at, d.next_attempt_at, d.last_attempt_at,
                  o.body, o.actor_account_id, o.activity_id
        """;

    public const string MarkDelivered = """
        UPDATE deliveries
        SET state = 1, attempts = attempts + 1, last_attempt_at = @now, completed_at = @now, locked_until = NULL,
            last_status = @status, last_error = NULL
        WHERE id = @id AND state = 0
        """;

    public const string MarkDead = """
        UPDATE deliveries
        SET state = 2, attempts = attempts + 1, last_attempt_at = @now, completed_at = @now, locked_until = NULL,
            last_status = @status, last_error = @error
        WHERE id = @id AND state = 0
        """;

    public const string ScheduleRetry = """
        UPDATE deliveries
        SET attempts = attempts + 1, last_attempt_at = @now, next_attempt_at = @next, locked_until = NULL,
            last_status = @status, last_error = @error
        WHERE id = @id AND state = 0
        """;

    // Shutdown interrupted the send: give the claim back without counting an attempt.
    public const string Release = "UPDATE deliveries SET locked_until = NULL WHERE id = @id AND state = 0";

    // ---- remote hosts (circuit breaker, signature scheme) ------------------------------------------------

    public const string HostSucceeded = """
        INSERT INTO remote_hosts (host, consecutive_failures, circuit_open_until, last_success_at)
        VALUES (@host, 0, NULL, @now)
        ON CONFLICT (host) DO UPDATE
        SET consecutive_failures = 0, circuit_open_until = NULL, last_success_at = @now
        """;

    public const string HostFailed = """
        INSERT INTO remote_hosts AS h (host, consecutive_failures, last_failure_at)
        VALUES (@host, 1, @now)
        ON CONFLICT (host) DO UPDATE
        SET consecutive_failures = h.consecutive_failures + 1, last_failure_at = @now
        RETURNING consecutive_failures
        """;

    // Concurrent failures each compute an opening; the latest end wins.
    public const string OpenCircuit = """
        UPDATE remote_hosts
        SET circuit_open_until = greatest(coalesce(circuit_open_until, @openUntil), @openUntil)
        WHERE host = @host
        """;

    // Pending deliveries of a host whose circuit opened wait for it to close, spread over a short window so the
    // first ones to come due probe the host and the rest follow only if it answers. Claimed rows are left to the
    // workers holding them.
    public const string PushBackHost = """
        UPDATE deliveries
        SET next_attempt_at = @openUntil + make_interval(secs => random() * @spreadSeconds)
        WHERE host = @host AND state = 0 AND next_attempt_at < @openUntil
          AND (locked_until IS NULL OR locked_until <= @now)
        """;
}
