namespace Fellows.Server.Features.Accounts;

static class AccountQueries
{
    public const string Columns = """
        a.id, a.username, a.domain, a.uri, a.url, a.actor_type, a.display_name, a.note, a.avatar_url, a.header_url,
        a.inbox_url, a.shared_inbox_url, a.outbox_url, a.followers_url, a.following_url, a.featured_url,
        a.locked, a.bot, a.discoverable, a.indexable, a.also_known_as, a.moved_to_account_id, a.fields::text AS fields,
        a.created_at, a.updated_at, a.fetched_at, a.suspended_at, a.deleted_at
        """;

    public const string ById = $"SELECT {Columns} FROM accounts a WHERE a.id = @id";
    public const string ByUri = $"SELECT {Columns} FROM accounts a WHERE a.uri = @uri";
    public const string LocalByUsername = $"SELECT {Columns} FROM accounts a WHERE lower(a.username) = lower(@username) AND a.domain IS NULL";
    public const string ByUsernameAndDomain = $"SELECT {Columns} FROM accounts a WHERE lower(a.username) = lower(@username) AND lower(coalesce(a.domain, '')) = lower(coalesce(@domain, ''))";

    public const string ListLocal = $"""
        SELECT {Columns}, u.email, u.admin
        FROM accounts a JOIN users u ON u.account_id = a.id
        WHERE a.domain IS NULL
        ORDER BY a.id
        """;

    public const string InsertLocal = """
        INSERT INTO accounts (username, domain, uri, url, actor_type, display_name, inbox_url, shared_inbox_url, outbox_url,
                              followers_url, following_url, featured_url, locked, bot, created_at, updated_at)
        VALUES (@username, NULL, @uri, @url, @actorType, @displayName, @inbox, @sharedInbox, @outbox,
                @followers, @following, @featured, @locked, @bot, @now, @now)
        RETURNING id
        """;

    public const string InsertKey = """
        INSERT INTO account_keys (key_id, account_id, kind, public_key, private_key, created_at, fetched_at)
        VALUES (@keyId, @accountId, @kind, @publicKey, @privateKey, @now, @now)
        """;

    public const string InsertUser = """
        INSERT INTO users (account_id, email, password_hash, admin, approved, approved_at, locale, registration_reason,
                           agreement_accepted_at, sign_up_application_id, created_at)
        VALUES (@accountId, @email, @passwordHash, @admin, @approved, CASE WHEN @approved THEN @now END, @locale, @reason,
                @agreementAt, @applicationId, @now)
        """;

    public const string KeysOf = "SELECT key_id, account_id, kind, public_key, private_key FROM account_keys WHERE account_id = @accountId";
    public const string KeyById = "SELECT key_id, account_id, kind, public_key, private_key FROM account_keys WHERE key_id = @keyId";
}

/// <summary>The account lookups every feature makes, inside the caller's connection and transaction.</summary>
public static class AccountLookups
{
    public static Task<Account> AccountByIdAsync(this Npgsql.NpgsqlConnection conn, long id, Npgsql.NpgsqlTransaction? tx, CancellationToken ct) =>
        Dapper.SqlMapper.QuerySingleAsync<Account>(conn, new Dapper.CommandDefinition(AccountQueries.ById, new { id }, tx, cancellationToken: ct));

    public static Task<Account?> FindAccountByIdAsync(this Npgsql.NpgsqlConnection conn, long id, Npgsql.NpgsqlTransaction? tx, CancellationToken ct) =>
        Dapper.SqlMapper.QuerySingleOrDefaultAsync<Account?>(conn, new Dapper.CommandDefinition(AccountQueries.ById, new { id }, tx, cancellationToken: ct));
}
