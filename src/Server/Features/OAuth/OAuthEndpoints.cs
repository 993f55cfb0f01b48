using System.Net.Http.Headers;
using System.Security.Claims;
using System.Text;
using Fellows.Server.Configuration;
using Fellows.Server.Features.Auth;
using Fellows.Server.Features.Mastodon;
using Microsoft.AspNetCore.Antiforgery;
using Microsoft.AspNetCore.Http.Extensions;
using Microsoft.AspNetCore.Http.Features;
using Microsoft.AspNetCore.WebUtilities;
using Microsoft.Extensions.Options;
using Microsoft.Extensions.Primitives;

namespace Fellows.Server.Features.OAuth;

/// <summary>
/// Sign-in for Mastodon apps: app registration, the authorization page, the token and revocation endpoints and
/// the RFC 8414 metadata document.
/// </summary>
public static class OAuthEndpoints
{
    public static void MapOAuthEndpoints(this IEndpointRouteBuilder app)
    {
        app.MapPost("/api/v1/apps", CreateApp).WithName("CreateApp");
        app.MapGet("/api/v1/apps/verify_credentials", VerifyApp).RequireToken().WithName("VerifyAppCredentials");
        var pages = app.MapGroup("/oauth").AddEndpointFilter(PublicSchemeFilter);
        pages.MapGet("/authorize", Authorize).WithName("OAuthAuthorize");
        pages.MapPost("/authorize", Decide).WithName("OAuthDecide");
        pages.MapPost("/sign_in", SignIn).WithName("OAuthSignIn");
        app.MapPost("/oauth/token", Token).WithName("OAuthToken");
        app.MapPost("/oauth/revoke", Revoke).WithName("OAuthRevoke");
        app.MapGet("/.well-known/oauth-authorization-server", Metadata).WithName("OAuthMetadata");
    }

    /// <summary>
    /// An https instance usually sits behind a proxy that ends TLS, so the request reaches us as plain HTTP. The
    /// configured public scheme is the truth for the pages: antiforgery then issues Secure cookies instead of
    /// refusing (its Secure policy is Always on https instances).
    /// </summary>
    static async ValueTask<object?> PublicSchemeFilter(EndpointFilterInvocationContext invocation, EndpointFilterDelegate next)
    {
        var context = invocation.HttpContext;
        if (context.RequestServices.GetRequiredService<IOptions<InstanceOptions>>().Value.Scheme == "https")
            context.Request.Scheme = "https";
        return await next(invocation);
    }

    // ---- Apps ----

    public static async Task<IResult> CreateApp(HttpRequest request, OAuthService oauth, CancellationToken ct)
    {
        var (p, error) = await ReadParamsAsync(request, ct);
        if (error is not null) return Results.Json(new ApiError(error.Description), statusCode: error.Status);
        var result = await oauth.RegisterAppAsync(p!.Get("client_name"), p.Get("website"),
            [.. p.GetList("redirect_uris"), .. p.GetList("redirect_uri")], p.Get("scopes"), ct);
        return result.IsOk ? Results.Json(OAuthService.Present(result.Value.App, result.Value.Secret)) : ApiResults.Error(result.Error!);
    }

    public static async Task<IResult> VerifyApp(ClaimsPrincipal user, OAuthService oauth, CancellationToken ct)
    {
        var app = user.ApplicationId() is { } id ? await oauth.FindAppAsync(id, ct) : null;
        return app is null
            ? Results.Json(new ApiError("This token was not issued to an application"), statusCode: StatusCodes.Status404NotFound)
            : Results.Json(OAuthService.Present(app));
    }

    // ---- The authorization page ----

    public static async Task<IResult> Authorize(HttpContext context, OAuthService oauth, SignInService signIn, IAntiforgery antiforgery,
        IOptions<InstanceOptions> options, CancellationToken ct)
    {
        var q = context.Request.Query;
        var app = await oauth.FindAppAsync(q["client_id"], ct);
        if (app is null)
            return OAuthPages.Error(context, "Unknown application", "No application with this client_id is registered here. Ask the app's developers for help.");
        var validated = OAuthService.ValidateAuthorize(app, q["redirect_uri"], q["response_type"], q["scope"], q["state"],
            q["code_challenge"], q["code_challenge_method"]);
        if (!validated.IsOk) return OAuthPages.Error(context, "This sign-in link is not valid", validated.Error!.Message);

        var cookieName = SessionCookieName(options.Value);
        var cookie = context.Request.Cookies[cookieName];
        var returnTo = AuthorizePath(q.Where(kv => kv.Key != "force_login"));
        if (IsTrue(q["force_login"]))
        {
            // Signing in as someone else: end this browser's session first (Mastodon's force_login).
            await signIn.EndSessionAsync(cookie, ct);
            context.Response.Cookies.Delete(cookieName, SessionCookieOptions(options.Value));
            return OAuthPages.SignIn(context, antiforgery, app.Name, returnTo);
        }
        var session = await signIn.FindSessionAsync(cookie, ct);
        if (session is null) return OAuthPages.SignIn(context, antiforgery, app.Name, returnTo);
        if (await oauth.AlreadyGrantedAsync(validated.Value, session.AccountId, ct))
            return await IssueCodeAsync(context, oauth, validated.Value, session, ct);
        var switchAccount = AuthorizePath(q.Where(kv => kv.Key != "force_login").Append(new("force_login", "true")));
        return OAuthPages.Consent(context, antiforgery, validated.Value, session, options.Value.Domain, switchAccount);
    }

    public static async Task<IResult> SignIn(HttpContext context, SignInService signIn, OAuthService oauth, IAntiforgery antiforgery,
        IOptions<InstanceOptions> options, CancellationToken ct)
    {
        if (await ReadPageFormAsync(context, antiforgery) is { } refused) return refused;
        var form = context.Request.Form;
        var returnTo = form["return_to"].ToString();
        if (!returnTo.StartsWith("/oauth/authorize?", StringComparison.Ordinal) || returnTo.Any(c => c is '\r' or '\n' or '\\'))
            return OAuthPages.Error(context, "Sign-in failed", "This sign-in form did not come from an app's sign-in link.");
        var clientId = QueryHelpers.ParseQuery(returnTo[(returnTo.IndexOf('?', StringComparison.Ordinal) + 1)..]).GetValueOrDefault("client_id");
        var appName = (await oauth.FindAppAsync(clientId, ct))?.Name;

        var login = form["login"].ToString();
        var (member, failure) = await signIn.CheckPasswordAsync(login, form["password"].ToString(), RemoteIp(context), ct);
        switch (failure)
        {
            case SignInFailure.Throttled:
                return OAuthPages.SignIn(context, antiforgery, appName, returnTo, login,
                    "Too many failed attempts. Wait a few minutes, then try again.", StatusCodes.Status429TooManyRequests);
            case SignInFailure.InvalidCredentials:
                return OAuthPages.SignIn(context, antiforgery, appName, returnTo, login, "Invalid e-mail address or password.", StatusCodes.Status401Unauthorized);
            case SignInFailure.PendingApproval:
                return OAuthPages.SignIn(context, antiforgery, appName, returnTo, login,
                    "Your account is waiting for the co-op's approval. You can sign in once it is approved.", StatusCodes.Status403Forbidden);
            case SignInFailure.Disabled:
                return OAuthPages.SignIn(context, antiforgery, appName, returnTo, login, "Your login is currently disabled.", StatusCodes.Status403Forbidden);
            default:
                break;
        }
        var session = await signIn.StartSessionAsync(member!.AccountId, context.Request.Headers.UserAgent.ToString(), RemoteIp(context), ct);
        context.Response.Cookies.Append(SessionCookieName(options.Value), session, SessionCookieOptions(options.Value));
        context.Response.Headers.CacheControl = "no-store";
        return Results.Redirect(returnTo, permanent: false, preserveMethod: false);
    }

    /// <summary>The consent form: Authorize issues a code, Deny tells the app so (RFC 6749 4.1.2.1 access_denied).</summary>
    public static async Task<IResult> Decide(HttpContext context, OAuthService oauth, SignInService signIn, IAntiforgery antiforgery,
        IOptions<InstanceOptions> options, CancellationToken ct)
    {
        if (await ReadPageFormAsync(context, antiforgery) is { } refused) return refused;
        var form = context.Request.Form;
        var app = await oauth.FindAppAsync(form["client_id"], ct);
        if (app is null) return OAuthPages.Error(context, "Unknown application", "No application with this client_id is registered here.");
        var validated = OAuthService.ValidateAuthorize(app, form["redirect_uri"], form["response_type"], form["scope"], form["state"],
            form["code_challenge"], form["code_challenge_method"]);
        if (!validated.IsOk) return OAuthPages.Error(context, "This sign-in link is not valid", validated.Error!.Message);
        var request = validated.Value;

        var session = await signIn.FindSessionAsync(context.Request.Cookies[SessionCookieName(options.Value)], ct);
        if (session is null)
        {
            var again = AuthorizePath(form.Where(kv => kv.Key is "client_id" or "redirect_uri" or "response_type" or "scope" or "state"
                or "code_challenge" or "code_challenge_method"));
            return OAuthPages.SignIn(context, antiforgery, app.Name, again, error: "Your session has ended. Sign in again.");
        }

        context.Response.Headers.CacheControl = "no-store";
        if (form["decision"] != "approve")
        {
            return request.OutOfBand
                ? OAuthPages.Denied(context, app.Name)
                : Results.Redirect(WithQuery(request.RedirectUri, ("error", "access_denied"),
                    ("error_description", "The resource owner denied the request."), ("state", request.State)));
        }
        return await IssueCodeAsync(context, oauth, request, session, ct);
    }

    static async Task<IResult> IssueCodeAsync(HttpContext context, OAuthService oauth, AuthorizeRequest request, SessionMember session, CancellationToken ct)
    {
        context.Response.Headers.CacheControl = "no-store";
        var code = await oauth.IssueCodeAsync(request, session.AccountId, ct);
        return request.OutOfBand
            ? OAuthPages.OutOfBandCode(context, request.App.Name, code)
            : Results.Redirect(WithQuery(request.RedirectUri, ("code", code), ("state", request.State)));
    }

    /// <summary>Caps the body, then checks the antiforgery token bound to the browser's cookie; a page when refused.</summary>
    static async Task<IResult?> ReadPageFormAsync(HttpContext context, IAntiforgery antiforgery)
    {
        if (CapBody(context.Request) is { } tooLarge)
            return OAuthPages.Error(context, "Request too large", tooLarge.Description, tooLarge.Status);
        try
        {
            await antiforgery.ValidateRequestAsync(context);
            if (!context.Request.HasFormContentType) throw new AntiforgeryValidationException("not a form");
            return null;
        }
        catch (AntiforgeryValidationException)
        {
            return OAuthPages.Error(context, "The form has expired",
                "This form could not be verified (it may be old, or sent from another site). Go back to the app and start signing in again.");
        }
        catch (BadHttpRequestException e) when (e.StatusCode == StatusCodes.Status413PayloadTooLarge)
        {
            return OAuthPages.Error(context, "Request too large", "The form is too large.", StatusCodes.Status413PayloadTooLarge);
        }
        catch (InvalidDataException)
        {
            return OAuthPages.Error(context, "Bad request", "The form could not be read.");
        }
    }

    // ---- Token and revocation ----

    public static async Task<IResult> Token(HttpContext context, OAuthService oauth, CancellationToken ct)
    {
        NoStore(context);
        var (p, readError) = await ReadParamsAsync(context.Request, ct);
        if (readError is not null) return OAuthResult(context, readError);
        var grantType = p!.Get("grant_type");
        if (string.IsNullOrEmpty(grantType)) return OAuthResult(context, OAuthError.InvalidRequest("The grant_type parameter is missing."));
        var (client, clientError) = await AuthenticateClientAsync(context, p, oauth, ct);
        if (clientError is not null) return OAuthResult(context, clientError);

        var result = grantType switch
        {
            "authorization_code" => await oauth.ExchangeCodeAsync(client!, p.Get("code"), p.Get("redirect_uri"), p.Get("code_verifier"), ct),
            "client_credentials" => await oauth.ClientCredentialsAsync(client!, p.Get("scope"), ct),
            "password" => await oauth.PasswordAsync(client!, p.Get("username"), p.Get("password"), p.Get("scope"), RemoteIp(context), ct),
            "refresh_token" => await oauth.RefreshAsync(client!, p.Get("refresh_token"), p.Get("scope"), ct),
            _ => OAuthError.UnsupportedGrantType(),
        };
        return result.Error is { } error ? OAuthResult(context, error) : Results.Json(result.Token);
    }

    public static async Task<IResult> Revoke(HttpContext context, OAuthService oauth, CancellationToken ct)
    {
        NoStore(context);
        var (p, readError) = await ReadParamsAsync(context.Request, ct);
        if (readError is not null) return OAuthResult(context, readError);
        var (client, clientError) = await AuthenticateClientAsync(context, p!, oauth, ct);
        if (clientError is not null) return OAuthResult(context, clientError);
        var token = p!.Get("token");
        if (string.IsNullOrEmpty(token)) return OAuthResult(context, OAuthError.InvalidRequest("The token parameter is missing."));
        return await oauth.RevokeAsync(client!, token, ct)
            ? Results.Json(new { })
            : OAuthResult(context, new OAuthError("unauthorized_client", "You are not authorized to revoke this token", StatusCodes.Status403Forbidden));
    }

    /// <summary>
    /// RFC 6749 2.3.1: HTTP Basic (id and secret form-encoded) or client_id/client_secret in the body, not both.
    /// </summary>
    static async Task<(OAuthApplication? App, OAuthError? Error)> AuthenticateClientAsync(HttpContext context, ApiParams p, OAuthService oauth, CancellationToken ct)
    {
        string? clientId = p.Get("client_id"), secret = p.Get("client_secret");
        var basic = false;
        if (AuthenticationHeaderValue.TryParse(context.Request.Headers.Authorization, out var header)
            && string.Equals(header.Scheme, "Basic", StringComparison.OrdinalIgnoreCase))
        {
            basic = true;
            if (secret is not null) return (null, OAuthError.InvalidRequest("Use one client authentication method: HTTP Basic or the request body, not both."));
            string decoded;
            try
            {
                decoded = Encoding.UTF8.GetString(Convert.FromBase64String(header.Parameter ?? ""));
            }
            catch (FormatException)
            {
                return (null, OAuthError.InvalidClient());
            }
            var colon = decoded.IndexOf(':', StringComparison.Ordinal);
            if (colon < 0) return (null, OAuthError.InvalidClient());
            var basicId = Uri.UnescapeDataString(decoded[..colon].Replace('+', ' '));
            if (clientId is not null && clientId != basicId) return (null, OAuthError.InvalidRequest("The client_id in the body differs from HTTP Basic."));
            (clientId, secret) = (basicId, Uri.UnescapeDataString(decoded[(colon + 1)..].Replace('+', ' ')));
        }
        var app = await oauth.AuthenticateClientAsync(clientId, secret, ct);
        if (app is not null) return (app, null);
        // RFC 6749 5.2: a client that tried HTTP Basic is told which scheme to use.
        if (basic) context.Response.Headers.WWWAuthenticate = "Basic realm=\"fellows\"";
        return (null, OAuthError.InvalidClient());
    }

    static IResult OAuthResult(HttpContext context, OAuthError error)
    {
        NoStore(context);
        return Results.Json(new ApiError(error.Code, error.Description), statusCode: error.Status);
    }

    static void NoStore(HttpContext context)
    {
        context.Response.Headers.CacheControl = "no-store";
        context.Response.Headers.Pragma = "no-cache";
    }

    // ---- Metadata ----

    public static IResult Metadata(InstanceUrls urls) => Results.Json(new
    {
        issuer = urls.Base + "/",
        service_documentation = "https://docs.joinmastodon.org/",
        authorization_endpoint = urls.Base + "/oauth/authorize",
        token_endpoint = urls.Base + "/oauth/token",
        revocation_endpoint = urls.Base + "/oauth/revoke",
        app_registration_endpoint = urls.Base + "/api/v1/apps",
        scopes_supported = Scopes.Known,
        response_types_supported = ResponseTypes,
        response_modes_supported = ResponseModes,
        grant_types_supported = GrantTypes,
        code_challenge_methods_supported = ChallengeMethods,
        token_endpoint_auth_methods_supported = ClientAuthMethods,
        revocation_endpoint_auth_methods_supported = ClientAuthMethods,
    });

    static readonly string[] ResponseTypes = ["code"];
    static readonly string[] ResponseModes = ["query"];
    static readonly string[] GrantTypes = ["authorization_code", "password", "client_credentials", "refresh_token"];
    static readonly string[] ChallengeMethods = ["S256", "plain"];
    static readonly string[] ClientAuthMethods = ["client_secret_basic", "client_secret_post"];

    // ---- Helpers ----

    /// <summary>Reads query, form or JSON parameters with the body capped small: OAuth requests are a few hundred bytes.</summary>
    internal static async Task<(ApiParams? Params, OAuthError? Error)> ReadParamsAsync(HttpRequest request, CancellationToken ct)
    {
        if (CapBody(request) is { } tooLarge) return (null, tooLarge);
        try
        {
            var p = await ApiParams.ReadAsync(request, ct);
            if (p.Error is not null) return (null, new OAuthError("invalid_request", p.Error, p.ErrorStatus));
            return (p, null);
        }
        catch (BadHttpRequestException e) when (e.StatusCode == StatusCodes.Status413PayloadTooLarge)
        {
            return (null, new OAuthError("invalid_request", "Request body too large", StatusCodes.Status413PayloadTooLarge));
        }
        catch (InvalidDataException)
        {
            return (null, OAuthError.InvalidRequest("The request body could not be read."));
        }
    }

    static OAuthError? CapBody(HttpRequest request)
    {
        if (request.ContentLength > OAuthConstants.MaxBodyBytes)
            return new OAuthError("invalid_request", "Request body too large", StatusCodes.Status413PayloadTooLarge);
        if (request.HttpContext.Features.Get<IHttpMaxRequestBodySizeFeature>() is { IsReadOnly: false } limit)
            limit.MaxRequestBodySize = OAuthConstants.MaxBodyBytes;
        return null;
    }

    static string AuthorizePath(IEnumerable<KeyValuePair<string, StringValues>> query) =>
        "/oauth/authorize" + new QueryBuilder(query.Where(kv => !StringValues.IsNullOrEmpty(kv.Value))).ToQueryString();

    /// <summary>Appends parameters to a redirect URI that may already carry a query (and may use a custom scheme).</summary>
    static string WithQuery(string uri, params (string Key, string? Value)[] values)
    {
        var sb = new StringBuilder(uri);
        var separator = uri.Contains('?', StringComparison.Ordinal) ? '&' : '?';
        foreach (var (key, value) in values)
        {
            if (value is null) continue;
            sb.Append(separator).Append(key).Append('=').Append(Uri.EscapeDataString(value));
            separator = '&';
        }
        return sb.ToString();
    }

    static bool IsTrue(StringValues value) => value.ToString().ToLowerInvariant() is "true" or "1" or "yes" or "on";

    internal static string RemoteIp(HttpContext context) => context.Connection.RemoteIpAddress?.ToString() ?? "unknown";

    /// <summary>A <c>__Host-</c> cookie (secure, whole site, no domain) over HTTPS; a plain name on plain-HTTP development servers.</summary>
    static string SessionCookieName(InstanceOptions options) => options.Scheme == "https" ? "__Host-fellows_session" : "fellows_session";

    static CookieOptions SessionCookieOptions(InstanceOptions options) => new()
    {
        HttpOnly = true,
        Secure = options.Scheme == "https",
        SameSite = SameSiteMode.Lax,
        Path = "/",
        IsEssential = true,
        MaxAge = OAuthConstants.SessionLifetime,
    };
}
