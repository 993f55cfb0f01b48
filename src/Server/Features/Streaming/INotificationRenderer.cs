namespace Fellows.Server.Features.Streaming;

/// <summary>
/// Renders a notification for the streaming API. The notifications feature supplies the real one (register it
/// before <see cref="StreamingRegistration.AddStreaming"/> or replace this service); until then nothing is rendered
/// and <c>notification</c> events are dropped.
/// </summary>
public interface INotificationRenderer
{
    /// <summary>
    /// The Mastodon Notification entity of <paramref name="notificationId"/> as its recipient
    /// <paramref name="accountId"/> sees it, serialized as JSON; null when it does not exist, is not theirs, or should
    /// not be shown (then nothing is sent).
    /// </summary>
    Task<string?> RenderAsync(long accountId, long notificationId, CancellationToken ct);
}

/// <summary>The default while notifications are not stored: renders nothing.</summary>
public sealed class NoNotificationRenderer : INotificationRenderer
{
    public Task<string?> RenderAsync(long accountId, long notificationId, CancellationToken ct) => Task.FromResult<string?>(null);
}
