using Dapper;
using Fellows.Federation.Http;
using Fellows.Federation.Signatures;
using Fellows.Server.Configuration;
using Fellows.Server.Features.Accounts;
using Npgsql;

namespace Fellows.Server.Features.Instance;

/// <summary>
/// The instance's own actor (type Application, FEP-d556/FEP-2677). It signs the server's outgoing GETs, so it is
/// served without requiring a signature itself: otherwise two servers in authorized-fetch mode would each wait
/// for the other's key.
/// </summary>
public sealed class InstanceActor(NpgsqlDataSource db, InstanceUrls urls, TimeProvider clock)
{
    Account? _account;
    IRequestSigner? _signer;

    public Account Account => _account ?? throw new InvalidOperationException("The instance actor has not been loaded yet.");

    /// <summary>Signs the server's own GETs (authorized fetch) as the instance actor.</summary>
    public IRequestSigner Signer => _signer ?? throw new InvalidOperationException("The instance actor has not been loaded yet.");

    /// <summary>Creates the instance actor on first start and loads it.</summary>
    public async Task EnsureAsync(CancellationToken ct)
    {
        await using var conn = await db.OpenConnectionAsync(ct);
        var existing = await conn.QuerySingleOrDefaultAsync<Account>(new CommandDefinition(AccountQueries.ByUri, new { uri = urls.InstanceActor }, cancellationToken: ct));
        if (existing is null)
        {
            await using var tx = await conn.BeginTransactionAsync(ct);
            await conn.ExecuteAsync(new CommandDefinition("SELECT pg_advisory_xact_lock(hashtext('fellows-instance-actor'))", transaction: tx, cancellationToken: ct));
            existing = await conn.QuerySingleOrDefaultAsync<Account>(new CommandDefinition(AccountQueries.ByUri, new { uri = urls.InstanceActor }, tx, cancellationToken: ct));
            if (existing is null)
            {
                var now = clock.GetUtcNow();
                var id = await conn.ExecuteScalarAsync<long>(new CommandDefinition(AccountQueries.InsertLocal, new
                {
                    username = urls.Domain,
                    uri = urls.InstanceActor,
                    url = urls.Base + "/about",
                    actorType = "Application",
                    displayName = urls.Domain,
                    inbox = urls.InstanceActorInbox,
                    sharedInbox = urls.SharedInbox,
                    outbox = urls.InstanceActorOutbox,
                    followers = (string?)null,
                    following = (string?)null,
                    featured = (string?)null,
                    locked = true,
                    bot = true,
                    now,
                }, tx, cancellationToken: ct));
                await AccountService.InsertKeysAsync(conn, tx, id, urls.InstanceActorKey, urls.InstanceActor + "#ed25519-key",
                    LocalKeyMaterial.Generate(), now, ct);
                existing = await conn.AccountByIdAsync(id, tx, ct);
            }
            await tx.CommitAsync(ct);
        }
        var key = await conn.QuerySingleAsync<AccountKey>(new CommandDefinition(
            "SELECT key_id, account_id, kind, public_key, private_key FROM account_keys WHERE account_id = @id AND kind = 'rsa'",
            new { id = existing.Id }, cancellationToken: ct));
        // Signature dates are wall-clock time: that is what receivers check them against.
        _signer = new HttpMessageSigner(SigningKey.FromRsaPem(key.KeyId, key.PrivateKey!), TimeProvider.System);
        _account = existing;
    }
}
