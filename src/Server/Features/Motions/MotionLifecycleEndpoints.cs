using System.Security.Claims;
using Fellows.Federation.Deliberation;
using Fellows.Server.Features.Accounts;
using Fellows.Server.Features.Auth;
using Fellows.Server.Features.Mastodon;
using Npgsql;

namespace Fellows.Server.Features.Motions;

/// <summary>
/// Amendments and the text's history, commitments by id, and a member's record of commitments, in the Fellows API
/// (same conventions as <see cref="MotionEndpoints"/>; described in the OpenAPI document).
/// </summary>
public static class MotionLifecycleEndpoints
{
    public static void MapMotionLifecycleEndpoints(this IEndpointRouteBuilder app)
    {
        var group = app.MapGroup(MotionEndpoints.Prefix + "/motions").WithTags("Motions").WithGroupName("fellows");
        group.MapGet("/{id}/versions", Versions).RequireScope("read:statuses").WithName("MotionVersions")
            .WithSummary("The history of the motion's text, newest first")
            .WithDescription("Version 1 is the text as drafted; each accepted amendment adds one (amendment_id names it). Stances carry the text_version they were taken on; one taken before amendment N shows before_amendment: N and stays counted.");
        group.MapGet("/{id}/amendments", Amendments).RequireScope("read:statuses").WithName("ListAmendments")
            .WithSummary("Amendments proposed to the motion, oldest first, with consent counts for those put to the members");
        group.MapPost("/{id}/amendments", Propose).RequireScope("write:statuses").WithName("ProposeAmendment")
            .WithSummary("Propose a change to the text: title and/or body (Markdown), and a reason")
            .WithDescription("Any eligible member, here or (through their own instance's mirror of the motion) on an allied instance, while the motion is in discussion or voting. Federated as Create of a [\"Note\", \"fellows:Amendment\"] to the motion's home and every participating instance. Params: title, body, reason (required).");
        group.MapPost("/{id}/amendments/{amendmentId}/accept", Accept).RequireScope("write:statuses").WithName("AcceptAmendment")
            .WithSummary("Author or admin: take the amendment into the text")
            .WithDescription("The text becomes a new version (the old one kept), the motion's post is edited, Update of the Question (with textVersion) goes to every participating instance and Accept of the amendment to its author. Members whose current stance is on an earlier text get a fellows.motion_amended notification (shown to Mastodon apps as update) asking them to reconfirm.");
        group.MapPost("/{id}/amendments/{amendmentId}/decline", Decline).RequireScope("write:statuses").WithName("DeclineAmendment")
            .WithSummary("Author or admin: decline the amendment (Reject to its author)");
        group.MapPost("/{id}/amendments/{amendmentId}/vote", PutToVote).RequireScope("write:statuses").WithName("PutAmendmentToVote")
            .WithSummary("Author or admin: put the amendment to a consent sub-decision of the members of the motion's co-op and its allies")
            .WithDescription("Federated as Update of the amendment (amendmentState: voting) from the motion's author to every participating instance, whose members can then take positions there.");
        group.MapPost("/{id}/amendments/{amendmentId}/positions", TakePosition).RequireScope("write:statuses").WithName("AmendmentPosition")
            .WithSummary("Take a position on an amendment put to the members: position (agree|abstain|disagree|block), reason (required for a block)")
            .WithDescription("On another instance's motion the position is kept here and sent to the motion's home instance as Create of a [\"Note\", \"fellows:AmendmentPosition\"]; the home instance counts it when the member's co-op is allied and vouches for them (otherwise a Reject with the reason). The counts returned are those known on this instance; the home instance's are authoritative.");
        group.MapPost("/{id}/amendments/{amendmentId}/resolve", Resolve).RequireScope("write:statuses").WithName("ResolveAmendment")
            .WithSummary("Author or admin: close the consent sub-decision")
            .WithDescription("Accepted (as /accept) when nobody blocks and more agree than disagree; declined otherwise. Abstentions are not counted.");

        var fellows = app.MapGroup(MotionEndpoints.Prefix).WithTags("Motions").WithGroupName("fellows");
        fellows.MapPost("/commitments/{commitmentId}/fulfil", FulfilById).RequireScope("write:statuses").WithName("FulfilCommitmentById")
            .WithSummary("Mark one of your commitments fulfilled (federated as Update with finished: true)");
        fellows.MapGet("/accounts/{id}/commitments", Record).RequireScope("read:accounts").WithName("AccountCommitments")
            .WithSummary("A member's commitments: kept, open and overdue counts and the latest 40")
            .WithDescription("What a Fellows profile shows instead of follower counts. Remote members' commitments are those this instance has received. The actor document of a local member carries fellows:commitmentsKept.");
    }

    static async Task<IResult> Json<T>(Common.Result<T> result, Func<T, object> present) =>
        await Task.FromResult(result.IsOk ? Results.Json(present(result.Value)) : ApiResults.Error(result.Error!));

    static AmendmentView Present(AmendmentRow a, AmendmentDecision? positions) => new(
        ApiResults.Id(a.Id), a.Uri, ApiResults.Id(a.MotionId), a.AuthorAcct, a.Title, a.BodySource, MotionText.ToHtml(a.BodySource), a.ReasonHtml, a.State,
        a.TextVersion, ApiResults.Date(a.DecidedAt), ApiResults.Date(a.CreatedAt), positions);

    public static async Task<IResult> Versions(string id, ClaimsPrincipal user, MotionLifecycle lifecycle, MotionService motions, CancellationToken ct)
    {
        if (ApiResults.ParseId(id) is not { } mid) return ApiResults.NotFound();
        var result = await lifecycle.VersionsAsync(user.RequiredAccountId(), mid, ct);
        if (!result.IsOk) return ApiResults.Error(result.Error!);
        var current = result.Value.Count == 0 ? 0 : result.Value.Max(v => v.Version);
        return Results.Json(result.Value.Select(v => new MotionVersionView(v.Version, v.Title, v.BodySource, v.BodyHtml,
            v.AmendmentId is { } a ? ApiResults.Id(a) : null, v.Version == current, ApiResults.Date(v.CreatedAt))).ToList());
    }

    public static async Task<IResult> Amendments(string id, ClaimsPrincipal user, MotionLifecycle lifecycle, CancellationToken ct)
    {
        if (ApiResults.ParseId(id) is not { } mid) return ApiResults.NotFound();
        var result = await lifecycle.AmendmentsAsync(user.RequiredAccountId(), mid, ct);
        if (!result.IsOk) return ApiResults.Error(result.Error!);
        var list = new List<AmendmentView>();
        foreach (var a in result.Value)
            list.Add(Present(a, a.AmendmentState == AmendmentState.Voting ? await lifecycle.PositionsAsync(a.Id, ct) : null));
        return Results.Json(list);
    }

    public static async Task<IResult> Propose(string id, HttpRequest request, ClaimsPrincipal user, MotionLifecycle lifecycle, CancellationToken ct)
    {
        if (ApiResults.ParseId(id) is not { } mid) return ApiResults.NotFound();
        var p = await ApiParams.ReadAsync(request, ct);
        if (p.Error is not null) return Results.Json(new ApiError(p.Error), statusCode: p.ErrorStatus);
        if (!p.Has("title") && !p.Has("body")) return Results.Json(new ApiError("Validation failed: give the new title, the new body, or both"), statusCode: 422);
        return await Json(await lifecycle.ProposeAsync(user.RequiredAccountId(), mid, p.Get("title"), p.Get("body"), p.Get("reason") ?? "", ct), a => Present(a, null));
    }

    static async Task<IResult> Decide(string id, string amendmentId, ClaimsPrincipal user, MotionLifecycle lifecycle, bool accept, CancellationToken ct)
    {
        if (ApiResults.ParseId(id) is not { } mid || ApiResults.ParseId(amendmentId) is not { } aid) return ApiResults.NotFound();
        return await Json(await lifecycle.DecideAsync(user.RequiredAccountId(), mid, aid, accept, ct), a => Present(a, null));
    }

    public static Task<IResult> Accept(string id, string amendmentId, ClaimsPrincipal user, MotionLifecycle lifecycle, CancellationToken ct) =>
        Decide(id, amendmentId, user, lifecycle, accept: true, ct);

    public static Task<IResult> Decline(string id, string amendmentId, ClaimsPrincipal user, MotionLifecycle lifecycle, CancellationToken ct) =>
        Decide(id, amendmentId, user, lifecycle, accept: false, ct);

    public static async Task<IResult> PutToVote(string id, string amendmentId, ClaimsPrincipal user, MotionLifecycle lifecycle, CancellationToken ct)
    {
        if (ApiResults.ParseId(id) is not { } mid || ApiResults.ParseId(amendmentId) is not { } aid) return ApiResults.NotFound();
        var result = await lifecycle.PutToVoteAsync(user.RequiredAccountId(), mid, aid, ct);
        return result.IsOk ? Results.Json(Present(result.Value, await lifecycle.PositionsAsync(aid, ct))) : ApiResults.Error(result.Error!);
    }

    public static async Task<IResult> TakePosition(string id, string amendmentId, HttpRequest request, ClaimsPrincipal user, MotionLifecycle lifecycle, CancellationToken ct)
    {
        if (ApiResults.ParseId(id) is not { } mid || ApiResults.ParseId(amendmentId) is not { } aid) return ApiResults.NotFound();
        var p = await ApiParams.ReadAsync(request, ct);
        if (p.Error is not null) return Results.Json(new ApiError(p.Error), statusCode: p.ErrorStatus);
        return await Json(await lifecycle.TakePositionAsync(user.RequiredAccountId(), mid, aid, p.Get("position") ?? "", p.Get("reason"), ct), d => d);
    }

    public static async Task<IResult> Resolve(string id, string amendmentId, ClaimsPrincipal user, MotionLifecycle lifecycle, CancellationToken ct)
    {
        if (ApiResults.ParseId(id) is not { } mid || ApiResults.ParseId(amendmentId) is not { } aid) return ApiResults.NotFound();
        return await Json(await lifecycle.ResolveAsync(user.RequiredAccountId(), mid, aid, ct), r => Present(r.Amendment, r.Decision));
    }

    public static async Task<IResult> FulfilById(string commitmentId, ClaimsPrincipal user, MotionService motions, TimeProvider clock, CancellationToken ct)
    {
        if (ApiResults.ParseId(commitmentId) is not { } cid) return ApiResults.NotFound();
        var result = await motions.FulfilAsync(user.RequiredAccountId(), 0, cid, ct);
        return result.IsOk ? Results.Json(MotionPresenter.PresentCommitment(result.Value, clock.GetUtcNow())) : ApiResults.Error(result.Error!);
    }

    public static async Task<IResult> Record(string id, MotionLifecycle lifecycle, NpgsqlDataSource db, TimeProvider clock, CancellationToken ct)
    {
        if (ApiResults.ParseId(id) is not { } accountId) return ApiResults.NotFound();
        await using (var conn = await db.OpenConnectionAsync(ct))
        {
            if (await conn.FindAccountByIdAsync(accountId, null, ct) is not { DeletedAt: null, SuspendedAt: null }) return ApiResults.NotFound();
        }
        var (kept, open, overdue, latest) = await lifecycle.RecordAsync(accountId, ct);
        var now = clock.GetUtcNow();
        return Results.Json(new CommitmentRecordView(kept, open, overdue, latest.Select(c => MotionPresenter.PresentCommitment(c, now)).ToList()));
    }
}

/// <summary>
/// A member's actor document carries how many commitments they kept (<c>fellows:commitmentsKept</c>): the humane
/// figure Fellows shows on a profile instead of follower counts. The term is defined inline in the actor's context
/// (full IRI), so readers need not fetch the Fellows context for it.
/// </summary>
public static class MotionActorRecord
{
    public static async Task AddAsync(System.Text.Json.Nodes.JsonObject actor, long accountId, MotionLifecycle lifecycle, CancellationToken ct)
    {
        if (actor["@context"] is System.Text.Json.Nodes.JsonArray context && context.LastOrDefault() is System.Text.Json.Nodes.JsonObject terms)
        {
            terms["commitmentsKept"] = new System.Text.Json.Nodes.JsonObject
            {
                ["@id"] = DeliberationVocabulary.Namespace + "commitmentsKept",
                ["@type"] = "http://www.w3.org/2001/XMLSchema#nonNegativeInteger",
            };
        }
        actor["commitmentsKept"] = await lifecycle.CommitmentsKeptAsync(accountId, ct);
    }
}
