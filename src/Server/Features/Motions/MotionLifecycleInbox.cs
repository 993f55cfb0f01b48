using System.Text.Json;
using Dapper;
using Fellows.Federation.Deliberation;
using Fellows.Federation.Html;
using Fellows.Federation.Json;
using Fellows.Federation.Signatures;
using Fellows.Server.Features.Accounts;
using Fellows.Server.Features.Federation;
using Npgsql;

namespace Fellows.Server.Features.Motions;

/// <summary>
/// Amendments, positions on them, outcomes and commitments arriving from other instances, and the home instance's
/// Accept or Reject of an amendment. Each is taken only from whom it may come: an amendment or commitment from a
/// member of a co-op in the motion's electorate (same origin as one of its actors), about a motion this instance
/// knows; a position on an amendment of our own motion from such a member whose co-op vouches for them (otherwise a
/// Reject with the reason); an outcome, an amendment's decision or its being put to a vote only from the motion's
/// own server. What does not fit is ignored and never stored.
/// </summary>
public sealed class MotionLifecycleInbox(NpgsqlDataSource db, TimeProvider clock, MotionFollowUpScheduler followUps, MotionPublisher publisher,
    Groups.CoopVouching vouching, ILogger<MotionLifecycleInbox> logger)
{
    /// <summary>True when <paramref name="obj"/> is an amendment, outcome or commitment (handled here, whatever became of it).</summary>
    public async Task<bool> TryReceiveAsync(Account actor, JsonElement obj, CancellationToken ct)
    {
        if (obj.ValueKind != JsonValueKind.Object) return false;
        var types = obj.GetTypes().ToList();
        bool Is(string term) => types.Any(t => t == term || t == "fellows:" + term || t == DeliberationVocabulary.Namespace + term);
        if (Is("AmendmentPosition"))
        {
            await ReceivePositionAsync(actor, obj, ct);
            return true;
        }
        if (Is("Amendment"))
        {
            await ReceiveAmendmentAsync(actor, obj, ct);
            return true;
        }
        if (Is("Outcome"))
        {
            await ReceiveOutcomeAsync(actor, obj, ct);
            return true;
        }
        if (types.Any(t => t is "Commitment" or DeliberationVocabulary.CommitmentType || t == DeliberationVocabulary.ValueFlowsNamespace + "Commitment"))
        {
            await ReceiveCommitmentAsync(actor, obj, ct);
            return true;
        }
        return false;
    }

    static async Task<MotionRow?> MotionByUriAsync(NpgsqlConnection conn, string? uri, CancellationToken ct) =>
        uri is null ? null : await conn.QuerySingleOrDefaultAsync<MotionRow>(new CommandDefinition(MotionQueries.ByUri, new { uri }, cancellationToken: ct));

    /// <summary>A member of a co-op in the electorate (or, for a mirror, of the home instance).</summary>
    static bool MayTakePart(MotionRow motion, Account actor) =>
        motion.AllyOf(actor.Uri) is not null || (!motion.Local && RemoteActors.SameOrigin(motion.Uri, actor.Uri));

    void Ignore(string what, string id, string why)
    {
        if (logger.IsEnabled(LogLevel.Information)) logger.LogInformation("Ignored {What} {Id}: {Why}", what, id, why);
    }

    async Task ReceiveAmendmentAsync(Account actor, JsonElement json, CancellationToken ct)
    {
        if (!DeliberationReader.TryReadAmendment(json, out var amendment, out var error)) { Ignore("amendment", "?", error); return; }
        if (amendment.State == AmendmentState.Voting && amendment.AttributedTo != actor.Uri)
        {
            await ReceivePutToVoteAsync(actor, amendment, ct);
            return;
        }
        if (amendment.AttributedTo != actor.Uri || !RemoteActors.SameOrigin(amendment.Id, actor.Uri)) { Ignore("amendment", amendment.Id, "not the sender's own"); return; }
        await using var conn = await db.OpenConnectionAsync(ct);
        var motion = await MotionByUriAsync(conn, amendment.Amends, ct);
        if (motion is null) { Ignore("amendment", amendment.Id, "of a motion unknown here"); return; }
        if (!MayTakePart(motion, actor)) { Ignore("amendment", amendment.Id, "its author's co-op is not in the electorate"); return; }
        var now = clock.GetUtcNow();
        if (motion.Phase is not (MotionPhase.Discussion or MotionPhase.Voting) || (motion.Local && now >= motion.VotingEndsAt))
        {
            Ignore("amendment", amendment.Id, "the motion is not open");
            return;
        }
        var title = RemoteHtml.ToPlainText(amendment.ProposedName ?? "").Trim();
        var body = amendment.ProposedText ?? "";
        if (body.Length > MotionService.MaxBody) { Ignore("amendment", amendment.Id, "too long"); return; }
        await conn.ExecuteAsync(new CommandDefinition("""
            INSERT INTO motion_amendments (id, motion_id, uri, author_account_id, title, body_source, reason_html, state, created_at)
            VALUES (fellows_id(@now), @motionId, @uri, @author, @title, @body, @reason, 'proposed', @now)
            ON CONFLICT (uri) DO NOTHING
            """, new
        {
            now, motionId = motion.Id, uri = amendment.Id, author = actor.Id,
            title = title.Length == 0 ? motion.Title : title[..Math.Min(title.Length, MotionService.MaxTitle)],
            body, reason = RemoteHtml.Sanitize(amendment.Content ?? ""),
        }, cancellationToken: ct));
    }

    /// <summary>
    /// The motion's author on its home server put an amendment we hold to the members: members here may now take
    /// positions, which go back to the home server.
    /// </summary>
    async Task ReceivePutToVoteAsync(Account actor, RemoteAmendment amendment, CancellationToken ct)
    {
        await using var conn = await db.OpenConnectionAsync(ct);
        var known = await conn.QuerySingleOrDefaultAsync<AmendmentRow>(new CommandDefinition(MotionLifecycleQueries.AmendmentByUri, new { uri = amendment.Id }, cancellationToken: ct));
        var motion = known is null ? null : await MotionService.LoadAsync(conn, null, known.MotionId, ct);
        if (motion is null || motion.Local || motion.AuthorAccountId != actor.Id || !RemoteActors.SameOrigin(motion.Uri, actor.Uri))
        {
            Ignore("amendment put to a vote", amendment.Id, "not an amendment held here of a motion from the sender's server");
            return;
        }
        await conn.ExecuteAsync(new CommandDefinition(MotionLifecycleQueries.PutToVote, new { amendmentId = known!.Id }, cancellationToken: ct));
    }

    /// <summary>
    /// A member of an allied co-op takes a position on an amendment of one of our motions put to consent. Counted
    /// (a later one replaces theirs) when their co-op is in the electorate and vouches for them, the amendment is
    /// being voted on and the motion is open; otherwise the member is sent a Reject with the reason and nothing changes.
    /// </summary>
    async Task ReceivePositionAsync(Account actor, JsonElement json, CancellationToken ct)
    {
        if (!DeliberationReader.TryReadAmendmentPosition(json, out var position, out var error)) { Ignore("amendment position", "?", error); return; }
        if (position.AttributedTo != actor.Uri || !RemoteActors.SameOrigin(position.Id, actor.Uri)) { Ignore("amendment position", position.Id, "not the sender's own"); return; }
        await using var conn = await db.OpenConnectionAsync(ct);
        var amendment = await conn.QuerySingleOrDefaultAsync<AmendmentRow>(new CommandDefinition(MotionLifecycleQueries.AmendmentByUri, new { uri = position.Amendment }, cancellationToken: ct));
        var motion = amendment is null ? null : await MotionService.LoadAsync(conn, null, amendment.MotionId, ct);
        if (motion is null || !motion.Local) { Ignore("amendment position", position.Id, "not on an amendment of a motion of ours"); return; }

        var reason = position.Content is { } html ? RemoteHtml.Sanitize(html) : null;
        var reasonText = reason is null ? "" : RemoteHtml.ToPlainText(reason).Trim();
        if (reasonText.Length == 0) reason = null;

        async Task<(RejectionReason Code, string Detail)?> RefusalAsync()
        {
            if (motion.AllyOf(actor.Uri) is not { } coop)
                return (RejectionReason.Ineligible, "You are not eligible: this amendment is decided by members of the motion's co-op and of the allied instances it names.");
            if (amendment!.AmendmentState != AmendmentState.Voting)
                return (RejectionReason.NotOpen, "This amendment is not being voted on: it was not put to the members, or it is already decided.");
            if (!MotionLifecycle.IsOpen(motion, clock.GetUtcNow())) return (RejectionReason.AfterClose, "The motion had closed when your position arrived.");
            if (position.Position == ConsentPositions.Block && reason is null) return (RejectionReason.BlockWithoutReason, "A block needs a reason.");
            if (reasonText.Length > MotionService.MaxReason) return (RejectionReason.MalformedChoice, "The reason is too long.");
            return await vouching.CheckAsync(coop, actor, ct) is { } notVouched ? (RejectionReason.Ineligible, notVouched) : null;
        }

        var refusal = await RefusalAsync();
        await using var tx = await conn.BeginTransactionAsync(ct);
        if (refusal is { } r)
        {
            if (logger.IsEnabled(LogLevel.Information)) logger.LogInformation("Rejected amendment position {Id}: {Reason}", position.Id, r.Code);
            await publisher.RejectAsync(conn, tx, await conn.AccountByIdAsync(motion.AuthorAccountId, tx, ct), motion, new Rejection(position.Id, actor.Uri, r.Code, r.Detail), ct);
        }
        else
        {
            await conn.ExecuteAsync(new CommandDefinition(MotionLifecycleQueries.UpsertPosition, new
            {
                amendmentId = amendment!.Id, accountId = actor.Id, position = position.Position, reason,
                // The member's own server orders their positions: its clock may run ahead of ours by as much as a
                // signature may be (an hour), and beyond that the time of arrival stands in. Clamping every
                // position to our "now" made two taken seconds apart equal, and the last processed won.
                now = position.Published is { } taken && taken <= clock.GetUtcNow() + SignatureVerifierOptions.Default.MaxClockSkew ? taken : clock.GetUtcNow(),
            }, tx, cancellationToken: ct));
        }
        await tx.CommitAsync(ct);
    }

    /// <summary>Accept or Reject of an amendment by the motion's author on its home server.</summary>
    public async Task<bool> TryReceiveDecisionAsync(Account actor, string? objectId, bool accepted, int? textVersion, CancellationToken ct)
    {
        if (objectId is null) return false;
        await using var conn = await db.OpenConnectionAsync(ct);
        var amendment = await conn.QuerySingleOrDefaultAsync<AmendmentRow>(new CommandDefinition(MotionLifecycleQueries.AmendmentByUri, new { uri = objectId }, cancellationToken: ct));
        if (amendment is null) return false;
        var motion = await MotionService.LoadAsync(conn, null, amendment.MotionId, ct);
        if (motion is null || motion.Local || motion.AuthorAccountId != actor.Id || !RemoteActors.SameOrigin(motion.Uri, actor.Uri)) return true;
        await conn.ExecuteAsync(new CommandDefinition("""
            UPDATE motion_amendments SET state = @state, text_version = @textVersion, decided_at = @now WHERE id = @id AND state IN ('proposed', 'voting')
            """, new { id = amendment.Id, state = accepted ? "accepted" : "declined", textVersion = accepted ? textVersion : null, now = clock.GetUtcNow() },
            cancellationToken: ct));
        return true;
    }

    async Task ReceiveOutcomeAsync(Account actor, JsonElement json, CancellationToken ct)
    {
        if (!DeliberationReader.TryReadOutcome(json, out var outcome, out var error)) { Ignore("outcome", "?", error); return; }
        await using var conn = await db.OpenConnectionAsync(ct);
        var motion = await MotionByUriAsync(conn, outcome.InReplyTo, ct);
        // Only the motion's own server states its outcome.
        if (motion is null || motion.Local || !RemoteActors.SameOrigin(motion.Uri, actor.Uri) || !RemoteActors.SameOrigin(outcome.Id, actor.Uri)
            || outcome.AttributedTo != actor.Uri)
        {
            Ignore("outcome", outcome.Id, "not from the motion's home instance");
            return;
        }
        if (outcome.Digest is { } digest && motion.TallyDigest is { } known && digest != known)
            logger.LogWarning("The outcome {Id} reports tally digest {Digest}, the motion's published tally has {Known}", outcome.Id, digest, known);
        var now = clock.GetUtcNow();
        var statement = RemoteHtml.Sanitize(outcome.Content ?? "");
        await conn.ExecuteAsync(new CommandDefinition("""
            UPDATE motions SET outcome_statement = @text, outcome_html = @html, outcome_account_id = @actor, outcome_at = @at,
                review_at = @reviewAt, reviewed_at = CASE WHEN review_at IS DISTINCT FROM @reviewAt THEN NULL ELSE reviewed_at END,
                outcome_uri = @uri, updated_at = @now
            WHERE id = @id
            """, new
        {
            id = motion.Id, text = RemoteHtml.ToPlainText(statement), html = statement, actor = actor.Id, at = outcome.Published ?? now,
            reviewAt = outcome.ReviewDate, uri = outcome.Id, now,
        }, cancellationToken: ct));
        // Members here who took part are asked at the review date too, by this instance's own clock and job.
        if (outcome.ReviewDate is { } review) await followUps.ScheduleReviewAsync(motion.Id, review, ct);
    }

    async Task ReceiveCommitmentAsync(Account actor, JsonElement json, CancellationToken ct)
    {
        if (!DeliberationReader.TryReadCommitment(json, out var commitment, out var error)) { Ignore("commitment", "?", error); return; }
        if (commitment.Provider != actor.Uri || !RemoteActors.SameOrigin(commitment.Id, actor.Uri)) { Ignore("commitment", commitment.Id, "not the sender's own"); return; }
        await using var conn = await db.OpenConnectionAsync(ct);
        MotionRow? motion = null;
        foreach (var reference in new[] { commitment.ClauseOf, json.GetId("inReplyTo") })
        {
            if (reference is null) continue;
            var uri = reference.EndsWith("#outcome", StringComparison.Ordinal) ? reference[..^"#outcome".Length] : reference;
            motion = await MotionByUriAsync(conn, uri, ct)
                ?? await conn.QuerySingleOrDefaultAsync<MotionRow>(new CommandDefinition($"SELECT {MotionQueries.Columns} FROM motions m WHERE m.outcome_uri = @reference",
                    new { reference }, cancellationToken: ct));
            if (motion is not null) break;
        }
        if (motion is null) { Ignore("commitment", commitment.Id, "to a motion unknown here"); return; }
        if (!MayTakePart(motion, actor)) { Ignore("commitment", commitment.Id, "its author's co-op is not in the electorate"); return; }
        if (motion.Phase != MotionPhase.Closed) { Ignore("commitment", commitment.Id, "the motion has not closed"); return; }
        var what = RemoteHtml.ToPlainText(commitment.Name ?? "").Trim();
        if (what.Length == 0) { Ignore("commitment", commitment.Id, "says nothing"); return; }
        var forWhom = json.GetString("forWhom") ?? commitment.Receiver;
        var now = clock.GetUtcNow();
        DateTimeOffset? fulfilled = commitment.Finished ? json.GetDateTime("fulfilled") ?? now : null;
        if (fulfilled > now) fulfilled = now;
        await conn.ExecuteAsync(new CommandDefinition("""
            INSERT INTO motion_commitments (id, motion_id, account_id, uri, what, for_whom, due_at, fulfilled_at, created_at, local, updated_at)
            VALUES (fellows_id(@now), @motionId, @account, @uri, @what, @forWhom, @due, @fulfilled, @now, false, @now)
            ON CONFLICT (uri) DO UPDATE SET what = excluded.what, for_whom = excluded.for_whom, due_at = excluded.due_at,
                fulfilled_at = CASE WHEN excluded.fulfilled_at IS NULL THEN NULL ELSE coalesce(motion_commitments.fulfilled_at, excluded.fulfilled_at) END,
                updated_at = excluded.updated_at
            WHERE motion_commitments.account_id = excluded.account_id AND NOT motion_commitments.local
            """, new
        {
            now, motionId = motion.Id, account = actor.Id, uri = commitment.Id, what = what[..Math.Min(what.Length, 500)],
            forWhom = forWhom is null ? null : RemoteHtml.ToPlainText(forWhom)[..Math.Min(RemoteHtml.ToPlainText(forWhom).Length, 200)],
            due = commitment.Due, fulfilled,
        }, cancellationToken: ct));
    }
}
