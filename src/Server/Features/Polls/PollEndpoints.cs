using System.Globalization;
using System.Security.Claims;
using Fellows.Server.Features.Auth;
using Fellows.Server.Features.Mastodon;
using Fellows.Server.Features.Motions;
using Npgsql;

namespace Fellows.Server.Features.Polls;

/// <summary>
/// <c>GET /api/v1/polls/:id</c> and <c>POST /api/v1/polls/:id/votes</c>. A poll id is an ordinary poll's or a
/// motion's (ids are unique across both); a motion is handed to the deliberation endpoints, so a vote from any
/// Mastodon app on a motion stays a stance.
/// </summary>
public static class PollEndpoints
{
    public static void MapPollEndpoints(this IEndpointRouteBuilder app)
    {
        var group = app.MapGroup("/api/v1/polls").WithTags("Polls");
        group.MapGet("/{id}", Get).WithName("GetPoll");
        group.MapPost("/{id}/votes", Vote).RequireScope("write:statuses").WithName("VotePoll");
    }

    public static async Task<IResult> Get(string id, ClaimsPrincipal user, PollService polls, NpgsqlDataSource db, TimeProvider clock, CancellationToken ct)
    {
        if (ApiResults.ParseId(id) is not { } pid) return ApiResults.NotFound();
        if (await polls.GetAsync(pid, user.AccountId(), ct) is { } poll) return Results.Json(poll);
        if (await polls.ExistsAsync(pid, ct)) return ApiResults.NotFound();
        return await MotionEndpoints.GetPoll(id, user, db, clock, ct);
    }

    public static async Task<IResult> Vote(string id, HttpRequest request, ClaimsPrincipal user, PollService polls, MotionService motions,
        NpgsqlDataSource db, TimeProvider clock, CancellationToken ct)
    {
        if (ApiResults.ParseId(id) is not { } pid) return ApiResults.NotFound();
        if (!await polls.ExistsAsync(pid, ct)) return await MotionEndpoints.VotePoll(id, request, user, motions, db, clock, ct);
        var p = await ApiParams.ReadAsync(request, ct);
        if (p.Error is not null) return Results.Json(new ApiError(p.Error), statusCode: p.ErrorStatus);
        var choices = new List<int>();
        foreach (var text in p.GetList("choices"))
        {
            if (!int.TryParse(text, NumberStyles.None, CultureInfo.InvariantCulture, out var index))
                return Results.Json(new ApiError("Validation failed: choices are option indices"), statusCode: StatusCodes.Status422UnprocessableEntity);
            choices.Add(index);
        }
        var result = await polls.VoteAsync(user.RequiredAccountId(), pid, choices, ct);
        return result.IsOk ? Results.Json(result.Value) : ApiResults.Error(result.Error!);
    }
}
