using System.Text.Json.Serialization;

namespace Fellows.Server.Features.OAuth;

/// <summary>A registered client application (row of oauth_applications).</summary>
public sealed record OAuthApplication
{
    public required long Id { get; init; }
    public required string Name { get; init; }
    public string? Website { get; init; }
    public required string[] RedirectUris { get; init; }
    public required string[] Scopes { get; init; }
    public required string ClientId { get; init; }
    public required byte[] ClientSecretHash { get; init; }
    public required DateTimeOffset CreatedAt { get; init; }
}

/// <summary>Mastodon's Application entity, as <c>GET /api/v1/apps/verify_credentials</c> returns it.</summary>
public record ApiApplication(string Id, string Name, string? Website, string[] Scopes, string RedirectUri, string[] RedirectUris);

/// <summary>Mastodon's CredentialApplication: the Application plus the credentials, returned once at registration.</summary>
public sealed record ApiCredentialApplication(
    string Id, string Name, string? Website, string[] Scopes, string RedirectUri, string[] RedirectUris,
    string ClientId, string ClientSecret, long ClientSecretExpiresAt)
    : ApiApplication(Id, Name, Website, Scopes, RedirectUri, RedirectUris);

/// <summary>Mastodon's Token entity (RFC 6749 section 5.1).</summary>
public sealed record ApiToken(string AccessToken, string TokenType, string Scope, long CreatedAt)
{
    /// <summary>Only present when one was issued (never for client credentials).</summary>
    [JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)]
    public string? RefreshToken { get; init; }
}

/// <summary>An RFC 6749 section 5.2 error, with its HTTP status.</summary>
public sealed record OAuthError(string Code, string Description, int Status = StatusCodes.Status400BadRequest)
{
    public static OAuthError InvalidRequest(string description) => new("invalid_request", description);

    public static OAuthError InvalidClient() => new("invalid_client",
        "Client authentication failed due to unknown client, no client authentication included, or unsupported authentication method.",
        StatusCodes.Status401Unauthorized);

    public static OAuthError InvalidGrant(string? description = null) => new("invalid_grant", description ??
        "The provided authorization grant is invalid, expired, revoked, does not match the redirection URI used in the authorization request, or was issued to another client.");

    public static OAuthError InvalidScope() => new("invalid_scope", "The requested scope is invalid, unknown, or malformed.");

    public static OAuthError UnsupportedGrantType() => new("unsupported_grant_type",
        "The authorization grant type is not supported by the authorization server.");

    public static OAuthError TooManyAttempts() => new("invalid_grant",
        "Too many failed sign-in attempts; try again later.", StatusCodes.Status429TooManyRequests);
}

/// <summary>A validated request to <c>/oauth/authorize</c>: everything the consent page shows and the code keeps.</summary>
public sealed record AuthorizeRequest(
    OAuthApplication App, string RedirectUri, string[] Scopes, string? State, string? CodeChallenge, string? CodeChallengeMethod)
{
    public bool OutOfBand => RedirectUri == OAuthConstants.OutOfBand;
}

/// <summary>The member signed in on the sign-in page.</summary>
public sealed record SessionMember(long SessionId, long AccountId, string Username);

public static class OAuthConstants
{
    /// <summary>Show the code on a page instead of redirecting (for apps that cannot receive a redirect).</summary>
    public const string OutOfBand = "urn:ietf:wg:oauth:2.0:oob";

    /// <summary>How long an authorization code may wait to be exchanged (RFC 6749 recommends at most ten minutes).</summary>
    public static readonly TimeSpan CodeLifetime = TimeSpan.FromMinutes(10);

    /// <summary>How long the sign-in page remembers a member.</summary>
    public static readonly TimeSpan SessionLifetime = TimeSpan.FromDays(14);

    /// <summary>OAuth requests are small: refuse bodies above this before reading them.</summary>
    public const int MaxBodyBytes = 64 * 1024;
}
