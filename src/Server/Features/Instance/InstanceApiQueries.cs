namespace Fellows.Server.Features.Instance;

static class InstanceApiQueries
{
    public const string Stats = """
        SELECT (SELECT count(*) FROM users u JOIN accounts a ON a.id = u.account_id WHERE u.disabled_at IS NULL AND a.suspended_at IS NULL) AS users,
               (SELECT count(*) FROM statuses s WHERE s.local AND s.deleted_at IS NULL AND s.reblog_of_id IS NULL) AS statuses,
               (SELECT count(DISTINCT domain) FROM accounts WHERE domain IS NOT NULL AND deleted_at IS NULL AND suspended_at IS NULL) AS domains,
               (SELECT count(DISTINCT s.account_id) FROM statuses s WHERE s.local AND s.created_at > @month) AS active_month
        """;

    /// <summary>Servers we know someone on, except those the co-op has blocked.</summary>
    public const string Peers = """
        SELECT DISTINCT lower(a.domain) FROM accounts a
        WHERE a.domain IS NOT NULL AND a.deleted_at IS NULL AND a.suspended_at IS NULL
          AND NOT EXISTS (SELECT 1 FROM domain_blocks d WHERE d.domain = lower(a.domain))
        ORDER BY 1
        """;

    /// <summary>
    /// Per week: local posts, members who were active (posted; Fellows records no sign-ins per week) and new members.
    /// </summary>
    public const string Activity = """
        WITH posts AS (
            SELECT date_trunc('week', s.created_at AT TIME ZONE 'UTC') AS week, count(*) AS statuses, count(DISTINCT s.account_id) AS logins
            FROM statuses s WHERE s.local AND s.reblog_of_id IS NULL AND s.created_at >= @since GROUP BY 1),
        joins AS (
            SELECT date_trunc('week', u.created_at AT TIME ZONE 'UTC') AS week, count(*) AS registrations
            FROM users u WHERE u.created_at >= @since GROUP BY 1)
        SELECT (coalesce(p.week, j.week) AT TIME ZONE 'UTC') AS week, coalesce(p.statuses, 0) AS statuses,
               coalesce(p.logins, 0) AS logins, coalesce(j.registrations, 0) AS registrations
        FROM posts p FULL JOIN joins j ON j.week = p.week
        """;
}

/// <summary>Images served when an account or the instance has none of its own (PNG, made for Fellows).</summary>
static class DefaultImages
{
    public static readonly byte[] Avatar = Convert.FromBase64String(
        "iVBORw0KGgoAAAANSUhEUgAAAGAAAABgCAIAAABt+uBvAAAAjklEQVR42u3QMQ0AAAgDsPlEDx+iccDJ1aQKmprmEAWCBAkSJEiQIEEIEiRIkCBBggQhSJAgQYIECRKEIEGCBAkSJEiQIAQJEiRIkCBBghAkSJAgQYIECUKQIEGCBAkSJEgQggQJEiRIkCBBCBIkSJAgQYIEIUiQIEGCBAkSJAhBggQJEiRIkCAECRL0ZwETajL+GZTRfAAAAABJRU5ErkJggg==");

    public static readonly byte[] Header = Convert.FromBase64String(
        "iVBORw0KGgoAAAANSUhEUgAAAAMAAAABCAIAAACUgoPjAAAADklEQVR42mM4c+0yBAEAJNAHYIYSzwQAAAAASUVORK5CYII=");

    public static readonly byte[] Thumbnail = Convert.FromBase64String(
        "iVBORw0KGgoAAAANSUhEUgAAAHgAAAA8CAIAAAAiz+n/AAAAaklEQVR42u3QMQ0AAAgDsPlEDx+icUE4mlRBU9MciALRohEtWrQF0aIRLVq0BdGiES1aNKJFI1q0aESLRrRo0YgWjWjRohEtGtGiRSNaNKJFi0a0aESLFo1o0YgWLRrRohEtWjSiRSP6lwUah//KmgNzBwAAAABJRU5ErkJggg==");
}
