using System.Collections.Concurrent;
using System.Globalization;
using System.Text.Json;
using System.Threading.Channels;
using Dapper;
using Fellows.Server.Features.Statuses;
using Microsoft.Extensions.Options;
using Npgsql;
using static Fellows.Server.Features.Streaming.StreamSubscription;

namespace Fellows.Server.Features.Streaming;

/// <summary>
/// This node's open streaming connections, and the loop that turns announced events into messages for them. Events
/// are handled one at a time in the order the database announced them, so a client never sees a delete before
/// the update it removes. Each status is rendered once per viewer (their visibility, their favourites), never
/// shared between members.
/// </summary>
public sealed class StreamingHub(
    NpgsqlDataSource db,
    StatusPresenter presenter,
    INotificationRenderer notifications,
    Conversations.ConversationPresenter conversations,
    IOptions<Microsoft.AspNetCore.Http.Json.JsonOptions> json,
    ILogger<StreamingHub> log) : BackgroundService
{
    /// <summary>Events waiting to be handled; when a burst outgrows it, newer ones are dropped (and logged).</summary>
    const int BacklogLimit = 10_000;

    /// <summary>Viewers rendered at once for one event.</summary>
    const int RenderParallelism = 4;

    readonly ConcurrentDictionary<StreamConnection, byte> _connections = new();
    readonly Channel<StreamEvent> _events = Channel.CreateBounded<StreamEvent>(new BoundedChannelOptions(BacklogLimit)
    {
        SingleReader = true,
        FullMode = BoundedChannelFullMode.Wait,
    });
    readonly TaskCompletionSource _listening = new(TaskCreationOptions.RunContinuationsAsynchronously);

    /// <summary>Completes once this node listens for events; a connection served before then could miss some.</summary>
    public Task Listening => _listening.Task;

    public int ConnectionCount => _connections.Count;

    /// <summary>Open connections (for tests and diagnostics).</summary>
    public IReadOnlyCollection<StreamConnection> Connections => [.. _connections.Keys];

    public void Register(StreamConnection connection) => _connections.TryAdd(connection, 0);

    public void Unregister(StreamConnection connection) => _connections.TryRemove(connection, out _);

    internal void MarkListening() => _listening.TrySetResult();

    /// <summary>Queues an event announced by the database (called by the listener).</summary>
    public void Post(StreamEvent e)
    {
        if (!_events.Writer.TryWrite(e))
            log.LogWarning("Streaming backlog full; dropped a {Event} event", e.Event);
    }

    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        try
        {
            await foreach (var e in _events.Reader.ReadAllAsync(stoppingToken))
            {
                if (_connections.IsEmpty) continue;
                try
                {
                    await DispatchAsync(e, stoppingToken);
                }
                catch (Exception ex) when (!stoppingToken.IsCancellationRequested)
                {
                    // One bad event (or a failing renderer from another feature) must not end streaming for the node.
                    log.LogWarning(ex, "Could not stream a {Event} event", e.Event);
                }
            }
        }
        catch (OperationCanceledException) when (stoppingToken.IsCancellationRequested)
        {
        }
        finally
        {
            foreach (var c in _connections.Keys) c.Complete();
        }
    }

    /// <summary>Routes one event to the connections that should see it (public for tests that drive the hub directly).</summary>
    public Task DispatchAsync(StreamEvent e, CancellationToken ct) => e.Event switch
    {
        StreamEvent.Update or StreamEvent.StatusUpdate => StatusChangedAsync(e, ct),
        StreamEvent.Delete => StatusDeletedAsync(e, ct),
        StreamEvent.Notification => NotificationAsync(e, ct),
        StreamEvent.FiltersChanged => FiltersChangedAsync(e),
        StreamEvent.Conversation => ConversationAsync(e, ct),
        _ => Task.CompletedTask,
    };

    /// <summary>Status streams of members whose token may read statuses.</summary>
    List<(StreamConnection Connection, StreamSubscription Stream)> StatusListeners()
    {
        var list = new List<(StreamConnection, StreamSubscription)>();
        foreach (var c in _connections.Keys)
        {
            if (!c.CanReadStatuses) continue;
            foreach (var s in c.Subscriptions())
                if (s.Name != UserNotification) list.Add((c, s));
        }
        return list;
    }

    /// <summary>Public and hashtag streams: public posts only, never boosts, local or remote as the stream asks.</summary>
    static bool PublicMatch(StreamSubscription s, short visibility, bool local, bool isBoost, IReadOnlySet<string> tags, bool hasMedia)
    {
        if (visibility != (short)Visibility.Public || isBoost) return false;
        return s.Name switch
        {
            Public => true,
            PublicLocal => local,
            PublicRemote => !local,
            PublicMedia => hasMedia,
            PublicLocalMedia => local && hasMedia,
            PublicRemoteMedia => !local && hasMedia,
            Hashtag => tags.Contains(s.TagKey!),
            HashtagLocal => local && tags.Contains(s.TagKey!),
            _ => false,
        };
    }

    async Task StatusChangedAsync(StreamEvent e, CancellationToken ct)
    {
        var listeners = StatusListeners();
        if (listeners.Count == 0) return;

        await using var conn = await db.OpenConnectionAsync(ct);
        var status = await conn.QuerySingleOrDefaultAsync<Status>(new CommandDefinition(StatusQueries.ById, new { id = e.StatusId }, cancellationToken: ct));
        // Gone or deleted since: its own delete event follows, and nobody should be shown it now.
        if (status is null || status.DeletedAt is not null) return;

        var tags = listeners.Any(l => l.Stream.TagKey is not null)
            ? (await conn.QueryAsync<string>(new CommandDefinition(StreamingQueries.TagsOf, new { id = status.Id }, cancellationToken: ct))).ToHashSet(StringComparer.Ordinal)
            : [];
        var hasMedia = listeners.Any(l => l.Stream.Name is PublicMedia or PublicLocalMedia or PublicRemoteMedia)
            && await conn.ExecuteScalarAsync<bool>(new CommandDefinition(StreamingQueries.HasMedia, new { id = status.Id }, cancellationToken: ct));

        // What the status itself decides first; the database is asked only about viewers still in question.
        var candidates = listeners.Where(l => l.Stream.Name switch
        {
            User => true,
            // Direct messages the viewer wrote or is addressed in (for a direct post, "visible" means exactly that).
            Direct => status.VisibilityLevel == Visibility.Direct,
            // Whether it belongs on the list is asked of the database below, with the other viewer questions.
            List => true,
            _ => PublicMatch(l.Stream, status.Visibility, status.Local, status.ReblogOfId is not null, tags, hasMedia),
        }).ToList();
        if (candidates.Count == 0) return;

        var viewers = candidates.Select(l => l.Connection.Viewer).Distinct().ToArray();
        var audience = await AudienceAsync(conn, status.Id, viewers, ct);
        if (status.ReblogOfId is { } original)
        {
            // A boost shows the original: it must be visible to the viewer too, with no block between them and its author.
            var inner = await AudienceAsync(conn, original, viewers, ct);
            audience = audience.ToDictionary(a => a.Key, a => inner.TryGetValue(a.Key, out var o)
                ? a.Value with { Visible = a.Value.Visible && o.Visible, Blocked = a.Value.Blocked || o.Blocked }
                : a.Value with { Visible = false });
        }
        var onLists = await ListsIncludingAsync(conn, status.Id, candidates, ct);
        var deliveries = candidates
            .Where(l => audience.TryGetValue(l.Connection.Viewer, out var a) && a.Visible && !a.Blocked && l.Stream.Name switch
            {
                User => a.Home,
                List => onLists.Contains((l.Connection.Viewer, l.Stream.ListId!.Value)),
                _ => true,
            })
            .ToList();
        if (deliveries.Count == 0) return;

        // Each viewer's messages go out as soon as their rendering is ready; the next event waits for all of them.
        await Parallel.ForEachAsync(deliveries.GroupBy(d => d.Connection.Viewer),
            new ParallelOptions { MaxDegreeOfParallelism = RenderParallelism, CancellationToken = ct },
            async (forViewer, token) =>
            {
                var entity = await presenter.PresentAsync(status, forViewer.Key, token);
                var payload = JsonSerializer.Serialize(entity, json.Value.SerializerOptions);
                foreach (var (c, s) in forViewer)
                    c.Enqueue(new StreamMessage(s.StreamArray, e.Event, payload));
            });
    }

    async Task StatusDeletedAsync(StreamEvent e, CancellationToken ct)
    {
        var listeners = StatusListeners();
        if (listeners.Count == 0 || e.AccountId is not { } author) return;
        var visibility = e.Visibility ?? (short)Visibility.Direct;
        var isBoost = e.ReblogOfId is not null;

        await using var conn = await db.OpenConnectionAsync(ct);
        var tags = listeners.Any(l => l.Stream.TagKey is not null) && visibility == (short)Visibility.Public && !isBoost
            ? (await conn.QueryAsync<string>(new CommandDefinition(StreamingQueries.TagsOf, new { id = e.StatusId }, cancellationToken: ct))).ToHashSet(StringComparer.Ordinal)
            : [];
        var viewers = listeners.Where(l => l.Stream.Name is User or Direct).Select(l => l.Connection.Viewer).Distinct().ToArray();
        var lists = listeners.Where(l => l.Stream.ListId is not null).Select(l => l.Stream.ListId!.Value).Distinct().ToArray();
        var listsWithAuthor = lists.Length == 0 ? [] : (await conn.QueryAsync<long>(new CommandDefinition(Lists.ListQueries.ListsWithAccount,
            new { author, lists }, cancellationToken: ct))).ToHashSet();
        var audience = viewers.Length == 0
            ? new Dictionary<long, DeleteAudienceRow>()
            : (await conn.QueryAsync<DeleteAudienceRow>(new CommandDefinition(StreamingQueries.DeleteAudience,
                new { viewers, author, id = e.StatusId }, cancellationToken: ct))).ToDictionary(r => r.Viewer);

        var payload = e.StatusId!.Value.ToString(CultureInfo.InvariantCulture);
        foreach (var (c, s) in listeners)
        {
            var match = s.Name switch
            {
                User => audience.TryGetValue(c.Viewer, out var a) && a.Home,
                Direct => visibility == (short)Visibility.Direct && audience.TryGetValue(c.Viewer, out var d) && d.Addressed,
                List => listsWithAuthor.Contains(s.ListId!.Value),
                // Whether it had media is no longer known for certain; a delete for a post never shown is ignored by clients.
                PublicMedia or PublicLocalMedia or PublicRemoteMedia => PublicMatch(s, visibility, e.Local ?? false, isBoost, tags, hasMedia: true),
                _ => PublicMatch(s, visibility, e.Local ?? false, isBoost, tags, hasMedia: false),
            };
            if (match) c.Enqueue(new StreamMessage(s.StreamArray, StreamEvent.Delete, payload));
        }
    }

    async Task NotificationAsync(StreamEvent e, CancellationToken ct)
    {
        var targets = _connections.Keys
            .Where(c => c.Viewer == e.AccountId && c.CanReadNotifications)
            .SelectMany(c => c.Subscriptions().Where(s => s.Name is User or UserNotification).Select(s => (Connection: c, Stream: s)))
            .ToList();
        if (targets.Count == 0) return;
        var payload = await notifications.RenderAsync(e.AccountId!.Value, e.NotificationId!.Value, ct);
        if (payload is null) return;
        foreach (var (c, s) in targets) c.Enqueue(new StreamMessage(s.StreamArray, StreamEvent.Notification, payload));
    }

    /// <summary>A member's conversation changed: its Conversation entity goes to their <c>direct</c> streams, as in Mastodon.</summary>
    async Task ConversationAsync(StreamEvent e, CancellationToken ct)
    {
        var targets = _connections.Keys
            .Where(c => c.Viewer == e.AccountId && c.CanReadStatuses)
            .SelectMany(c => c.Subscriptions().Where(s => s.Name == Direct).Select(s => (Connection: c, Stream: s)))
            .ToList();
        if (targets.Count == 0) return;
        var entity = await conversations.PresentAsync(e.ConversationId!.Value, e.AccountId!.Value, ct);
        if (entity is null) return;
        var payload = JsonSerializer.Serialize(entity, json.Value.SerializerOptions);
        foreach (var (c, s) in targets) c.Enqueue(new StreamMessage(s.StreamArray, StreamEvent.Conversation, payload));
    }

    Task FiltersChangedAsync(StreamEvent e)
    {
        foreach (var c in _connections.Keys.Where(c => c.Viewer == e.AccountId))
            foreach (var s in c.Subscriptions().Where(s => s.Name == User))
                c.Enqueue(new StreamMessage(s.StreamArray, StreamEvent.FiltersChanged, null));
        return Task.CompletedTask;
    }

    /// <summary>
    /// The (owner, list) pairs among the candidates' list streams that the status belongs on, in one query; a stream
    /// matches only its owner's pair, so a list id heard by someone else (never allowed to subscribe) matches nothing.
    /// </summary>
    static async Task<HashSet<(long Viewer, long List)>> ListsIncludingAsync(NpgsqlConnection conn, long statusId,
        List<(StreamConnection Connection, StreamSubscription Stream)> candidates, CancellationToken ct)
    {
        var lists = candidates.Where(l => l.Stream.ListId is not null).Select(l => l.Stream.ListId!.Value).Distinct().ToArray();
        if (lists.Length == 0) return [];
        return (await conn.QueryAsync<(long, long)>(new CommandDefinition(Lists.ListQueries.ListsIncluding,
            new { id = statusId, lists }, cancellationToken: ct))).ToHashSet();
    }

    static async Task<Dictionary<long, AudienceRow>> AudienceAsync(NpgsqlConnection conn, long statusId, long[] viewers, CancellationToken ct) =>
        (await conn.QueryAsync<AudienceRow>(new CommandDefinition(StreamingQueries.Audience, new { id = statusId, viewers }, cancellationToken: ct)))
            .ToDictionary(r => r.Viewer);

    sealed record AudienceRow
    {
        public required long Viewer { get; init; }
        public required bool Visible { get; init; }
        public required bool Home { get; init; }
        public required bool Blocked { get; init; }
    }

    sealed record DeleteAudienceRow
    {
        public required long Viewer { get; init; }
        public required bool Home { get; init; }
        public required bool Addressed { get; init; }
    }
}
