using System.Threading.Channels;
using Fellows.Server.Features.Auth;

namespace Fellows.Server.Features.Streaming;

/// <summary>An event ready to send on one stream: the payload is already rendered for the connection's viewer.</summary>
/// <param name="Payload">JSON text (a Status or Notification), a bare id for <c>delete</c>, null for <c>filters_changed</c>.</param>
public sealed record StreamMessage(string[] Stream, string Event, string? Payload);

/// <summary>
/// One open streaming connection (a WebSocket or an event stream) of one member: what it listens to and the queue of
/// messages waiting to be written. The hub fills the queue; the endpoint drains it to the network.
/// </summary>
public sealed class StreamConnection : IDisposable
{
    /// <summary>Messages a slow client may fall behind by before it is disconnected (it can reconnect and reload).</summary>
    public const int QueueLimit = 1000;

    /// <summary>Streams one WebSocket may hold at once.</summary>
    public const int SubscriptionLimit = 100;

    readonly Lock _gate = new();
    readonly HashSet<StreamSubscription> _subscriptions = [];
    readonly Channel<StreamMessage> _queue = Channel.CreateBounded<StreamMessage>(new BoundedChannelOptions(QueueLimit)
    {
        SingleReader = true,
        FullMode = BoundedChannelFullMode.Wait,
    });
    readonly CancellationTokenSource _overflow = new();

    public StreamConnection(long viewer, IReadOnlyCollection<string> scopes)
    {
        Viewer = viewer;
        Scopes = scopes;
        CanReadStatuses = Auth.Scopes.Covers(scopes, "read:statuses");
        CanReadNotifications = Auth.Scopes.Covers(scopes, "read:notifications");
    }

    public long Viewer { get; }
    public IReadOnlyCollection<string> Scopes { get; }
    public bool CanReadStatuses { get; }
    public bool CanReadNotifications { get; }

    /// <summary>Cancelled when the client fell too far behind; the endpoint then closes the connection.</summary>
    public CancellationToken Overflowed => _overflow.Token;

    public ChannelReader<StreamMessage> Queue => _queue.Reader;

    /// <summary>False when already subscribed or at the limit.</summary>
    public bool Subscribe(StreamSubscription subscription)
    {
        lock (_gate)
            return _subscriptions.Count < SubscriptionLimit && _subscriptions.Add(subscription);
    }

    public void Unsubscribe(StreamSubscription subscription)
    {
        lock (_gate) _subscriptions.Remove(subscription);
    }

    public StreamSubscription[] Subscriptions()
    {
        lock (_gate) return [.. _subscriptions];
    }

    public void Enqueue(StreamMessage message)
    {
        if (_queue.Writer.TryWrite(message)) return;
        _queue.Writer.TryComplete();
        try { _overflow.Cancel(); }
        catch (ObjectDisposedException) { /* the connection has already ended */ }
    }

    /// <summary>No more events will come (the server is stopping): the writer ends after what is queued.</summary>
    public void Complete() => _queue.Writer.TryComplete();

    public void Dispose()
    {
        _queue.Writer.TryComplete();
        _overflow.Dispose();
    }
}
