using System.Text.RegularExpressions;
using Dapper;
using Fellows.Server.Common;
using Fellows.Server.Configuration;
using Fellows.Server.Features.Auth;
using Npgsql;

namespace Fellows.Server.Features.Accounts;

public sealed record LocalAccountSummary
{
    public required long Id { get; init; }
    public required string Username { get; init; }
    public required string Email { get; init; }
    public required bool Admin { get; init; }
    public bool Approved { get; init; } = true;
    public required DateTimeOffset CreatedAt { get; init; }
}

/// <summary>A member to create. Sign-up through the API sets the approval state, locale, reason and app.</summary>
public sealed record NewLocalMember(string Username, string Email, string Password)
{
    public bool Admin { get; init; }
    public bool Approved { get; init; } = true;
    public string Locale { get; init; } = "en";
    public string? Reason { get; init; }
    public bool AgreementAccepted { get; init; }
    public long? ApplicationId { get; init; }
}

public sealed partial class AccountService(NpgsqlDataSource db, InstanceUrls urls, TimeProvider clock)
{
    [GeneratedRegex("^[a-zA-Z0-9_]{1,30}$")]
    private static partial Regex UsernamePattern();

    [GeneratedRegex(@"^[^@\s]+@[^@\s]+\.[^@\s]+$")]
    private static partial Regex EmailPattern();

    /// <summary>Usernames nobody may take: they collide with routes or impersonate the instance.</summary>
    static readonly HashSet<string> Reserved = new(StringComparer.OrdinalIgnoreCase)
    {
        "admin", "administrator", "root", "support", "help", "actor", "instance", "inbox", "outbox", "api", "oauth",
        "well-known", "nodeinfo", "users", "tags", "settings", "about", "system", "postmaster", "webmaster", "abuse",
        "security", "noreply", "no-reply", "mod", "moderator", "moderators", "council", "coop",
    };

    /// <summary>True for usernames nobody may take.</summary>
    public static bool IsReserved(string username) => Reserved.Contains(username);

    public static bool IsValidUsername(string username) => UsernamePattern().IsMatch(username);

    public static bool IsValidEmail(string email) => email.Length <= 320 && EmailPattern().IsMatch(email);

    public Task<Result<long>> CreateLocalAsync(string username, string email, string password, bool admin, CancellationToken ct) =>
        CreateLocalAsync(new NewLocalMember(username, email, password) { Admin = admin }, ct);

    public async Task<Result<long>> CreateLocalAsync(NewLocalMember member, CancellationToken ct)
    {
        var (username, email, password, admin) = (member.Username, member.Email, member.Password, member.Admin);
        if (!UsernamePattern().IsMatch(username))
            return Error.Validation("Username must be 1-30 letters, digits or underscores");
        if (Reserved.Contains(username))
            return Error.Validation($"Username '{username}' is reserved");
        if (!EmailPattern().IsMatch(email) || email.Length > 320)
            return Error.Validation("E-mail address is not valid");
        if (password.Length < 8 || password.Length > 1024)
            return Error.Validation("Password must be between 8 and 1024 characters");

        var keys = LocalKeyMaterial.Generate();
        var hash = PasswordHasher.Hash(password);
        var now = clock.GetUtcNow();

        await using var conn = await db.OpenConnectionAsync(ct);
        await using var tx = await conn.BeginTransactionAsync(ct);
        long id;
        try
        {
            id = await conn.ExecuteScalarAsync<long>(new CommandDefinition(AccountQueries.InsertLocal, new
            {
                username,
                uri = urls.Actor(username),
                url = urls.Profile(username),
                actorType = "Person",
                displayName = "",
                inbox = urls.Inbox(username),
                sharedInbox = urls.SharedInbox,
                outbox = urls.Outbox(username),
                followers = urls.Followers(username),
                following = urls.Following(username),
                featured = urls.Featured(username),
                locked = false,
                bot = false,
                now,
            }, tx, cancellationToken: ct));
            await conn.ExecuteAsync(new CommandDefinition(AccountQueries.InsertUser,
                new
                {
                    accountId = id, email, passwordHash = hash, admin, approved = member.Approved, locale = member.Locale,
                    reason = member.Reason, agreementAt = member.AgreementAccepted ? now : (DateTimeOffset?)null,
                    applicationId = member.ApplicationId, now,
                }, tx, cancellationToken: ct));
        }
        catch (PostgresException e) when (e.SqlState == PostgresErrorCodes.UniqueViolation)
        {
            return e.ConstraintName == "users_email"
                ? Error.Conflict("E-mail address is already in use")
                : Error.Conflict($"Username '{username}' is already taken");
        }
        await InsertKeysAsync(conn, tx, id, urls.RsaKeyId(username), urls.Ed25519KeyId(username), keys, now, ct);
        await tx.CommitAsync(ct);
        return id;
    }

    internal static async Task InsertKeysAsync(NpgsqlConnection conn, NpgsqlTransaction tx, long accountId, string rsaKeyId,
        string edKeyId, LocalKeyMaterial keys, DateTimeOffset now, CancellationToken ct)
    {
        await conn.ExecuteAsync(new CommandDefinition(AccountQueries.InsertKey,
            new { keyId = rsaKeyId, accountId, kind = "rsa", publicKey = keys.RsaPublicPem, privateKey = keys.RsaPrivatePem, now },
            tx, cancellationToken: ct));
        await conn.ExecuteAsync(new CommandDefinition(AccountQueries.InsertKey,
            new { keyId = edKeyId, accountId, kind = "ed25519", publicKey = keys.Ed25519PublicMultibase, privateKey = keys.Ed25519PrivateSeed, now },
            tx, cancellationToken: ct));
    }

    /// <summary>Lets a member who signed up into the co-op; false when they were already approved.</summary>
    public async Task<Result<bool>> ApproveLocalAsync(string username, CancellationToken ct)
    {
        await using var conn = await db.OpenConnectionAsync(ct);
        var approved = await conn.QuerySingleOrDefaultAsync<bool?>(new CommandDefinition(
            "SELECT u.approved FROM users u JOIN accounts a ON a.id = u.account_id WHERE a.domain IS NULL AND lower(a.username) = lower(@username)",
            new { username }, cancellationToken: ct));
        if (approved is null) return Error.NotFound($"No member named '{username}'");
        if (approved.Value) return false;
        await conn.ExecuteAsync(new CommandDefinition(
            """
            UPDATE users SET approved = true, approved_at = @now
            WHERE account_id = (SELECT id FROM accounts WHERE domain IS NULL AND lower(username) = lower(@username))
            """, new { username, now = clock.GetUtcNow() }, cancellationToken: ct));
        return true;
    }

    public async Task<IReadOnlyList<LocalAccountSummary>> ListLocalAsync(CancellationToken ct)
    {
        await using var conn = await db.OpenConnectionAsync(ct);
        var rows = await conn.QueryAsync<LocalAccountSummary>(new CommandDefinition(
            "SELECT a.id, a.username, u.email, u.admin, u.approved, a.created_at FROM accounts a JOIN users u ON u.account_id = a.id ORDER BY a.id",
            cancellationToken: ct));
        return rows.AsList();
    }

    public async Task<Account?> FindLocalAsync(string username, CancellationToken ct)
    {
        await using var conn = await db.OpenConnectionAsync(ct);
        return await conn.QuerySingleOrDefaultAsync<Account>(new CommandDefinition(AccountQueries.LocalByUsername, new { username }, cancellationToken: ct));
    }

    public async Task<Account?> FindAsync(long id, CancellationToken ct)
    {
        await using var conn = await db.OpenConnectionAsync(ct);
        return await conn.FindAccountByIdAsync(id, null, ct);
    }

    public async Task<Account?> FindByUriAsync(string uri, CancellationToken ct)
    {
        await using var conn = await db.OpenConnectionAsync(ct);
        return await conn.QuerySingleOrDefaultAsync<Account>(new CommandDefinition(AccountQueries.ByUri, new { uri }, cancellationToken: ct));
    }

    public async Task<IReadOnlyList<AccountKey>> KeysOfAsync(long accountId, CancellationToken ct)
    {
        await using var conn = await db.OpenConnectionAsync(ct);
        return (await conn.QueryAsync<AccountKey>(new CommandDefinition(AccountQueries.KeysOf, new { accountId }, cancellationToken: ct))).AsList();
    }
}
