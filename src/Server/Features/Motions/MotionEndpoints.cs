using System.Globalization;
using System.Security.Claims;
using System.Text.Json;
using Dapper;
using Fellows.Federation.Deliberation;
using Fellows.Server.Configuration;
using Fellows.Server.Features.Accounts;
using Fellows.Server.Features.Auth;
using Fellows.Server.Features.Mastodon;
using Npgsql;

namespace Fellows.Server.Features.Motions;

/// <summary>
/// The Fellows deliberation API, <c>/api/fellows/v1/motions</c>: Mastodon API conventions (bearer tokens with
/// scopes, form/JSON/query parameters, snake_case, <c>{"error": ...}</c> with 422 for validation), described by the
/// OpenAPI document at <c>/api/fellows/v1/openapi.json</c>.
/// </summary>
public static class MotionEndpoints
{
    public const string Prefix = "/api/fellows/v1";

    public static void MapMotionEndpoints(this IEndpointRouteBuilder app)
    {
        var group = app.MapGroup(Prefix + "/motions").WithTags("Motions").WithGroupName("fellows");
        group.MapPost("/", Create).RequireScope("write:statuses").WithName("CreateMotion")
            .WithSummary("Draft a motion").WithDescription("Params: title, body (Markdown), method (consent|majority|approval|ranked-choice|score), options[], threshold (plurality|simple-majority|two-thirds|unanimity), quorum (\"12\" or \"1/2\"), coop_quorum, counting_mode (pooled|coop-by-coop), score_min, score_max, secret_ballot, results_before_close, allied_actors[], discussion_ends_at, voting_ends_at (ISO 8601), remind_before_hours, media_ids[] (up to 4 processed uploads from POST /api/v2/media: reserved for the draft, then attached to the motion's post and federated as the Question's attachment).");
        group.MapGet("/", List).RequireScope("read:statuses").WithName("ListMotions")
            .WithSummary("List motions, newest first").WithDescription("Paged with max_id/min_id/limit and a Link header; state filters by phase.");
        group.MapGet("/{id}", Get).RequireScope("read:statuses").WithName("GetMotion").WithSummary("A motion, with the tally once visible and the caller's stance");
        group.MapPost("/{id}/discussion", OpenDiscussion).RequireScope("write:statuses").WithName("OpenMotionDiscussion").WithSummary("Post a draft for discussion (federated as Create of the Question)");
        group.MapPost("/{id}/voting", OpenVoting).RequireScope("write:statuses").WithName("OpenMotionVoting").WithSummary("Open voting now");
        group.MapPost("/{id}/withdraw", Withdraw).RequireScope("write:statuses").WithName("WithdrawMotion").WithSummary("Withdraw a motion that has not closed");
        group.MapPost("/{id}/close", Close).RequireScope("write:statuses").WithName("CloseMotion").WithSummary("Facilitators: close voting now and count");
        group.MapPost("/{id}/stances", Cast).RequireScope("write:statuses").WithName("CastStance")
            .WithSummary("Take or change a stance").WithDescription("Params: choices[] (consent: agree|abstain|disagree|block; ranked: in order of preference), scores[option]=n, abstain, reason (required for a block), nonce (secret ballots, base64url; generated and returned once when absent).");
        group.MapGet("/{id}/stances", Stances).RequireScope("read:statuses").WithName("ListStances").WithSummary("Current stances (not for secret ballots)");
        group.MapGet("/{id}/stances/mine", MyStances).RequireScope("read:statuses").WithName("MyStances").WithSummary("The caller's stances on the motion, latest first, with any rejection");
        group.MapGet("/{id}/undecided", Undecided).RequireScope("read:statuses").WithName("UndecidedMembers").WithSummary("Facilitators: eligible members who have not taken a position");
        group.MapPost("/{id}/outcome", Outcome).RequireScope("write:statuses").WithName("WriteOutcome").WithSummary("Facilitators: the outcome statement (Markdown) and review_at")
            .WithDescription("After the close. Federated as Create (then Update) of a [\"Note\", \"fellows:Outcome\"] with the tally's state, counts and digest, to followers, allied instances and every remote voter. At review_at (ISO 8601, optional) members are asked whether it still stands (notification fellows.outcome_review, shown to Mastodon apps as status).");
        group.MapGet("/{id}/commitments", Commitments).RequireScope("read:statuses").WithName("ListCommitments").WithSummary("Commitments made from the outcome");
        group.MapPost("/{id}/commitments", Commit).RequireScope("write:statuses").WithName("CreateCommitment").WithSummary("Commit to an action: what, for_whom, due_at")
            .WithDescription("After the close, on a motion of this instance or a mirrored allied one. Federated as Create of a ValueFlows vf:Commitment (clauseOf the outcome, due, finished) to the motion's home and every participating instance. An unfulfilled commitment past due_at is reminded once (notification fellows.commitment_due) and listed with overdue: true.");
        group.MapPost("/{id}/commitments/{commitmentId}/fulfil", Fulfil).RequireScope("write:statuses").WithName("FulfilCommitment").WithSummary("Mark one of your commitments fulfilled")
            .WithDescription("Federated as Update of the commitment with finished: true.");
        // Mastodon's poll API (/api/v1/polls) serves motions too: see Polls.PollEndpoints, which hands motions to
        // GetPoll and VotePoll below.
        app.MapGet(Prefix + "/reminders", Reminders).RequireScope("read:statuses").WithTags("Motions").WithGroupName("fellows")
            .WithName("MotionReminders").WithSummary("Motions the caller was reminded to take a position on");
    }

    static IResult Invalid(string message) => Results.Json(new ApiError(message), statusCode: StatusCodes.Status422UnprocessableEntity);

    public static async Task<IResult> Create(HttpRequest request, ClaimsPrincipal user, MotionService motions, MotionPresenter presenter, CancellationToken ct)
    {
        var p = await ApiParams.ReadAsync(request, ct);
        if (p.Error is not null) return Results.Json(new ApiError(p.Error), statusCode: p.ErrorStatus);
        var method = DeliberationVocabulary.Parse<DecisionMethod>(p.Get("method") ?? "consent");
        if (method is null) return Invalid("Validation failed: method must be one of consent, majority, approval, ranked-choice, score");
        var threshold = DeliberationVocabulary.Parse<Threshold>(p.Get("threshold") ?? "simple-majority");
        if (threshold is null) return Invalid("Validation failed: threshold must be one of plurality, simple-majority, two-thirds, unanimity");
        Quorum? quorum = null;
        if (p.Get("quorum") is { Length: > 0 } q && (quorum = Quorum.Parse(q)) is null)
            return Invalid("Validation failed: quorum must be a whole number or a fraction like 1/2");
        Quorum? coopQuorum = null;
        if (p.Get("coop_quorum") is { Length: > 0 } cq && (coopQuorum = Quorum.Parse(cq)) is null)
            return Invalid("Validation failed: coop_quorum must be a whole number or a fraction like 1/2");
        var mode = DeliberationVocabulary.Parse<CountingMode>(p.Get("counting_mode") ?? "pooled");
        if (mode is null) return Invalid("Validation failed: counting_mode must be pooled or coop-by-coop");
        if (!TryDate(p.Get("voting_ends_at"), out var votingEnds) || votingEnds is null)
            return Invalid("Validation failed: voting_ends_at is required, as an ISO 8601 time");
        if (!TryDate(p.Get("discussion_ends_at"), out var discussionEnds))
            return Invalid("Validation failed: discussion_ends_at is not an ISO 8601 time");
        if (!TryInt(p, "score_min", 0, out var scoreMin) || !TryInt(p, "score_max", 5, out var scoreMax))
            return Invalid("Validation failed: score_min and score_max are whole numbers");
        if (!TryInt(p, "remind_before_hours", 24, out var remindHours) || remindHours < 0 || remindHours > 24 * 30)
            return Invalid("Validation failed: remind_before_hours is a whole number from 0 to 720");
        var (mediaIds, notAnId) = p.GetIds("media_ids");
        if (notAnId is not null) return Invalid($"Validation failed: {notAnId} is not a media id");
        var result = await motions.CreateDraftAsync(user.RequiredAccountId(), new NewMotion
        {
            Title = p.Get("title") ?? "",
            Body = p.Get("body") ?? "",
            Method = method.Value,
            Options = p.GetList("options"),
            Threshold = threshold.Value,
            Quorum = quorum,
            CoopQuorum = coopQuorum,
            Mode = mode.Value,
            ScoreMin = scoreMin,
            ScoreMax = scoreMax,
            SecretBallot = p.GetBool("secret_ballot") ?? false,
            ResultsBeforeClose = p.GetBool("results_before_close") ?? false,
            AlliedActors = p.GetList("allied_actors").Where(a => a.Length > 0).ToList(),
            MediaIds = mediaIds,
            DiscussionEndsAt = discussionEnds,
            VotingEndsAt = votingEnds.Value,
            RemindBefore = TimeSpan.FromHours(remindHours),
        }, ct);
        return await Present(result, user, presenter, ct);
    }

    static bool TryDate(string? text, out DateTimeOffset? value)
    {
        value = null;
        if (string.IsNullOrWhiteSpace(text)) return true;
        if (!DateTimeOffset.TryParse(text, CultureInfo.InvariantCulture, DateTimeStyles.AssumeUniversal, out var parsed)) return false;
        value = parsed.ToUniversalTime();
        return true;
    }

    static bool TryInt(ApiParams p, string key, int fallback, out int value)
    {
        value = fallback;
        if (p.Get(key) is not { Length: > 0 } text) return true;
        return int.TryParse(text, NumberStyles.AllowLeadingSign, CultureInfo.InvariantCulture, out value);
    }

    static async Task<IResult> Present(Common.Result<MotionRow> result, ClaimsPrincipal user, MotionPresenter presenter, CancellationToken ct) =>
        result.IsOk ? Results.Json(await presenter.PresentAsync(result.Value, user.RequiredAccountId(), ct)) : ApiResults.Error(result.Error!);

    public static async Task<IResult> List(HttpContext context, ClaimsPrincipal user, MotionService motions, MotionPresenter presenter, InstanceUrls urls, CancellationToken ct)
    {
        var page = PageRequest.From(context.Request);
        var state = context.Request.Query["state"].ToString() is { Length: > 0 } s ? s : null;
        if (state is not null && DeliberationVocabulary.Parse<MotionPhase>(state) is null)
            return Invalid("Validation failed: state must be one of draft, discussion, voting, closed, withdrawn");
        var me = user.RequiredAccountId();
        var rows = await motions.PageAsync(me, state, page.MaxId, page.MinId ?? page.SinceId, page.Limit, ct);
        if (rows.Count > 0) page.AddLinkHeader(context, urls.Base, rows[0].Id, rows[^1].Id, rows.Count);
        var list = new List<MotionView>();
        foreach (var row in rows) list.Add(await presenter.PresentAsync(row, me, ct));
        return Results.Json(list);
    }

    public static async Task<IResult> Get(string id, ClaimsPrincipal user, MotionService motions, MotionPresenter presenter, CancellationToken ct)
    {
        var me = user.RequiredAccountId();
        var motion = ApiResults.ParseId(id) is { } mid ? await motions.FindAsync(mid, me, ct) : null;
        return motion is null ? ApiResults.NotFound() : Results.Json(await presenter.PresentAsync(motion, me, ct));
    }

    public static async Task<IResult> OpenDiscussion(string id, ClaimsPrincipal user, MotionService motions, MotionPresenter presenter, CancellationToken ct) =>
        ApiResults.ParseId(id) is { } mid ? await Present(await motions.OpenDiscussionAsync(user.RequiredAccountId(), mid, ct), user, presenter, ct) : ApiResults.NotFound();

    public static async Task<IResult> OpenVoting(string id, ClaimsPrincipal user, MotionService motions, MotionPresenter presenter, CancellationToken ct) =>
        ApiResults.ParseId(id) is { } mid ? await Present(await motions.OpenVotingAsync(user.RequiredAccountId(), mid, ct), user, presenter, ct) : ApiResults.NotFound();

    public static async Task<IResult> Withdraw(string id, ClaimsPrincipal user, MotionService motions, MotionPresenter presenter, CancellationToken ct) =>
        ApiResults.ParseId(id) is { } mid ? await Present(await motions.WithdrawAsync(user.RequiredAccountId(), mid, ct), user, presenter, ct) : ApiResults.NotFound();

    public static async Task<IResult> Close(string id, ClaimsPrincipal user, MotionService motions, MotionPresenter presenter, CancellationToken ct) =>
        ApiResults.ParseId(id) is { } mid ? await Present(await motions.CloseEarlyAsync(user.RequiredAccountId(), mid, ct), user, presenter, ct) : ApiResults.NotFound();

    public static async Task<IResult> Cast(string id, HttpRequest request, ClaimsPrincipal user, MotionService motions, MotionPresenter presenter, CancellationToken ct)
    {
        if (ApiResults.ParseId(id) is not { } mid) return ApiResults.NotFound();
        var p = await ApiParams.ReadAsync(request, ct);
        if (p.Error is not null) return Results.Json(new ApiError(p.Error), statusCode: p.ErrorStatus);
        var choices = p.GetList("choices").Concat(p.Get("choice") is { } one && !p.Has("choices") ? [one] : []).Where(c => c.Length > 0).ToList();
        var scores = new List<OptionScore>();
        foreach (var key in p.Keys.Where(k => k.StartsWith("scores[", StringComparison.Ordinal) && k.EndsWith(']')))
        {
            if (!int.TryParse(p.Get(key), NumberStyles.AllowLeadingSign, CultureInfo.InvariantCulture, out var score))
                return Invalid($"Validation failed: the score for {key[7..^1]} is not a whole number");
            scores.Add(new OptionScore(key[7..^1], score));
        }
        byte[]? nonce = null;
        if (p.Get("nonce") is { Length: > 0 } nonceText)
        {
            try { nonce = Convert.FromBase64String(nonceText.Replace('-', '+').Replace('_', '/').PadRight(nonceText.Length + (4 - nonceText.Length % 4) % 4, '=')); }
            catch (FormatException) { return Invalid("Validation failed: nonce is not base64url"); }
        }
        var result = await motions.CastAsync(user.RequiredAccountId(), mid, new StanceInput
        {
            Choices = choices,
            Scores = scores,
            Abstain = p.GetBool("abstain") ?? false,
            Reason = p.Get("reason"),
            Nonce = nonce,
        }, ct);
        if (!result.IsOk) return ApiResults.Error(result.Error!);
        return Results.Json(presenter.PresentStance(result.Value.Stance, showVoter: true) with { Nonce = result.Value.Nonce });
    }

    public static async Task<IResult> Stances(string id, ClaimsPrincipal user, MotionService motions, MotionPresenter presenter, CancellationToken ct)
    {
        if (ApiResults.ParseId(id) is not { } mid) return ApiResults.NotFound();
        var result = await motions.StancesAsync(user.RequiredAccountId(), mid, ct);
        var version = (await motions.FindAsync(mid, user.RequiredAccountId(), ct))?.TextVersion;
        return result.IsOk ? Results.Json(result.Value.Select(s => presenter.PresentStance(s, showVoter: true, version)).ToList()) : ApiResults.Error(result.Error!);
    }

    public static async Task<IResult> MyStances(string id, ClaimsPrincipal user, MotionService motions, MotionPresenter presenter, CancellationToken ct)
    {
        if (ApiResults.ParseId(id) is not { } mid) return ApiResults.NotFound();
        var me = user.RequiredAccountId();
        if (await motions.FindAsync(mid, me, ct) is not { } motion) return ApiResults.NotFound();
        var mine = await motions.MyStancesAsync(me, mid, ct);
        var rejections = await motions.RejectionsOfAsync(mid, mine.Select(s => s.Uri).ToList(), ct);
        return Results.Json(mine.Select(s => presenter.PresentStance(s, showVoter: true, motion.TextVersion) with
        {
            Rejection = rejections.Where(r => r.StanceUri == s.Uri).Select(r => new RejectionView(r.Reason, r.Detail)).FirstOrDefault(),
        }).ToList());
    }

    public static async Task<IResult> Undecided(string id, ClaimsPrincipal user, MotionService motions, AccountPresenter accounts, CancellationToken ct)
    {
        if (ApiResults.ParseId(id) is not { } mid) return ApiResults.NotFound();
        var result = await motions.UndecidedAsync(user.RequiredAccountId(), mid, ct);
        if (!result.IsOk) return ApiResults.Error(result.Error!);
        return Results.Json(result.Value.Select(a => new { id = ApiResults.Id(a.Id), acct = a.Acct, uri = a.Uri }).ToList());
    }

    public static async Task<IResult> Outcome(string id, HttpRequest request, ClaimsPrincipal user, MotionService motions, MotionPresenter presenter, CancellationToken ct)
    {
        if (ApiResults.ParseId(id) is not { } mid) return ApiResults.NotFound();
        var p = await ApiParams.ReadAsync(request, ct);
        if (p.Error is not null) return Results.Json(new ApiError(p.Error), statusCode: p.ErrorStatus);
        if (!TryDate(p.Get("review_at"), out var reviewAt)) return Invalid("Validation failed: review_at is not an ISO 8601 time");
        return await Present(await motions.WriteOutcomeAsync(user.RequiredAccountId(), mid, p.Get("statement") ?? "", reviewAt, ct), user, presenter, ct);
    }

    public static async Task<IResult> Commitments(string id, ClaimsPrincipal user, MotionService motions, TimeProvider clock, CancellationToken ct)
    {
        if (ApiResults.ParseId(id) is not { } mid || await motions.FindAsync(mid, user.RequiredAccountId(), ct) is null) return ApiResults.NotFound();
        var now = clock.GetUtcNow();
        return Results.Json((await motions.CommitmentsAsync(mid, ct)).Select(c => MotionPresenter.PresentCommitment(c, now)).ToList());
    }

    public static async Task<IResult> Commit(string id, HttpRequest request, ClaimsPrincipal user, MotionService motions, TimeProvider clock, CancellationToken ct)
    {
        if (ApiResults.ParseId(id) is not { } mid) return ApiResults.NotFound();
        var p = await ApiParams.ReadAsync(request, ct);
        if (p.Error is not null) return Results.Json(new ApiError(p.Error), statusCode: p.ErrorStatus);
        if (!TryDate(p.Get("due_at"), out var due)) return Invalid("Validation failed: due_at is not an ISO 8601 time");
        var result = await motions.CommitAsync(user.RequiredAccountId(), mid, p.Get("what") ?? "", p.Get("for_whom"), due, ct);
        return result.IsOk ? Results.Json(MotionPresenter.PresentCommitment(result.Value, clock.GetUtcNow())) : ApiResults.Error(result.Error!);
    }

    public static async Task<IResult> Fulfil(string id, string commitmentId, ClaimsPrincipal user, MotionService motions, TimeProvider clock, CancellationToken ct)
    {
        if (ApiResults.ParseId(id) is not { } mid || ApiResults.ParseId(commitmentId) is not { } cid) return ApiResults.NotFound();
        var result = await motions.FulfilAsync(user.RequiredAccountId(), mid, cid, ct);
        return result.IsOk ? Results.Json(MotionPresenter.PresentCommitment(result.Value, clock.GetUtcNow())) : ApiResults.Error(result.Error!);
    }

    public static async Task<IResult> GetPoll(string id, ClaimsPrincipal user, NpgsqlDataSource db, TimeProvider clock, CancellationToken ct)
    {
        if (ApiResults.ParseId(id) is not { } mid) return ApiResults.NotFound();
        await using var conn = await db.OpenConnectionAsync(ct);
        var motion = await MotionService.LoadAsync(conn, null, mid, ct);
        if (motion?.StatusId is not { } statusId || motion.Phase == MotionPhase.Draft) return ApiResults.NotFound();
        var polls = await MotionPolls.ForStatusesAsync(conn, [statusId], user.AccountId(), clock.GetUtcNow(), ct);
        return polls.TryGetValue(statusId, out var poll) ? Results.Json(poll) : ApiResults.NotFound();
    }

    public static async Task<IResult> VotePoll(string id, HttpRequest request, ClaimsPrincipal user, MotionService motions, NpgsqlDataSource db,
        TimeProvider clock, CancellationToken ct)
    {
        if (ApiResults.ParseId(id) is not { } mid) return ApiResults.NotFound();
        var p = await ApiParams.ReadAsync(request, ct);
        if (p.Error is not null) return Results.Json(new ApiError(p.Error), statusCode: p.ErrorStatus);
        var me = user.RequiredAccountId();
        var motion = await motions.FindAsync(mid, me, ct);
        if (motion is null) return ApiResults.NotFound();
        var options = motion.DecisionMethod == DecisionMethod.Consent ? ConsentPositions.All : motion.Options;
        var choices = new List<string>();
        foreach (var text in p.GetList("choices"))
        {
            if (!int.TryParse(text, NumberStyles.None, CultureInfo.InvariantCulture, out var index) || index >= options.Count)
                return Invalid("Validation failed: choices are option indices");
            choices.Add(options[index]);
        }
        if (choices.Count == 0) return Invalid("Validation failed: choose at least one option");
        var cast = await motions.CastAsync(me, mid, new StanceInput { Choices = choices.Distinct(StringComparer.Ordinal).ToList() }, ct);
        if (!cast.IsOk) return ApiResults.Error(cast.Error!);
        await using var conn = await db.OpenConnectionAsync(ct);
        var polls = await MotionPolls.ForStatusesAsync(conn, [motion.StatusId!.Value], me, clock.GetUtcNow(), ct);
        return Results.Json(polls[motion.StatusId!.Value]);
    }

    public static async Task<IResult> Reminders(ClaimsPrincipal user, MotionService motions, CancellationToken ct) =>
        Results.Json((await motions.RemindersAsync(user.RequiredAccountId(), ct))
            .Select(r => new { motion_id = ApiResults.Id(r.MotionId), title = r.Title, voting_ends_at = ApiResults.Date(r.VotingEndsAt), created_at = ApiResults.Date(r.CreatedAt) }).ToList());
}

public sealed record RejectionView(string Reason, string Detail);

public sealed record StanceView(
    string Id, string Uri, string? Voter, IReadOnlyList<string> Choices, IReadOnlyDictionary<string, int> Scores, bool Abstain,
    string? Reason, string? Receipt, bool Current, bool PollVote, string CreatedAt)
{
    public string? Nonce { get; init; }
    public RejectionView? Rejection { get; init; }

    /// <summary>The version of the motion's text the stance was taken on.</summary>
    public int TextVersion { get; init; } = 1;

    /// <summary>
    /// Set when the text has been amended since: the number of the first amendment accepted after the stance
    /// (amendment N made version N+1). The stance still counts; its voter is asked to reconfirm it.
    /// </summary>
    public int? BeforeAmendment { get; init; }
}

public sealed record OutcomeView(string? Statement, string? StatementHtml, string? WrittenAt, string? ReviewAt)
{
    /// <summary>The fellows:Outcome object's id, as federated.</summary>
    public string? Uri { get; init; }
    public string? ReviewedAt { get; init; }
}

public sealed record MotionView(
    string Id, string Uri, string? StatusId, bool Local, string Author, string Title, string Body, string BodyHtml, string Method,
    IReadOnlyList<string> Options, string Threshold, string? Quorum, string? CoopQuorum, string CountingMode, int? ScoreMin, int? ScoreMax, bool SecretBallot, bool ResultsBeforeClose,
    IReadOnlyList<string> AlliedActors, string State, string? DiscussionEndsAt, string VotingEndsAt, string? OpenedAt, string? VotingOpenedAt,
    string? ClosedAt, string CreatedAt, bool Facilitator, StanceView? MyStance, JsonElement? Tally, string? TallyDigest, string? TallyState,
    bool? TallyVerified, OutcomeView? Outcome)
{
    /// <summary>The version of the text shown: 1 as drafted, one more per accepted amendment (history at <c>/versions</c>).</summary>
    public int TextVersion { get; init; } = 1;

    /// <summary>Files attached to the motion (a draft's reserved uploads, then its post's), in Mastodon's shape.</summary>
    public IReadOnlyList<Media.ApiMediaAttachment> MediaAttachments { get; init; } = [];
}

/// <summary>Motions and stances as the API shows them. Running counts only when the motion shows results before the close.</summary>
public sealed class MotionPresenter(NpgsqlDataSource db, MotionService motions, Media.MediaPresenter media)
{
    public async Task<MotionView> PresentAsync(MotionRow m, long viewer, CancellationToken ct)
    {
        await using var conn = await db.OpenConnectionAsync(ct);
        var author = await conn.AccountByIdAsync(m.AuthorAccountId, null, ct);
        var mine = await conn.QuerySingleOrDefaultAsync<StanceRow>(new CommandDefinition(
            MotionQueries.CurrentStances.Replace("WHERE s.motion_id = @id AND s.current", "WHERE s.motion_id = @id AND s.current AND s.voter_account_id = @viewer"),
            new { id = m.Id, viewer }, cancellationToken: ct));
        JsonElement? tally = MotionService.ParseJson(m.Tally);
        if (tally is null && m.Local && m.ResultsBeforeClose && m.Phase == MotionPhase.Voting)
        {
            var running = await motions.CountAsync(conn, null, m, ct);
            var doc = MotionDocuments.TallyDocument(m, running);
            doc.Remove("ballots");
            tally = JsonDocument.Parse(doc.ToJsonString()).RootElement.Clone();
        }
        var consent = m.DecisionMethod == DecisionMethod.Consent;
        var attachments = await conn.QueryAsync<Media.MediaRow>(new CommandDefinition($"""
            SELECT {Media.MediaQueries.Columns} FROM media_attachments m WHERE m.motion_id = @id OR m.status_id = @statusId ORDER BY m.position, m.id
            """, new { id = m.Id, statusId = m.StatusId }, cancellationToken: ct));
        return new MotionView(
            ApiResults.Id(m.Id), m.Uri, m.StatusId is { } s ? ApiResults.Id(s) : null, m.Local, author.Acct, m.Title, m.BodySource, m.BodyHtml, m.Method,
            consent ? ConsentPositions.All : m.Options, m.Threshold, m.Quorum, m.CoopQuorum, m.CountingMode,
            m.DecisionMethod == DecisionMethod.Score ? m.ScoreMin : null, m.DecisionMethod == DecisionMethod.Score ? m.ScoreMax : null,
            m.SecretBallot, m.ResultsBeforeClose, m.AlliedActors, m.State, ApiResults.Date(m.DiscussionEndsAt), ApiResults.Date(m.VotingEndsAt),
            ApiResults.Date(m.OpenedAt), ApiResults.Date(m.VotingOpenedAt), ApiResults.Date(m.ClosedAt), ApiResults.Date(m.CreatedAt),
            m.Local && await motions.IsFacilitatorAsync(viewer, m, ct),
            mine is null ? null : PresentStance(mine, showVoter: true, m.TextVersion), tally, m.TallyDigest, m.TallyState, m.TallyVerified,
            m.OutcomeStatement is null ? null : new OutcomeView(m.OutcomeStatement, m.OutcomeHtml, ApiResults.Date(m.OutcomeAt), ApiResults.Date(m.ReviewAt))
            {
                Uri = m.OutcomeUri,
                ReviewedAt = ApiResults.Date(m.ReviewedAt),
            })
        {
            TextVersion = m.TextVersion,
            MediaAttachments = attachments.Select(media.Present).ToList(),
        };
    }

    public StanceView PresentStance(StanceRow s, bool showVoter, int? currentTextVersion = null) => new(
        ApiResults.Id(s.Id), s.Uri, showVoter ? s.VoterAcct : null, s.Choices,
        s.ScoreList.ToDictionary(x => x.Option, x => x.Score, StringComparer.Ordinal), s.Abstain, s.Reason, s.Receipt, s.Current, s.PollVote,
        ApiResults.Date(s.Published))
    {
        TextVersion = s.TextVersion,
        BeforeAmendment = currentTextVersion is { } v && s.TextVersion < v ? s.TextVersion : null,
    };

    public static object PresentCommitment(CommitmentRow c, DateTimeOffset now) => new
    {
        id = ApiResults.Id(c.Id),
        uri = c.Uri,
        motion_id = ApiResults.Id(c.MotionId),
        acct = c.Acct,
        what = c.What,
        for_whom = c.ForWhom,
        due_at = ApiResults.Date(c.DueAt),
        fulfilled_at = ApiResults.Date(c.FulfilledAt),
        overdue = c.IsOverdue(now),
        local = c.Local,
        created_at = ApiResults.Date(c.CreatedAt),
    };
}
