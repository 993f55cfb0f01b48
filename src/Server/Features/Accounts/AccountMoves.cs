using Dapper;
using Fellows.Server.Common;
using Fellows.Server.Configuration;
using Fellows.Server.Features.Auth;
using Fellows.Server.Features.Federation;
using Fellows.Server.Features.Follows;
using Npgsql;

namespace Fellows.Server.Features.Accounts;

/// <summary>
/// Moving between servers, as Mastodon does it: the new account first names the old one as an alias
/// (alsoKnownAs); then the old account moves, its followers here follow the new one, and its followers
/// elsewhere are told by a Move, which their servers honour only because the alias agrees.
/// </summary>
public sealed class AccountMoves(NpgsqlDataSource db, RemoteActors remote, OutboundPublisher publisher,
    FollowMigration migration, Discovery.PublicDocumentCache documents, TimeProvider clock)
{
    public const int MaxAliases = 10;

    public async Task<IReadOnlyList<string>> AliasesAsync(long accountId, CancellationToken ct)
    {
        await using var conn = await db.OpenConnectionAsync(ct);
        return (await conn.AccountByIdAsync(accountId, null, ct)).AlsoKnownAs;
    }

    public async Task<Result<IReadOnlyList<string>>> AddAliasAsync(long accountId, string acct, CancellationToken ct)
    {
        var other = await ResolveAsync(acct, ct);
        if (!other.IsOk) return other.Error!;
        if (other.Value.Id == accountId) return Error.Validation("Validation failed: an account cannot be its own alias");
        return await ChangeAliasesAsync(accountId, aliases => aliases.Contains(other.Value.Uri) ? aliases : [.. aliases, other.Value.Uri], ct);
    }

    public async Task<Result<IReadOnlyList<string>>> RemoveAliasAsync(long accountId, string acctOrUri, CancellationToken ct)
    {
        string uri;
        if (Uri.TryCreate(acctOrUri, UriKind.Absolute, out var given) && given.Scheme is "https" or "http") uri = acctOrUri;
        else
        {
            var other = await ResolveAsync(acctOrUri, ct);
            if (!other.IsOk) return other.Error!;
            uri = other.Value.Uri;
        }
        return await ChangeAliasesAsync(accountId, aliases => aliases.Where(a => a != uri).ToArray(), ct);
    }

    async Task<Result<IReadOnlyList<string>>> ChangeAliasesAsync(long accountId, Func<string[], string[]> change, CancellationToken ct)
    {
        await using var conn = await db.OpenConnectionAsync(ct);
        await using var tx = await conn.BeginTransactionAsync(ct);
        var me = await conn.QuerySingleAsync<Account>(new CommandDefinition($"{AccountQueries.ById} FOR UPDATE", new { id = accountId }, tx, cancellationToken: ct));
        var aliases = change(me.AlsoKnownAs.ToArray());
        if (aliases.Length > MaxAliases) return Error.Validation($"Validation failed: at most {MaxAliases} aliases");
        if (aliases.SequenceEqual(me.AlsoKnownAs)) return aliases;
        await conn.ExecuteAsync(new CommandDefinition("UPDATE accounts SET also_known_as = @aliases, updated_at = @now WHERE id = @id",
            new { aliases, now = clock.GetUtcNow(), id = accountId }, tx, cancellationToken: ct));
        await publisher.ActorUpdatedAsync(conn, tx, await conn.AccountByIdAsync(accountId, tx, ct), ct);
        await tx.CommitAsync(ct);
        documents.Invalidate(me.Username);
        return aliases;
    }

    /// <summary>Moves the member to <paramref name="acct"/>, which must already list them as an alias.</summary>
    public async Task<Result<Account>> MoveAsync(long accountId, string acct, string currentPassword, CancellationToken ct)
    {
        if (!await PasswordMatchesAsync(accountId, currentPassword, ct))
            return Error.Validation("Validation failed: current password is incorrect");
        var resolved = await ResolveAsync(acct, ct, forceRefresh: true);
        if (!resolved.IsOk) return resolved.Error!;
        var target = resolved.Value;
        if (target.Id == accountId) return Error.Validation("Validation failed: an account cannot move to itself");
        if (target.MovedToAccountId is not null) return Error.Validation("Validation failed: the new account has itself moved away");

        await using var conn = await db.OpenConnectionAsync(ct);
        await using var tx = await conn.BeginTransactionAsync(ct);
        var me = await conn.QuerySingleAsync<Account>(new CommandDefinition($"{AccountQueries.ById} FOR UPDATE", new { id = accountId }, tx, cancellationToken: ct));
        if (!target.AlsoKnownAs.Contains(me.Uri))
            return Error.Validation(
                $"Validation failed: {acct} does not list this account ({me.Uri}) as an alias; add it there first");
        if (me.MovedToAccountId == target.Id) return me;
        await conn.ExecuteAsync(new CommandDefinition("""
            UPDATE accounts SET moved_to_account_id = @target, updated_at = @now WHERE id = @id;
            UPDATE users SET moved_at = @now WHERE account_id = @id;
            """, new { target = target.Id, id = accountId, now = clock.GetUtcNow() }, tx, cancellationToken: ct));
        await migration.MoveLocalFollowersAsync(conn, tx, me, target, ct);
        // The actor now says where it went, and the followers' servers are asked to follow the new account.
        await publisher.ActorUpdatedAsync(conn, tx, me, ct, movedTo: target.Uri);
        await publisher.MovedAsync(conn, tx, me, target, ct);
        await tx.CommitAsync(ct);
        documents.Invalidate(me.Username);
        return await conn.AccountByIdAsync(accountId, null, ct);
    }

    async Task<bool> PasswordMatchesAsync(long accountId, string password, CancellationToken ct)
    {
        await using var conn = await db.OpenConnectionAsync(ct);
        var hash = await conn.ExecuteScalarAsync<string?>(new CommandDefinition(
            "SELECT password_hash FROM users WHERE account_id = @accountId", new { accountId }, cancellationToken: ct));
        return hash is not null && PasswordHasher.Verify(password, hash);
    }

    /// <summary>An account by <c>user</c>, <c>user@domain</c> or actor URL, asking its server when we don't know it.</summary>
    async Task<Result<Account>> ResolveAsync(string acct, CancellationToken ct, bool forceRefresh = false)
    {
        acct = acct.Trim();
        Account? found;
        if (Uri.TryCreate(acct, UriKind.Absolute, out var uri) && uri.Scheme is "https" or "http")
            found = (forceRefresh ? await remote.RefetchForMemberAsync(uri.AbsoluteUri, ct) : await remote.ResolveAsync(uri.AbsoluteUri, false, ct))
                ?? await FindLocalByUriAsync(uri.AbsoluteUri, ct);
        else
        {
            var parts = acct.TrimStart('@').Split('@', 2);
            if (parts[0].Length == 0) return Error.Validation("Validation failed: give an account as user@domain");
            // This server's own domain counts as local there.
            found = await remote.ResolveHandleAsync(parts[0], parts.Length == 2 ? parts[1] : null, ct);
            if (found is not null && forceRefresh && !found.IsLocal)
                found = await remote.RefetchForMemberAsync(found.Uri, ct) ?? found;
        }
        return found is null ? Error.NotFound($"Account {acct} could not be found") : found;
    }

    async Task<Account?> FindLocalByUriAsync(string uri, CancellationToken ct)
    {
        await using var conn = await db.OpenConnectionAsync(ct);
        return await conn.QuerySingleOrDefaultAsync<Account>(new CommandDefinition(AccountQueries.ByUri, new { uri }, cancellationToken: ct));
    }
}
