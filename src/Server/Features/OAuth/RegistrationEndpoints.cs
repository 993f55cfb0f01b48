using System.Security.Claims;
using System.Text.RegularExpressions;
using Dapper;
using Fellows.Server.Configuration;
using Fellows.Server.Features.Accounts;
using Fellows.Server.Features.Auth;
using Microsoft.Extensions.Options;
using Npgsql;

namespace Fellows.Server.Features.OAuth;

/// <summary>One field's problem in Mastodon's sign-up error shape (<c>ERR_TAKEN</c>, <c>ERR_BLANK</c>, ...).</summary>
public sealed record FieldError(string Error, string Description);

/// <summary>Mastodon's 422 for sign-up: a summary plus the problems per field.</summary>
public sealed record ValidationErrors(string Error, IReadOnlyDictionary<string, FieldError[]> Details);

/// <summary>
/// Sign-up through <c>POST /api/v1/accounts</c> with an app token, as Mastodon apps offer it. The instance decides
/// with <c>Instance:Registrations</c>: open, approval (the co-op admits each applicant) or closed.
/// </summary>
public static partial class RegistrationEndpoints
{
    /// <summary>Sign-ups allowed per client address in the throttle window (Mastodon allows five per half hour).</summary>
    internal const int MaxSignUpsPerAddress = 5;

    const int MaxReasonLength = 1000;

    [GeneratedRegex("^[a-z]{2,3}([_-][A-Za-z0-9]{2,8})?$")]
    private static partial Regex LocalePattern();

    public static void MapRegistrationEndpoints(this IEndpointRouteBuilder app) =>
        app.MapPost("/api/v1/accounts", SignUp).RequireScope("write:accounts", requireUser: false).WithName("SignUp");

    public static async Task<IResult> SignUp(HttpContext context, ClaimsPrincipal user, AccountService accounts, OAuthService oauth,
        SignInService signIn, NpgsqlDataSource db, IOptions<InstanceOptions> options, CancellationToken ct)
    {
        var instance = options.Value;
        if (!instance.OpenRegistrations)
            return Results.Json(new ApiError("Registrations are closed on this instance"), statusCode: StatusCodes.Status403Forbidden);
        // The new member's token belongs to the app that signed them up (command-line tokens have none).
        if (user.ApplicationId() is not { } applicationId)
            return Results.Json(new ApiError("Sign-up needs a token issued to an application"), statusCode: StatusCodes.Status403Forbidden);
        var (p, readError) = await OAuthEndpoints.ReadParamsAsync(context.Request, ct);
        if (readError is not null) return Results.Json(new ApiError(readError.Description), statusCode: readError.Status);

        var username = p!.Get("username")?.Trim() ?? "";
        var email = p.Get("email")?.Trim() ?? "";
        var password = p.Get("password") ?? "";
        var locale = p.Get("locale")?.Trim() is { Length: > 0 } l ? l : "en";
        var reason = p.Get("reason")?.Trim() is { Length: > 0 } r ? r : null;

        var details = new Dictionary<string, List<FieldError>>(StringComparer.Ordinal);
        void Add(string field, string code, string description)
        {
            if (!details.TryGetValue(field, out var list)) details[field] = list = [];
            list.Add(new FieldError(code, description));
        }

        if (username.Length == 0) Add("username", "ERR_BLANK", "can't be blank");
        else if (username.Length > 30) Add("username", "ERR_TOO_LONG", "is too long (maximum is 30 characters)");
        else if (!AccountService.IsValidUsername(username)) Add("username", "ERR_INVALID", "must contain only letters, numbers and underscores");
        else if (AccountService.IsReserved(username)) Add("username", "ERR_RESERVED", "is reserved");
        if (email.Length == 0) Add("email", "ERR_BLANK", "can't be blank");
        else if (!AccountService.IsValidEmail(email)) Add("email", "ERR_INVALID", "is invalid");
        if (password.Length == 0) Add("password", "ERR_BLANK", "can't be blank");
        else if (password.Length < 8) Add("password", "ERR_TOO_SHORT", "is too short (minimum is 8 characters)");
        else if (password.Length > 1024) Add("password", "ERR_TOO_LONG", "is too long (maximum is 1024 characters)");
        if (p.GetBool("agreement") != true) Add("agreement", "ERR_ACCEPTED", "must be accepted");
        if (!LocalePattern().IsMatch(locale)) Add("locale", "ERR_INCLUSION", "is not included in the list");
        if (reason is { Length: > MaxReasonLength }) Add("reason", "ERR_TOO_LONG", $"is too long (maximum is {MaxReasonLength} characters)");

        if (!details.ContainsKey("username") || !details.ContainsKey("email"))
        {
            await using var conn = await db.OpenConnectionAsync(ct);
            var taken = await conn.QuerySingleAsync<(bool Username, bool Email)>(new CommandDefinition(
                """
                SELECT EXISTS (SELECT 1 FROM accounts WHERE domain IS NULL AND lower(username) = lower(@username)),
                       EXISTS (SELECT 1 FROM users WHERE lower(email) = lower(@email))
                """, new { username, email }, cancellationToken: ct));
            if (taken.Username && !details.ContainsKey("username")) Add("username", "ERR_TAKEN", "is already taken");
            if (taken.Email && !details.ContainsKey("email")) Add("email", "ERR_TAKEN", "is already taken");
        }
        if (details.Count > 0) return Invalid(details);

        if (!await signIn.TryAttemptAsync("signup:" + OAuthEndpoints.RemoteIp(context), MaxSignUpsPerAddress, ct))
            return Results.Json(new ApiError("Too many requests"), statusCode: StatusCodes.Status429TooManyRequests);

        var created = await accounts.CreateLocalAsync(new NewLocalMember(username, email, password)
        {
            Approved = !instance.ApprovalRequired,
            Locale = locale,
            Reason = reason,
            AgreementAccepted = true,
            ApplicationId = applicationId,
        }, ct);
        if (!created.IsOk)
        {
            // Lost a race for the same name or address since the check above.
            var field = created.Error!.Message.Contains("mail", StringComparison.OrdinalIgnoreCase) ? "email" : "username";
            Add(field, "ERR_TAKEN", "is already taken");
            return Invalid(details);
        }

        // The new member's token carries the scopes of the app token that signed them up, as in Mastodon. While
        // they wait for approval it answers 403 "pending approval" everywhere.
        var scopes = user.FindAll(BearerAuthenticationHandler.ScopeClaim).Select(c => c.Value).ToArray();
        return Results.Json(await oauth.IssueForSignUpAsync(applicationId, created.Value, scopes, ct));
    }

    static IResult Invalid(Dictionary<string, List<FieldError>> details)
    {
        var summary = string.Join(", ", details.SelectMany(kv => kv.Value.Select(e => $"{Humanize(kv.Key)} {e.Description}")));
        return Results.Json(new ValidationErrors("Validation failed: " + summary, details.ToDictionary(kv => kv.Key, kv => kv.Value.ToArray())),
            statusCode: StatusCodes.Status422UnprocessableEntity);
    }

    static string Humanize(string field) => field switch
    {
        "email" => "E-mail address",
        _ => char.ToUpperInvariant(field[0]) + field[1..],
    };
}
