using System.Security.Claims;
using Fellows.Server.Features.Auth;
using Fellows.Server.Features.Mastodon;

namespace Fellows.Server.Features.Push;

/// <summary>Mastodon's <c>/api/v1/push/subscription</c>: one Web Push subscription per access token.</summary>
public static class PushEndpoints
{
    public static void MapPushEndpoints(this IEndpointRouteBuilder app)
    {
        var group = app.MapGroup("/api/v1/push/subscription").WithTags("Push");
        group.MapPost("/", Subscribe).RequireScope("push").WithName("PushSubscribe");
        group.MapGet("/", Get).RequireScope("push").WithName("PushSubscription");
        group.MapPut("/", Update).RequireScope("push").WithName("PushUpdate");
        group.MapDelete("/", Delete).RequireScope("push").WithName("PushUnsubscribe");
    }

    static string? BearerToken(HttpRequest request) =>
        request.Headers.Authorization.ToString() is { } header && header.StartsWith("Bearer ", StringComparison.OrdinalIgnoreCase)
            ? header[7..].Trim()
            : request.Query["access_token"].ToString() is { Length: > 0 } query ? query : null;

    public static async Task<IResult> Subscribe(HttpRequest request, ClaimsPrincipal user, PushService push, CancellationToken ct)
    {
        var p = await ApiParams.ReadAsync(request, ct);
        if (p.Error is not null) return Results.Json(new ApiError(p.Error), statusCode: p.ErrorStatus);
        if (user.TokenId() is not { } tokenId || BearerToken(request) is not { } token) return ApiResults.Error(Common.Error.Unauthorized());
        var result = await push.SubscribeAsync(tokenId, user.RequiredAccountId(), token, p, ct);
        return result.IsOk ? Results.Json(await push.PresentAsync(result.Value, ct)) : ApiResults.Error(result.Error!);
    }

    public static async Task<IResult> Get(ClaimsPrincipal user, PushService push, CancellationToken ct) =>
        user.TokenId() is { } tokenId && await push.FindAsync(tokenId, ct) is { } row ? Results.Json(await push.PresentAsync(row, ct)) : ApiResults.NotFound();

    public static async Task<IResult> Update(HttpRequest request, ClaimsPrincipal user, PushService push, CancellationToken ct)
    {
        var p = await ApiParams.ReadAsync(request, ct);
        if (p.Error is not null) return Results.Json(new ApiError(p.Error), statusCode: p.ErrorStatus);
        if (user.TokenId() is not { } tokenId) return ApiResults.NotFound();
        var result = await push.UpdateAsync(tokenId, p, ct);
        return result.IsOk ? Results.Json(await push.PresentAsync(result.Value, ct)) : ApiResults.Error(result.Error!);
    }

    public static async Task<IResult> Delete(ClaimsPrincipal user, PushService push, CancellationToken ct)
    {
        if (user.TokenId() is { } tokenId) await push.UnsubscribeAsync(tokenId, ct);
        return Results.Json(new { });
    }
}
