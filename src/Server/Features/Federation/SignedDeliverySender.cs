using System.Collections.Concurrent;
using Dapper;
using Fellows.Federation.Http;
using Fellows.Federation.Signatures;
using Fellows.Server.Features.Delivery;
using Npgsql;

namespace Fellows.Server.Features.Federation;

/// <summary>Delivers with the actor's own key through the ActivityPub client (double-knock, per-host circuit breaker).</summary>
public sealed class SignedDeliverySender(NpgsqlDataSource db, ActivityPubClient client) : IDeliverySender
{
    readonly ConcurrentDictionary<long, IRequestSigner> _signers = new();

    public async Task<DeliveryAttempt> SendAsync(DeliveryJob job, CancellationToken ct)
    {
        if (!Uri.TryCreate(job.InboxUrl, UriKind.Absolute, out var inbox)) return DeliveryAttempt.GiveUp(null, "inbox is not a URL");
        var signer = await SignerAsync(job.ActorAccountId, ct);
        if (signer is null) return DeliveryAttempt.GiveUp(null, "the sending account has no key");
        var result = await client.PostAsync(inbox, job.Body, signer, ct);
        var status = result.StatusCode;
        return result.Outcome switch
        {
            DeliveryOutcome.Delivered => DeliveryAttempt.Succeeded(status ?? 202),
            DeliveryOutcome.Retryable => DeliveryAttempt.TryAgain(status, result.Message, result.RetryAfter),
            _ => DeliveryAttempt.GiveUp(status, result.Message),
        };
    }

    async Task<IRequestSigner?> SignerAsync(long accountId, CancellationToken ct)
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
