using System.Globalization;
using System.Security.Claims;
using System.Text.Encodings.Web;
using Microsoft.AspNetCore.Authentication;
using Microsoft.AspNetCore.Authorization;
using Microsoft.AspNetCore.Authorization.Policy;
using Microsoft.Extensions.Options;

namespace Fellows.Server.Features.Auth;

/// <summary>OAuth bearer tokens from the Authorization header (or <c>access_token</c>, which streaming clients use).</summary>
public sealed class BearerAuthenticationHandler(
    IOptionsMonitor<AuthenticationSchemeOptions> options, ILoggerFactory logger, UrlEncoder encoder, TokenService tokens)
    : AuthenticationHandler<AuthenticationSchemeOptions>(options, logger, encoder)
{
    public const string SchemeName = "Bearer";
    public const string ScopeClaim = "scope";
    public const string AccountClaim = "account_id";
    public const string TokenClaim = "token_id";
    public const string ApplicationClaim = "application_id";

    /// <summary>Set on the request when a token is refused with a reason the member should see (403, not 401).</summary>
    public const string RefusalItem = "fellows.auth.refusal";

    /// <summary>
    /// The token a request presents: the Authorization header, else (a WebSocket handshake from a browser, which
    /// cannot set headers) the first <c>Sec-WebSocket-Protocol</c> value, else the <c>access_token</c> parameter.
    /// </summary>
    public static string? PresentedToken(HttpRequest request)
    {
        var header = request.Headers.Authorization.ToString();
        if (header.StartsWith("Bearer ", StringComparison.OrdinalIgnoreCase))
            return header["Bearer ".Length..].Trim();
        var protocol = request.Headers.SecWebSocketProtocol.ToString();
        if (protocol.Length > 0)
            return protocol.Split(',', 2)[0].Trim();
        return request.Query.TryGetValue("access_token", out var q) ? q.ToString() : null;
    }

    public static bool HasToken(HttpRequest request) => !string.IsNullOrEmpty(PresentedToken(request));

    protected override async Task<AuthenticateResult> HandleAuthenticateAsync()
    {
        var token = PresentedToken(Request);
        if (string.IsNullOrEmpty(token)) return AuthenticateResult.NoResult();

        var principal = await tokens.AuthenticateAsync(token, Context.RequestAborted);
        if (principal is null) return AuthenticateResult.Fail("The access token is invalid");
        if (principal.PendingApproval)
        {
            // Mastodon answers 403 with this message so apps can tell the member why, instead of signing them out.
            Context.Items[RefusalItem] = "Your login is currently pending approval";
            return AuthenticateResult.Fail("The member is waiting for approval");
        }

        var claims = new List<Claim> { new(TokenClaim, principal.TokenId.ToString(CultureInfo.InvariantCulture)) };
        if (principal.AccountId is { } accountId)
            claims.Add(new Claim(AccountClaim, accountId.ToString(CultureInfo.InvariantCulture)));
        if (principal.ApplicationId is { } applicationId)
            claims.Add(new Claim(ApplicationClaim, applicationId.ToString(CultureInfo.InvariantCulture)));
        claims.AddRange(principal.Scopes.Select(s => new Claim(ScopeClaim, s)));
        var identity = new ClaimsIdentity(claims, SchemeName);
        return AuthenticateResult.Success(new AuthenticationTicket(new ClaimsPrincipal(identity), SchemeName));
    }
}

/// <summary>An endpoint needs a token carrying this scope (or its parent) and, unless app-only, a member.</summary>
public sealed record ScopeRequirement(string Scope, bool RequireUser = true) : IAuthorizationRequirement;

public sealed class ScopeRequirementHandler : AuthorizationHandler<ScopeRequirement>
{
    protected override Task HandleRequirementAsync(AuthorizationHandlerContext context, ScopeRequirement requirement)
    {
        var scopes = context.User.FindAll(BearerAuthenticationHandler.ScopeClaim).Select(c => c.Value);
        var hasUser = context.User.HasClaim(c => c.Type == BearerAuthenticationHandler.AccountClaim);
        if (Scopes.Covers(scopes, requirement.Scope) && (hasUser || !requirement.RequireUser))
            context.Succeed(requirement);
        return Task.CompletedTask;
    }
}

/// <summary>Answers refusals in the Mastodon API's error shape instead of empty 401/403 responses.</summary>
public sealed class JsonAuthorizationResultHandler : IAuthorizationMiddlewareResultHandler
{
    readonly AuthorizationMiddlewareResultHandler _default = new();

    public async Task HandleAsync(RequestDelegate next, HttpContext context, AuthorizationPolicy policy, PolicyAuthorizationResult authorizeResult)
    {
        if (authorizeResult.Challenged && context.Items[BearerAuthenticationHandler.RefusalItem] is string refusal)
        {
            context.Response.StatusCode = StatusCodes.Status403Forbidden;
            await context.Response.WriteAsJsonAsync(new ApiError(refusal));
            return;
        }
        if (authorizeResult.Challenged)
        {
            context.Response.StatusCode = StatusCodes.Status401Unauthorized;
            await context.Response.WriteAsJsonAsync(new ApiError("The access token is invalid"));
            return;
        }
        if (authorizeResult.Forbidden)
        {
            context.Response.StatusCode = StatusCodes.Status403Forbidden;
            var authenticated = context.User.Identity?.IsAuthenticated == true;
            var hasUser = context.User.HasClaim(c => c.Type == BearerAuthenticationHandler.AccountClaim);
            await context.Response.WriteAsJsonAsync(new ApiError(
                !authenticated ? "The access token is invalid"
                : !hasUser ? "This method requires an authenticated user"
                : "This action is outside the authorized scopes"));
            return;
        }
        await _default.HandleAsync(next, context, policy, authorizeResult);
    }
}

/// <summary>The Mastodon API's error body.</summary>
public sealed record ApiError(string Error, string? ErrorDescription = null);

public static class AuthExtensions
{
    /// <summary>Requires a member's token with <paramref name="scope"/>.</summary>
    public static TBuilder RequireScope<TBuilder>(this TBuilder builder, string scope, bool requireUser = true)
        where TBuilder : IEndpointConventionBuilder =>
        builder.RequireAuthorization(p => p
            .AddAuthenticationSchemes(BearerAuthenticationHandler.SchemeName)
            .RequireAuthenticatedUser()
            .AddRequirements(new ScopeRequirement(scope, requireUser)));

    public static long? AccountId(this ClaimsPrincipal user) =>
        long.TryParse(user.FindFirst(BearerAuthenticationHandler.AccountClaim)?.Value, NumberStyles.None, CultureInfo.InvariantCulture, out var id) ? id : null;

    public static long? ApplicationId(this ClaimsPrincipal user) =>
        long.TryParse(user.FindFirst(BearerAuthenticationHandler.ApplicationClaim)?.Value, NumberStyles.None, CultureInfo.InvariantCulture, out var id) ? id : null;

    public static long? TokenId(this ClaimsPrincipal user) =>
        long.TryParse(user.FindFirst(BearerAuthenticationHandler.TokenClaim)?.Value, NumberStyles.None, CultureInfo.InvariantCulture, out var id) ? id : null;

    /// <summary>Any valid token, member's or app's, whatever its scopes.</summary>
    public static TBuilder RequireToken<TBuilder>(this TBuilder builder)
        where TBuilder : IEndpointConventionBuilder =>
        builder.RequireAuthorization(p => p
            .AddAuthenticationSchemes(BearerAuthenticationHandler.SchemeName)
            .RequireAuthenticatedUser());

    public static long RequiredAccountId(this ClaimsPrincipal user) =>
        user.AccountId() ?? throw new InvalidOperationException("Endpoint requires a member but the policy let an app token through.");
}
