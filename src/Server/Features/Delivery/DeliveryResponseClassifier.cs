namespace Fellows.Server.Features.Delivery;

/// <summary>
/// The safety net for a sender that throws instead of returning a value. Statuses are classified once, by the
/// ActivityPub client (<see cref="Fellows.Federation.Http.DeliveryResult"/>).
/// </summary>
public static class DeliveryResponseClassifier
{
    /// <summary>A failure with no answer: connection refused or reset, DNS, TLS, timeout. Always worth retrying.</summary>
    public static DeliveryAttempt ClassifyFailure(Exception error) => error switch
    {
        TaskCanceledException or TimeoutException => DeliveryAttempt.TryAgain(null, "timed out"),
        HttpRequestException http => DeliveryAttempt.TryAgain(null, $"{http.HttpRequestError}: {http.Message}"),
        _ => DeliveryAttempt.TryAgain(null, error.Message),
    };
}
