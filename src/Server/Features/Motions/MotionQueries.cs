namespace Fellows.Server.Features.Motions;

public static class MotionQueries
{
    public const string Columns = """
        m.id, m.uri, m.local, m.status_id, m.author_account_id, m.title, m.body_source, m.body_html, m.method, m.options,
        m.threshold, m.quorum, m.coop_quorum, m.counting_mode, m.score_min, m.score_max, m.secret_ballot, m.results_before_close,
        m.allied_actors, m.state, m.discussion_ends_at, m.voting_ends_at, m.remind_before, m.opened_at, m.voting_opened_at,
        m.closed_at, m.withdrawn_at, m.tally::text AS tally, m.tally_digest, m.tally_state, m.tally_verified,
        m.outcome_statement, m.outcome_html, m.outcome_account_id, m.outcome_at, m.review_at, m.created_at, m.updated_at,
        m.text_version, m.outcome_uri, m.reviewed_at
        """;

    public const string ById = $"SELECT {Columns} FROM motions m WHERE m.id = @id";
    public const string ByUri = $"SELECT {Columns} FROM motions m WHERE m.uri = @uri";

    // A draft is seen only by its author; everything else by any member (motions are the co-op's business).
    public const string Page = $"""
        SELECT {Columns} FROM motions m
        WHERE (m.state <> 'draft' OR m.author_account_id = @viewer)
          AND (@state::text IS NULL OR m.state = @state)
          AND (@maxId::bigint IS NULL OR m.id < @maxId)
          AND (@minId::bigint IS NULL OR m.id > @minId)
        ORDER BY CASE WHEN @minId::bigint IS NULL THEN m.id END DESC, m.id ASC
        LIMIT @limit
        """;

    public const string Insert = """
        INSERT INTO motions (id, uri, local, author_account_id, title, body_source, body_html, method, options, threshold, quorum,
            coop_quorum, counting_mode, score_min, score_max, secret_ballot, results_before_close, allied_actors, state, discussion_ends_at,
            voting_ends_at, remind_before, created_at, updated_at)
        VALUES (@id, @uri, true, @author, @title, @bodySource, @bodyHtml, @method, @options, @threshold, @quorum,
            @coopQuorum, @countingMode, @scoreMin, @scoreMax, @secretBallot, @resultsBeforeClose, @alliedActors, 'draft', @discussionEndsAt,
            @votingEndsAt, @remindBefore, @now, @now)
        """;

    public const string StanceColumns = """
        s.id, s.motion_id, s.voter_account_id, s.uri, s.coop, s.choices, s.scores::text AS scores, s.abstain, s.reason, s.receipt,
        s.proof_value, s.poll_vote, s.published, s.received_at, s.current, s.text_version, a.uri AS voter_uri,
        CASE WHEN a.domain IS NULL THEN a.username ELSE a.username || '@' || a.domain END AS voter_acct
        """;

    public const string CurrentStances = $"""
        SELECT {StanceColumns} FROM motion_stances s JOIN accounts a ON a.id = s.voter_account_id
        WHERE s.motion_id = @id AND s.current ORDER BY s.id
        """;

    public const string StanceHistory = $"""
        SELECT {StanceColumns} FROM motion_stances s JOIN accounts a ON a.id = s.voter_account_id
        WHERE s.motion_id = @id AND s.voter_account_id = @voter ORDER BY s.id DESC
        """;

    public const string RetireStance = "UPDATE motion_stances SET current = false WHERE motion_id = @motionId AND voter_account_id = @voter AND current";

    public const string InsertStance = """
        INSERT INTO motion_stances (id, motion_id, voter_account_id, uri, coop, choices, scores, abstain, reason, receipt, proof_value,
            document, poll_vote, published, received_at, current, text_version)
        VALUES (fellows_id(@now), @motionId, @voter, @uri, @coop, @choices, @scores::jsonb, @abstain, @reason, @receipt, @proofValue,
            @document::jsonb, @pollVote, @published, @now, true, (SELECT text_version FROM motions WHERE id = @motionId))
        ON CONFLICT (uri) DO NOTHING
        RETURNING id
        """;

    /// <summary>Members of this instance who may decide: approved, active people.</summary>
    public const string LocalElectorate = """
        SELECT a.id, a.uri FROM accounts a JOIN users u ON u.account_id = a.id
        WHERE a.domain IS NULL AND a.actor_type = 'Person' AND u.approved AND u.disabled_at IS NULL
          AND a.deleted_at IS NULL AND a.suspended_at IS NULL
        ORDER BY a.id
        """;

    public const string RemoteVoters = """
        SELECT DISTINCT a.uri FROM motion_stances s JOIN accounts a ON a.id = s.voter_account_id
        WHERE s.motion_id = @id AND a.domain IS NOT NULL
        """;

    public const string IsEligibleLocal = """
        SELECT EXISTS (SELECT 1 FROM accounts a JOIN users u ON u.account_id = a.id
        WHERE a.id = @id AND a.domain IS NULL AND a.actor_type = 'Person' AND u.approved AND u.disabled_at IS NULL
          AND a.deleted_at IS NULL AND a.suspended_at IS NULL)
        """;

    public const string InsertRejection = """
        INSERT INTO motion_rejections (motion_id, stance_uri, voter_uri, reason, detail, created_at)
        VALUES (@motionId, @stanceUri, @voterUri, @reason, @detail, @now)
        """;

    public const string Commitments = $"""
        SELECT {CommitmentColumns} FROM motion_commitments c JOIN accounts a ON a.id = c.account_id
        WHERE c.motion_id = @id ORDER BY c.id
        """;

    public const string CommitmentColumns = """
        c.id, c.motion_id, c.account_id, c.uri, c.what, c.for_whom, c.due_at, c.fulfilled_at, c.created_at, c.local, c.updated_at,
            CASE WHEN a.domain IS NULL THEN a.username ELSE a.username || '@' || a.domain END AS acct, a.uri AS account_uri
        """;
}
