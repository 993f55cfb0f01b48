using System.Security.Claims;
using Fellows.Server.Common;
using Fellows.Server.Features.Accounts;
using Fellows.Server.Features.Auth;
using Fellows.Server.Features.Mastodon;
using Fellows.Server.Features.Motions;
using Npgsql;

namespace Fellows.Server.Features.Groups;

/// <summary>
/// The Fellows groups API, <c>/api/fellows/v1/groups</c>: the co-op group and workgroups, joining and leaving,
/// facilitators approving requests. Same conventions as the motions API (bearer tokens with scopes, snake_case,
/// <c>{"error": ...}</c>, 422 for validation); described in the OpenAPI document.
/// </summary>
public static class GroupEndpoints
{
    public static void MapGroupEndpoints(this IEndpointRouteBuilder app)
    {
        var group = app.MapGroup(MotionEndpoints.Prefix + "/groups").WithTags("Groups").WithGroupName("fellows");
        group.MapPost("/", Create).RequireScope("write:accounts").WithName("CreateGroup")
            .WithSummary("Create a workgroup; the caller becomes its facilitator")
            .WithDescription("Params: username (1-30 letters, digits, underscores; its handle and actor name), display_name, note, membership (open|approved).");
        group.MapGet("/", List).RequireScope("read:accounts").WithName("ListGroups").WithSummary("The co-op group and the workgroups of this instance");
        group.MapGet("/{id}", Get).RequireScope("read:accounts").WithName("GetGroup").WithSummary("A group, with the caller's role and whether they asked to join");
        group.MapPatch("/{id}", Update).RequireScope("write:accounts").WithName("UpdateGroup")
            .WithSummary("Facilitators: change display_name, note or membership (open|approved)");
        group.MapDelete("/{id}", Delete).RequireScope("write:accounts").WithName("DeleteGroup").WithSummary("Facilitators: close a workgroup (its actor is deleted)");
        group.MapPost("/{id}/join", Join).RequireScope("write:follows").WithName("JoinGroup")
            .WithSummary("Join a workgroup (a request when membership is approved); the same as following it from any app");
        group.MapPost("/{id}/leave", Leave).RequireScope("write:follows").WithName("LeaveGroup").WithSummary("Leave a workgroup");
        group.MapGet("/{id}/members", Members).RequireScope("read:accounts").WithName("GroupMembers")
            .WithSummary("Members with their roles, newest first").WithDescription("Paged with max_id (an account id) and limit (at most 80).");
        group.MapGet("/{id}/requests", Requests).RequireScope("read:follows").WithName("GroupRequests").WithSummary("Facilitators: pending requests to join");
        group.MapPost("/{id}/requests/{accountId}/approve", Approve).RequireScope("write:follows").WithName("ApproveGroupRequest")
            .WithSummary("Facilitators: admit a request (a remote requester's server gets an Accept)");
        group.MapPost("/{id}/requests/{accountId}/reject", Reject).RequireScope("write:follows").WithName("RejectGroupRequest")
            .WithSummary("Facilitators: turn a request down (a remote requester's server gets a Reject)");
        group.MapPost("/{id}/members/{accountId}/role", SetRole).RequireScope("write:accounts").WithName("SetGroupRole")
            .WithSummary("Facilitators: give a member a role").WithDescription("Params: role (member|facilitator).");
    }

    public static async Task<IResult> Create(HttpRequest request, ClaimsPrincipal user, GroupService groups, NpgsqlDataSource db, CancellationToken ct)
    {
        var p = await ApiParams.ReadAsync(request, ct);
        if (p.Error is not null) return Results.Json(new ApiError(p.Error), statusCode: p.ErrorStatus);
        var me = user.RequiredAccountId();
        var created = await groups.CreateAsync(me, p.Get("username"), p.Get("display_name"), p.Get("note"), p.Get("membership"), ct);
        return created.IsOk ? Results.Json(await PresentAsync(created.Value, me, groups, db, ct)) : ApiResults.Error(created.Error!);
    }

    public static async Task<IResult> List(ClaimsPrincipal user, GroupService groups, NpgsqlDataSource db, CancellationToken ct)
    {
        var me = user.RequiredAccountId();
        var list = new List<ApiGroup>();
        foreach (var row in await groups.ListAsync(ct)) list.Add(await PresentAsync(row, me, groups, db, ct));
        return Results.Json(list);
    }

    public static async Task<IResult> Get(string id, ClaimsPrincipal user, GroupService groups, NpgsqlDataSource db, CancellationToken ct)
    {
        var row = ApiResults.ParseId(id) is { } gid ? await groups.FindAsync(gid, ct) : null;
        return row is null ? ApiResults.NotFound() : Results.Json(await PresentAsync(row, user.RequiredAccountId(), groups, db, ct));
    }

    public static async Task<IResult> Update(string id, HttpRequest request, ClaimsPrincipal user, GroupService groups, NpgsqlDataSource db, CancellationToken ct)
    {
        if (ApiResults.ParseId(id) is not { } gid) return ApiResults.NotFound();
        var p = await ApiParams.ReadAsync(request, ct);
        if (p.Error is not null) return Results.Json(new ApiError(p.Error), statusCode: p.ErrorStatus);
        var me = user.RequiredAccountId();
        return await Present(await groups.UpdateAsync(me, gid, p.Get("display_name"), p.Get("note"), p.Get("membership"), ct), me, groups, db, ct);
    }

    public static async Task<IResult> Delete(string id, ClaimsPrincipal user, GroupService groups, CancellationToken ct)
    {
        if (ApiResults.ParseId(id) is not { } gid) return ApiResults.NotFound();
        var deleted = await groups.DeleteAsync(user.RequiredAccountId(), gid, ct);
        return deleted.IsOk ? Results.Json(new { }) : ApiResults.Error(deleted.Error!);
    }

    public static async Task<IResult> Join(string id, ClaimsPrincipal user, GroupService groups, NpgsqlDataSource db, CancellationToken ct)
    {
        if (ApiResults.ParseId(id) is not { } gid) return ApiResults.NotFound();
        var me = user.RequiredAccountId();
        return await Present(await groups.JoinAsync(me, gid, ct), me, groups, db, ct);
    }

    public static async Task<IResult> Leave(string id, ClaimsPrincipal user, GroupService groups, NpgsqlDataSource db, CancellationToken ct)
    {
        if (ApiResults.ParseId(id) is not { } gid) return ApiResults.NotFound();
        var me = user.RequiredAccountId();
        return await Present(await groups.LeaveAsync(me, gid, ct), me, groups, db, ct);
    }

    public static async Task<IResult> Members(string id, HttpRequest request, ClaimsPrincipal user, GroupService groups, AccountPresenter accounts,
        NpgsqlDataSource db, CancellationToken ct)
    {
        var row = ApiResults.ParseId(id) is { } gid ? await groups.FindAsync(gid, ct) : null;
        if (row is null) return ApiResults.NotFound();
        var p = await ApiParams.ReadAsync(request, ct);
        if (p.Error is not null) return Results.Json(new ApiError(p.Error), statusCode: p.ErrorStatus);
        var limit = Math.Clamp(p.GetInt("limit") ?? 40, 1, 80);
        var members = await groups.MembersAsync(row, p.GetLong("max_id"), limit, ct);
        await using var conn = await db.OpenConnectionAsync(ct);
        var presented = await accounts.PresentManyAsync(conn, members.Select(m => m.AccountId).ToArray(), user.RequiredAccountId(), ct);
        return Results.Json(members.Where(m => presented.ContainsKey(m.AccountId)).Select(m => new ApiGroupMember(presented[m.AccountId], m.Role)).ToList());
    }

    public static async Task<IResult> Requests(string id, ClaimsPrincipal user, GroupService groups, AccountPresenter accounts, NpgsqlDataSource db,
        CancellationToken ct)
    {
        if (ApiResults.ParseId(id) is not { } gid) return ApiResults.NotFound();
        var me = user.RequiredAccountId();
        var requests = await groups.RequestsAsync(me, gid, ct);
        if (!requests.IsOk) return ApiResults.Error(requests.Error!);
        await using var conn = await db.OpenConnectionAsync(ct);
        var presented = await accounts.PresentManyAsync(conn, requests.Value.ToArray(), me, ct);
        return Results.Json(requests.Value.Where(presented.ContainsKey).Select(r => presented[r]).ToList());
    }

    public static async Task<IResult> Approve(string id, string accountId, ClaimsPrincipal user, GroupService groups, NpgsqlDataSource db, CancellationToken ct)
    {
        if (ApiResults.ParseId(id) is not { } gid || ApiResults.ParseId(accountId) is not { } requester) return ApiResults.NotFound();
        var me = user.RequiredAccountId();
        return await Present(await groups.ApproveAsync(me, gid, requester, ct), me, groups, db, ct);
    }

    public static async Task<IResult> Reject(string id, string accountId, ClaimsPrincipal user, GroupService groups, NpgsqlDataSource db, CancellationToken ct)
    {
        if (ApiResults.ParseId(id) is not { } gid || ApiResults.ParseId(accountId) is not { } requester) return ApiResults.NotFound();
        var me = user.RequiredAccountId();
        return await Present(await groups.RejectAsync(me, gid, requester, ct), me, groups, db, ct);
    }

    public static async Task<IResult> SetRole(string id, string accountId, HttpRequest request, ClaimsPrincipal user, GroupService groups, NpgsqlDataSource db,
        CancellationToken ct)
    {
        if (ApiResults.ParseId(id) is not { } gid || ApiResults.ParseId(accountId) is not { } member) return ApiResults.NotFound();
        var p = await ApiParams.ReadAsync(request, ct);
        if (p.Error is not null) return Results.Json(new ApiError(p.Error), statusCode: p.ErrorStatus);
        var me = user.RequiredAccountId();
        return await Present(await groups.SetRoleAsync(me, gid, member, p.Get("role"), ct), me, groups, db, ct);
    }

    static async Task<IResult> Present(Result<GroupRow> result, long me, GroupService groups, NpgsqlDataSource db, CancellationToken ct) =>
        result.IsOk ? Results.Json(await PresentAsync(result.Value, me, groups, db, ct)) : ApiResults.Error(result.Error!);

    static async Task<ApiGroup> PresentAsync(GroupRow row, long viewer, GroupService groups, NpgsqlDataSource db, CancellationToken ct)
    {
        await using var conn = await db.OpenConnectionAsync(ct);
        var account = await conn.AccountByIdAsync(row.AccountId, null, ct);
        return new ApiGroup
        {
            Id = ApiResults.Id(account.Id),
            Username = account.Username,
            Acct = account.Acct,
            DisplayName = account.DisplayName,
            Note = account.Note,
            Uri = account.Uri,
            Url = account.Url,
            Kind = row.Kind,
            Membership = row.IsCoop ? "account" : account.Locked ? "approved" : "open",
            MembersCount = await groups.MemberCountAsync(row, ct),
            CreatedAt = row.CreatedAt,
            Role = await groups.RoleAsync(row, viewer, ct),
            Requested = await groups.RequestedAsync(row.AccountId, viewer, ct),
        };
    }
}
