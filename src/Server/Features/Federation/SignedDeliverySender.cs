using Fellows.Federation.Http;
using Fellows.Server.Features.Delivery;

namespace Fellows.Server.Features.Federation;

/// <summary>Delivers with the actor's own key through the ActivityPub client (double-knock, per-host circuit breaker).</summary>
public sealed class SignedDeliverySender(MemberSigners signers, ActivityPubClient client) : IDeliverySender
{
    public async Task<DeliveryAttempt> SendAsync(DeliveryJob job, CancellationToken ct)
    {
        if (!Uri.TryCreate(job.InboxUrl, UriKind.Absolute, out var inbox)) return DeliveryAttempt.GiveUp(null, "inbox is not a URL");
        var signer = await signers.ForAsync(job.ActorAccountId, ct);
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
}
