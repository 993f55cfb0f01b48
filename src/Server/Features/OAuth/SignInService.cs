using Dapper;
using Fellows.Server.Features.Auth;
using Npgsql;

namespace Fellows.Server.Features.OAuth;

public enum SignInFailure
{
    None,
    InvalidCredentials,
    Throttled,
    PendingApproval,
    Disabled,
}

/// <summary>The member behind a grant, as the sign-in checks see them.</summary>
public sealed record MemberState
{
    public required long AccountId { get; init; }
    public required string Username { get; init; }
    public required string PasswordHash { get; init; }
    public required bool Approved { get; init; }
    public DateTimeOffset? DisabledAt { get; init; }
    public DateTimeOffset? SuspendedAt { get; init; }

    public SignInFailure Refusal => DisabledAt is not null || SuspendedAt is not null ? SignInFailure.Disabled
        : !Approved ? SignInFailure.PendingApproval
        : SignInFailure.None;
}

/// <summary>
/// Password checks for the sign-in page and the password grant, throttled per login and per address so
/// passwords cannot be guessed at speed; and the sign-in page's browser sessions (random cookie, stored hashed).
/// </summary>
public sealed class SignInService(NpgsqlDataSource db, TimeProvider clock)
{
    /// <summary>Failures allowed per login (e-mail or username) in a window.</summary>
    internal const int MaxFailuresPerLogin = 10;

    /// <summary>Failures allowed per client address in a window (a shared address holds several members).</summary>
    internal const int MaxFailuresPerAddress = 30;

    internal static readonly TimeSpan Window = TimeSpan.FromMinutes(15);

    /// <summary>Verified against when the login is unknown, so a miss costs as long as a wrong password.</summary>
    static readonly Lazy<string> DecoyHash = new(() => PasswordHasher.Hash(Convert.ToBase64String(System.Security.Cryptography.RandomNumberGenerator.GetBytes(16))));

    public async Task<(MemberState? Member, SignInFailure Failure)> CheckPasswordAsync(string login, string password, string remoteIp, CancellationToken ct)
    {
        login = login.Trim();
        var loginKey = "login:" + login.ToLowerInvariant();
        var ipKey = "ip:" + remoteIp;
        await using var conn = await db.OpenConnectionAsync(ct);
        if (await AttemptsAsync(conn, loginKey, ct) >= MaxFailuresPerLogin || await AttemptsAsync(conn, ipKey, ct) >= MaxFailuresPerAddress)
            return (null, SignInFailure.Throttled);

        var member = login.Length is 0 or > 320 || password.Length is 0 or > 1024 ? null
            : await conn.QuerySingleOrDefaultAsync<MemberState>(new CommandDefinition(OAuthQueries.MemberByLogin, new { login }, cancellationToken: ct));
        bool ok;
        if (member is null)
        {
            _ = PasswordHasher.Verify(password, DecoyHash.Value);
            ok = false;
        }
        else ok = PasswordHasher.Verify(password, member.PasswordHash);
        if (!ok)
        {
            await HitAsync(conn, loginKey, ct);
            await HitAsync(conn, ipKey, ct);
            return (null, SignInFailure.InvalidCredentials);
        }
        await conn.ExecuteAsync(new CommandDefinition(OAuthQueries.ThrottleClear, new { key = loginKey }, cancellationToken: ct));
        if (member!.Refusal is not SignInFailure.None and var refusal) return (member, refusal);
        await conn.ExecuteAsync(new CommandDefinition(OAuthQueries.UpdateLastSignIn, new { accountId = member.AccountId, now = clock.GetUtcNow() }, cancellationToken: ct));
        return (member, SignInFailure.None);
    }

    /// <summary>Counts an attempt that is not a password failure (sign-ups per address); true while under <paramref name="limit"/>.</summary>
    public async Task<bool> TryAttemptAsync(string key, int limit, CancellationToken ct)
    {
        await using var conn = await db.OpenConnectionAsync(ct);
        if (await AttemptsAsync(conn, key, ct) >= limit) return false;
        await HitAsync(conn, key, ct);
        return true;
    }

    async Task<int> AttemptsAsync(NpgsqlConnection conn, string key, CancellationToken ct) =>
        await conn.ExecuteScalarAsync<int>(new CommandDefinition(OAuthQueries.ThrottleCount,
            new { keys = new[] { key }, windowStart = clock.GetUtcNow() - Window }, cancellationToken: ct));

    async Task HitAsync(NpgsqlConnection conn, string key, CancellationToken ct)
    {
        var now = clock.GetUtcNow();
        await conn.ExecuteAsync(new CommandDefinition(OAuthQueries.ThrottleHit, new { key, now, windowStart = now - Window }, cancellationToken: ct));
    }

    public async Task<MemberState?> MemberAsync(long accountId, CancellationToken ct)
    {
        await using var conn = await db.OpenConnectionAsync(ct);
        return await conn.QuerySingleOrDefaultAsync<MemberState>(new CommandDefinition(OAuthQueries.MemberById, new { accountId }, cancellationToken: ct));
    }

    /// <summary>Starts a browser session and returns the cookie value.</summary>
    public async Task<string> StartSessionAsync(long accountId, string? userAgent, string remoteIp, CancellationToken ct)
    {
        var token = TokenService.NewToken();
        var now = clock.GetUtcNow();
        await using var conn = await db.OpenConnectionAsync(ct);
        await conn.ExecuteAsync(new CommandDefinition(OAuthQueries.InsertSession, new
        {
            hash = TokenService.HashToken(token),
            accountId,
            now,
            expiresAt = now + OAuthConstants.SessionLifetime,
            userAgent = userAgent is { Length: > 512 } ? userAgent[..512] : userAgent,
            ip = remoteIp,
        }, cancellationToken: ct));
        return token;
    }

    public async Task<SessionMember?> FindSessionAsync(string? cookie, CancellationToken ct)
    {
        if (string.IsNullOrEmpty(cookie) || cookie.Length > 128) return null;
        await using var conn = await db.OpenConnectionAsync(ct);
        return await conn.QuerySingleOrDefaultAsync<SessionMember>(new CommandDefinition(OAuthQueries.SessionByHash,
            new { hash = TokenService.HashToken(cookie), now = clock.GetUtcNow() }, cancellationToken: ct));
    }

    public async Task EndSessionAsync(string? cookie, CancellationToken ct)
    {
        if (string.IsNullOrEmpty(cookie) || cookie.Length > 128) return;
        await using var conn = await db.OpenConnectionAsync(ct);
        await conn.ExecuteAsync(new CommandDefinition(OAuthQueries.RevokeSession,
            new { hash = TokenService.HashToken(cookie), now = clock.GetUtcNow() }, cancellationToken: ct));
    }
}
