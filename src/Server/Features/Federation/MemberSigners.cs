using System.Collections.Concurrent;
using Dapper;
using Fellows.Federation.Http;
using Fellows.Federation.Signatures;
using Npgsql;

namespace Fellows.Server.Features.Federation;

/// <summary>
/// Request signers made from local accounts' RSA keys, built once per account: deliveries are signed by their
/// actor, and so are fetches made on a member's behalf (a followers-only post is served only to its audience).
/// </summary>
public sealed class MemberSigners(NpgsqlDataSource db)
{
    readonly ConcurrentDictionary<long, IRequestSigner> _signers = new();

    /// <summary>The signer for <paramref name="accountId"/>, or null when it has no private key (a remote account).</summary>
    public async Task<IRequestSigner?> ForAsync(long accountId, CancellationToken ct)
    {
        if (_signers.TryGetValue(accountId, out var signer)) return signer;
        await using var conn = await db.OpenConnectionAsync(ct);
        var key = await conn.QuerySingleOrDefaultAsync<(string KeyId, string PrivateKey)?>(new CommandDefinition(
            "SELECT key_id, private_key FROM account_keys WHERE account_id = @accountId AND kind = 'rsa' AND private_key IS NOT NULL",
            new { accountId }, cancellationToken: ct));
        if (key is null) return null;
        // Signature dates are wall-clock time: that is what receivers check them against.
        signer = new HttpMessageSigner(SigningKey.FromRsaPem(key.Value.KeyId, key.Value.PrivateKey), TimeProvider.System);
        return _signers.GetOrAdd(accountId, signer);
    }
}
