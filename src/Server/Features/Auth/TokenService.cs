using System.Security.Cryptography;
using System.Text;
using Dapper;
using Npgsql;

namespace Fellows.Server.Features.Auth;

/// <summary>The authenticated caller of the client API.</summary>
/// <param name="PendingApproval">The member signed up but the co-op has not approved them yet: refused with a message.</param>
public sealed record TokenPrincipal(long TokenId, long? AccountId, long? ApplicationId, string[] Scopes, bool PendingApproval = false);

/// <summary>Bearer tokens: random, shown once, stored only as a SHA-256 hash.</summary>
public sealed class TokenService(NpgsqlDataSource db, TimeProvider clock, TokenCache cache)
{
    public static byte[] HashToken(string token) => SHA256.HashData(Encoding.UTF8.GetBytes(token));

    /// <summary>A fresh random secret (256 bits, base64url): tokens, codes, client ids and secrets.</summary>
    public static string NewToken() => Base64UrlEncode(RandomNumberGenerator.GetBytes(32));

    static string Base64UrlEncode(byte[] bytes) =>
        Convert.ToBase64String(bytes).TrimEnd('=').Replace('+', '-').Replace('/', '_');

    /// <summary>Creates a token for <paramref name="accountId"/> and returns it in the clear (the only time it is seen).</summary>
    public async Task<string> CreateAsync(long? accountId, long? applicationId, IReadOnlyCollection<string> scopes, CancellationToken ct)
    {
        var token = NewToken();
        await using var conn = await db.OpenConnectionAsync(ct);
        await conn.ExecuteAsync(new CommandDefinition(TokenQueries.Insert,
            new { hash = HashToken(token), applicationId, accountId, scopes = scopes.ToArray(), now = clock.GetUtcNow() },
            cancellationToken: ct));
        return token;
    }

    /// <summary>
    /// Looks a presented token up; null when unknown, revoked, expired or its member is disabled. A member still
    /// waiting for approval gets a principal marked <see cref="TokenPrincipal.PendingApproval"/>.
    /// </summary>
    public async Task<TokenPrincipal?> AuthenticateAsync(string token, CancellationToken ct)
    {
        if (token.Length is 0 or > 512) return null;
        var hash = HashToken(token);
        var now = clock.GetUtcNow();
        if (cache.Find(hash, now) is { } known) return known;
        // Read the generation before the row: a change committed after this read clears the cache again.
        var generation = cache.Generation;
        await using var conn = await db.OpenConnectionAsync(ct);
        var row = await conn.QuerySingleOrDefaultAsync<TokenRow>(new CommandDefinition(TokenQueries.FindValid,
            new { hash, now }, cancellationToken: ct));
        if (row is null) return null;
        var principal = new TokenPrincipal(row.Id, row.AccountId, row.ApplicationId, row.Scopes, row.PendingApproval);
        // A member still waiting for approval is not remembered: their approval (by an admin on the command line, say)
        // must count from the next call, not from when the notification arrives.
        if (!principal.PendingApproval) cache.Keep(hash, principal, row.ExpiresAt, generation);
        return principal;
    }

    sealed record TokenRow
    {
        public required long Id { get; init; }
        public long? AccountId { get; init; }
        public long? ApplicationId { get; init; }
        public required string[] Scopes { get; init; }
        public bool PendingApproval { get; init; }
        public DateTimeOffset? ExpiresAt { get; init; }
    }
}

static class TokenQueries
{
    public const string Insert = """
        INSERT INTO oauth_access_tokens (token_hash, application_id, account_id, scopes, created_at)
        VALUES (@hash, @applicationId, @accountId, @scopes, @now)
        """;

    public const string FindValid = """
        SELECT t.id, t.account_id AS AccountId, t.application_id AS ApplicationId, t.scopes,
               (t.account_id IS NOT NULL AND NOT u.approved) AS PendingApproval, t.expires_at AS ExpiresAt
        FROM oauth_access_tokens t
        LEFT JOIN users u ON u.account_id = t.account_id
        LEFT JOIN accounts a ON a.id = t.account_id
        WHERE t.token_hash = @hash
          AND t.revoked_at IS NULL
          AND (t.expires_at IS NULL OR t.expires_at > @now)
          AND (t.account_id IS NULL OR (u.disabled_at IS NULL AND a.suspended_at IS NULL))
        """;
}
