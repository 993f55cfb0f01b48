using Fellows.Federation.Signatures;

namespace Fellows.Federation.Http;

/// <summary>What the delivery queue should do with a POST to an inbox.</summary>
public enum DeliveryOutcome
{
    /// <summary>2xx: done.</summary>
    Delivered,

    /// <summary>Try again later (5xx, 408, 429, timeouts, connection errors, open circuit).</summary>
    Retryable,

    /// <summary>Do not try again (other 4xx, redirects, refused address).</summary>
    Permanent,
}

/// <summary>The outcome of <see cref="ActivityPubClient.PostAsync"/>.</summary>
/// <param name="Outcome">Delivered, retryable or permanent.</param>
/// <param name="StatusCode">The HTTP status of the last answer, if any.</param>
/// <param name="RetryAfter">How long the remote (or our open circuit) asks us to wait, if it said.</param>
/// <param name="Scheme">The signature scheme of the last attempt.</param>
/// <param name="Message">Detail for logs.</param>
public sealed record DeliveryResult(
    DeliveryOutcome Outcome,
    int? StatusCode,
    TimeSpan? RetryAfter,
    SignatureScheme? Scheme,
    string Message)
{
    /// <summary>True when the connection was refused by <see cref="AddressFilter"/>.</summary>
    public bool BlockedAddress { get; init; }

    /// <summary>True when nothing was sent because the host's circuit was open.</summary>
    public bool CircuitOpen { get; init; }
}
