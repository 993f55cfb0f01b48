using System.Text.Json;

namespace Fellows.Server.Features.Streaming;

/// <summary>
/// One announcement on the <see cref="Channel"/> NOTIFY channel: what happened, by id only. Every node listens and
/// renders the event for its own connections, each for its own viewer.
/// </summary>
/// <remarks>
/// The contract for other features, as JSON (numbers for ids):
/// <list type="bullet">
/// <item><c>{"event":"update"|"status.update"|"delete","status_id":N,"account_id":A,"visibility":0-3,"local":bool,"reblog_of_id":R|null}</c>,
/// sent by the <c>statuses_stream</c> trigger (migration 0011); nothing else needs to send these.</item>
/// <item><c>{"event":"notification","account_id":A,"notification_id":M}</c>: a notification for member A, rendered
/// through <see cref="INotificationRenderer"/> and sent to A's <c>user</c> and <c>user:notification</c> streams.</item>
/// <item><c>{"event":"filters_changed","account_id":A}</c>: A's keyword filters changed (no payload is sent on).</item>
/// <item><c>{"event":"conversation","account_id":A,"conversation_id":C,"status_id":N}</c>: A's direct-message
/// conversation C has a new message; sent as a Conversation entity to A's <c>direct</c> streams.</item>
/// </list>
/// Send them with <see cref="StreamingSql.Notify"/> inside the transaction that makes the change, so they go out on
/// commit and never for a rolled-back write. A NOTIFY payload must stay under 8000 bytes; these are tiny.
/// </remarks>
public sealed record StreamEvent
{
    public const string Channel = "fellows_stream";

    public const string Update = "update";
    public const string StatusUpdate = "status.update";
    public const string Delete = "delete";
    public const string Notification = "notification";
    public const string FiltersChanged = "filters_changed";
    public const string Conversation = "conversation";

    public required string Event { get; init; }
    public long? StatusId { get; init; }
    public long? AccountId { get; init; }
    public long? NotificationId { get; init; }
    public short? Visibility { get; init; }
    public bool? Local { get; init; }
    public long? ReblogOfId { get; init; }
    public long? ConversationId { get; init; }

    static readonly JsonSerializerOptions Json = new() { PropertyNamingPolicy = JsonNamingPolicy.SnakeCaseLower };

    /// <summary>Reads a NOTIFY payload; null when it is not a well-formed event (it is then ignored).</summary>
    public static StreamEvent? Parse(string payload)
    {
        try
        {
            var e = JsonSerializer.Deserialize<StreamEvent>(payload, Json);
            if (e is null || string.IsNullOrEmpty(e.Event)) return null;
            return e.Event switch
            {
                Update or StatusUpdate or Delete when e.StatusId is not null => e,
                Notification when e.AccountId is not null && e.NotificationId is not null => e,
                FiltersChanged when e.AccountId is not null => e,
                Conversation when e.AccountId is not null && e.ConversationId is not null => e,
                _ => null,
            };
        }
        catch (JsonException)
        {
            return null;
        }
    }
}

/// <summary>SQL other features use to announce events (see <see cref="StreamEvent"/>).</summary>
public static class StreamingSql
{
    /// <summary>
    /// Announces a notification for @accountId: run it with <c>new { accountId, notificationId }</c> in the
    /// transaction that stores the notification.
    /// </summary>
    public const string NotifyNotification = $"""
        SELECT pg_notify('{StreamEvent.Channel}', json_build_object('event', 'notification', 'account_id', @accountId::bigint, 'notification_id', @notificationId::bigint)::text)
        """;

    /// <summary>Announces that @accountId's filters changed: run it with <c>new { accountId }</c>.</summary>
    public const string NotifyFiltersChanged = $"""
        SELECT pg_notify('{StreamEvent.Channel}', json_build_object('event', 'filters_changed', 'account_id', @accountId::bigint)::text)
        """;

    /// <summary>Any other event, as a ready JSON text in @payload.</summary>
    public const string Notify = $"SELECT pg_notify('{StreamEvent.Channel}', @payload)";
}
