using System.Text.Json;
using Dapper;
using Fellows.Federation.Deliberation;
using Fellows.Federation.Html;
using Fellows.Federation.Proofs;
using Fellows.Federation.Signatures;
using Fellows.Federation.Vocabulary;
using Fellows.Server.Features.Accounts;
using Fellows.Server.Features.Federation;
using Fellows.Server.Features.Statuses;
using Npgsql;

namespace Fellows.Server.Features.Motions;

/// <summary>
/// Deliberation arriving from other servers: stances (Fellows stances with an integrity proof, or plain poll
/// votes) on our motions, allied instances' motions and their results, and rejections of our members' stances.
/// </summary>
public sealed class MotionInbox(
    NpgsqlDataSource db, TimeProvider clock, MotionPublisher publisher, MotionService motions,
    RemoteActors actors, Groups.CoopVouching vouching, MotionLifecycle lifecycle, ILogger<MotionInbox> logger)
{
    /// <summary>
    /// A Note in reply to one of our motions is a stance: checked, then stored or answered with a Reject.
    /// Returns false when <paramref name="note"/> is not about a local motion (the caller handles it as a post).
    /// </summary>
    public async Task<bool> TryReceiveStanceAsync(Account actor, JsonElement note, CancellationToken ct)
    {
        if (!note.TryGetProperty("inReplyTo", out var replyTo) || replyTo.ValueKind != JsonValueKind.String) return false;
        MotionRow? motion;
        await using (var conn = await db.OpenConnectionAsync(ct))
            motion = await conn.QuerySingleOrDefaultAsync<MotionRow>(new CommandDefinition(MotionQueries.ByUri, new { uri = replyTo.GetString() }, cancellationToken: ct));
        if (motion is null || !motion.Local) return false;

        if (!DeliberationReader.TryReadStance(note, out var stance, out var error))
        {
            // A reply with text and no choice is discussion, not a stance.
            return false;
        }
        if (stance.AttributedTo != actor.Uri)
        {
            // Signed by one actor, attributed to another: a forgery (or a relay we do not trust with votes).
            // The sender is told; the voter it names is never counted for it.
            await RejectAsync(motion, new Rejection(stance.Id, actor.Uri, RejectionReason.InvalidProof,
                "The stance is attributed to someone other than the actor who sent it; only voters cast their own stances."), ct);
            return true;
        }
        var now = clock.GetUtcNow();

        // A Fellows stance must prove its voter wrote it (eddsa-jcs-2022 with the voter's Ed25519 key). A plain poll
        // vote from Mastodon has no proof: the HTTP signature of its delivery is all there is.
        if (!stance.IsPollVote)
        {
            var verification = await IntegrityProof.VerifyAsync(note, (vm, c) => ResolveKeyAsync(vm, actor, c), ct: ct);
            if (!verification.IsValid || !verification.VouchesFor(actor.Uri))
            {
                await RejectAsync(motion, new Rejection(stance.Id, actor.Uri, RejectionReason.InvalidProof,
                    $"The stance's integrity proof does not verify: {verification.Reason}"), ct);
                return true;
            }
        }

        var coop = motion.AllyOf(actor.Uri);
        if (coop is null)
        {
            await RejectAsync(motion, new Rejection(stance.Id, actor.Uri, RejectionReason.Ineligible,
                "You are not eligible: this motion is decided by members of its co-op and of the allied instances it names."), ct);
            return true;
        }
        if (motion.Phase != MotionPhase.Voting || now >= motion.VotingEndsAt)
        {
            await RejectAsync(motion, motion.Phase == MotionPhase.Discussion
                ? new Rejection(stance.Id, actor.Uri, RejectionReason.NotOpen, "Voting on this motion has not opened yet.")
                : new Rejection(stance.Id, actor.Uri, RejectionReason.AfterClose, "Voting on this motion had closed when your stance arrived."), ct);
            return true;
        }
        // Being on an allied server is not enough: the ally's co-op group must vouch for the voter as a member.
        if (await vouching.CheckAsync(coop, actor, ct) is { } notVouched)
        {
            await RejectAsync(motion, new Rejection(stance.Id, actor.Uri, RejectionReason.Ineligible, notVouched), ct);
            return true;
        }

        await using var db2 = await db.OpenConnectionAsync(ct);
        await using var tx = await db2.BeginTransactionAsync(ct);
        motion = (await MotionService.LoadAsync(db2, tx, motion.Id, ct, forUpdate: true))!;
        if (motion.Phase != MotionPhase.Voting) return true;
        var candidate = stance.ToStance(now);
        if (stance.IsPollVote && motion.DecisionMethod == DecisionMethod.Approval)
        {
            // Mastodon sends one Note per option of a multiple-choice poll: fold them into one stance.
            var previous = await db2.QuerySingleOrDefaultAsync<StanceRow>(new CommandDefinition(
                MotionQueries.CurrentStances.Replace("WHERE s.motion_id = @id AND s.current", "WHERE s.motion_id = @id AND s.current AND s.voter_account_id = @voter AND s.poll_vote"),
                new { id = motion.Id, voter = actor.Id }, tx, cancellationToken: ct));
            if (previous is not null)
                candidate = candidate with { Choices = previous.Choices.Concat(candidate.Choices).Distinct(StringComparer.Ordinal).Order(StringComparer.Ordinal).ToArray() };
        }
        var check = Tally.Count(motion.Rules(), Electorate.Single(coop, [actor.Uri]), [candidate]);
        if (check.Rejections.Count > 0)
        {
            await RejectAsync(db2, tx, motion, check.Rejections[0], ct);
            await tx.CommitAsync(ct);
            return true;
        }
        await db2.ExecuteAsync(new CommandDefinition(MotionQueries.RetireStance, new { motionId = motion.Id, voter = actor.Id }, tx, cancellationToken: ct));
        var inserted = await db2.ExecuteScalarAsync<long?>(new CommandDefinition(MotionQueries.InsertStance, new
        {
            now, motionId = motion.Id, voter = actor.Id, uri = stance.IsPollVote && candidate.Choices.Count > 1 ? $"{stance.Id}#merged-{candidate.Choices.Count}" : stance.Id,
            coop, choices = candidate.Choices.ToArray(), scores = StanceRow.ScoresJson(candidate.Scores), abstain = candidate.Abstain,
            reason = candidate.Reason is null ? null : RemoteHtml.Sanitize(candidate.Reason), receipt = candidate.Receipt,
            proofValue = candidate.ProofValue, document = note.GetRawText(), pollVote = stance.IsPollVote, published = candidate.Published,
        }, tx, cancellationToken: ct));
        if (inserted is null)
        {
            // The same stance id again: a replay. Keep what was stored.
            await tx.RollbackAsync(ct);
            return true;
        }
        if (motion.ResultsBeforeClose)
        {
            var author = await db2.AccountByIdAsync(motion.AuthorAccountId, tx, ct);
            await publisher.MotionChangedAsync(db2, tx, author, motion, await motions.CountAsync(db2, tx, motion, ct), created: false, voters: [], ct);
        }
        await tx.CommitAsync(ct);
        return true;
    }

    async Task<VerificationKey?> ResolveKeyAsync(string verificationMethod, Account actor, CancellationToken ct)
    {
        var key = await FindKeyAsync(verificationMethod, ct);
        if (key is null)
        {
            // A key we have not seen: the actor may have added it since we last fetched them.
            await actors.ResolveAsync(actor.Uri, forceRefresh: true, ct);
            key = await FindKeyAsync(verificationMethod, ct);
        }
        if (key is null || !Multikey.TryDecode(key.Value.PublicKey, out var type, out var bytes) || type != ActorKeyType.Ed25519) return null;
        return VerificationKey.FromEd25519(verificationMethod, key.Value.Owner, bytes);
    }

    async Task<(string PublicKey, string Owner)?> FindKeyAsync(string keyId, CancellationToken ct)
    {
        await using var conn = await db.OpenConnectionAsync(ct);
        var rows = await conn.QueryAsync<(string, string)>(new CommandDefinition(
            "SELECT k.public_key, a.uri FROM account_keys k JOIN accounts a ON a.id = k.account_id WHERE k.key_id = @keyId AND k.kind = 'ed25519'",
            new { keyId }, cancellationToken: ct));
        return rows.Select(r => ((string, string)?)r).FirstOrDefault();
    }

    async Task RejectAsync(MotionRow motion, Rejection rejection, CancellationToken ct)
    {
        await using var conn = await db.OpenConnectionAsync(ct);
        await using var tx = await conn.BeginTransactionAsync(ct);
        await RejectAsync(conn, tx, motion, rejection, ct);
        await tx.CommitAsync(ct);
    }

    /// <summary>Records the rejection and queues the Reject to the voter, in the caller's transaction.</summary>
    async Task RejectAsync(NpgsqlConnection conn, NpgsqlTransaction tx, MotionRow motion, Rejection rejection, CancellationToken ct)
    {
        if (logger.IsEnabled(LogLevel.Information))
            logger.LogInformation("Rejected stance {Stance} on motion {Motion}: {Reason}", rejection.StanceId, motion.Id, rejection.Code);
        var author = await conn.AccountByIdAsync(motion.AuthorAccountId, tx, ct);
        await conn.ExecuteAsync(new CommandDefinition(MotionQueries.InsertRejection, new
        {
            motionId = motion.Id, stanceUri = rejection.StanceId, voterUri = rejection.Voter, reason = rejection.Code, detail = rejection.Detail,
            now = clock.GetUtcNow(),
        }, tx, cancellationToken: ct));
        await publisher.RejectAsync(conn, tx, author, motion, rejection, ct);
    }

    /// <summary>
    /// A Question that is a Fellows motion, from its author's own server: kept as a mirror so members here can take
    /// a stance, and its published tally recounted from the embedded ballots.
    /// </summary>
    public async Task ReceiveMotionAsync(Account actor, JsonElement question, long? statusId, CancellationToken ct)
    {
        if (!DeliberationReader.TryReadMotion(question, out var remote, out _) || !remote.IsFellowsMotion) return;
        if (remote.AttributedTo != actor.Uri || !RemoteActors.SameOrigin(remote.Id, actor.Uri)) return;
        if (remote.ToRules() is not { } rules) return;
        var now = clock.GetUtcNow();
        var phase = remote.Phase ?? (remote.Closed ? MotionPhase.Closed : MotionPhase.Voting);
        string? tally = null, digest = null, tallyState = null;
        bool? verified = null;
        if (question.TryGetProperty("tally", out var tallyJson) && tallyJson.ValueKind == JsonValueKind.Object
            && DeliberationReader.TryReadTally(tallyJson, out var published, out _))
        {
            tally = tallyJson.GetRawText();
            digest = published.Digest;
            tallyState = published.State is { } s ? DeliberationVocabulary.Name(s) : null;
            // Recount the published ballots: the same rules and eligible counts must give the same state and digest.
            var eligible = published.Coops.ToDictionary(c => c.Coop, c => c.Eligible, StringComparer.Ordinal);
            verified = Tally.TryRecount(rules, eligible, published.Ballots, out var recount, out _)
                && recount.Digest == published.Digest && recount.State == published.State;
        }
        await using var conn = await db.OpenConnectionAsync(ct);
        // The mirror and the version it now shows commit together, so no reader sees a version without its text.
        await using var tx = await conn.BeginTransactionAsync(ct);
        await conn.ExecuteAsync(new CommandDefinition("""
            INSERT INTO motions (id, uri, local, status_id, author_account_id, title, body_source, body_html, method, options, threshold, quorum,
                coop_quorum, counting_mode, score_min, score_max, secret_ballot, results_before_close, allied_actors, state, discussion_ends_at, voting_ends_at,
                opened_at, closed_at, tally, tally_digest, tally_state, tally_verified, created_at, updated_at, text_version)
            VALUES (fellows_id(@now), @uri, false, @statusId, @author, @title, @bodySource, @bodyHtml, @method, @options, @threshold, @quorum,
                @coopQuorum, @mode, @scoreMin, @scoreMax, @secret, @resultsBeforeClose, @electorate, @state, @discussionEndsAt, @votingEndsAt,
                @now, @closedAt, @tally::jsonb, @digest, @tallyState, @verified, @now, @now, @textVersion)
            ON CONFLICT (uri) DO UPDATE SET
                status_id = coalesce(motions.status_id, excluded.status_id), title = excluded.title, body_source = excluded.body_source,
                body_html = excluded.body_html, state = excluded.state, discussion_ends_at = excluded.discussion_ends_at,
                voting_ends_at = excluded.voting_ends_at, closed_at = excluded.closed_at,
                tally = coalesce(excluded.tally, motions.tally), tally_digest = coalesce(excluded.tally_digest, motions.tally_digest),
                tally_state = coalesce(excluded.tally_state, motions.tally_state), tally_verified = coalesce(excluded.tally_verified, motions.tally_verified),
                updated_at = excluded.updated_at, text_version = greatest(motions.text_version, excluded.text_version)
            WHERE motions.author_account_id = excluded.author_account_id AND NOT motions.local
            """, new
        {
            now, uri = remote.Id, statusId, author = actor.Id, title = RemoteHtml.ToPlainText(remote.Name ?? "").Trim() is { Length: > 0 } t ? t[..Math.Min(t.Length, MotionService.MaxTitle)] : "(untitled)",
            bodySource = remote.SourceMarkdown ?? "", bodyHtml = RemoteHtml.Sanitize(remote.Content ?? ""),
            method = DeliberationVocabulary.Name(rules.Method), options = rules.Method == DecisionMethod.Consent ? [] : rules.Options.ToArray(),
            threshold = DeliberationVocabulary.Name(rules.Threshold), quorum = rules.Quorum?.ToString(), coopQuorum = rules.CoopQuorum?.ToString(), mode = DeliberationVocabulary.Name(rules.Mode),
            scoreMin = rules.ScoreMin, scoreMax = rules.ScoreMax, secret = rules.SecretBallot, resultsBeforeClose = remote.ResultsBeforeClose,
            electorate = remote.Electorate.ToArray(), state = DeliberationVocabulary.Name(phase), discussionEndsAt = remote.DiscussionEndTime,
            votingEndsAt = rules.ClosesAt, closedAt = remote.ClosedAt, tally, digest, tallyState, verified, textVersion = remote.TextVersion ?? 1,
        }, tx, cancellationToken: ct));
        await RecordTextVersionAsync(conn, tx, remote, ct);
        await tx.CommitAsync(ct);
        // The other co-ops in the electorate are fetched now: amendments and commitments made here go to all of them,
        // and delivery only reaches actors this instance knows.
        foreach (var coop in remote.Electorate.Where(e => !RemoteActors.SameOrigin(e, actor.Uri)).Take(MotionService.MaxAllies + 1))
            await actors.ResolveAsync(coop, forceRefresh: false, ct);
    }

    /// <summary>
    /// Keeps each version of an allied motion's text as it arrives (earlier ones stay on its home instance), and
    /// when the text moved on, tells members here whose stance was on an earlier text.
    /// </summary>
    async Task RecordTextVersionAsync(NpgsqlConnection conn, NpgsqlTransaction tx, RemoteMotion remote, CancellationToken ct)
    {
        var mirror = await conn.QuerySingleOrDefaultAsync<MotionRow>(new CommandDefinition(MotionQueries.ByUri, new { uri = remote.Id }, tx, cancellationToken: ct));
        if (mirror is null || mirror.Local) return;
        var added = await conn.ExecuteAsync(new CommandDefinition("""
            INSERT INTO motion_versions (motion_id, version, title, body_source, body_html, created_at)
            SELECT id, text_version, title, body_source, body_html, updated_at FROM motions WHERE id = @id
            ON CONFLICT DO NOTHING
            """, new { id = mirror.Id }, tx, cancellationToken: ct));
        if (added > 0 && mirror.TextVersion > 1) await lifecycle.NotifyStaleStancesAsync(conn, tx, mirror, mirror.AuthorAccountId, ct);
    }

    /// <summary>A Reject of one of our members' stances: recorded so the member sees why it was not counted.</summary>
    public async Task<bool> TryReceiveRejectionAsync(Account actor, string? objectId, string? reason, string? detail, CancellationToken ct)
    {
        if (objectId is null) return false;
        await using var conn = await db.OpenConnectionAsync(ct);
        var stance = await conn.QuerySingleOrDefaultAsync<(long MotionId, string MotionUri, bool Local, string VoterUri)?>(new CommandDefinition("""
            SELECT m.id, m.uri, m.local, a.uri FROM motion_stances s JOIN motions m ON m.id = s.motion_id JOIN accounts a ON a.id = s.voter_account_id
            WHERE s.uri = @objectId AND a.domain IS NULL
            """, new { objectId }, cancellationToken: ct));
        // Only the motion's own server can refuse a stance on it.
        if (stance is not { } s || s.Local || !RemoteActors.SameOrigin(s.MotionUri, actor.Uri)) return false;
        var code = reason is { Length: > 0 and <= 64 } ? reason : "rejected";
        var text = RemoteHtml.ToPlainText(detail ?? "");
        await conn.ExecuteAsync(new CommandDefinition(MotionQueries.InsertRejection, new
        {
            motionId = s.MotionId, stanceUri = objectId, voterUri = s.VoterUri, reason = code, detail = text[..Math.Min(text.Length, 1000)],
            now = clock.GetUtcNow(),
        }, cancellationToken: ct));
        return true;
    }
}
