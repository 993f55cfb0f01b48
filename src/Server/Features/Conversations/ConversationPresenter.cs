using Dapper;
using Fellows.Server.Features.Accounts;
using Fellows.Server.Features.Mastodon;
using Fellows.Server.Features.Statuses;
using Npgsql;

namespace Fellows.Server.Features.Conversations;

/// <summary>Mastodon's Conversation entity.</summary>
public sealed record ApiConversation(string Id, bool Unread, IReadOnlyList<ApiAccount> Accounts, ApiStatus? LastStatus);

public sealed record ConversationRow
{
    public required long Id { get; init; }
    public required long AccountId { get; init; }
    public required long[] ParticipantIds { get; init; }
    public required long LastStatusId { get; init; }
    public required bool Unread { get; init; }
}

/// <summary>Conversations of one member, newest message first, rendered in a fixed number of queries.</summary>
public sealed class ConversationPresenter(NpgsqlDataSource db, AccountPresenter accounts, StatusPresenter statuses)
{
    public const string Columns = "c.id, c.account_id, c.participant_ids, c.last_status_id, c.unread";

    /// <summary>Rows whose latest message is gone or no longer visible to the member are left out.</summary>
    public const string Visible = $"""
        EXISTS (SELECT 1 FROM statuses s WHERE s.id = c.last_status_id AND {StatusQueries.VisibleTo})
        """;

    public async Task<ApiConversation?> PresentAsync(long conversationId, long viewer, CancellationToken ct)
    {
        await using var conn = await db.OpenConnectionAsync(ct);
        var row = await conn.QuerySingleOrDefaultAsync<ConversationRow>(new CommandDefinition(
            $"SELECT {Columns} FROM conversations c WHERE c.id = @id AND c.account_id = @viewer AND {Visible}",
            new { id = conversationId, viewer }, cancellationToken: ct));
        return row is null ? null : (await PresentManyAsync([row], viewer, ct))[0];
    }

    public async Task<IReadOnlyList<ApiConversation>> PresentManyAsync(IReadOnlyList<ConversationRow> rows, long viewer, CancellationToken ct)
    {
        if (rows.Count == 0) return [];
        await using var conn = await db.OpenConnectionAsync(ct);
        // A conversation with oneself (a direct post mentioning nobody) shows the member as its participant, as Mastodon does.
        var accountIds = rows.SelectMany(r => r.ParticipantIds.Length == 0 ? [viewer] : r.ParticipantIds).Distinct().ToArray();
        var people = await accounts.PresentManyAsync(conn, accountIds, viewer, ct);
        var lastIds = rows.Select(r => r.LastStatusId).Distinct().ToArray();
        var last = (await conn.QueryAsync<Status>(new CommandDefinition(StatusQueries.ManyByIds, new { ids = lastIds }, cancellationToken: ct))).ToList();
        var rendered = (await statuses.PresentManyAsync(last, viewer, ct)).ToDictionary(s => ApiResults.ParseId(s.Id)!.Value);
        return rows.Select(r => new ApiConversation(
            ApiResults.Id(r.Id),
            r.Unread,
            (r.ParticipantIds.Length == 0 ? [viewer] : r.ParticipantIds).Where(people.ContainsKey).Select(id => people[id]).ToList(),
            rendered.GetValueOrDefault(r.LastStatusId))).ToList();
    }
}
