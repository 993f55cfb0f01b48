using Dapper;
using Fellows.Server.Common;
using Fellows.Server.Configuration;
using Fellows.Server.Features.Accounts;
using Fellows.Server.Features.Federation;
using Fellows.Server.Features.Mastodon;
using Fellows.Server.Features.Notifications;
using Npgsql;

namespace Fellows.Server.Features.Follows;

/// <summary>
/// Following. A follow of a local unlocked member takes effect at once; a locked member's, or any remote
/// actor's, starts as a request until accepted (remote servers answer with Accept or Reject).
/// </summary>
public sealed class FollowService(NpgsqlDataSource db, InstanceUrls urls, TimeProvider clock, OutboundPublisher publisher)
{
    /// <summary>
    /// Follows, or changes an existing follow's options. <paramref name="languages"/>: null leaves them as they are, an
    /// empty list means every language.
    /// </summary>
    public async Task<Result<ApiRelationship>> FollowAsync(long accountId, long targetId, bool? reblogs, bool? notify, IReadOnlyList<string>? languages,
        CancellationToken ct)
    {
        if (accountId == targetId) return Error.Forbidden("You cannot follow yourself");
        await using var conn = await db.OpenConnectionAsync(ct);
        await using var tx = await conn.BeginTransactionAsync(ct);
        var target = await conn.FindAccountByIdAsync(targetId, tx, ct);
        if (target is null || target.DeletedAt is not null || target.SuspendedAt is not null) return Error.NotFound();
        if (target.ActorType == "Application" && target.IsLocal) return Error.Forbidden("The instance actor cannot be followed");
        var blocked = await conn.ExecuteScalarAsync<bool>(new CommandDefinition(
            "SELECT EXISTS (SELECT 1 FROM blocks WHERE (account_id = @a AND target_account_id = @b) OR (account_id = @b AND target_account_id = @a))",
            new { a = accountId, b = targetId }, tx, cancellationToken: ct));
        if (blocked) return Error.Forbidden("You cannot follow this account");
        // As in Mastodon: someone on a server the member blocked can't be followed until the block is lifted.
        if (await conn.ExecuteScalarAsync<bool>(new CommandDefinition(FollowQueries.DomainBlocked, new { me = accountId, targetId }, tx, cancellationToken: ct)))
            return Error.Forbidden("You blocked this account's server");

        var me = await conn.AccountByIdAsync(accountId, tx, ct);
        var existing = await conn.QuerySingleOrDefaultAsync<FollowRow>(new CommandDefinition(FollowQueries.FindFollow, new { accountId, targetId }, tx, cancellationToken: ct));
        var now = clock.GetUtcNow();
        var args = new { accountId, targetId, showReblogs = reblogs ?? existing?.ShowReblogs ?? true, notify = notify ?? existing?.Notify ?? false, now, uri = (string?)null };
        if (existing is not null)
        {
            // Already following: only the options change, nothing federates.
            await conn.ExecuteAsync(new CommandDefinition(FollowQueries.InsertFollow, args with { uri = existing.Uri }, tx, cancellationToken: ct));
        }
        else if (target.IsLocal && !target.Locked)
        {
            await conn.ExecuteAsync(new CommandDefinition(FollowQueries.InsertFollow, args, tx, cancellationToken: ct));
            await conn.NotifyAsync(tx, targetId, accountId, NotificationType.Follow, null, now, ct);
        }
        else
        {
            var pending = await conn.QuerySingleOrDefaultAsync<FollowRow>(new CommandDefinition(FollowQueries.FindRequest, new { accountId, targetId }, tx, cancellationToken: ct));
            var followId = pending?.Uri ?? urls.NewActivity(me.Username, "follows");
            await conn.ExecuteAsync(new CommandDefinition(FollowQueries.InsertRequest, args with { uri = followId }, tx, cancellationToken: ct));
            if (target.IsLocal) await conn.NotifyAsync(tx, targetId, accountId, NotificationType.FollowRequest, null, now, ct);
            if (!target.IsLocal && pending is null)
                await publisher.FollowAsync(conn, tx, me, target, followId, ct);
        }
        if (languages is not null)
            await conn.ExecuteAsync(new CommandDefinition(FollowQueries.SetLanguages,
                new { accountId, targetId, languages = languages.Count == 0 ? null : languages.ToArray() }, tx, cancellationToken: ct));
        await tx.CommitAsync(ct);
        return await RelationshipAsync(accountId, targetId, ct);
    }

    /// <summary>
    /// Makes <paramref name="followerId"/> stop following the member. A remote follower's server is sent Reject(Follow)
    /// so it drops the follow too, as Mastodon's remove_from_followers does.
    /// </summary>
    public async Task<Result<ApiRelationship>> RemoveFromFollowersAsync(long accountId, long followerId, CancellationToken ct)
    {
        await using var conn = await db.OpenConnectionAsync(ct);
        await using var tx = await conn.BeginTransactionAsync(ct);
        var follower = await conn.FindAccountByIdAsync(followerId, tx, ct);
        if (follower is null || follower.DeletedAt is not null) return Error.NotFound();
        var me = await conn.AccountByIdAsync(accountId, tx, ct);
        await EndFollowFromAsync(conn, tx, me, follower, ct);
        await tx.CommitAsync(ct);
        return await RelationshipAsync(accountId, followerId, ct);
    }

    /// <summary>
    /// Ends <paramref name="follower"/>'s follow of (or pending request to) <paramref name="me"/>; their server, when
    /// remote, gets a Reject naming their Follow.
    /// </summary>
    internal async Task EndFollowFromAsync(NpgsqlConnection conn, NpgsqlTransaction tx, Account me, Account follower, CancellationToken ct)
    {
        var uris = (await conn.QueryAsync<string?>(new CommandDefinition(FollowQueries.DeleteFollow,
                new { accountId = follower.Id, targetId = me.Id }, tx, cancellationToken: ct)))
            .Concat(await conn.QueryAsync<string?>(new CommandDefinition(FollowQueries.DeleteRequest,
                new { accountId = follower.Id, targetId = me.Id }, tx, cancellationToken: ct)))
            .ToList();
        if (uris.Count == 0) return;
        await conn.WithdrawAsync(tx, me.Id, follower.Id, NotificationType.Follow, null, ct);
        await conn.WithdrawAsync(tx, me.Id, follower.Id, NotificationType.FollowRequest, null, ct);
        if (!follower.IsLocal) await publisher.RejectFollowAsync(conn, tx, me, follower, uris[0], ct);
    }

    /// <summary>Ends the member's follow of (or request to) <paramref name="target"/>, with an Undo to a remote server.</summary>
    internal async Task EndFollowOfAsync(NpgsqlConnection conn, NpgsqlTransaction tx, Account me, Account target, CancellationToken ct)
    {
        var uris = (await conn.QueryAsync<string?>(new CommandDefinition(FollowQueries.DeleteFollow, new { accountId = me.Id, targetId = target.Id }, tx, cancellationToken: ct)))
            .Concat(await conn.QueryAsync<string?>(new CommandDefinition(FollowQueries.DeleteRequest, new { accountId = me.Id, targetId = target.Id }, tx, cancellationToken: ct)))
            .ToList();
        if (uris.Count == 0) return;
        await conn.WithdrawAsync(tx, target.Id, me.Id, NotificationType.Follow, null, ct);
        await conn.WithdrawAsync(tx, target.Id, me.Id, NotificationType.FollowRequest, null, ct);
        if (!target.IsLocal) await publisher.UndoFollowAsync(conn, tx, me, target, uris[0] ?? urls.NewActivity(me.Username, "follows"), ct);
    }

    public async Task<Result<ApiRelationship>> UnfollowAsync(long accountId, long targetId, CancellationToken ct)
    {
        await using var conn = await db.OpenConnectionAsync(ct);
        await using var tx = await conn.BeginTransactionAsync(ct);
        var target = await conn.FindAccountByIdAsync(targetId, tx, ct);
        if (target is null) return Error.NotFound();
        await EndFollowOfAsync(conn, tx, await conn.AccountByIdAsync(accountId, tx, ct), target, ct);
        await tx.CommitAsync(ct);
        return await RelationshipAsync(accountId, targetId, ct);
    }

    /// <summary>Blocks an account: follows end both ways and a remote account's server is told (Block).</summary>
    public async Task<Result<ApiRelationship>> BlockAsync(long accountId, long targetId, CancellationToken ct)
    {
        if (accountId == targetId) return Error.Forbidden("You cannot block yourself");
        await using var conn = await db.OpenConnectionAsync(ct);
        await using var tx = await conn.BeginTransactionAsync(ct);
        var target = await conn.FindAccountByIdAsync(targetId, tx, ct);
        if (target is null) return Error.NotFound();
        var existing = await conn.QuerySingleOrDefaultAsync<string?>(new CommandDefinition(FollowQueries.FindBlock, new { accountId, targetId }, tx, cancellationToken: ct));
        if (existing is null)
        {
            var me = await conn.AccountByIdAsync(accountId, tx, ct);
            var blockId = urls.NewActivity(me.Username, "blocks");
            await conn.ExecuteAsync(new CommandDefinition(FollowQueries.InsertBlock,
                new { accountId, targetId, uri = blockId, now = clock.GetUtcNow() }, tx, cancellationToken: ct));
            if (!target.IsLocal) await publisher.BlockAsync(conn, tx, me, target, blockId, ct);
        }
        await tx.CommitAsync(ct);
        return await RelationshipAsync(accountId, targetId, ct);
    }

    public async Task<Result<ApiRelationship>> UnblockAsync(long accountId, long targetId, CancellationToken ct)
    {
        await using var conn = await db.OpenConnectionAsync(ct);
        await using var tx = await conn.BeginTransactionAsync(ct);
        var target = await conn.FindAccountByIdAsync(targetId, tx, ct);
        if (target is null) return Error.NotFound();
        var removed = (await conn.QueryAsync<string?>(new CommandDefinition(FollowQueries.DeleteBlock, new { accountId, targetId }, tx, cancellationToken: ct))).ToList();
        if (removed.Count > 0 && !target.IsLocal)
        {
            var me = await conn.AccountByIdAsync(accountId, tx, ct);
            await publisher.UndoBlockAsync(conn, tx, me, target, removed[0] ?? urls.NewActivity(me.Username, "blocks"), ct);
        }
        await tx.CommitAsync(ct);
        return await RelationshipAsync(accountId, targetId, ct);
    }

    /// <summary>
    /// Mutes an account: its posts leave the member's timelines and, with <paramref name="notifications"/>, its
    /// notifications too. Nothing federates; the muted account is not told. A positive <paramref name="duration"/>
    /// (seconds) ends the mute by itself.
    /// </summary>
    public async Task<Result<ApiRelationship>> MuteAsync(long accountId, long targetId, bool notifications, long duration, CancellationToken ct)
    {
        if (accountId == targetId) return Error.Forbidden("You cannot mute yourself");
        if (duration < 0) return Error.Validation("Validation failed: Duration must be positive");
        await using (var conn = await db.OpenConnectionAsync(ct))
        {
            var target = await conn.FindAccountByIdAsync(targetId, null, ct);
            if (target is null) return Error.NotFound();
            var now = clock.GetUtcNow();
            await conn.ExecuteAsync(new CommandDefinition(FollowQueries.InsertMute, new
            {
                accountId, targetId, notifications, now,
                expiresAt = duration > 0 ? now.AddSeconds(Math.Min(duration, TimeSpan.FromDays(3650).TotalSeconds)) : (DateTimeOffset?)null,
            }, cancellationToken: ct));
        }
        return await RelationshipAsync(accountId, targetId, ct);
    }

    public async Task<Result<ApiRelationship>> UnmuteAsync(long accountId, long targetId, CancellationToken ct)
    {
        await using (var conn = await db.OpenConnectionAsync(ct))
        {
            if (await conn.FindAccountByIdAsync(targetId, null, ct) is null) return Error.NotFound();
            await conn.ExecuteAsync(new CommandDefinition(FollowQueries.DeleteMute, new { accountId, targetId }, cancellationToken: ct));
        }
        return await RelationshipAsync(accountId, targetId, ct);
    }

    /// <summary>A locked member accepts a pending follow request (local or remote).</summary>
    public async Task<Result<ApiRelationship>> AuthorizeAsync(long accountId, long requesterId, CancellationToken ct)
    {
        await using var conn = await db.OpenConnectionAsync(ct);
        await using var tx = await conn.BeginTransactionAsync(ct);
        var request = await conn.QuerySingleOrDefaultAsync<FollowRow>(new CommandDefinition(FollowQueries.FindRequest,
            new { accountId = requesterId, targetId = accountId }, tx, cancellationToken: ct));
        if (request is null) return Error.NotFound();
        await conn.ExecuteAsync(new CommandDefinition(FollowQueries.PromoteRequest,
            new { accountId = requesterId, targetId = accountId, now = clock.GetUtcNow() }, tx, cancellationToken: ct));
        // The request has been dealt with; it is no longer something to act on.
        await conn.WithdrawAsync(tx, accountId, requesterId, NotificationType.FollowRequest, null, ct);
        var requester = await conn.AccountByIdAsync(requesterId, tx, ct);
        if (!requester.IsLocal)
        {
            var me = await conn.AccountByIdAsync(accountId, tx, ct);
            await publisher.AcceptFollowAsync(conn, tx, me, requester, request.Uri, ct);
        }
        await tx.CommitAsync(ct);
        return await RelationshipAsync(accountId, requesterId, ct);
    }

    public async Task<Result<ApiRelationship>> RejectAsync(long accountId, long requesterId, CancellationToken ct)
    {
        await using var conn = await db.OpenConnectionAsync(ct);
        await using var tx = await conn.BeginTransactionAsync(ct);
        var request = await conn.QuerySingleOrDefaultAsync<FollowRow>(new CommandDefinition(FollowQueries.FindRequest,
            new { accountId = requesterId, targetId = accountId }, tx, cancellationToken: ct));
        if (request is null) return Error.NotFound();
        await conn.ExecuteAsync(new CommandDefinition(FollowQueries.DeleteRequest, new { accountId = requesterId, targetId = accountId }, tx, cancellationToken: ct));
        await conn.WithdrawAsync(tx, accountId, requesterId, NotificationType.FollowRequest, null, ct);
        var requester = await conn.AccountByIdAsync(requesterId, tx, ct);
        if (!requester.IsLocal)
        {
            var me = await conn.AccountByIdAsync(accountId, tx, ct);
            await publisher.RejectFollowAsync(conn, tx, me, requester, request.Uri, ct);
        }
        await tx.CommitAsync(ct);
        return await RelationshipAsync(accountId, requesterId, ct);
    }

    public async Task<ApiRelationship> RelationshipAsync(long me, long targetId, CancellationToken ct) =>
        (await RelationshipsAsync(me, [targetId], ct)).Single();

    public async Task<IReadOnlyList<ApiRelationship>> RelationshipsAsync(long me, long[] ids, CancellationToken ct)
    {
        await using var conn = await db.OpenConnectionAsync(ct);
        var rows = (await conn.QueryAsync<RelationshipRow>(new CommandDefinition(FollowQueries.Relationships, new { me, ids }, cancellationToken: ct)))
            .ToDictionary(r => r.Id);
        return ids.Where(rows.ContainsKey).Select(id => rows[id]).Select(r => new ApiRelationship
        {
            Id = ApiResults.Id(r.Id),
            Following = r.Following,
            ShowingReblogs = r.ShowingReblogs,
            Notifying = r.Notifying,
            Languages = r.Languages,
            FollowedBy = r.FollowedBy,
            Blocking = r.Blocking,
            BlockedBy = r.BlockedBy,
            Muting = r.Muting,
            MutingNotifications = r.MutingNotifications,
            Requested = r.Requested,
            RequestedBy = r.RequestedBy,
            DomainBlocking = r.DomainBlocking,
            Endorsed = r.Endorsed,
            Note = r.Note,
        }).ToList();
    }

    sealed record RelationshipRow
    {
        public required long Id { get; init; }
        public required bool Following { get; init; }
        public required bool ShowingReblogs { get; init; }
        public required bool Notifying { get; init; }
        public string[]? Languages { get; init; }
        public required bool FollowedBy { get; init; }
        public required bool Blocking { get; init; }
        public required bool BlockedBy { get; init; }
        public required bool Requested { get; init; }
        public required bool RequestedBy { get; init; }
        public required bool DomainBlocking { get; init; }
        public required bool Muting { get; init; }
        public required bool MutingNotifications { get; init; }
        public required bool Endorsed { get; init; }
        public required string Note { get; init; }
    }
}
