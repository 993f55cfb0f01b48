using System.Net;
using System.Net.Http.Headers;

namespace Fellows.Server.Features.Delivery;

/// <summary>
/// How an inbox's answer maps to the queue's outcome, in one place so the signed client can reuse it.
/// 2xx delivered; 408 and 429 and 5xx retried; every other status is permanent, since a 4xx means this request
/// will never be accepted (410 Gone, 404, 401 with a key the server refuses).
/// </summary>
public static class DeliveryResponseClassifier
{
    public static DeliveryAttempt Classify(HttpStatusCode status, RetryConditionHeaderValue? retryAfter, DateTimeOffset now)
    {
        var code = (int)status;
        if (code is >= 200 and < 300) return DeliveryAttempt.Succeeded(code);
        if (code is 408 or 429 || code >= 500)
            return DeliveryAttempt.TryAgain(code, $"HTTP {code}", RetryAfterDelay(retryAfter, now));
        // 3xx: inbox POSTs are not redirected by the fediverse; a redirect answer is as good as a refusal.
        return DeliveryAttempt.GiveUp(code, $"HTTP {code}");
    }

    /// <summary>A failure with no answer: connection refused or reset, DNS, TLS, timeout. Always worth retrying.</summary>
    public static DeliveryAttempt ClassifyFailure(Exception error) => error switch
    {
        TaskCanceledException or TimeoutException => DeliveryAttempt.TryAgain(null, "timed out"),
        HttpRequestException http => DeliveryAttempt.TryAgain(null, $"{http.HttpRequestError}: {http.Message}"),
        _ => DeliveryAttempt.TryAgain(null, error.Message),
    };

    static TimeSpan? RetryAfterDelay(RetryConditionHeaderValue? retryAfter, DateTimeOffset now)
    {
        if (retryAfter is null) return null;
        if (retryAfter.Delta is { } delta) return delta < TimeSpan.Zero ? TimeSpan.Zero : delta;
        if (retryAfter.Date is { } date) return date <= now ? TimeSpan.Zero : date - now;
        return null;
    }
}
