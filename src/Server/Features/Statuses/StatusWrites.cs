using Dapper;
using Npgsql;

namespace Fellows.Server.Features.Statuses;

/// <summary>Storing a status and its hashtags, the same for a member's post, a boost, and a note from elsewhere.</summary>
public static class StatusWrites
{
    /// <summary>Inserts <paramref name="status"/>; false when a status with its uri is already stored.</summary>
    public static async Task<bool> InsertStatusAsync(this NpgsqlConnection conn, Status status, NpgsqlTransaction? tx, CancellationToken ct) =>
        await conn.ExecuteAsync(new CommandDefinition(StatusQueries.Insert + " ON CONFLICT (uri) DO NOTHING", status, tx, cancellationToken: ct)) > 0;

    /// <summary>Links <paramref name="statusId"/> to each hashtag, creating tags on first use.</summary>
    public static async Task AddTagsAsync(this NpgsqlConnection conn, long statusId, IEnumerable<string> names, NpgsqlTransaction? tx, CancellationToken ct)
    {
        foreach (var name in names)
        {
            var tagId = await conn.ExecuteScalarAsync<long>(new CommandDefinition(StatusQueries.UpsertTag, new { name }, tx, cancellationToken: ct));
            await conn.ExecuteAsync(new CommandDefinition(StatusQueries.InsertStatusTag, new { statusId, tagId }, tx, cancellationToken: ct));
        }
    }
}
