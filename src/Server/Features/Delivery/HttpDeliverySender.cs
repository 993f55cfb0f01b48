using System.Net.Http.Headers;

namespace Fellows.Server.Features.Delivery;

/// <summary>
/// The placeholder sender: an unsigned POST. Real servers reject unsigned inbox POSTs, so production replaces this
/// with the signed ActivityPub client; it exists so the queue can be built and tested on its own.
/// </summary>
public sealed class HttpDeliverySender(HttpClient http, TimeProvider clock) : IDeliverySender
{
    public const string HttpClientName = "fellows-delivery";
    static readonly MediaTypeHeaderValue ActivityJson = new("application/activity+json");

    public async Task<DeliveryAttempt> SendAsync(DeliveryJob job, CancellationToken ct)
    {
        if (!Uri.TryCreate(job.InboxUrl, UriKind.Absolute, out var inbox) || (inbox.Scheme != Uri.UriSchemeHttps && inbox.Scheme != Uri.UriSchemeHttp))
            return DeliveryAttempt.GiveUp(null, "inbox URL is not an http(s) URL");
        using var content = new ReadOnlyMemoryContent(job.Body);
        content.Headers.ContentType = ActivityJson;
        using var request = new HttpRequestMessage(HttpMethod.Post, inbox) { Content = content };
        try
        {
            using var response = await http.SendAsync(request, HttpCompletionOption.ResponseHeadersRead, ct);
            return DeliveryResponseClassifier.Classify(response.StatusCode, response.Headers.RetryAfter, clock.GetUtcNow());
        }
        catch (Exception e) when (!ct.IsCancellationRequested && e is HttpRequestException or TaskCanceledException or TimeoutException)
        {
            return DeliveryResponseClassifier.ClassifyFailure(e);
        }
    }
}
