using System.Security.Claims;
using Fellows.Server.Features.Auth;
using Fellows.Server.Features.Mastodon;

namespace Fellows.Server.Features.Accounts;

/// <summary>
/// Fellows' own API for what Mastodon keeps in its web settings: account aliases and moving to another server.
/// Same conventions as the Mastodon-compatible API (bearer tokens, scopes, <c>{"error": ...}</c>).
/// </summary>
public static class ProfileEndpoints
{
    public const string Prefix = "/api/fellows/v1";

    public static void MapProfileEndpoints(this IEndpointRouteBuilder app)
    {
        var group = app.MapGroup($"{Prefix}/profile").WithTags("Profile");
        group.MapGet("/aliases", Aliases).RequireScope("read:accounts").WithName("ListAliases");
        group.MapPost("/aliases", AddAlias).RequireScope("write:accounts").WithName("AddAlias");
        group.MapDelete("/aliases", RemoveAlias).RequireScope("write:accounts").WithName("RemoveAlias");
        group.MapPost("/move", Move).RequireScope("write:accounts").WithName("MoveAccount");
    }

    sealed record AliasList(IReadOnlyList<string> Aliases);

    public static async Task<IResult> Aliases(ClaimsPrincipal user, AccountMoves moves, CancellationToken ct) =>
        Results.Json(new AliasList(await moves.AliasesAsync(user.RequiredAccountId(), ct)));

    public static async Task<IResult> AddAlias(HttpRequest request, ClaimsPrincipal user, AccountMoves moves, CancellationToken ct)
    {
        var p = await ApiParams.ReadAsync(request, ct);
        if (p.Error is not null) return Results.Json(new ApiError(p.Error), statusCode: p.ErrorStatus);
        if (p.Get("acct") is not { Length: > 0 } acct) return Results.Json(new ApiError("Validation failed: acct is required"), statusCode: 422);
        var result = await moves.AddAliasAsync(user.RequiredAccountId(), acct, ct);
        return result.IsOk ? Results.Json(new AliasList(result.Value)) : ApiResults.Error(result.Error!);
    }

    public static async Task<IResult> RemoveAlias(HttpRequest request, ClaimsPrincipal user, AccountMoves moves, CancellationToken ct)
    {
        var p = await ApiParams.ReadAsync(request, ct);
        if (p.Error is not null) return Results.Json(new ApiError(p.Error), statusCode: p.ErrorStatus);
        if (p.Get("acct") is not { Length: > 0 } acct) return Results.Json(new ApiError("Validation failed: acct is required"), statusCode: 422);
        var result = await moves.RemoveAliasAsync(user.RequiredAccountId(), acct, ct);
        return result.IsOk ? Results.Json(new AliasList(result.Value)) : ApiResults.Error(result.Error!);
    }

    /// <summary>Moves the member to another account (which must list this one as an alias); needs the current password.</summary>
    public static async Task<IResult> Move(HttpRequest request, ClaimsPrincipal user, AccountMoves moves, AccountPresenter presenter, CancellationToken ct)
    {
        var p = await ApiParams.ReadAsync(request, ct);
        if (p.Error is not null) return Results.Json(new ApiError(p.Error), statusCode: p.ErrorStatus);
        if (p.Get("acct") is not { Length: > 0 } acct) return Results.Json(new ApiError("Validation failed: acct is required"), statusCode: 422);
        var me = user.RequiredAccountId();
        var result = await moves.MoveAsync(me, acct, p.Get("current_password") ?? "", ct);
        if (!result.IsOk) return ApiResults.Error(result.Error!);
        var entity = await presenter.PresentAsync(me, me, ct);
        return entity is null ? ApiResults.NotFound() : Results.Json(entity);
    }
}
