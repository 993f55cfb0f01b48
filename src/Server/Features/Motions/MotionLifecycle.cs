using Dapper;
using Fellows.Federation.Deliberation;
using Fellows.Server.Common;
using Fellows.Server.Configuration;
using Fellows.Server.Features.Accounts;
using Fellows.Server.Features.Notifications;
using Fellows.Server.Features.Statuses;
using Npgsql;

namespace Fellows.Server.Features.Motions;

public static class MotionLifecycleQueries
{
    public const string InsertFirstVersion = """
        INSERT INTO motion_versions (motion_id, version, title, body_source, body_html, created_at)
        SELECT id, text_version, title, body_source, body_html, created_at FROM motions WHERE id = @id
        ON CONFLICT DO NOTHING
        """;

    public const string AmendmentColumns = """
        am.id, am.motion_id, am.uri, am.author_account_id, am.title, am.body_source, am.reason_html, am.state, am.text_version,
        am.decided_at, am.created_at, a.uri AS author_uri,
        CASE WHEN a.domain IS NULL THEN a.username ELSE a.username || '@' || a.domain END AS author_acct
        """;

    public const string Amendments = $"""
        SELECT {AmendmentColumns} FROM motion_amendments am JOIN accounts a ON a.id = am.author_account_id
        WHERE am.motion_id = @motionId ORDER BY am.id
        """;

    public const string AmendmentById = $"""
        SELECT {AmendmentColumns} FROM motion_amendments am JOIN accounts a ON a.id = am.author_account_id
        WHERE am.id = @amendmentId AND am.motion_id = @motionId
        """;

    public const string AmendmentByUri = $"""
        SELECT {AmendmentColumns} FROM motion_amendments am JOIN accounts a ON a.id = am.author_account_id WHERE am.uri = @uri
        """;

    public const string InsertAmendment = """
        INSERT INTO motion_amendments (id, motion_id, uri, author_account_id, title, body_source, reason_html, state, created_at)
        VALUES (@id, @motionId, @uri, @author, @title, @bodySource, @reasonHtml, 'proposed', @now)
        ON CONFLICT (uri) DO NOTHING
        """;

    public const string Versions = """
        SELECT motion_id, version, title, body_source, body_html, amendment_id, created_at
        FROM motion_versions WHERE motion_id = @motionId ORDER BY version DESC
        """;

    public const string SystemAccount = "SELECT id FROM accounts WHERE uri = @uri";

    public const string PutToVote = "UPDATE motion_amendments SET state = 'voting' WHERE id = @amendmentId AND state = 'proposed'";

    /// <summary>
    /// A member's position on an amendment; a later one (by when it was taken, so positions from another server
    /// that arrive out of order still leave the latest) replaces it.
    /// </summary>
    public const string UpsertPosition = """
        INSERT INTO motion_amendment_positions (amendment_id, account_id, position, reason, created_at)
        VALUES (@amendmentId, @accountId, @position, @reason, @now)
        ON CONFLICT (amendment_id, account_id) DO UPDATE SET position = excluded.position, reason = excluded.reason, created_at = excluded.created_at
        WHERE excluded.created_at >= motion_amendment_positions.created_at
        """;

    public const string CommitmentById = $"""
        SELECT {MotionQueries.CommitmentColumns} FROM motion_commitments c JOIN accounts a ON a.id = c.account_id WHERE c.id = @commitmentId
        """;

    public const string CommitmentsOf = $"""
        SELECT {MotionQueries.CommitmentColumns} FROM motion_commitments c JOIN accounts a ON a.id = c.account_id
        WHERE c.account_id = @accountId ORDER BY c.id DESC LIMIT @limit
        """;

    public const string CommitmentCounts = """
        SELECT count(*) FILTER (WHERE fulfilled_at IS NOT NULL) AS kept,
               count(*) FILTER (WHERE fulfilled_at IS NULL) AS open,
               count(*) FILTER (WHERE fulfilled_at IS NULL AND due_at <= @now) AS overdue
        FROM motion_commitments WHERE account_id = @accountId
        """;
}

/// <summary>
/// The rest of a motion's life on this instance: amendments to its text (the author decides, or a facilitator
/// puts it to a consent sub-decision), the history of the text, outcome reviews and overdue commitments.
/// Every state change and the activity that federates it commit in one transaction.
/// </summary>
public sealed class MotionLifecycle(
    NpgsqlDataSource db, InstanceUrls urls, TimeProvider clock, MotionPublisher publisher,
    MotionService motions, ILogger<MotionLifecycle> logger)
{
    public static readonly IReadOnlyList<string> Positions = [ConsentPositions.Agree, ConsentPositions.Abstain, ConsentPositions.Disagree, ConsentPositions.Block];

    // ---- Amendments ----

    /// <summary>An eligible member proposes new text (title, body or both) with a reason, while the motion is open.</summary>
    public async Task<Result<AmendmentRow>> ProposeAsync(long accountId, long motionId, string? title, string? body, string reason, CancellationToken ct)
    {
        reason = reason.Trim();
        if (reason.Length == 0) return Error.Validation("Validation failed: say why (reason) the text should change");
        if (reason.Length > MotionService.MaxReason) return Error.Validation($"Validation failed: the reason is longer than {MotionService.MaxReason} characters");
        if (title is { } t && t.Trim().Length > MotionService.MaxTitle) return Error.Validation($"Validation failed: Title is longer than {MotionService.MaxTitle} characters");
        if (body is { Length: > MotionService.MaxBody }) return Error.Validation($"Validation failed: Body is longer than {MotionService.MaxBody} characters");
        await using var conn = await db.OpenConnectionAsync(ct);
        await using var tx = await conn.BeginTransactionAsync(ct);
        var motion = await MotionService.LoadAsync(conn, tx, motionId, ct);
        if (motion is null || motion.Phase == MotionPhase.Draft) return Error.NotFound();
        var now = clock.GetUtcNow();
        if (!IsOpen(motion, now)) return Error.Validation("Validation failed: amendments are proposed while the motion is in discussion or voting");
        if (!await conn.ExecuteScalarAsync<bool>(new CommandDefinition(MotionQueries.IsEligibleLocal, new { id = accountId }, tx, cancellationToken: ct)))
            return Error.Forbidden("You are not eligible to amend this motion");
        var newTitle = title?.Trim() is { Length: > 0 } nt ? nt : motion.Title;
        var newBody = body?.Trim() ?? motion.BodySource;
        if (newTitle == motion.Title && newBody == motion.BodySource) return Error.Validation("Validation failed: the amendment does not change the text");

        var member = await conn.AccountByIdAsync(accountId, tx, ct);
        var id = await conn.ExecuteScalarAsync<long>(new CommandDefinition(StatusQueries.NextId, new { at = now }, tx, cancellationToken: ct));
        await conn.ExecuteAsync(new CommandDefinition(MotionLifecycleQueries.InsertAmendment, new
        {
            id, motionId, uri = $"{urls.Actor(member.Username)}/amendments/{id}", author = accountId, title = newTitle, bodySource = newBody,
            reasonHtml = MotionText.ToHtml(reason), now,
        }, tx, cancellationToken: ct));
        var amendment = await AmendmentAsync(conn, tx, motionId, id, ct);
        var motionAuthor = await conn.AccountByIdAsync(motion.AuthorAccountId, tx, ct);
        await publisher.AmendmentAsync(conn, tx, member, motionAuthor, motion, amendment!, await RemoteVotersAsync(conn, tx, motion, ct), ct);
        await tx.CommitAsync(ct);
        return amendment!;
    }

    /// <summary>Open for amendments and positions: in discussion or voting, before the voting deadline.</summary>
    internal static bool IsOpen(MotionRow motion, DateTimeOffset now) =>
        motion.Phase is MotionPhase.Discussion or MotionPhase.Voting && now < motion.VotingEndsAt;

    static async Task<AmendmentRow?> AmendmentAsync(NpgsqlConnection conn, NpgsqlTransaction? tx, long motionId, long amendmentId, CancellationToken ct) =>
        await conn.QuerySingleOrDefaultAsync<AmendmentRow>(new CommandDefinition(MotionLifecycleQueries.AmendmentById, new { motionId, amendmentId }, tx, cancellationToken: ct));

    static async Task<IReadOnlyList<string>> RemoteVotersAsync(NpgsqlConnection conn, NpgsqlTransaction? tx, MotionRow motion, CancellationToken ct) =>
        motion.Local ? await MotionService.RemoteVotersAsync(conn, tx, motion.Id, ct) : [];

    public async Task<Result<IReadOnlyList<AmendmentRow>>> AmendmentsAsync(long viewer, long motionId, CancellationToken ct)
    {
        if (await motions.FindAsync(motionId, viewer, ct) is null) return Error.NotFound();
        await using var conn = await db.OpenConnectionAsync(ct);
        return (await conn.QueryAsync<AmendmentRow>(new CommandDefinition(MotionLifecycleQueries.Amendments, new { motionId }, cancellationToken: ct))).ToList();
    }

    public async Task<AmendmentDecision> PositionsAsync(long amendmentId, CancellationToken ct)
    {
        await using var conn = await db.OpenConnectionAsync(ct);
        return await CountPositionsAsync(conn, null, amendmentId, ct);
    }

    /// <summary>
    /// The consent sub-decision's rule: it passes when nobody blocks and more agree than disagree (abstentions
    /// are not counted; at least one member must agree).
    /// </summary>
    static async Task<AmendmentDecision> CountPositionsAsync(NpgsqlConnection conn, NpgsqlTransaction? tx, long amendmentId, CancellationToken ct)
    {
        var counts = (await conn.QueryAsync<(string Position, int Count)>(new CommandDefinition(
            "SELECT position, count(*)::int FROM motion_amendment_positions WHERE amendment_id = @amendmentId GROUP BY position",
            new { amendmentId }, tx, cancellationToken: ct))).ToDictionary(r => r.Position, r => r.Count, StringComparer.Ordinal);
        int Of(string p) => counts.GetValueOrDefault(p);
        var agree = Of(ConsentPositions.Agree);
        var disagree = Of(ConsentPositions.Disagree);
        var block = Of(ConsentPositions.Block);
        return new AmendmentDecision(agree, Of(ConsentPositions.Abstain), disagree, block, block == 0 && agree > disagree);
    }

    /// <summary>The author (or an admin) takes an amendment into the text or declines it.</summary>
    public async Task<Result<AmendmentRow>> DecideAsync(long accountId, long motionId, long amendmentId, bool accept, CancellationToken ct)
    {
        await using var conn = await db.OpenConnectionAsync(ct);
        await using var tx = await conn.BeginTransactionAsync(ct);
        var (motion, amendment, problem) = await FacilitatedAsync(conn, tx, accountId, motionId, amendmentId, ct);
        if (problem is not null) return problem;
        if (amendment!.AmendmentState is not (AmendmentState.Proposed or AmendmentState.Voting))
            return Error.Validation($"Validation failed: this amendment is already {amendment.State}");
        amendment = accept ? await ApplyAsync(conn, tx, motion!, amendment, ct) : await DeclineAsync(conn, tx, motion!, amendment, ct);
        await tx.CommitAsync(ct);
        return amendment;
    }

    /// <summary>A facilitator puts an amendment to the members (consent) instead of deciding it alone.</summary>
    public async Task<Result<AmendmentRow>> PutToVoteAsync(long accountId, long motionId, long amendmentId, CancellationToken ct)
    {
        await using var conn = await db.OpenConnectionAsync(ct);
        await using var tx = await conn.BeginTransactionAsync(ct);
        var (motion, amendment, problem) = await FacilitatedAsync(conn, tx, accountId, motionId, amendmentId, ct);
        if (problem is not null) return problem;
        if (amendment!.AmendmentState != AmendmentState.Proposed) return Error.Validation($"Validation failed: this amendment is already {amendment.State}");
        await conn.ExecuteAsync(new CommandDefinition(MotionLifecycleQueries.PutToVote, new { amendmentId }, tx, cancellationToken: ct));
        amendment = await AmendmentAsync(conn, tx, motionId, amendmentId, ct);
        // Members of the allied co-ops take part too: their servers learn that positions are open.
        await publisher.AmendmentPutToVoteAsync(conn, tx, await conn.AccountByIdAsync(motion!.AuthorAccountId, tx, ct), motion, amendment!,
            await RemoteVotersAsync(conn, tx, motion, ct), ct);
        await tx.CommitAsync(ct);
        return amendment!;
    }

    /// <summary>
    /// An eligible member's position on an amendment put to consent; changeable until it is resolved. On another
    /// instance's motion it is kept here too (the member's own view; the counts are those known here) and sent to the
    /// motion's home instance, which counts every co-op's positions and decides.
    /// </summary>
    public async Task<Result<AmendmentDecision>> TakePositionAsync(long accountId, long motionId, long amendmentId, string position, string? reason, CancellationToken ct)
    {
        if (!Positions.Contains(position)) return Error.Validation("Validation failed: position must be one of agree, abstain, disagree, block");
        reason = reason?.Trim();
        if (position == ConsentPositions.Block && string.IsNullOrEmpty(reason)) return Error.Validation("Validation failed: a block needs a reason");
        if (reason is { Length: > MotionService.MaxReason }) return Error.Validation($"Validation failed: the reason is longer than {MotionService.MaxReason} characters");
        await using var conn = await db.OpenConnectionAsync(ct);
        await using var tx = await conn.BeginTransactionAsync(ct);
        var motion = await MotionService.LoadAsync(conn, tx, motionId, ct);
        if (motion is null || motion.Phase == MotionPhase.Draft) return Error.NotFound();
        var amendment = await AmendmentAsync(conn, tx, motionId, amendmentId, ct);
        if (amendment is null) return Error.NotFound();
        if (amendment.AmendmentState != AmendmentState.Voting) return Error.Validation("Validation failed: this amendment has not been put to the members");
        if (!IsOpen(motion, clock.GetUtcNow())) return Error.Validation("Validation failed: the motion is no longer open");
        if (!await conn.ExecuteScalarAsync<bool>(new CommandDefinition(MotionQueries.IsEligibleLocal, new { id = accountId }, tx, cancellationToken: ct)))
            return Error.Forbidden("You are not eligible to take a position on this amendment");
        var reasonHtml = reason is { Length: > 0 } r ? MotionText.ToHtml(r) : null;
        var now = clock.GetUtcNow();
        await conn.ExecuteAsync(new CommandDefinition(MotionLifecycleQueries.UpsertPosition, new { amendmentId, accountId, position, reason = reasonHtml, now },
            tx, cancellationToken: ct));
        if (!motion.Local)
            await publisher.AmendmentPositionAsync(conn, tx, await conn.AccountByIdAsync(accountId, tx, ct), await conn.AccountByIdAsync(motion.AuthorAccountId, tx, ct),
                amendment, position, reasonHtml, now, ct);
        var counts = await CountPositionsAsync(conn, tx, amendmentId, ct);
        await tx.CommitAsync(ct);
        return counts;
    }

    /// <summary>A facilitator closes an amendment's consent: accepted into the text when it passes, declined otherwise.</summary>
    public async Task<Result<(AmendmentRow Amendment, AmendmentDecision Decision)>> ResolveAsync(long accountId, long motionId, long amendmentId, CancellationToken ct)
    {
        await using var conn = await db.OpenConnectionAsync(ct);
        await using var tx = await conn.BeginTransactionAsync(ct);
        var (motion, amendment, problem) = await FacilitatedAsync(conn, tx, accountId, motionId, amendmentId, ct);
        if (problem is not null) return problem;
        if (amendment!.AmendmentState != AmendmentState.Voting) return Error.Validation("Validation failed: this amendment has not been put to the members");
        var decision = await CountPositionsAsync(conn, tx, amendmentId, ct);
        amendment = decision.Passed ? await ApplyAsync(conn, tx, motion!, amendment, ct) : await DeclineAsync(conn, tx, motion!, amendment, ct);
        await tx.CommitAsync(ct);
        return (amendment, decision);
    }

    async Task<(MotionRow? Motion, AmendmentRow? Amendment, Error? Problem)> FacilitatedAsync(NpgsqlConnection conn, NpgsqlTransaction tx, long accountId,
        long motionId, long amendmentId, CancellationToken ct)
    {
        var motion = await MotionService.LoadAsync(conn, tx, motionId, ct, forUpdate: true);
        if (motion is null || motion.Phase == MotionPhase.Draft) return (null, null, Error.NotFound());
        var amendment = await AmendmentAsync(conn, tx, motionId, amendmentId, ct);
        if (amendment is null) return (null, null, Error.NotFound("Amendment not found"));
        if (!motion.Local) return (null, null, Error.Validation("Validation failed: amendments are decided on the motion's home instance"));
        if (!await motions.IsFacilitatorAsync(accountId, motion, ct)) return (null, null, Error.Forbidden("Only the motion's author or an admin decides amendments"));
        if (!IsOpen(motion, clock.GetUtcNow())) return (null, null, Error.Validation("Validation failed: the motion is no longer open, so its text is final"));
        return (motion, amendment, null);
    }

    /// <summary>
    /// Takes an amendment into the text: a new version (the old one kept), the motion's post edited as Mastodon
    /// edits are (its earlier content kept in the post's history), an Update of the Question to everyone who has
    /// the motion, the Accept to the amendment's author, and members whose stance is on an earlier text told to
    /// reconfirm it. Their stances stay counted: an amendment must not silently erase positions.
    /// </summary>
    async Task<AmendmentRow> ApplyAsync(NpgsqlConnection conn, NpgsqlTransaction tx, MotionRow motion, AmendmentRow amendment, CancellationToken ct)
    {
        var now = clock.GetUtcNow();
        var version = motion.TextVersion + 1;
        var html = MotionText.ToHtml(amendment.BodySource);
        await conn.ExecuteAsync(new CommandDefinition("""
            UPDATE motions SET title = @title, body_source = @body, body_html = @html, text_version = @version, updated_at = @now WHERE id = @id;
            INSERT INTO motion_versions (motion_id, version, title, body_source, body_html, amendment_id, created_at)
            VALUES (@id, @version, @title, @body, @html, @amendmentId, @now);
            UPDATE motion_amendments SET state = 'accepted', text_version = @version, decided_at = @now WHERE id = @amendmentId;
            """, new { id = motion.Id, title = amendment.Title, body = amendment.BodySource, html, version, now, amendmentId = amendment.Id },
            tx, cancellationToken: ct));
        var updated = (await MotionService.LoadAsync(conn, tx, motion.Id, ct))!;
        if (motion.StatusId is { } statusId
            && await conn.QuerySingleOrDefaultAsync<Status>(new CommandDefinition(StatusQueries.ById + " FOR UPDATE", new { id = statusId }, tx, cancellationToken: ct)) is { } status)
        {
            await StatusEdits.KeepVersionAsync(conn, tx, status, [], ct);
            await conn.ExecuteAsync(new CommandDefinition(
                "UPDATE statuses SET content = @content, source_text = @source, edited_at = @now WHERE id = @statusId",
                new { statusId, content = MotionDocuments.ContentHtml(updated), source = updated.BodySource, now }, tx, cancellationToken: ct));
        }
        var author = await conn.AccountByIdAsync(motion.AuthorAccountId, tx, ct);
        var remoteVoters = await RemoteVotersAsync(conn, tx, motion, ct);
        var running = updated.ResultsBeforeClose && updated.Phase == MotionPhase.Voting ? await motions.CountAsync(conn, tx, updated, ct) : null;
        await publisher.MotionChangedAsync(conn, tx, author, updated, running, created: false, voters: remoteVoters, ct);
        var accepted = (await AmendmentAsync(conn, tx, motion.Id, amendment.Id, ct))!;
        await publisher.AmendmentDecisionAsync(conn, tx, author, updated, accepted, accepted: true, remoteVoters, ct);
        await NotifyStaleStancesAsync(conn, tx, updated, author.Id, ct);
        if (logger.IsEnabled(LogLevel.Information)) logger.LogInformation("Motion {Id} amended to version {Version}", motion.Id, version);
        return accepted;
    }

    async Task<AmendmentRow> DeclineAsync(NpgsqlConnection conn, NpgsqlTransaction tx, MotionRow motion, AmendmentRow amendment, CancellationToken ct)
    {
        await conn.ExecuteAsync(new CommandDefinition("UPDATE motion_amendments SET state = 'declined', decided_at = @now WHERE id = @id",
            new { id = amendment.Id, now = clock.GetUtcNow() }, tx, cancellationToken: ct));
        var declined = (await AmendmentAsync(conn, tx, motion.Id, amendment.Id, ct))!;
        var author = await conn.AccountByIdAsync(motion.AuthorAccountId, tx, ct);
        await publisher.AmendmentDecisionAsync(conn, tx, author, motion, declined, accepted: false, await RemoteVotersAsync(conn, tx, motion, ct), ct);
        return declined;
    }

    /// <summary>
    /// Members of this instance whose current stance was taken on an earlier text are told the text changed, as
    /// Mastodon tells those who interacted with an edited post (shown to apps as <c>update</c>). The notification is
    /// renewed for each accepted amendment.
    /// </summary>
    internal async Task NotifyStaleStancesAsync(NpgsqlConnection conn, NpgsqlTransaction tx, MotionRow motion, long fromAccountId, CancellationToken ct)
    {
        if (motion.StatusId is not { } statusId) return;
        var stale = (await conn.QueryAsync<long>(new CommandDefinition("""
            SELECT s.voter_account_id FROM motion_stances s JOIN accounts a ON a.id = s.voter_account_id
            WHERE s.motion_id = @id AND s.current AND s.text_version < @version AND a.domain IS NULL
            """, new { id = motion.Id, version = motion.TextVersion }, tx, cancellationToken: ct))).ToList();
        if (stale.Count == 0) return;
        await conn.ExecuteAsync(new CommandDefinition(
            "DELETE FROM notifications WHERE account_id = ANY(@stale) AND type = @type AND status_id = @statusId",
            new { stale = stale.ToArray(), type = FellowsNotifications.MotionAmended, statusId }, tx, cancellationToken: ct));
        await conn.NotifyManyAsync(tx, stale, fromAccountId, FellowsNotifications.MotionAmended, statusId, clock.GetUtcNow(), ct);
    }

    public async Task<Result<IReadOnlyList<MotionVersionRow>>> VersionsAsync(long viewer, long motionId, CancellationToken ct)
    {
        if (await motions.FindAsync(motionId, viewer, ct) is null) return Error.NotFound();
        await using var conn = await db.OpenConnectionAsync(ct);
        return (await conn.QueryAsync<MotionVersionRow>(new CommandDefinition(MotionLifecycleQueries.Versions, new { motionId }, cancellationToken: ct))).ToList();
    }

    // ---- Follow-ups: outcome reviews and overdue commitments ----

    /// <summary>
    /// At the outcome's review date, the members here who are concerned are asked whether it still stands: for a
    /// motion of ours the whole electorate of this instance, for an ally's motion the members here who took a stance
    /// or made a commitment on it. Once per outcome; firing early does nothing.
    /// </summary>
    public async Task ReviewAsync(long motionId, CancellationToken ct)
    {
        await using var conn = await db.OpenConnectionAsync(ct);
        await using var tx = await conn.BeginTransactionAsync(ct);
        var motion = await MotionService.LoadAsync(conn, tx, motionId, ct, forUpdate: true);
        var now = clock.GetUtcNow();
        if (motion is null || motion.ReviewAt is not { } reviewAt || reviewAt > now || motion.ReviewedAt is not null || motion.OutcomeStatement is null) return;
        var recipients = motion.Local
            ? (await conn.QueryAsync<long>(new CommandDefinition($"SELECT e.id FROM ({MotionQueries.LocalElectorate}) e", transaction: tx, cancellationToken: ct))).ToList()
            : (await conn.QueryAsync<long>(new CommandDefinition("""
                SELECT s.voter_account_id FROM motion_stances s JOIN accounts a ON a.id = s.voter_account_id WHERE s.motion_id = @motionId AND a.domain IS NULL
                UNION SELECT c.account_id FROM motion_commitments c WHERE c.motion_id = @motionId AND c.local
                """, new { motionId }, tx, cancellationToken: ct))).ToList();
        if (motion.StatusId is { } statusId)
            await conn.NotifyManyAsync(tx, recipients, await SystemAccountAsync(conn, tx, ct), FellowsNotifications.OutcomeReview, statusId, now, ct);
        await conn.ExecuteAsync(new CommandDefinition("UPDATE motions SET reviewed_at = @now WHERE id = @motionId", new { motionId, now }, tx, cancellationToken: ct));
        await tx.CommitAsync(ct);
        if (logger.IsEnabled(LogLevel.Information)) logger.LogInformation("Asked {Count} members to review the outcome of motion {Id}", recipients.Count, motionId);
    }

    /// <summary>A member's commitment passed its due date unfulfilled: they are reminded once.</summary>
    public async Task CommitmentDueAsync(long commitmentId, CancellationToken ct)
    {
        await using var conn = await db.OpenConnectionAsync(ct);
        await using var tx = await conn.BeginTransactionAsync(ct);
        var now = clock.GetUtcNow();
        var due = await conn.QuerySingleOrDefaultAsync<(long AccountId, long? StatusId)?>(new CommandDefinition("""
            UPDATE motion_commitments c SET reminded_at = @now FROM motions m
            WHERE c.id = @commitmentId AND m.id = c.motion_id AND c.local AND c.fulfilled_at IS NULL AND c.reminded_at IS NULL AND c.due_at <= @now
            RETURNING c.account_id, m.status_id
            """, new { commitmentId, now }, tx, cancellationToken: ct));
        if (due is not { } d) return;
        if (d.StatusId is { } statusId)
            await conn.NotifyAsync(tx, d.AccountId, await SystemAccountAsync(conn, tx, ct), FellowsNotifications.CommitmentDue, statusId, now, ct);
        await tx.CommitAsync(ct);
    }

    /// <summary>The sweep's safety net: reviews and overdue commitments whose trigger never fired.</summary>
    public async Task SweepAsync(CancellationToken ct)
    {
        List<long> reviews, commitments;
        await using (var conn = await db.OpenConnectionAsync(ct))
        {
            var now = clock.GetUtcNow();
            reviews = (await conn.QueryAsync<long>(new CommandDefinition(
                "SELECT id FROM motions WHERE review_at <= @now AND reviewed_at IS NULL AND outcome_statement IS NOT NULL ORDER BY review_at LIMIT 100",
                new { now }, cancellationToken: ct))).ToList();
            commitments = (await conn.QueryAsync<long>(new CommandDefinition(
                "SELECT id FROM motion_commitments WHERE local AND fulfilled_at IS NULL AND reminded_at IS NULL AND due_at <= @now ORDER BY due_at LIMIT 100",
                new { now }, cancellationToken: ct))).ToList();
        }
        foreach (var id in reviews) await ReviewAsync(id, ct);
        foreach (var id in commitments) await CommitmentDueAsync(id, ct);
    }

    /// <summary>System notifications (reminders, reviews) come from the instance actor: the co-op asking.</summary>
    internal async Task<long> SystemAccountAsync(NpgsqlConnection conn, NpgsqlTransaction? tx, CancellationToken ct) =>
        await conn.ExecuteScalarAsync<long>(new CommandDefinition(MotionLifecycleQueries.SystemAccount, new { uri = urls.InstanceActor }, tx, cancellationToken: ct));

    // ---- A member's record ----

    /// <summary>Commitments kept, open and overdue, and the latest ones: what a profile shows instead of follower counts.</summary>
    public async Task<(int Kept, int Open, int Overdue, IReadOnlyList<CommitmentRow> Latest)> RecordAsync(long accountId, CancellationToken ct)
    {
        await using var conn = await db.OpenConnectionAsync(ct);
        var now = clock.GetUtcNow();
        var counts = await conn.QuerySingleAsync<(long Kept, long Open, long Overdue)>(new CommandDefinition(
            MotionLifecycleQueries.CommitmentCounts, new { accountId, now }, cancellationToken: ct));
        var latest = (await conn.QueryAsync<CommitmentRow>(new CommandDefinition(MotionLifecycleQueries.CommitmentsOf,
            new { accountId, limit = 40 }, cancellationToken: ct))).ToList();
        return ((int)counts.Kept, (int)counts.Open, (int)counts.Overdue, latest);
    }

    public async Task<int> CommitmentsKeptAsync(long accountId, CancellationToken ct)
    {
        await using var conn = await db.OpenConnectionAsync(ct);
        return await conn.ExecuteScalarAsync<int>(new CommandDefinition(
            "SELECT count(*)::int FROM motion_commitments WHERE account_id = @accountId AND fulfilled_at IS NOT NULL", new { accountId }, cancellationToken: ct));
    }
}
