using System.Text.Json;
using System.Text.Json.Nodes;
using Dapper;
using Fellows.Federation;
using Fellows.Federation.Vocabulary;
using Fellows.Server.Configuration;
using Fellows.Server.Features.Accounts;
using Fellows.Server.Features.Delivery;
using Fellows.Server.Features.Statuses;
using Npgsql;

namespace Fellows.Server.Features.Groups;

/// <summary>
/// What a group does with what its members address to it (FEP-1b12): it announces the post to its followers, with
/// <c>audience</c> set to the group, and later announces the author's Update or Delete of it. Posts from non-members
/// and posts that are not public or unlisted are not announced: announcing would widen a narrower audience.
/// </summary>
/// <remarks>
/// A new post is announced by its id, as a boost, rather than by wrapping its Create as FEP-1b12 prefers: Mastodon
/// and most microblogging servers only understand an Announce of an object, and Lemmy and Friendica accept both.
/// Updates and Deletes can only be announced as activities, so those are wrapped, as received.
/// The group's Announces are stored as its boosts, so its outbox and the Mastodon API show them like any boost.
/// </remarks>
public sealed class GroupAnnouncer(NpgsqlDataSource db, InstanceUrls urls, OutboxWriter outbox, TimeProvider clock, ILogger<GroupAnnouncer> logger)
{
    /// <summary>
    /// Announces <paramref name="status"/> by every local group among <paramref name="addressed"/> (actor ids from
    /// <c>to</c>, <c>cc</c>, <c>audience</c> and mentions) that <paramref name="author"/> belongs to.
    /// </summary>
    public async Task AnnounceAsync(NpgsqlConnection conn, NpgsqlTransaction tx, Account author, Status status, IReadOnlyCollection<string> addressed,
        CancellationToken ct)
    {
        if (addressed.Count == 0 || status.ReblogOfId is not null) return;
        var groups = (await conn.QueryAsync<GroupRow>(new CommandDefinition(GroupQueries.AddressedLocal,
            new { uris = addressed.Distinct().ToArray() }, tx, cancellationToken: ct))).ToList();
        foreach (var group in groups)
        {
            if (group.AccountId == author.Id) continue;
            if (status.VisibilityLevel > Visibility.Unlisted || status.DeletedAt is not null) continue;
            if (!await GroupService.IsMemberAsync(conn, tx, group, author.Id, ct))
            {
                if (logger.IsEnabled(LogLevel.Information))
                    logger.LogInformation("Group {Group} does not announce {Status}: {Author} is not a member", group.AccountId, status.Uri, author.Uri);
                continue;
            }
            var already = await conn.QuerySingleOrDefaultAsync<Status>(new CommandDefinition(StatusQueries.ReblogBy,
                new { accountId = group.AccountId, statusId = status.Id }, tx, cancellationToken: ct));
            if (already is not null) continue;
            await AnnounceOneAsync(conn, tx, await conn.AccountByIdAsync(group.AccountId, tx, ct), author, status, ct);
        }
    }

    async Task AnnounceOneAsync(NpgsqlConnection conn, NpgsqlTransaction tx, Account group, Account author, Status status, CancellationToken ct)
    {
        var now = clock.GetUtcNow();
        var boost = await conn.InsertLocalBoostAsync(urls, group, status, now, tx, ct);
        var announce = ActivityPubWriter.Announce(boost.Uri, group.Uri, status.Uri, [ActivityStreams.Public],
            [urls.Followers(group.Username), author.Uri], now);
        announce["audience"] = group.Uri;
        await EnqueueAsync(conn, tx, group, announce, author.IsLocal ? [] : [author.Uri], ct);
    }

    /// <summary>
    /// The author's Update or Delete of a post that local groups announced is announced by those groups in turn,
    /// wrapped as received, so their followers (who may not follow the author) see the change.
    /// </summary>
    public async Task ForwardAsync(NpgsqlConnection conn, NpgsqlTransaction tx, long statusId, JsonObject activity, CancellationToken ct)
    {
        var announcers = (await conn.QueryAsync<(long AccountId, string Uri)>(new CommandDefinition(GroupQueries.AnnouncersOf,
            new { statusId }, tx, cancellationToken: ct))).ToList();
        if (announcers.Count == 0) return;
        var kind = activity["type"]?.GetValue<string>()?.ToLowerInvariant() ?? "activity";
        foreach (var (groupId, _) in announcers)
        {
            var group = await conn.AccountByIdAsync(groupId, tx, ct);
            if (!group.IsLocal || group.DeletedAt is not null) continue;
            var inner = activity.DeepClone().AsObject();
            var announce = ActivityPubWriter.Activity("Announce", urls.NewActivity(group.Username, "announces-" + kind), group.Uri, inner,
                [ActivityStreams.Public], [urls.Followers(group.Username)], clock.GetUtcNow());
            announce["audience"] = group.Uri;
            await EnqueueAsync(conn, tx, group, announce, [], ct);
        }
    }

    /// <summary><see cref="ForwardAsync(NpgsqlConnection, NpgsqlTransaction, long, JsonObject, CancellationToken)"/> in its own transaction, for the inbox.</summary>
    public async Task ForwardAsync(Account author, string statusUri, JsonElement activity, CancellationToken ct)
    {
        await using var conn = await db.OpenConnectionAsync(ct);
        // Only the author's own activities about their own post are passed on.
        var statusId = await conn.ExecuteScalarAsync<long?>(new CommandDefinition("SELECT id FROM statuses WHERE uri = @statusUri AND account_id = @authorId",
            new { statusUri, authorId = author.Id }, cancellationToken: ct));
        if (statusId is null || JsonNode.Parse(activity.GetRawText()) is not JsonObject copy) return;
        await using var tx = await conn.BeginTransactionAsync(ct);
        await ForwardAsync(conn, tx, statusId.Value, copy, ct);
        await tx.CommitAsync(ct);
    }

    /// <summary><see cref="AnnounceAsync(NpgsqlConnection, NpgsqlTransaction, Account, Status, IReadOnlyCollection{string}, CancellationToken)"/> in its own transaction, for the inbox.</summary>
    public async Task AnnounceAsync(Account author, Status status, IReadOnlyCollection<string> addressed, CancellationToken ct)
    {
        await using var conn = await db.OpenConnectionAsync(ct);
        await using var tx = await conn.BeginTransactionAsync(ct);
        await AnnounceAsync(conn, tx, author, status, addressed, ct);
        await tx.CommitAsync(ct);
    }

    Task EnqueueAsync(NpgsqlConnection conn, NpgsqlTransaction tx, Account group, JsonObject activity, IReadOnlyList<string> alsoTo, CancellationToken ct) =>
        outbox.EnqueueAsync(conn, tx, new OutgoingActivity
        {
            ActivityId = activity["id"]!.GetValue<string>(),
            ActorAccountId = group.Id,
            Body = ActivityPubWriter.Serialize(activity),
            ToFollowersOf = [group.Id],
            ToActorUris = alsoTo.Distinct().ToArray(),
            ToInboxes = [],
        }, ct);
}
