using System.Security.Cryptography;
using System.Text;
using System.Text.RegularExpressions;
using Dapper;
using Fellows.Server.Common;
using Fellows.Server.Features.Auth;
using Fellows.Server.Features.Mastodon;
using Npgsql;

namespace Fellows.Server.Features.OAuth;

/// <summary>A token response or an RFC 6749 error.</summary>
public readonly record struct GrantResult(ApiToken? Token, OAuthError? Error)
{
    public static implicit operator GrantResult(ApiToken token) => new(token, null);
    public static implicit operator GrantResult(OAuthError error) => new(null, error);
}

/// <summary>
/// The OAuth 2 authorization server: app registration, authorization codes (PKCE, RFC 7636), the token grants
/// (authorization_code, client_credentials, password, refresh_token) and revocation (RFC 7009).
/// </summary>
public sealed partial class OAuthService(NpgsqlDataSource db, SignInService signIn, TimeProvider clock, TokenCache tokenCache)
{
    const int MaxNameLength = 60;
    const int MaxUriLength = 2000;
    const int MaxRedirectUris = 20;

    /// <summary>Schemes a browser would run or read locally instead of handing to an app.</summary>
    static readonly HashSet<string> ForbiddenSchemes = new(StringComparer.OrdinalIgnoreCase) { "javascript", "data", "vbscript", "file", "about", "blob" };

    [GeneratedRegex("^[A-Za-z0-9._~-]{43,128}$")]
    private static partial Regex PkcePattern();

    // ---- Applications ----

    public async Task<Result<(OAuthApplication App, string Secret)>> RegisterAppAsync(string? name, string? website,
        IReadOnlyList<string> redirectUriValues, string? scopesValue, CancellationToken ct)
    {
        name = name?.Trim();
        if (string.IsNullOrEmpty(name)) return Error.Validation("Validation failed: Application name can't be blank");
        if (name.Length > MaxNameLength) return Error.Validation($"Validation failed: Application name is too long (maximum is {MaxNameLength} characters)");
        website = string.IsNullOrWhiteSpace(website) ? null : website.Trim();
        if (website is not null && (website.Length > MaxUriLength || !Uri.TryCreate(website, UriKind.Absolute, out var site) || site.Scheme is not ("http" or "https")))
            return Error.Validation("Validation failed: Website is invalid");

        // One value may hold several URIs separated by newlines (Doorkeeper's stored form) or spaces.
        var redirectUris = redirectUriValues
            .SelectMany(v => v.Split((char[]?)null, StringSplitOptions.RemoveEmptyEntries))
            .Distinct(StringComparer.Ordinal).ToArray();
        if (redirectUris.Length == 0) return Error.Validation("Validation failed: Redirect URI can't be blank");
        if (redirectUris.Length > MaxRedirectUris) return Error.Validation($"Validation failed: Redirect URI has too many entries (maximum is {MaxRedirectUris})");
        foreach (var uri in redirectUris)
            if (RedirectUriProblem(uri) is { } problem) return Error.Validation($"Validation failed: Redirect URI {problem}");

        var scopes = Scopes.Parse(scopesValue);
        if (scopes.Length == 0) scopes = [Scopes.Read];
        var unknown = scopes.Where(s => !Scopes.IsKnown(s)).ToArray();
        if (unknown.Length > 0) return Error.Validation($"Validation failed: Scopes are not valid: {string.Join(' ', unknown)}");

        var clientId = TokenService.NewToken();
        var secret = TokenService.NewToken();
        await using var conn = await db.OpenConnectionAsync(ct);
        var app = await conn.QuerySingleAsync<OAuthApplication>(new CommandDefinition(OAuthQueries.InsertApp, new
        {
            name, website, redirectUris, scopes, clientId, secretHash = TokenService.HashToken(secret), now = clock.GetUtcNow(),
        }, cancellationToken: ct));
        return (app, secret);
    }

    static string? RedirectUriProblem(string uri)
    {
        if (uri == OAuthConstants.OutOfBand) return null;
        if (uri.Length > MaxUriLength) return "is too long";
        // On Unix "/path" parses as an absolute file: URI; an absolute URI here must spell out its scheme.
        if (!Uri.TryCreate(uri, UriKind.Absolute, out var parsed) || !uri.StartsWith(parsed.Scheme + ":", StringComparison.OrdinalIgnoreCase))
            return "must be an absolute URI.";
        if (ForbiddenSchemes.Contains(parsed.Scheme)) return "must not use the " + parsed.Scheme + " scheme.";
        if (uri.Contains('#', StringComparison.Ordinal)) return "cannot contain a fragment.";
        return null;
    }

    public async Task<OAuthApplication?> FindAppAsync(string? clientId, CancellationToken ct)
    {
        if (string.IsNullOrEmpty(clientId) || clientId.Length > 128) return null;
        await using var conn = await db.OpenConnectionAsync(ct);
        return await conn.QuerySingleOrDefaultAsync<OAuthApplication>(new CommandDefinition(OAuthQueries.AppByClientId, new { clientId }, cancellationToken: ct));
    }

    public async Task<OAuthApplication?> FindAppAsync(long id, CancellationToken ct)
    {
        await using var conn = await db.OpenConnectionAsync(ct);
        return await conn.QuerySingleOrDefaultAsync<OAuthApplication>(new CommandDefinition(OAuthQueries.AppById, new { id }, cancellationToken: ct));
    }

    /// <summary>The app whose id and secret these are, or null; the comparison takes the same time either way.</summary>
    public async Task<OAuthApplication?> AuthenticateClientAsync(string? clientId, string? secret, CancellationToken ct)
    {
        var app = await FindAppAsync(clientId, ct);
        var presented = TokenService.HashToken(secret ?? "");
        var expected = app?.ClientSecretHash ?? new byte[presented.Length];
        var match = CryptographicOperations.FixedTimeEquals(presented, expected);
        return app is not null && secret is { Length: > 0 and <= 256 } && match ? app : null;
    }

    public static ApiApplication Present(OAuthApplication app) => new(
        ApiResults.Id(app.Id), app.Name, app.Website, app.Scopes, string.Join('\n', app.RedirectUris), app.RedirectUris);

    public static ApiCredentialApplication Present(OAuthApplication app, string secret) => new(
        ApiResults.Id(app.Id), app.Name, app.Website, app.Scopes, string.Join('\n', app.RedirectUris), app.RedirectUris,
        app.ClientId, secret, 0);

    // ---- Authorization requests ----

    /// <summary>Checks a request to the authorization endpoint; the error text is shown on a page, never redirected.</summary>
    public static Result<AuthorizeRequest> ValidateAuthorize(OAuthApplication app, string? redirectUri, string? responseType,
        string? scope, string? state, string? codeChallenge, string? codeChallengeMethod)
    {
        if (string.IsNullOrEmpty(redirectUri))
        {
            if (app.RedirectUris.Length != 1) return Error.Validation("The request names no redirect URI and the application has several.");
            redirectUri = app.RedirectUris[0];
        }
        if (!RedirectUriRegistered(app, redirectUri))
            return Error.Validation("The redirect URI in the request is not registered for this application.");
        if (responseType != "code")
            return Error.Validation("The authorization server only supports the response type 'code'.");
        var scopes = Scopes.Parse(scope);
        if (scopes.Length == 0) scopes = [Scopes.Read];
        if (!scopes.All(Scopes.IsKnown) || !Scopes.AllCovered(app.Scopes, scopes))
            return Error.Validation("The requested scope is invalid, unknown, or not allowed for this application.");
        if (state is { Length: > 2000 }) return Error.Validation("The state parameter is too long.");
        if (string.IsNullOrEmpty(codeChallenge))
        {
            if (!string.IsNullOrEmpty(codeChallengeMethod)) return Error.Validation("A code challenge method was given without a code challenge.");
            return new AuthorizeRequest(app, redirectUri, scopes, NullIfEmpty(state), null, null);
        }
        // RFC 7636 4.3: "plain" when the method is left out.
        var method = string.IsNullOrEmpty(codeChallengeMethod) ? "plain" : codeChallengeMethod;
        if (method is not ("S256" or "plain")) return Error.Validation("The code challenge method must be S256 or plain.");
        if (!PkcePattern().IsMatch(codeChallenge)) return Error.Validation("The code challenge is malformed.");
        return new AuthorizeRequest(app, redirectUri, scopes, NullIfEmpty(state), codeChallenge, method);
    }

    static string? NullIfEmpty(string? s) => string.IsNullOrEmpty(s) ? null : s;

    /// <summary>
    /// Exact match, except that a loopback redirect may use any port (RFC 8252 7.3): native apps listen on
    /// whichever port is free when they sign in.
    /// </summary>
    internal static bool RedirectUriRegistered(OAuthApplication app, string redirectUri)
    {
        foreach (var registered in app.RedirectUris)
        {
            if (string.Equals(registered, redirectUri, StringComparison.Ordinal)) return true;
            if (Uri.TryCreate(registered, UriKind.Absolute, out var r) && Uri.TryCreate(redirectUri, UriKind.Absolute, out var q)
                && r.Scheme == "http" && q.Scheme == "http" && r.IsLoopback && r.HostNameType != UriHostNameType.Dns
                && string.Equals(r.Host, q.Host, StringComparison.OrdinalIgnoreCase)
                && r.PathAndQuery == q.PathAndQuery && string.IsNullOrEmpty(q.Fragment) && string.IsNullOrEmpty(q.UserInfo))
                return true;
        }
        return false;
    }

    /// <summary>
    /// True when the member already holds a live token of this app covering the requested scopes: as in Mastodon,
    /// signing in again then skips the consent page.
    /// </summary>
    public async Task<bool> AlreadyGrantedAsync(AuthorizeRequest request, long accountId, CancellationToken ct)
    {
        await using var conn = await db.OpenConnectionAsync(ct);
        var grants = await conn.QueryAsync<string[]>(new CommandDefinition(OAuthQueries.LiveGrantScopes,
            new { applicationId = request.App.Id, accountId, now = clock.GetUtcNow() }, cancellationToken: ct));
        return grants.Any(scopes => Scopes.AllCovered(scopes, request.Scopes));
    }

    /// <summary>Issues a single-use code for the member's consent and returns it in the clear.</summary>
    public async Task<string> IssueCodeAsync(AuthorizeRequest request, long accountId, CancellationToken ct)
    {
        var code = TokenService.NewToken();
        var now = clock.GetUtcNow();
        await using var conn = await db.OpenConnectionAsync(ct);
        await conn.ExecuteAsync(new CommandDefinition(OAuthQueries.InsertCode, new
        {
            hash = TokenService.HashToken(code),
            applicationId = request.App.Id,
            accountId,
            redirectUri = request.RedirectUri,
            scopes = request.Scopes,
            challenge = request.CodeChallenge,
            method = request.CodeChallengeMethod,
            now,
            expiresAt = now + OAuthConstants.CodeLifetime,
        }, cancellationToken: ct));
        return code;
    }

    // ---- Token grants ----

    public async Task<GrantResult> ExchangeCodeAsync(OAuthApplication app, string? code, string? redirectUri, string? codeVerifier, CancellationToken ct)
    {
        if (string.IsNullOrEmpty(code) || code.Length > 256) return OAuthError.InvalidRequest("The code parameter is missing.");
        if (string.IsNullOrEmpty(redirectUri)) return OAuthError.InvalidRequest("The redirect_uri parameter is missing.");
        var now = clock.GetUtcNow();
        await using var conn = await db.OpenConnectionAsync(ct);
        await using var tx = await conn.BeginTransactionAsync(ct);
        var row = await conn.QuerySingleOrDefaultAsync<CodeRow>(new CommandDefinition(OAuthQueries.CodeForUpdate,
            new { hash = TokenService.HashToken(code) }, tx, cancellationToken: ct));
        if (row is null || row.ApplicationId != app.Id) return OAuthError.InvalidGrant();
        if (row.UsedAt is not null)
        {
            // RFC 6749 4.1.2: a code used twice was probably stolen; everything issued from it is revoked.
            await conn.ExecuteAsync(new CommandDefinition(OAuthQueries.RevokeGrant, new { grantId = row.Id, now }, tx, cancellationToken: ct));
            await tx.CommitAsync(ct);
            tokenCache.Clear();
            return OAuthError.InvalidGrant();
        }
        if (row.ExpiresAt <= now || !string.Equals(row.RedirectUri, redirectUri, StringComparison.Ordinal))
            return OAuthError.InvalidGrant();
        if (!PkceSatisfied(row.CodeChallenge, row.CodeChallengeMethod, codeVerifier))
            return OAuthError.InvalidGrant("The code verifier does not match the code challenge of the authorization request.");

        var member = await conn.QuerySingleOrDefaultAsync<MemberState>(new CommandDefinition(OAuthQueries.MemberById,
            new { accountId = row.AccountId }, tx, cancellationToken: ct));
        if (member is null || member.Refusal != SignInFailure.None) return OAuthError.InvalidGrant();

        await conn.ExecuteAsync(new CommandDefinition(OAuthQueries.UseCode, new { id = row.Id, now }, tx, cancellationToken: ct));
        var token = await IssueAsync(conn, tx, app.Id, row.AccountId, row.Scopes, withRefresh: true, grantId: row.Id, now, ct);
        await tx.CommitAsync(ct);
        return token;
    }

    /// <summary>RFC 7636 4.6, and RFC 9700 2.1.1: a verifier sent for a code issued without a challenge is refused too.</summary>
    static bool PkceSatisfied(string? challenge, string? method, string? verifier)
    {
        if (challenge is null) return string.IsNullOrEmpty(verifier);
        if (string.IsNullOrEmpty(verifier) || !PkcePattern().IsMatch(verifier)) return false;
        var expected = method == "S256"
            ? Base64Url(SHA256.HashData(Encoding.ASCII.GetBytes(verifier)))
            : verifier;
        return CryptographicOperations.FixedTimeEquals(Encoding.ASCII.GetBytes(expected), Encoding.ASCII.GetBytes(challenge));
    }

    internal static string Base64Url(byte[] bytes) => Convert.ToBase64String(bytes).TrimEnd('=').Replace('+', '-').Replace('/', '_');

    /// <summary>A token for the app itself, acting for no member (RFC 6749 4.4: no refresh token).</summary>
    public async Task<GrantResult> ClientCredentialsAsync(OAuthApplication app, string? scope, CancellationToken ct)
    {
        if (RequestedScopes(app.Scopes, scope) is not { } scopes) return OAuthError.InvalidScope();
        await using var conn = await db.OpenConnectionAsync(ct);
        await using var tx = await conn.BeginTransactionAsync(ct);
        var token = await IssueAsync(conn, tx, app.Id, null, scopes, withRefresh: false, grantId: null, clock.GetUtcNow(), ct);
        await tx.CommitAsync(ct);
        return token;
    }

    public async Task<GrantResult> PasswordAsync(OAuthApplication app, string? username, string? password, string? scope, string remoteIp, CancellationToken ct)
    {
        if (string.IsNullOrEmpty(username) || string.IsNullOrEmpty(password))
            return OAuthError.InvalidRequest("The username and password parameters are required.");
        if (RequestedScopes(app.Scopes, scope) is not { } scopes) return OAuthError.InvalidScope();
        var (member, failure) = await signIn.CheckPasswordAsync(username, password, remoteIp, ct);
        switch (failure)
        {
            case SignInFailure.Throttled: return OAuthError.TooManyAttempts();
            case SignInFailure.PendingApproval: return OAuthError.InvalidGrant("Your login is currently pending approval");
            case SignInFailure.Disabled: return OAuthError.InvalidGrant("Your login is currently disabled");
            case SignInFailure.InvalidCredentials: return OAuthError.InvalidGrant("Invalid e-mail address or password.");
            default: break;
        }
        await using var conn = await db.OpenConnectionAsync(ct);
        await using var tx = await conn.BeginTransactionAsync(ct);
        var token = await IssueAsync(conn, tx, app.Id, member!.AccountId, scopes, withRefresh: true, grantId: null, clock.GetUtcNow(), ct);
        await tx.CommitAsync(ct);
        return token;
    }

    /// <summary>Rotates: the presented refresh token and its access token stop working and a new pair is issued.</summary>
    public async Task<GrantResult> RefreshAsync(OAuthApplication app, string? refreshToken, string? scope, CancellationToken ct)
    {
        if (string.IsNullOrEmpty(refreshToken) || refreshToken.Length > 256) return OAuthError.InvalidRequest("The refresh_token parameter is missing.");
        var now = clock.GetUtcNow();
        await using var conn = await db.OpenConnectionAsync(ct);
        await using var tx = await conn.BeginTransactionAsync(ct);
        var row = await conn.QuerySingleOrDefaultAsync<RefreshRow>(new CommandDefinition(OAuthQueries.TokenByRefreshForUpdate,
            new { hash = TokenService.HashToken(refreshToken) }, tx, cancellationToken: ct));
        if (row is null || row.ApplicationId != app.Id) return OAuthError.InvalidGrant();
        var family = row.GrantId ?? row.Id;
        if (row.RotatedAt is not null)
        {
            // A refresh token used after it was rotated away: someone else holds a copy. Revoke the whole family.
            await conn.ExecuteAsync(new CommandDefinition(OAuthQueries.RevokeGrant, new { grantId = family, now }, tx, cancellationToken: ct));
            await tx.CommitAsync(ct);
            tokenCache.Clear();
            return OAuthError.InvalidGrant();
        }
        if (row.RevokedAt is not null || row.AccountId is null) return OAuthError.InvalidGrant();
        string[] scopes = row.Scopes;
        if (!string.IsNullOrWhiteSpace(scope))
        {
            // RFC 6749 6: a refresh may narrow the scope, never widen it.
            var requested = Scopes.Parse(scope);
            if (!requested.All(Scopes.IsKnown) || !Scopes.AllCovered(row.Scopes, requested)) return OAuthError.InvalidScope();
            scopes = requested;
        }
        var member = await conn.QuerySingleOrDefaultAsync<MemberState>(new CommandDefinition(OAuthQueries.MemberById,
            new { accountId = row.AccountId }, tx, cancellationToken: ct));
        if (member is null || member.Refusal != SignInFailure.None) return OAuthError.InvalidGrant();

        await conn.ExecuteAsync(new CommandDefinition(OAuthQueries.Rotate, new { id = row.Id, now }, tx, cancellationToken: ct));
        var token = await IssueAsync(conn, tx, app.Id, row.AccountId, scopes, withRefresh: true, grantId: family, now, ct);
        await tx.CommitAsync(ct);
        tokenCache.Clear();
        return token;
    }

    /// <summary>Null when a requested scope is unknown or outside the app's; "read" when none is requested.</summary>
    static string[]? RequestedScopes(string[] appScopes, string? scope)
    {
        var scopes = Scopes.Parse(scope);
        if (scopes.Length == 0) scopes = [Scopes.Read];
        return scopes.All(Scopes.IsKnown) && Scopes.AllCovered(appScopes, scopes) ? scopes : null;
    }

    /// <summary>Issues an access token for a member who signed up through the API (no refresh token, as Mastodon).</summary>
    public async Task<ApiToken> IssueForSignUpAsync(long applicationId, long accountId, string[] scopes, CancellationToken ct)
    {
        await using var conn = await db.OpenConnectionAsync(ct);
        await using var tx = await conn.BeginTransactionAsync(ct);
        var token = await IssueAsync(conn, tx, applicationId, accountId, scopes, withRefresh: false, grantId: null, clock.GetUtcNow(), ct);
        await tx.CommitAsync(ct);
        return token;
    }

    static async Task<ApiToken> IssueAsync(NpgsqlConnection conn, NpgsqlTransaction tx, long applicationId, long? accountId,
        string[] scopes, bool withRefresh, long? grantId, DateTimeOffset now, CancellationToken ct)
    {
        var access = TokenService.NewToken();
        var refresh = withRefresh ? TokenService.NewToken() : null;
        await conn.ExecuteScalarAsync<long>(new CommandDefinition(OAuthQueries.InsertToken, new
        {
            hash = TokenService.HashToken(access),
            refreshHash = refresh is null ? null : TokenService.HashToken(refresh),
            applicationId,
            accountId,
            scopes,
            now,
            grantId,
        }, tx, cancellationToken: ct));
        return new ApiToken(access, "Bearer", string.Join(' ', scopes), now.ToUnixTimeSeconds()) { RefreshToken = refresh };
    }

    // ---- Revocation ----

    /// <summary>RFC 7009: unknown tokens are fine (the client's goal is met); another client's token is refused.</summary>
    public async Task<bool> RevokeAsync(OAuthApplication app, string token, CancellationToken ct)
    {
        if (token.Length is 0 or > 512) return true;
        await using var conn = await db.OpenConnectionAsync(ct);
        var row = await conn.QuerySingleOrDefaultAsync<RevocationRow>(new CommandDefinition(OAuthQueries.TokenForRevocation,
            new { hash = TokenService.HashToken(token) }, cancellationToken: ct));
        if (row is null) return true;
        if (row.ApplicationId != app.Id) return false;
        await conn.ExecuteAsync(new CommandDefinition(OAuthQueries.RevokeToken, new { id = row.Id, now = clock.GetUtcNow() }, cancellationToken: ct));
        tokenCache.Clear();
        return true;
    }

    sealed record CodeRow
    {
        public required long Id { get; init; }
        public required long ApplicationId { get; init; }
        public required long AccountId { get; init; }
        public required string RedirectUri { get; init; }
        public required string[] Scopes { get; init; }
        public string? CodeChallenge { get; init; }
        public string? CodeChallengeMethod { get; init; }
        public required DateTimeOffset ExpiresAt { get; init; }
        public DateTimeOffset? UsedAt { get; init; }
    }

    sealed record RevocationRow
    {
        public required long Id { get; init; }
        public long? ApplicationId { get; init; }
    }

    sealed record RefreshRow
    {
        public required long Id { get; init; }
        public long? ApplicationId { get; init; }
        public long? AccountId { get; init; }
        public required string[] Scopes { get; init; }
        public long? GrantId { get; init; }
        public DateTimeOffset? RevokedAt { get; init; }
        public DateTimeOffset? RotatedAt { get; init; }
        public DateTimeOffset? ExpiresAt { get; init; }
    }
}
