using Dapper;
using Fellows.Server.Configuration;
using Fellows.Server.Features.Accounts;
using Fellows.Server.Features.Federation;
using Npgsql;

namespace Fellows.Server.Features.Follows;

/// <summary>
/// When an account moves, the members here who followed it follow its new account instead: directly when the new
/// account is local, by a Follow to its server when it is remote. Members who block the new account are left out.
/// The caller has checked that the new account names the old one in alsoKnownAs.
/// </summary>
public sealed class FollowMigration(InstanceUrls urls, OutboundPublisher publisher, TimeProvider clock)
{
    public async Task<int> MoveLocalFollowersAsync(NpgsqlConnection conn, NpgsqlTransaction tx, Account old, Account target, CancellationToken ct)
    {
        var followers = (await conn.QueryAsync<(long Id, bool ShowReblogs, bool Notify)>(new CommandDefinition("""
            SELECT a.id, f.show_reblogs, f.notify FROM follows f JOIN accounts a ON a.id = f.account_id
            WHERE f.target_account_id = @old AND a.domain IS NULL AND a.id <> @target
              AND NOT EXISTS (SELECT 1 FROM blocks b WHERE b.account_id = a.id AND b.target_account_id = @target)
            """, new { old = old.Id, target = target.Id }, tx, cancellationToken: ct))).ToList();
        var now = clock.GetUtcNow();
        foreach (var (followerId, showReblogs, notify) in followers)
        {
            await conn.ExecuteAsync(new CommandDefinition("DELETE FROM follows WHERE account_id = @f AND target_account_id = @old",
                new { f = followerId, old = old.Id }, tx, cancellationToken: ct));
            if (target.IsLocal)
            {
                await conn.ExecuteAsync(new CommandDefinition(FollowQueries.InsertFollow,
                    new { accountId = followerId, targetId = target.Id, uri = (string?)null, showReblogs, notify, now }, tx, cancellationToken: ct));
                continue;
            }
            var follower = await conn.AccountByIdAsync(followerId, tx, ct);
            var followId = urls.NewActivity(follower.Username, "follows");
            await conn.ExecuteAsync(new CommandDefinition(FollowQueries.InsertRequest,
                new { accountId = followerId, targetId = target.Id, uri = followId, showReblogs, notify, now }, tx, cancellationToken: ct));
            await publisher.FollowAsync(conn, tx, follower, target, followId, ct);
        }
        return followers.Count;
    }
}
