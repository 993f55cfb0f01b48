namespace Fellows.Server.Features.Delivery;

/// <summary>One POST of one activity to one inbox.</summary>
public sealed record DeliveryJob
{
    public required long DeliveryId { get; init; }
    public required string InboxUrl { get; init; }

    /// <summary>The host the inbox is on (lower-case, with port when not default); the circuit breaker's key.</summary>
    public required string Host { get; init; }

    public required ReadOnlyMemory<byte> Body { get; init; }

    /// <summary>The local account whose key signs the request.</summary>
    public required long ActorAccountId { get; init; }

    public required string ActivityId { get; init; }

    /// <summary>Attempts already made before this one.</summary>
    public required int Attempts { get; init; }
}

/// <summary>What one attempt came to. The queue, not the sender, decides when to try again.</summary>
public abstract record DeliveryAttempt
{
    DeliveryAttempt() { }

    public static DeliveryAttempt Succeeded(int status) => new Delivered(status);

    public static DeliveryAttempt TryAgain(int? status, string error, TimeSpan? retryAfter = null) => new Retry(status, error, retryAfter);

    public static DeliveryAttempt GiveUp(int? status, string error) => new Permanent(status, error);

    /// <summary>The inbox accepted the activity (2xx).</summary>
    public sealed record Delivered(int Status) : DeliveryAttempt;

    /// <summary>
    /// Worth trying again later: 5xx, 408, 429, timeouts, connection failures. <paramref name="RetryAfter"/> is the
    /// server's Retry-After, honoured in place of the back-off when given. <paramref name="Status"/> is null when
    /// no response came back.
    /// </summary>
    public sealed record Retry(int? Status, string Error, TimeSpan? RetryAfter) : DeliveryAttempt;

    /// <summary>Never going to work (4xx other than 408 and 429, an unusable URL): dead at once.</summary>
    public sealed record Permanent(int? Status, string Error) : DeliveryAttempt;
}

/// <summary>
/// Sends one delivery; the federation layer provides it (signed, through the ActivityPub client).
/// Implementations return errors as <see cref="DeliveryAttempt"/> values and throw only when <paramref name="ct"/> is cancelled.
/// </summary>
public interface IDeliverySender
{
    Task<DeliveryAttempt> SendAsync(DeliveryJob job, CancellationToken ct);
}
