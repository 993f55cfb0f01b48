using System.Text;
using System.Text.Encodings.Web;
using Fellows.Server.Features.Auth;
using Microsoft.AspNetCore.Antiforgery;

namespace Fellows.Server.Features.OAuth;

/// <summary>
/// The server-rendered pages of the authorization endpoint: sign-in, consent, the out-of-band code and errors.
/// Every value from a request or the database goes through <see cref="E"/>; no script runs on these pages.
/// </summary>
public static class OAuthPages
{
    static readonly Dictionary<string, string> ScopeDescriptions = new(StringComparer.Ordinal)
    {
        ["read"] = "Read everything in your account: posts, timelines, notifications, follows, lists and settings",
        ["write"] = "Post, edit and delete, follow, boost, favourite and change your profile and settings",
        ["follow"] = "Follow, block and mute accounts, and see who you follow, block and mute",
        ["push"] = "Receive push notifications",
        ["profile"] = "Know who you are (your public profile), nothing more",
        ["read:accounts"] = "See your account's details",
        ["read:blocks"] = "See who you block",
        ["read:bookmarks"] = "See your bookmarks",
        ["read:favourites"] = "See your favourites",
        ["read:filters"] = "See your filters",
        ["read:follows"] = "See who you follow and who follows you",
        ["read:lists"] = "See your lists",
        ["read:mutes"] = "See who you mute",
        ["read:notifications"] = "See your notifications",
        ["read:search"] = "Search on your behalf",
        ["read:statuses"] = "See posts, including those only your followers or the people you mention can see",
        ["write:accounts"] = "Change your profile",
        ["write:blocks"] = "Block and unblock accounts and domains",
        ["write:bookmarks"] = "Bookmark posts",
        ["write:conversations"] = "Mute and delete conversations",
        ["write:favourites"] = "Favourite posts",
        ["write:filters"] = "Create and change filters",
        ["write:follows"] = "Follow and unfollow accounts",
        ["write:lists"] = "Create and change lists",
        ["write:media"] = "Upload media",
        ["write:mutes"] = "Mute and unmute accounts and conversations",
        ["write:notifications"] = "Clear your notifications",
        ["write:reports"] = "Report other accounts",
        ["write:statuses"] = "Publish, edit and delete posts",
    };

    static string E(string? value) => HtmlEncoder.Default.Encode(value ?? "");

    public static string Describe(string scope) =>
        ScopeDescriptions.TryGetValue(scope, out var d) ? d
        : scope.StartsWith("admin:", StringComparison.Ordinal) ? "Administer this instance (" + scope + ")"
        : scope;

    public static IResult SignIn(HttpContext context, IAntiforgery antiforgery, string? appName, string returnTo,
        string? login = null, string? error = null, int status = StatusCodes.Status200OK)
    {
        var body = new StringBuilder();
        body.Append("<h1>Sign in</h1>");
        if (appName is not null)
            body.Append("<p>to let <strong>").Append(E(appName)).Append("</strong> use your account.</p>");
        if (error is not null) body.Append("<p class=\"error\" role=\"alert\">").Append(E(error)).Append("</p>");
        body.Append("<form method=\"post\" action=\"/oauth/sign_in\">")
            .Append(Csrf(context, antiforgery))
            .Append("<input type=\"hidden\" name=\"return_to\" value=\"").Append(E(returnTo)).Append("\">")
            .Append("<label for=\"login\">E-mail address or username</label>")
            .Append("<input id=\"login\" name=\"login\" type=\"text\" autocomplete=\"username\" required autofocus value=\"").Append(E(login)).Append("\">")
            .Append("<label for=\"password\">Password</label>")
            .Append("<input id=\"password\" name=\"password\" type=\"password\" autocomplete=\"current-password\" required>")
            .Append("<button type=\"submit\">Sign in</button></form>");
        return Page(context, "Sign in", body.ToString(), status);
    }

    public static IResult Consent(HttpContext context, IAntiforgery antiforgery, AuthorizeRequest request, SessionMember member, string domain, string switchAccountUrl)
    {
        var body = new StringBuilder();
        body.Append("<h1>Authorize ").Append(E(request.App.Name)).Append("?</h1>");
        body.Append("<p>Signed in as <strong>@").Append(E(member.Username)).Append('@').Append(E(domain)).Append("</strong>. ")
            .Append("<a href=\"").Append(E(switchAccountUrl)).Append("\">Not you?</a></p>");
        if (request.App.Website is { } site)
            body.Append("<p>Website: ").Append(E(site)).Append("</p>");
        body.Append("<p>This application will be able to:</p><ul class=\"scopes\">");
        foreach (var scope in request.Scopes)
            body.Append("<li><code>").Append(E(scope)).Append("</code> ").Append(E(Describe(scope))).Append("</li>");
        body.Append("</ul>");
        body.Append("<form method=\"post\" action=\"/oauth/authorize\">").Append(Csrf(context, antiforgery));
        Hidden(body, "client_id", request.App.ClientId);
        Hidden(body, "redirect_uri", request.RedirectUri);
        Hidden(body, "response_type", "code");
        Hidden(body, "scope", string.Join(' ', request.Scopes));
        Hidden(body, "state", request.State);
        Hidden(body, "code_challenge", request.CodeChallenge);
        Hidden(body, "code_challenge_method", request.CodeChallengeMethod);
        body.Append("<button type=\"submit\" name=\"decision\" value=\"approve\">Authorize</button> ")
            .Append("<button type=\"submit\" name=\"decision\" value=\"deny\" class=\"secondary\">Deny</button></form>");
        return Page(context, "Authorize " + request.App.Name, body.ToString(), StatusCodes.Status200OK, FormTarget(request.RedirectUri));
    }

    public static IResult OutOfBandCode(HttpContext context, string appName, string code) => Page(context, "Authorization code",
        "<h1>Authorization code</h1><p>Copy this code and paste it into <strong>" + E(appName) + "</strong>:</p>" +
        "<p><code id=\"code\" class=\"code\">" + E(code) + "</code></p>", StatusCodes.Status200OK);

    public static IResult Denied(HttpContext context, string appName) => Page(context, "Authorization denied",
        "<h1>Authorization denied</h1><p>" + E(appName) + " was not given access to your account.</p>", StatusCodes.Status200OK);

    public static IResult Error(HttpContext context, string title, string message, int status = StatusCodes.Status400BadRequest) =>
        Page(context, title, "<h1>" + E(title) + "</h1><p class=\"error\" role=\"alert\">" + E(message) + "</p>", status);

    static string Csrf(HttpContext context, IAntiforgery antiforgery)
    {
        var tokens = antiforgery.GetAndStoreTokens(context);
        return "<input type=\"hidden\" name=\"" + E(tokens.FormFieldName) + "\" value=\"" + E(tokens.RequestToken) + "\">";
    }

    static void Hidden(StringBuilder body, string name, string? value)
    {
        if (value is null) return;
        body.Append("<input type=\"hidden\" name=\"").Append(E(name)).Append("\" value=\"").Append(E(value)).Append("\">");
    }

    /// <summary>
    /// Browsers apply CSP form-action to the redirect after a form is posted, so the consent form may also go to
    /// the app's redirect URI (its origin, or its scheme for custom-scheme apps).
    /// </summary>
    static string? FormTarget(string redirectUri)
    {
        if (redirectUri == OAuthConstants.OutOfBand || !Uri.TryCreate(redirectUri, UriKind.Absolute, out var uri)) return null;
        return uri.Scheme is "http" or "https" ? uri.GetLeftPart(UriPartial.Authority) : uri.Scheme + ":";
    }

    static IResult Page(HttpContext context, string title, string body, int status, string? extraFormAction = null)
    {
        var headers = context.Response.Headers;
        headers.CacheControl = "no-store";
        headers.Pragma = "no-cache";
        headers["Referrer-Policy"] = "no-referrer";
        headers["X-Content-Type-Options"] = "nosniff";
        headers["X-Frame-Options"] = "DENY";
        headers.ContentSecurityPolicy = "default-src 'none'; style-src 'unsafe-inline'; img-src 'self'; base-uri 'none'; frame-ancestors 'none'; " +
            "form-action 'self'" + (extraFormAction is null ? "" : " " + extraFormAction);
        var html = $$"""
            <!DOCTYPE html>
            <html lang="en">
            <head>
            <meta charset="utf-8">
            <meta name="viewport" content="width=device-width, initial-scale=1">
            <meta name="robots" content="noindex">
            <title>{{E(title)}}</title>
            <style>
            body { font-family: system-ui, sans-serif; max-width: 28rem; margin: 3rem auto; padding: 0 1rem; line-height: 1.5; color: #1d1d1f; }
            label { display: block; margin-top: 1rem; font-weight: 600; }
            input[type=text], input[type=password] { width: 100%; padding: .5rem; font-size: 1rem; box-sizing: border-box; }
            button { margin-top: 1.25rem; padding: .6rem 1.2rem; font-size: 1rem; }
            .secondary { background: none; }
            .error { color: #a00; }
            .code { font-size: 1.1rem; word-break: break-all; user-select: all; }
            </style>
            </head>
            <body>
            <main>
            {{body}}
            </main>
            </body>
            </html>
            """;
        return Results.Content(html, "text/html; charset=utf-8", Encoding.UTF8, status);
    }
}
