namespace Fellows.Server.Features.Polls;

static class PollQueries
{
    public const string Columns = """
        p.id, p.status_id, p.account_id, p.local, p.options, p.multiple, p.hide_totals, p.expires_at, p.closed_at,
        p.remote_counts, p.remote_voters_count, p.created_at, p.updated_at
        """;

    public const string ById = $"SELECT {Columns} FROM polls p WHERE p.id = @id";
    public const string ByStatus = $"SELECT {Columns} FROM polls p WHERE p.status_id = @statusId";
    public const string ByStatuses = $"SELECT {Columns} FROM polls p WHERE p.status_id = ANY(@ids)";

    public const string Insert = $"""
        INSERT INTO polls AS p (id, status_id, account_id, local, options, multiple, hide_totals, expires_at, closed_at, remote_counts,
                           remote_voters_count, created_at, updated_at)
        VALUES (fellows_id(@now), @statusId, @accountId, @local, @options, @multiple, @hideTotals, @expiresAt, @closedAt, @remoteCounts,
                @remoteVotersCount, @now, @now)
        ON CONFLICT (status_id) DO NOTHING
        RETURNING {Columns}
        """;

    /// <summary>Votes per option and distinct voters of our own polls.</summary>
    public const string Counts = """
        SELECT poll_id, choice, count(*) AS votes FROM poll_votes WHERE poll_id = ANY(@ids) GROUP BY poll_id, choice
        """;

    public const string Voters = """
        SELECT poll_id, count(DISTINCT account_id) AS voters FROM poll_votes WHERE poll_id = ANY(@ids) GROUP BY poll_id
        """;

    public const string OwnVotes = "SELECT poll_id, choice FROM poll_votes WHERE account_id = @viewer AND poll_id = ANY(@ids) ORDER BY choice";

    public const string InsertVote = """
        INSERT INTO poll_votes (id, poll_id, account_id, choice, uri, created_at) VALUES (fellows_id(@now), @pollId, @accountId, @choice, @uri, @now)
        ON CONFLICT DO NOTHING RETURNING id
        """;

    public const string HasVoted = "SELECT EXISTS (SELECT 1 FROM poll_votes WHERE poll_id = @pollId AND account_id = @accountId)";

    public const string LocalVoters = """
        SELECT DISTINCT v.account_id FROM poll_votes v JOIN accounts a ON a.id = v.account_id WHERE v.poll_id = @pollId AND a.domain IS NULL
        """;

    /// <summary>A member's optimistic count on a remote poll, until its server's Update says otherwise.</summary>
    public const string BumpRemoteCounts = """
        UPDATE polls SET remote_counts = (
                SELECT array_agg(coalesce(remote_counts[i], 0) + CASE WHEN i - 1 = ANY(@choices) THEN 1 ELSE 0 END ORDER BY i)
                FROM generate_series(1, cardinality(options)) AS i),
            remote_voters_count = coalesce(remote_voters_count, 0) + 1, updated_at = @now
        WHERE id = @pollId
        """;

    /// <summary>Answers whether the options or the kind of choice changed (null when there is no such poll).</summary>
    public const string RefreshRemote = """
        UPDATE polls p SET remote_counts = @counts, remote_voters_count = @voters, expires_at = coalesce(@expiresAt, p.expires_at), updated_at = @now,
            options = CASE WHEN cardinality(@options::text[]) > 0 THEN @options ELSE p.options END, multiple = @multiple
        FROM polls prior
        WHERE p.status_id = @statusId AND NOT p.local AND prior.id = p.id
        RETURNING (cardinality(@options::text[]) > 0 AND prior.options IS DISTINCT FROM @options::text[]) OR prior.multiple <> @multiple
        """;

    public const string Close = "UPDATE polls SET closed_at = @now, updated_at = @now WHERE id = @id AND closed_at IS NULL RETURNING id";

    /// <summary>Polls past their time whose close was not processed (the safety net for a lost trigger).</summary>
    public const string Due = "SELECT id FROM polls WHERE closed_at IS NULL AND expires_at <= @now ORDER BY expires_at LIMIT 100";

    /// <summary>The author is told their own poll ended; the ordinary notification insert leaves out self-notifications.</summary>
    public const string NotifyAuthor = """
        INSERT INTO notifications (id, account_id, from_account_id, type, status_id, created_at)
        SELECT fellows_id(@now), a.id, a.id, 'poll', @statusId, @now FROM accounts a WHERE a.id = @author AND a.domain IS NULL
        ON CONFLICT DO NOTHING
        """;
}
