using System.Text.Json;
using System.Text.Json.Nodes;
using Dapper;
using Fellows.Federation.Deliberation;
using Fellows.Federation.Proofs;
using Fellows.Federation.Signatures;
using Fellows.Federation.Vocabulary;
using Fellows.Server.Common;
using Fellows.Server.Configuration;
using Fellows.Server.Features.Accounts;
using Fellows.Server.Features.Federation;
using Fellows.Server.Features.Media;
using Fellows.Server.Features.Statuses;
using Npgsql;

namespace Fellows.Server.Features.Motions;

/// <summary>
/// Motions run on this instance: drafting, the phases, stances, the close with its tally, outcome and
/// commitments; and stances our members take on allied instances' motions. Every state change and the activity
/// that federates it commit in one transaction.
/// </summary>
public sealed class MotionService(
    NpgsqlDataSource db, InstanceUrls urls, TimeProvider clock, MotionPublisher publisher, MotionScheduler scheduler,
    RemoteActors actors, MotionFollowUpScheduler followUps,
    Discovery.PublicDocumentCache documents, ILogger<MotionService> logger)
{
    public const int MaxTitle = 200;
    public const int MaxBody = 20_000;
    public const int MaxOptions = 20;
    public const int MaxOptionLength = 100;
    public const int MaxAllies = 20;
    public const int MaxReason = 5_000;

    // ---- Drafting and phases ----

    public async Task<Result<MotionRow>> CreateDraftAsync(long accountId, NewMotion input, CancellationToken ct)
    {
        var now = clock.GetUtcNow();
        if (Validate(input, now) is { } problem) return Error.Validation(problem);
        // Allied actors are fetched now: it proves they exist and lets the fan-out find their inboxes.
        foreach (var ally in input.AlliedActors.Distinct(StringComparer.Ordinal))
        {
            if (await actors.ResolveAsync(ally, forceRefresh: false, ct) is null)
                return Error.Validation($"Validation failed: allied actor {ally} could not be fetched");
        }
        await using var conn = await db.OpenConnectionAsync(ct);
        await using var tx = await conn.BeginTransactionAsync(ct);
        var author = await conn.AccountByIdAsync(accountId, tx, ct);
        var id = await conn.ExecuteScalarAsync<long>(new CommandDefinition(StatusQueries.NextId, new { at = now }, tx, cancellationToken: ct));
        var body = input.Body.Trim();
        await conn.ExecuteAsync(new CommandDefinition(MotionQueries.Insert, new
        {
            id,
            // The motion's id is the address of the post that will carry it, so discussion replies thread under it.
            uri = urls.Status(author.Username, id),
            author = accountId,
            title = input.Title.Trim(),
            bodySource = body,
            bodyHtml = MotionText.ToHtml(body),
            method = DeliberationVocabulary.Name(input.Method),
            options = input.Method == DecisionMethod.Consent ? [] : input.Options.Select(o => o.Trim()).ToArray(),
            threshold = DeliberationVocabulary.Name(input.Threshold),
            quorum = input.Quorum?.ToString(),
            coopQuorum = input.CoopQuorum?.ToString(),
            countingMode = DeliberationVocabulary.Name(input.Mode),
            scoreMin = input.ScoreMin,
            scoreMax = input.ScoreMax,
            secretBallot = input.SecretBallot,
            resultsBeforeClose = input.ResultsBeforeClose,
            alliedActors = input.AlliedActors.Distinct(StringComparer.Ordinal).ToArray(),
            discussionEndsAt = input.DiscussionEndsAt,
            votingEndsAt = input.VotingEndsAt,
            remindBefore = input.RemindBefore,
            now,
        }, tx, cancellationToken: ct));
        await conn.ExecuteAsync(new CommandDefinition(MotionLifecycleQueries.InsertFirstVersion, new { id }, tx, cancellationToken: ct));
        // Attachments are reserved for the draft now and move to its post when it is posted.
        var mediaIds = input.MediaIds.Distinct().ToArray();
        if (await MediaAttaching.CheckAsync(conn, tx, accountId, mediaIds, heldFor: null, requireReady: true, ct) is { IsOk: false } notAttachable)
            return notAttachable.Error!;
        for (var position = 0; position < mediaIds.Length; position++)
            await conn.ExecuteAsync(new CommandDefinition("UPDATE media_attachments SET motion_id = @id, position = @position WHERE id = @mediaId",
                new { id, position, mediaId = mediaIds[position] }, tx, cancellationToken: ct));
        var motion = await LoadAsync(conn, tx, id, ct);
        await tx.CommitAsync(ct);
        return motion!;
    }

    string? Validate(NewMotion input, DateTimeOffset now)
    {
        var title = input.Title.Trim();
        if (title.Length == 0) return "Validation failed: Title can't be blank";
        if (title.Length > MaxTitle) return $"Validation failed: Title is longer than {MaxTitle} characters";
        if (input.Body.Length > MaxBody) return $"Validation failed: Body is longer than {MaxBody} characters";
        if (input.Method != DecisionMethod.Consent)
        {
            var options = input.Options.Select(o => o.Trim()).ToList();
            if (options.Count < 2) return "Validation failed: a motion of this method needs at least two options";
            if (options.Count > MaxOptions) return $"Validation failed: at most {MaxOptions} options";
            if (options.Any(o => o.Length == 0 || o.Length > MaxOptionLength)) return $"Validation failed: options must be 1 to {MaxOptionLength} characters";
            if (options.Distinct(StringComparer.Ordinal).Count() != options.Count) return "Validation failed: options must differ from each other";
        }
        else if (input.Options.Count > 0)
        {
            return "Validation failed: a consent motion has the fixed positions agree, abstain, disagree and block; leave options out";
        }
        if (input.Method == DecisionMethod.Score && (input.ScoreMin >= input.ScoreMax || input.ScoreMin < -100 || input.ScoreMax > 100))
            return "Validation failed: the score range needs score_min < score_max, both within -100..100";
        if (input.VotingEndsAt <= now.AddMinutes(1)) return "Validation failed: voting_ends_at must be more than a minute in the future";
        if (input.VotingEndsAt > now.AddYears(1)) return "Validation failed: voting_ends_at must be within a year";
        if (input.DiscussionEndsAt is { } d && (d <= now || d >= input.VotingEndsAt))
            return "Validation failed: discussion_ends_at must be in the future and before voting_ends_at";
        if (input.RemindBefore < TimeSpan.Zero) return "Validation failed: remind_before must not be negative";
        if (input.AlliedActors.Count > MaxAllies) return $"Validation failed: at most {MaxAllies} allied actors";
        if (input.MediaIds.Distinct().Count() > StatusService.MaxAttachments) return $"Validation failed: at most {StatusService.MaxAttachments} attachments";
        foreach (var ally in input.AlliedActors)
        {
            if (!Uri.TryCreate(ally, UriKind.Absolute, out var uri) || uri.Scheme is not ("http" or "https"))
                return $"Validation failed: allied actor {ally} is not an http(s) URL";
            if (ally.StartsWith(urls.Base + "/", StringComparison.Ordinal))
                return "Validation failed: allied actors are other instances' actors; members here are eligible anyway";
        }
        return null;
    }

    /// <summary>Draft → discussion: the motion is posted (a status) and federated; voting opens later.</summary>
    public Task<Result<MotionRow>> OpenDiscussionAsync(long accountId, long id, CancellationToken ct) =>
        TransitionAsync(accountId, id, [MotionPhase.Draft], MotionPhase.Discussion, ct);

    /// <summary>Draft or discussion → voting.</summary>
    public Task<Result<MotionRow>> OpenVotingAsync(long accountId, long id, CancellationToken ct) =>
        TransitionAsync(accountId, id, [MotionPhase.Draft, MotionPhase.Discussion], MotionPhase.Voting, ct);

    public Task<Result<MotionRow>> WithdrawAsync(long accountId, long id, CancellationToken ct) =>
        TransitionAsync(accountId, id, [MotionPhase.Draft, MotionPhase.Discussion, MotionPhase.Voting], MotionPhase.Withdrawn, ct);

    async Task<Result<MotionRow>> TransitionAsync(long? accountId, long id, MotionPhase[] from, MotionPhase to, CancellationToken ct)
    {
        await using var conn = await db.OpenConnectionAsync(ct);
        await using var tx = await conn.BeginTransactionAsync(ct);
        var motion = await LoadAsync(conn, tx, id, ct, forUpdate: true);
        if (motion is null || !motion.Local || (motion.Phase == MotionPhase.Draft && motion.AuthorAccountId != accountId && accountId is not null))
            return Error.NotFound();
        if (accountId is { } acting && !await IsFacilitatorAsync(conn, tx, motion, acting, ct))
            return Error.Forbidden("Only the motion's author or an admin facilitates it");
        if (!from.Contains(motion.Phase))
            return Error.Validation($"Validation failed: a {motion.State} motion cannot move to {DeliberationVocabulary.Name(to)}");
        var now = clock.GetUtcNow();
        if (to == MotionPhase.Voting && motion.VotingEndsAt <= now)
            return Error.Validation("Validation failed: voting_ends_at has passed; withdraw this motion and draft it again");

        var author = await conn.AccountByIdAsync(motion.AuthorAccountId, tx, ct);
        var firstPost = motion.StatusId is null && to is MotionPhase.Discussion or MotionPhase.Voting;
        await conn.ExecuteAsync(new CommandDefinition("""
            UPDATE motions SET state = @state, updated_at = @now,
                opened_at = CASE WHEN @firstPost THEN @now ELSE opened_at END,
                voting_opened_at = CASE WHEN @state = 'voting' THEN @now ELSE voting_opened_at END,
                withdrawn_at = CASE WHEN @state = 'withdrawn' THEN @now ELSE withdrawn_at END
            WHERE id = @id
            """, new { id, state = DeliberationVocabulary.Name(to), now, firstPost }, tx, cancellationToken: ct));
        if (firstPost)
        {
            await conn.InsertStatusAsync(new Status
            {
                Id = motion.Id,
                Uri = motion.Uri,
                Url = urls.StatusPage(author.Username, motion.Id),
                AccountId = author.Id,
                Content = MotionDocuments.ContentHtml(motion),
                SourceText = motion.BodySource,
                SpoilerText = "",
                Sensitive = false,
                Visibility = (short)Visibility.Unlisted,
                Local = true,
                CreatedAt = now,
                RepliesCount = 0,
                ReblogsCount = 0,
                FavouritesCount = 0,
            }, tx, ct);
            await conn.ExecuteAsync(new CommandDefinition("UPDATE motions SET status_id = id WHERE id = @id", new { id }, tx, cancellationToken: ct));
            await conn.ExecuteAsync(new CommandDefinition("UPDATE media_attachments SET status_id = motion_id, motion_id = NULL WHERE motion_id = @id",
                new { id }, tx, cancellationToken: ct));
        }
        // A draft withdrawn before it was posted gives its uploads back.
        if (to == MotionPhase.Withdrawn)
            await conn.ExecuteAsync(new CommandDefinition("UPDATE media_attachments SET motion_id = NULL WHERE motion_id = @id", new { id }, tx, cancellationToken: ct));
        motion = (await LoadAsync(conn, tx, id, ct))!;
        if (motion.StatusId is not null)
        {
            var tally = motion.ResultsBeforeClose && to == MotionPhase.Voting ? await CountAsync(conn, tx, motion, ct) : null;
            await publisher.MotionChangedAsync(conn, tx, author, motion, tally, created: firstPost, voters: [], ct);
        }
        await tx.CommitAsync(ct);
        if (to == MotionPhase.Withdrawn) await scheduler.UnscheduleAsync(id, ct);
        else await scheduler.ScheduleAsync(motion, ct);
        return motion;
    }

    /// <summary>Closes voting before its deadline (a facilitator's call): the deadline becomes now.</summary>
    public async Task<Result<MotionRow>> CloseEarlyAsync(long accountId, long id, CancellationToken ct)
    {
        await using (var conn = await db.OpenConnectionAsync(ct))
        {
            var motion = await LoadAsync(conn, null, id, ct);
            if (motion is null || !motion.Local || motion.Phase == MotionPhase.Draft && motion.AuthorAccountId != accountId) return Error.NotFound();
            if (!await IsFacilitatorAsync(conn, null, motion, accountId, ct))
                return Error.Forbidden("Only the motion's author or an admin facilitates it");
            if (motion.Phase != MotionPhase.Voting) return Error.Validation($"Validation failed: only a motion in voting can be closed; this one is {motion.State}");
        }
        return await CloseAsync(id, early: true, ct) is { } closed ? closed : Error.Validation("Validation failed: the motion is no longer in voting");
    }

    /// <summary>
    /// What the deadline job runs: opens voting when the discussion ends, reminds the undecided, closes at the
    /// deadline. Every step checks the business clock, so firing early or twice does nothing.
    /// </summary>
    public async Task AdvanceAsync(long id, CancellationToken ct)
    {
        MotionRow? motion;
        await using (var conn = await db.OpenConnectionAsync(ct))
            motion = await LoadAsync(conn, null, id, ct);
        if (motion is null || !motion.Local) return;
        var now = clock.GetUtcNow();
        if (motion.Phase == MotionPhase.Discussion && motion.DiscussionEndsAt is { } d && d <= now)
        {
            var opened = await TransitionAsync(null, id, [MotionPhase.Discussion], MotionPhase.Voting, ct);
            if (!opened.IsOk) logger.LogWarning("Motion {Id} could not open voting: {Error}", id, opened.Error!.Message);
            motion = opened.IsOk ? opened.Value : motion;
        }
        if (motion.Phase != MotionPhase.Voting) return;
        if (motion.VotingEndsAt <= now)
            await CloseAsync(id, early: false, ct);
        else if (motion.VotingEndsAt - motion.RemindBefore <= now)
            await RemindAsync(motion, ct);
    }

    /// <summary>Ids of local motions whose next step is due: the sweep's safety net for a trigger that was never stored.</summary>
    public async Task<IReadOnlyList<long>> DueAsync(CancellationToken ct)
    {
        await using var conn = await db.OpenConnectionAsync(ct);
        return (await conn.QueryAsync<long>(new CommandDefinition("""
            SELECT id FROM motions WHERE local AND state IN ('discussion', 'voting')
              AND (voting_ends_at <= @now OR (state = 'discussion' AND discussion_ends_at <= @now))
            ORDER BY voting_ends_at LIMIT 100
            """, new { now = clock.GetUtcNow() }, cancellationToken: ct))).ToList();
    }

    /// <summary>
    /// Reminds every eligible member who has not taken a position (once per member): recorded in motion_reminders
    /// and, in the same transaction, as a notification the member's apps show (see <see cref="Notifications.FellowsNotifications"/>).
    /// </summary>
    async Task RemindAsync(MotionRow motion, CancellationToken ct)
    {
        await using var conn = await db.OpenConnectionAsync(ct);
        await using var tx = await conn.BeginTransactionAsync(ct);
        var now = clock.GetUtcNow();
        var reminded = (await conn.QueryAsync<long>(new CommandDefinition($"""
            INSERT INTO motion_reminders (motion_id, account_id, created_at)
            SELECT @id, e.id, @now FROM ({MotionQueries.LocalElectorate}) e
            WHERE NOT EXISTS (SELECT 1 FROM motion_stances s WHERE s.motion_id = @id AND s.voter_account_id = e.id AND s.current)
            ON CONFLICT (motion_id, account_id) DO NOTHING
            RETURNING account_id
            """, new { id = motion.Id, now }, tx, cancellationToken: ct))).ToList();
        if (reminded.Count > 0 && motion.StatusId is { } statusId)
        {
            var from = await conn.ExecuteScalarAsync<long>(new CommandDefinition(MotionLifecycleQueries.SystemAccount, new { uri = urls.InstanceActor }, tx, cancellationToken: ct));
            await Notifications.NotificationWrites.NotifyManyAsync(conn, tx, reminded, from, Notifications.FellowsNotifications.MotionReminder, statusId, now, ct);
        }
        await tx.CommitAsync(ct);
        if (reminded.Count > 0 && logger.IsEnabled(LogLevel.Information)) logger.LogInformation("Reminded {Count} members about motion {Id}", reminded.Count, motion.Id);
    }

    /// <summary>Closes voting: counts every current stance with <see cref="Tally.Count"/>, stores the tally and its digest, federates the result.</summary>
    async Task<MotionRow?> CloseAsync(long id, bool early, CancellationToken ct)
    {
        await using var conn = await db.OpenConnectionAsync(ct);
        await using var tx = await conn.BeginTransactionAsync(ct);
        var motion = await LoadAsync(conn, tx, id, ct, forUpdate: true);
        if (motion is null || motion.Phase != MotionPhase.Voting) return null;
        var now = clock.GetUtcNow();
        if (early && now < motion.VotingEndsAt)
        {
            await conn.ExecuteAsync(new CommandDefinition("UPDATE motions SET voting_ends_at = @now WHERE id = @id", new { id, now }, tx, cancellationToken: ct));
            motion = motion with { VotingEndsAt = now };
        }
        var result = await CountAsync(conn, tx, motion, ct);
        var tallyJson = MotionDocuments.TallyDocument(motion, result);
        await conn.ExecuteAsync(new CommandDefinition("""
            UPDATE motions SET state = 'closed', closed_at = @now, updated_at = @now, tally = @tally::jsonb, tally_digest = @digest,
                tally_state = @state, tally_verified = true
            WHERE id = @id
            """, new { id, now, tally = ActivityPubWriter.Serialize(tallyJson), digest = result.Digest, state = DeliberationVocabulary.Name(result.State) },
            tx, cancellationToken: ct));
        motion = (await LoadAsync(conn, tx, id, ct))!;
        var author = await conn.AccountByIdAsync(motion.AuthorAccountId, tx, ct);
        await publisher.MotionChangedAsync(conn, tx, author, motion, result, created: false, voters: await RemoteVotersAsync(conn, tx, id, ct), ct);
        await tx.CommitAsync(ct);
        await scheduler.UnscheduleAsync(id, ct);
        if (logger.IsEnabled(LogLevel.Information))
            logger.LogInformation("Motion {Id} closed: {State}, digest {Digest}", id, result.State, result.Digest);
        return motion;
    }

    /// <summary>Remote members who took a stance on motion <paramref name="id"/>: they are sent what becomes of it.</summary>
    internal static async Task<IReadOnlyList<string>> RemoteVotersAsync(NpgsqlConnection conn, NpgsqlTransaction? tx, long id, CancellationToken ct) =>
        (await conn.QueryAsync<string>(new CommandDefinition(MotionQueries.RemoteVoters, new { id }, tx, cancellationToken: ct))).ToList();

    /// <summary>
    /// The count as it stands: members of this instance (vouched for by the instance actor) plus the remote
    /// voters whose stances were admitted, each vouched for by the allied actor of their instance.
    /// </summary>
    internal async Task<TallyResult> CountAsync(NpgsqlConnection conn, NpgsqlTransaction? tx, MotionRow motion, CancellationToken ct)
    {
        var local = await conn.QueryAsync<(long Id, string Uri)>(new CommandDefinition(MotionQueries.LocalElectorate, transaction: tx, cancellationToken: ct));
        var stances = (await conn.QueryAsync<StanceRow>(new CommandDefinition(MotionQueries.CurrentStances, new { id = motion.Id }, tx, cancellationToken: ct))).ToList();
        var members = local.Select(l => (l.Uri, urls.InstanceActor))
            .Concat(stances.Where(s => s.Coop != urls.InstanceActor).Select(s => (s.VoterUri, s.Coop)));
        return Tally.Count(motion.Rules(), Electorate.FromMembers(members), stances.Select(s => s.ToStance(motion.Uri)));
    }

    // ---- Stances ----

    public async Task<Result<CastStance>> CastAsync(long accountId, long id, StanceInput input, CancellationToken ct)
    {
        if (input.Reason is { Length: > MaxReason }) return Error.Validation($"Validation failed: the reason is longer than {MaxReason} characters");
        await using var conn = await db.OpenConnectionAsync(ct);
        await using var tx = await conn.BeginTransactionAsync(ct);
        var motion = await LoadAsync(conn, tx, id, ct, forUpdate: true);
        if (motion is null || motion.Phase == MotionPhase.Draft) return Error.NotFound();
        var now = clock.GetUtcNow();
        if (motion.Phase != MotionPhase.Voting || now >= motion.VotingEndsAt)
            return Error.Validation(motion.Phase == MotionPhase.Discussion
                ? "Validation failed: voting has not opened yet"
                : "Validation failed: voting on this motion has closed");
        if (!await conn.ExecuteScalarAsync<bool>(new CommandDefinition(MotionQueries.IsEligibleLocal, new { id = accountId }, tx, cancellationToken: ct)))
            return Error.Forbidden("You are not eligible to take a stance on this motion");

        var voter = await conn.AccountByIdAsync(accountId, tx, ct);
        var stanceId = await conn.ExecuteScalarAsync<long>(new CommandDefinition(StatusQueries.NextId, new { at = now }, tx, cancellationToken: ct));
        var uri = $"{urls.Actor(voter.Username)}/stances/{stanceId}";
        string? nonce = null, receipt = null;
        var choices = input.Abstain && motion.DecisionMethod == DecisionMethod.Consent ? [ConsentPositions.Abstain] : input.Choices;
        if (motion.SecretBallot)
        {
            var nonceBytes = input.Nonce ?? TallyDigest.NewNonce();
            if (nonceBytes.Length < 16) return Error.Validation("Validation failed: the nonce needs at least 16 bytes");
            nonce = Convert.ToBase64String(nonceBytes).TrimEnd('=').Replace('+', '-').Replace('/', '_');
            receipt = TallyDigest.Receipt(motion.Uri, nonceBytes, choices, input.Scores, input.Abstain);
        }
        var reasonHtml = input.Reason is { } r && r.Trim().Length > 0 ? MotionText.ToHtml(r.Trim()) : null;
        var stance = new Stance
        {
            Id = uri,
            Voter = voter.Uri,
            InReplyTo = motion.Uri,
            Published = now,
            Choices = choices,
            Scores = input.Scores,
            Abstain = input.Abstain,
            Reason = reasonHtml,
            Receipt = receipt,
        };
        // The counting core's own admission says whether the stance fits (method, options, block reason, receipt),
        // so the API refuses exactly what the tally would.
        // This instance vouches for its own members, whether the motion is ours or an ally's.
        var coop = urls.InstanceActor;
        var check = Tally.Count(motion.Rules(), Electorate.Single(coop, [voter.Uri]), [stance]);
        if (check.Rejections.Count > 0) return Error.Validation($"Validation failed: {check.Rejections[0].Detail}");

        var author = await conn.AccountByIdAsync(motion.AuthorAccountId, tx, ct);
        var document = DeliberationWriter.Stance(new LocalStance
        {
            Id = uri,
            AttributedTo = voter.Uri,
            InReplyTo = motion.Uri,
            Published = now,
            To = [author.Uri],
            Choices = choices,
            Scores = input.Scores,
            Abstain = input.Abstain,
            ReasonHtml = reasonHtml,
            Coop = coop,
            Receipt = receipt,
        }, DeliberationVocabulary.ContextUrl(urls.Base));
        var signed = await SignAsync(conn, tx, voter, document, now, ct);
        var proofValue = signed["proof"]?["proofValue"]?.GetValue<string>();

        await conn.ExecuteAsync(new CommandDefinition(MotionQueries.RetireStance, new { motionId = id, voter = accountId }, tx, cancellationToken: ct));
        await conn.ExecuteScalarAsync<long?>(new CommandDefinition(MotionQueries.InsertStance, new
        {
            now, motionId = id, voter = accountId, uri, coop, choices = choices.ToArray(), scores = StanceRow.ScoresJson(input.Scores),
            abstain = input.Abstain, reason = reasonHtml, receipt, proofValue, document = ActivityPubWriter.Serialize(signed),
            pollVote = false, published = now,
        }, tx, cancellationToken: ct));

        if (!motion.Local)
        {
            // A stance on an allied instance's motion travels to the motion's author, signed by the member's key.
            await publisher.StanceAsync(conn, tx, voter, author, signed, ct);
        }
        else if (motion.ResultsBeforeClose)
        {
            await publisher.MotionChangedAsync(conn, tx, author, motion, await CountAsync(conn, tx, motion, ct), created: false, voters: [], ct);
        }
        var row = (await conn.QueryAsync<StanceRow>(new CommandDefinition(MotionQueries.StanceHistory, new { id, voter = accountId }, tx, cancellationToken: ct))).First();
        await tx.CommitAsync(ct);
        return new CastStance(row, nonce);
    }

    static async Task<JsonObject> SignAsync(NpgsqlConnection conn, NpgsqlTransaction tx, Account voter, JsonObject document, DateTimeOffset now, CancellationToken ct)
    {
        var key = await conn.QuerySingleAsync<(string KeyId, string PrivateKey)>(new CommandDefinition(
            "SELECT key_id, private_key FROM account_keys WHERE account_id = @id AND kind = 'ed25519' AND private_key IS NOT NULL ORDER BY created_at DESC LIMIT 1",
            new { id = voter.Id }, tx, cancellationToken: ct));
        return IntegrityProof.Sign(document, SigningKey.FromEd25519Seed(key.KeyId, Convert.FromBase64String(key.PrivateKey)), key.KeyId, now);
    }

    // ---- Reading ----

    /// <summary>
    /// The Question document of the local motion carried by status <paramref name="statusId"/> (what its id
    /// dereferences to), or null when the status is not a motion. A closed motion carries its stored tally.
    /// </summary>
    public async Task<JsonObject?> QuestionAsync(long statusId, CancellationToken ct)
    {
        await using var conn = await db.OpenConnectionAsync(ct);
        var motion = await conn.QuerySingleOrDefaultAsync<MotionRow>(new CommandDefinition(
            $"SELECT {MotionQueries.Columns} FROM motions m WHERE m.status_id = @statusId AND m.local", new { statusId }, cancellationToken: ct));
        if (motion is null) return null;
        var author = await conn.AccountByIdAsync(motion.AuthorAccountId, null, ct);
        var showCounts = motion.Phase == MotionPhase.Closed || (motion.ResultsBeforeClose && motion.Phase == MotionPhase.Voting);
        var tally = showCounts ? await CountAsync(conn, null, motion, ct) : null;
        var question = DeliberationWriter.Motion(await publisher.DocumentAsync(conn, null, author, motion, tally, ct), DeliberationVocabulary.ContextUrl(urls.Base));
        if (motion.Tally is { } stored) question["tally"] = JsonNode.Parse(stored);
        return question;
    }

    public async Task<MotionRow?> FindAsync(long id, long viewer, CancellationToken ct)
    {
        await using var conn = await db.OpenConnectionAsync(ct);
        var motion = await LoadAsync(conn, null, id, ct);
        return motion is null || (motion.Phase == MotionPhase.Draft && motion.AuthorAccountId != viewer) ? null : motion;
    }

    public async Task<IReadOnlyList<MotionRow>> PageAsync(long viewer, string? state, long? maxId, long? minId, int limit, CancellationToken ct)
    {
        await using var conn = await db.OpenConnectionAsync(ct);
        var rows = (await conn.QueryAsync<MotionRow>(new CommandDefinition(MotionQueries.Page,
            new { viewer, state, maxId, minId, limit }, cancellationToken: ct))).ToList();
        return rows.OrderByDescending(r => r.Id).ToList();
    }

    /// <summary>Current stances; hidden for secret ballots (only counts and receipts are ever published).</summary>
    public async Task<Result<IReadOnlyList<StanceRow>>> StancesAsync(long viewer, long id, CancellationToken ct)
    {
        var motion = await FindAsync(id, viewer, ct);
        if (motion is null) return Error.NotFound();
        if (motion.SecretBallot) return Error.Forbidden("Stances on a secret ballot are not shown; the tally lists receipts after the close");
        await using var conn = await db.OpenConnectionAsync(ct);
        return (await conn.QueryAsync<StanceRow>(new CommandDefinition(MotionQueries.CurrentStances, new { id }, cancellationToken: ct))).ToList();
    }

    public async Task<IReadOnlyList<StanceRow>> MyStancesAsync(long viewer, long id, CancellationToken ct)
    {
        await using var conn = await db.OpenConnectionAsync(ct);
        return (await conn.QueryAsync<StanceRow>(new CommandDefinition(MotionQueries.StanceHistory, new { id, voter = viewer }, cancellationToken: ct))).ToList();
    }

    public async Task<IReadOnlyList<(string StanceUri, string Reason, string Detail)>> RejectionsOfAsync(long id, IReadOnlyList<string> stanceUris, CancellationToken ct)
    {
        await using var conn = await db.OpenConnectionAsync(ct);
        return (await conn.QueryAsync<(string, string, string)>(new CommandDefinition(
            "SELECT stance_uri, reason, detail FROM motion_rejections WHERE motion_id = @id AND stance_uri = ANY(@uris) ORDER BY id",
            new { id, uris = stanceUris.ToArray() }, cancellationToken: ct))).ToList();
    }

    /// <summary>Facilitators only: eligible members of this instance who have not taken a position.</summary>
    public async Task<Result<IReadOnlyList<Account>>> UndecidedAsync(long viewer, long id, CancellationToken ct)
    {
        await using var conn = await db.OpenConnectionAsync(ct);
        var motion = await LoadAsync(conn, null, id, ct);
        if (motion is null || !motion.Local || (motion.Phase == MotionPhase.Draft && motion.AuthorAccountId != viewer)) return Error.NotFound();
        if (!await IsFacilitatorAsync(conn, null, motion, viewer, ct)) return Error.Forbidden("Only facilitators see who has not yet taken a position");
        return (await conn.QueryAsync<Account>(new CommandDefinition($"""
            SELECT {AccountQueries.Columns} FROM accounts a
            WHERE a.id IN (SELECT e.id FROM ({MotionQueries.LocalElectorate}) e)
              AND NOT EXISTS (SELECT 1 FROM motion_stances s WHERE s.motion_id = @id AND s.voter_account_id = a.id AND s.current)
            ORDER BY a.username
            """, new { id }, cancellationToken: ct))).ToList();
    }

    public async Task<IReadOnlyList<(long MotionId, string Title, DateTimeOffset VotingEndsAt, DateTimeOffset CreatedAt)>> RemindersAsync(long viewer, CancellationToken ct)
    {
        await using var conn = await db.OpenConnectionAsync(ct);
        return (await conn.QueryAsync<(long, string, DateTimeOffset, DateTimeOffset)>(new CommandDefinition("""
            SELECT m.id, m.title, m.voting_ends_at, r.created_at FROM motion_reminders r JOIN motions m ON m.id = r.motion_id
            WHERE r.account_id = @viewer ORDER BY r.id DESC LIMIT 40
            """, new { viewer }, cancellationToken: ct))).ToList();
    }

    public async Task<bool> IsFacilitatorAsync(long viewer, MotionRow motion, CancellationToken ct)
    {
        await using var conn = await db.OpenConnectionAsync(ct);
        return await IsFacilitatorAsync(conn, null, motion, viewer, ct);
    }

    static async Task<bool> IsFacilitatorAsync(NpgsqlConnection conn, NpgsqlTransaction? tx, MotionRow motion, long accountId, CancellationToken ct) =>
        motion.AuthorAccountId == accountId || await conn.ExecuteScalarAsync<bool>(new CommandDefinition(
            "SELECT EXISTS (SELECT 1 FROM users WHERE account_id = @accountId AND admin)", new { accountId }, tx, cancellationToken: ct));

    internal static async Task<MotionRow?> LoadAsync(NpgsqlConnection conn, NpgsqlTransaction? tx, long id, CancellationToken ct, bool forUpdate = false) =>
        await conn.QuerySingleOrDefaultAsync<MotionRow>(new CommandDefinition(MotionQueries.ById + (forUpdate ? " FOR UPDATE" : ""), new { id }, tx, cancellationToken: ct));

    // ---- Outcome and commitments ----

    public async Task<Result<MotionRow>> WriteOutcomeAsync(long accountId, long id, string statement, DateTimeOffset? reviewAt, CancellationToken ct)
    {
        statement = statement.Trim();
        if (statement.Length == 0) return Error.Validation("Validation failed: the outcome statement can't be blank");
        if (statement.Length > MaxBody) return Error.Validation($"Validation failed: the outcome statement is longer than {MaxBody} characters");
        var now = clock.GetUtcNow();
        if (reviewAt is { } r && r <= now) return Error.Validation("Validation failed: review_at must be in the future");
        await using var conn = await db.OpenConnectionAsync(ct);
        await using var tx = await conn.BeginTransactionAsync(ct);
        var motion = await LoadAsync(conn, tx, id, ct, forUpdate: true);
        if (motion is null || !motion.Local || motion.Phase == MotionPhase.Draft && motion.AuthorAccountId != accountId) return Error.NotFound();
        if (!await IsFacilitatorAsync(conn, tx, motion, accountId, ct)) return Error.Forbidden("Only the motion's author or an admin writes the outcome");
        if (motion.Phase != MotionPhase.Closed) return Error.Validation("Validation failed: the outcome is written after the close");
        var first = motion.OutcomeUri is null;
        await conn.ExecuteAsync(new CommandDefinition("""
            UPDATE motions SET outcome_statement = @statement, outcome_html = @html, outcome_account_id = @accountId, outcome_at = @now,
                review_at = @reviewAt, reviewed_at = NULL, outcome_uri = @outcomeUri, updated_at = @now WHERE id = @id
            """, new { id, statement, html = MotionText.ToHtml(statement), accountId, now, reviewAt, outcomeUri = MotionRow.OutcomeUriOf(motion.Uri) },
            tx, cancellationToken: ct));
        motion = (await LoadAsync(conn, tx, id, ct))!;
        // The outcome goes to every instance that had the motion: followers, allies and every remote voter.
        var facilitator = await conn.AccountByIdAsync(accountId, tx, ct);
        var author = await conn.AccountByIdAsync(motion.AuthorAccountId, tx, ct);
        await publisher.OutcomeAsync(conn, tx, facilitator, author, motion, first, await RemoteVotersAsync(conn, tx, id, ct), ct);
        await tx.CommitAsync(ct);
        if (motion.ReviewAt is { } review) await followUps.ScheduleReviewAsync(id, review, ct);
        else await followUps.UnscheduleAsync(MotionFollowUpScheduler.ReviewKey(id), ct);
        return motion;
    }

    public async Task<Result<CommitmentRow>> CommitAsync(long accountId, long id, string what, string? forWhom, DateTimeOffset? dueAt, CancellationToken ct)
    {
        what = what.Trim();
        if (what.Length == 0) return Error.Validation("Validation failed: what you commit to can't be blank");
        if (what.Length > 500) return Error.Validation("Validation failed: what you commit to is longer than 500 characters");
        if (forWhom is { Length: > 200 }) return Error.Validation("Validation failed: for_whom is longer than 200 characters");
        var now = clock.GetUtcNow();
        if (dueAt is { } due && due <= now) return Error.Validation("Validation failed: due_at must be in the future");
        await using var conn = await db.OpenConnectionAsync(ct);
        await using var tx = await conn.BeginTransactionAsync(ct);
        var motion = await LoadAsync(conn, tx, id, ct);
        if (motion is null || motion.Phase == MotionPhase.Draft) return Error.NotFound();
        if (motion.Phase != MotionPhase.Closed) return Error.Validation("Validation failed: commitments are made once the motion has closed");
        var me = await conn.AccountByIdAsync(accountId, tx, ct);
        var cid = await conn.ExecuteScalarAsync<long>(new CommandDefinition(StatusQueries.NextId, new { at = now }, tx, cancellationToken: ct));
        await conn.ExecuteAsync(new CommandDefinition("""
            INSERT INTO motion_commitments (id, motion_id, account_id, uri, what, for_whom, due_at, created_at)
            VALUES (@cid, @id, @accountId, @uri, @what, @forWhom, @dueAt, @now)
            """, new { cid, id, accountId, uri = $"{urls.Actor(me.Username)}/commitments/{cid}", what, forWhom = forWhom?.Trim() is { Length: > 0 } fw ? fw : null, dueAt, now },
            tx, cancellationToken: ct));
        var commitment = await conn.QuerySingleAsync<CommitmentRow>(new CommandDefinition(MotionLifecycleQueries.CommitmentById, new { commitmentId = cid }, tx, cancellationToken: ct));
        // Made here on anyone's motion, it travels to the motion's home and every other participating instance.
        var author = await conn.AccountByIdAsync(motion.AuthorAccountId, tx, ct);
        await publisher.CommitmentAsync(conn, tx, me, author, motion, commitment, created: true,
            motion.Local ? await RemoteVotersAsync(conn, tx, id, ct) : [], ct);
        await tx.CommitAsync(ct);
        if (dueAt is { } d) await followUps.ScheduleCommitmentDueAsync(cid, d, ct);
        return commitment;
    }

    public async Task<IReadOnlyList<CommitmentRow>> CommitmentsAsync(long id, CancellationToken ct)
    {
        await using var conn = await db.OpenConnectionAsync(ct);
        return (await conn.QueryAsync<CommitmentRow>(new CommandDefinition(MotionQueries.Commitments, new { id }, cancellationToken: ct))).ToList();
    }

    public async Task<Result<CommitmentRow>> FulfilAsync(long accountId, long id, long commitmentId, CancellationToken ct)
    {
        await using var conn = await db.OpenConnectionAsync(ct);
        await using var tx = await conn.BeginTransactionAsync(ct);
        var now = clock.GetUtcNow();
        // Only a commitment made here by the member themselves; fulfilling twice keeps the first date and sends nothing new.
        var changed = await conn.ExecuteAsync(new CommandDefinition("""
            UPDATE motion_commitments SET fulfilled_at = @now, updated_at = @now
            WHERE id = @commitmentId AND (@id = 0 OR motion_id = @id) AND account_id = @accountId AND local AND fulfilled_at IS NULL
            """, new { commitmentId, id, accountId, now }, tx, cancellationToken: ct));
        var commitment = await conn.QuerySingleOrDefaultAsync<CommitmentRow>(new CommandDefinition(MotionLifecycleQueries.CommitmentById, new { commitmentId }, tx, cancellationToken: ct));
        if (commitment is null || commitment.AccountId != accountId || !commitment.Local || (id is not 0 && commitment.MotionId != id))
            return Error.NotFound("Commitment not found among yours");
        var me = await conn.AccountByIdAsync(accountId, tx, ct);
        if (changed > 0)
        {
            var motion = (await LoadAsync(conn, tx, commitment.MotionId, ct))!;
            var author = await conn.AccountByIdAsync(motion.AuthorAccountId, tx, ct);
            await publisher.CommitmentAsync(conn, tx, me, author, motion, commitment, created: false,
                motion.Local ? await RemoteVotersAsync(conn, tx, motion.Id, ct) : [], ct);
        }
        await tx.CommitAsync(ct);
        if (changed > 0)
        {
            await followUps.UnscheduleAsync(MotionFollowUpScheduler.CommitmentKey(commitmentId), ct);
            // The actor document shows commitments kept; drop its rendered copy.
            documents.Invalidate(me.Username);
        }
        return commitment;
    }

    internal static JsonElement? ParseJson(string? json) => json is null ? null : JsonDocument.Parse(json).RootElement.Clone();
}
