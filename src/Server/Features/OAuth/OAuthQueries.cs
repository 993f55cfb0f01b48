namespace Fellows.Server.Features.OAuth;

static class OAuthQueries
{
    const string AppColumns = "id, name, website, redirect_uris, scopes, client_id, client_secret_hash, created_at";

    public const string InsertApp = $"""
        INSERT INTO oauth_applications (name, website, redirect_uris, scopes, client_id, client_secret_hash, created_at)
        VALUES (@name, @website, @redirectUris, @scopes, @clientId, @secretHash, @now)
        RETURNING {AppColumns}
        """;

    public const string AppByClientId = $"SELECT {AppColumns} FROM oauth_applications WHERE client_id = @clientId";
    public const string AppById = $"SELECT {AppColumns} FROM oauth_applications WHERE id = @id";

    public const string InsertToken = """
        INSERT INTO oauth_access_tokens (token_hash, refresh_token_hash, application_id, account_id, scopes, created_at, grant_id)
        VALUES (@hash, @refreshHash, @applicationId, @accountId, @scopes, @now, @grantId)
        RETURNING id
        """;

    /// <summary>Scopes of the member's live tokens for the app: a grant they already gave.</summary>
    public const string LiveGrantScopes = """
        SELECT scopes FROM oauth_access_tokens
        WHERE application_id = @applicationId AND account_id = @accountId AND revoked_at IS NULL
          AND (expires_at IS NULL OR expires_at > @now)
        """;

    public const string InsertCode = """
        INSERT INTO oauth_authorization_codes (code_hash, application_id, account_id, redirect_uri, scopes, code_challenge,
                                               code_challenge_method, created_at, expires_at)
        VALUES (@hash, @applicationId, @accountId, @redirectUri, @scopes, @challenge, @method, @now, @expiresAt)
        """;

    /// <summary>Locks the code so two racing exchanges cannot both succeed.</summary>
    public const string CodeForUpdate = """
        SELECT id, application_id, account_id, redirect_uri, scopes, code_challenge, code_challenge_method, expires_at, used_at
        FROM oauth_authorization_codes WHERE code_hash = @hash FOR UPDATE
        """;

    public const string UseCode = "UPDATE oauth_authorization_codes SET used_at = @now WHERE id = @id";

    /// <summary>A grant's whole family: the tokens issued from it and every refresh since.</summary>
    public const string RevokeGrant = """
        UPDATE oauth_access_tokens SET revoked_at = @now
        WHERE (grant_id = @grantId OR id = @grantId) AND revoked_at IS NULL
        """;

    public const string TokenByRefreshForUpdate = """
        SELECT id, application_id, account_id, scopes, grant_id, revoked_at, rotated_at, expires_at
        FROM oauth_access_tokens WHERE refresh_token_hash = @hash FOR UPDATE
        """;

    public const string Rotate = "UPDATE oauth_access_tokens SET revoked_at = @now, rotated_at = @now WHERE id = @id";

    public const string TokenForRevocation = """
        SELECT id, application_id FROM oauth_access_tokens WHERE token_hash = @hash OR refresh_token_hash = @hash
        """;

    public const string RevokeToken = "UPDATE oauth_access_tokens SET revoked_at = @now WHERE id = @id AND revoked_at IS NULL";

    /// <summary>Who may act through the grant: an approved, enabled member of this instance.</summary>
    public const string MemberState = """
        SELECT a.id AS AccountId, a.username, u.password_hash AS PasswordHash, u.approved, u.disabled_at AS DisabledAt,
               a.suspended_at AS SuspendedAt
        FROM users u JOIN accounts a ON a.id = u.account_id
        WHERE a.domain IS NULL AND a.deleted_at IS NULL
        """;

    public const string MemberByLogin = $"""
        {MemberState}
          AND (lower(u.email) = lower(@login) OR lower(a.username) = lower(@login))
        ORDER BY (lower(u.email) = lower(@login)) DESC
        LIMIT 1
        """;

    public const string MemberById = $"{MemberState} AND a.id = @accountId";

    public const string InsertSession = """
        INSERT INTO web_sessions (token_hash, account_id, created_at, expires_at, user_agent, remote_ip)
        VALUES (@hash, @accountId, @now, @expiresAt, @userAgent, @ip)
        """;

    public const string SessionByHash = """
        SELECT s.id AS SessionId, a.id AS AccountId, a.username
        FROM web_sessions s
        JOIN accounts a ON a.id = s.account_id
        JOIN users u ON u.account_id = a.id
        WHERE s.token_hash = @hash AND s.revoked_at IS NULL AND s.expires_at > @now
          AND u.approved AND u.disabled_at IS NULL AND a.suspended_at IS NULL AND a.deleted_at IS NULL
        """;

    public const string RevokeSession = "UPDATE web_sessions SET revoked_at = @now WHERE token_hash = @hash AND revoked_at IS NULL";

    public const string UpdateLastSignIn = "UPDATE users SET last_sign_in_at = @now WHERE account_id = @accountId";

    /// <summary>Attempts counted in the current window (a window older than @windowStart no longer counts).</summary>
    public const string ThrottleCount = """
        SELECT coalesce(max(attempts), 0) FROM sign_in_throttle
        WHERE key = ANY(@keys) AND window_started_at > @windowStart
        """;

    public const string ThrottleHit = """
        INSERT INTO sign_in_throttle (key, attempts, window_started_at) VALUES (@key, 1, @now)
        ON CONFLICT (key) DO UPDATE SET
            attempts = CASE WHEN sign_in_throttle.window_started_at > @windowStart THEN sign_in_throttle.attempts + 1 ELSE 1 END,
            window_started_at = CASE WHEN sign_in_throttle.window_started_at > @windowStart THEN sign_in_throttle.window_started_at ELSE @now END
        """;

    public const string ThrottleClear = "DELETE FROM sign_in_throttle WHERE key = @key";
}
