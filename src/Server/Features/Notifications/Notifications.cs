using Dapper;
using Npgsql;

namespace Fellows.Server.Features.Notifications;

/// <summary>The kinds of notification, as the client API names them.</summary>
public static class NotificationType
{
    public const string Mention = "mention";
    public const string Status = "status";
    public const string Reblog = "reblog";
    public const string Follow = "follow";
    public const string FollowRequest = "follow_request";
    public const string Favourite = "favourite";
    public const string Poll = "poll";
    public const string Update = "update";

    public static readonly IReadOnlySet<string> All = new HashSet<string>(StringComparer.Ordinal)
        { Mention, Status, Reblog, Follow, FollowRequest, Favourite, Poll, Update };
}

/// <summary>
/// Writing notifications, inside the caller's transaction so a notification exists exactly when what caused it
/// does. Only members of this instance are told, never about themselves, and never by someone either side blocked.
/// </summary>
public static class NotificationWrites
{
    public static Task NotifyAsync(this NpgsqlConnection conn, NpgsqlTransaction? tx, long recipientId, long fromAccountId, string type,
        long? statusId, DateTimeOffset now, CancellationToken ct) =>
        conn.ExecuteAsync(new CommandDefinition(NotificationQueries.Insert,
            new { recipients = new[] { recipientId }, from = fromAccountId, type, statusId, now }, tx, cancellationToken: ct));

    public static Task NotifyManyAsync(this NpgsqlConnection conn, NpgsqlTransaction? tx, IReadOnlyCollection<long> recipientIds, long fromAccountId,
        string type, long? statusId, DateTimeOffset now, CancellationToken ct) =>
        recipientIds.Count == 0
            ? Task.CompletedTask
            : conn.ExecuteAsync(new CommandDefinition(NotificationQueries.Insert,
                new { recipients = recipientIds.Distinct().ToArray(), from = fromAccountId, type, statusId, now }, tx, cancellationToken: ct));

    /// <summary>Followers who asked to be told when <paramref name="authorId"/> posts (follow with <c>notify</c>).</summary>
    public static Task NotifySubscribersAsync(this NpgsqlConnection conn, NpgsqlTransaction? tx, long authorId, long statusId, DateTimeOffset now,
        CancellationToken ct) =>
        conn.ExecuteAsync(new CommandDefinition(NotificationQueries.InsertForSubscribers,
            new { from = authorId, statusId, now }, tx, cancellationToken: ct));

    /// <summary>What was taken back (a favourite, a boost, a follow) is no longer news.</summary>
    public static Task WithdrawAsync(this NpgsqlConnection conn, NpgsqlTransaction? tx, long recipientId, long fromAccountId, string type,
        long? statusId, CancellationToken ct) =>
        conn.ExecuteAsync(new CommandDefinition(NotificationQueries.Withdraw,
            new { recipient = recipientId, from = fromAccountId, type, statusId }, tx, cancellationToken: ct));
}
