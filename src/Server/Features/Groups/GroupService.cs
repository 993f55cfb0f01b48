using Dapper;
using Fellows.Federation;
using Fellows.Federation.Vocabulary;
using Fellows.Server.Common;
using Fellows.Server.Configuration;
using Fellows.Server.Features.Accounts;
using Fellows.Server.Features.Delivery;
using Fellows.Server.Features.Federation;
using Fellows.Server.Features.Follows;
using Microsoft.Extensions.Options;
using Npgsql;

namespace Fellows.Server.Features.Groups;

/// <summary>
/// Groups: the co-op's own Group actor and the workgroups members create. Joining a workgroup is following it (a
/// request when membership is approved), so a Follow from Mastodon, Lemmy or another Fellows server and the join
/// button here are the same thing; facilitators approve requests and edit or close the group.
/// </summary>
public sealed class GroupService(
    NpgsqlDataSource db, InstanceUrls urls, IOptions<InstanceOptions> options, TimeProvider clock, FollowService follows,
    OutboundPublisher publisher, OutboxWriter outbox, Discovery.PublicDocumentCache documents, ILogger<GroupService> logger)
{
    public const int MaxDisplayName = 100;
    public const int MaxNote = 2000;

    GroupRow? _coop;

    /// <summary>The co-op group, once <see cref="EnsureCoopAsync"/> made it; null when its username was taken.</summary>
    public GroupRow? Coop => _coop;

    /// <summary>The co-op group's actor id: the instance actor names it as its <c>coop</c>.</summary>
    public string? CoopUri { get; private set; }

    /// <summary>Creates the co-op's Group actor on first start (like the instance actor) and remembers it.</summary>
    public async Task EnsureCoopAsync(CancellationToken ct)
    {
        var username = options.Value.CoopGroup;
        await using var conn = await db.OpenConnectionAsync(ct);
        await using var tx = await conn.BeginTransactionAsync(ct);
        await conn.ExecuteAsync(new CommandDefinition("SELECT pg_advisory_xact_lock(hashtext('fellows-coop-group'))", transaction: tx, cancellationToken: ct));
        var coop = await conn.QuerySingleOrDefaultAsync<GroupRow>(new CommandDefinition(GroupQueries.Coop, transaction: tx, cancellationToken: ct));
        if (coop is null)
        {
            var taken = await conn.ExecuteScalarAsync<bool>(new CommandDefinition(
                "SELECT EXISTS (SELECT 1 FROM accounts WHERE lower(username) = lower(@username) AND domain IS NULL)", new { username }, tx, cancellationToken: ct));
            if (taken)
            {
                // An existing member already has the name: say so rather than take their account over.
                logger.LogError("The co-op group cannot be created: the username {Username} is taken; set Instance:CoopGroup", username);
                return;
            }
            var id = await InsertGroupAccountAsync(conn, tx, username, options.Value.Name, options.Value.Description, locked: false, ct);
            await conn.ExecuteAsync(new CommandDefinition(GroupQueries.Insert,
                new { accountId = id, kind = GroupKinds.Coop, createdBy = (long?)null, now = clock.GetUtcNow() }, tx, cancellationToken: ct));
            coop = await conn.QuerySingleAsync<GroupRow>(new CommandDefinition(GroupQueries.Coop, transaction: tx, cancellationToken: ct));
        }
        CoopUri = await conn.ExecuteScalarAsync<string>(new CommandDefinition("SELECT uri FROM accounts WHERE id = @id", new { id = coop.AccountId }, tx, cancellationToken: ct));
        await tx.CommitAsync(ct);
        _coop = coop;
    }

    async Task<long> InsertGroupAccountAsync(NpgsqlConnection conn, NpgsqlTransaction tx, string username, string displayName, string note,
        bool locked, CancellationToken ct)
    {
        var now = clock.GetUtcNow();
        var id = await conn.ExecuteScalarAsync<long>(new CommandDefinition(AccountQueries.InsertLocal, new
        {
            username,
            uri = urls.Actor(username),
            url = urls.Profile(username),
            actorType = "Group",
            displayName,
            inbox = urls.Inbox(username),
            sharedInbox = urls.SharedInbox,
            outbox = urls.Outbox(username),
            followers = urls.Followers(username),
            following = urls.Following(username),
            featured = urls.Featured(username),
            locked,
            // A group acts on its own (it announces what members post), as FEP-1b12 describes.
            bot = true,
            now,
        }, tx, cancellationToken: ct));
        await conn.ExecuteAsync(new CommandDefinition("UPDATE accounts SET note = @note WHERE id = @id", new { id, note = Escape(note) }, tx, cancellationToken: ct));
        // Its own keys, like a member's: RSA for HTTP signatures, Ed25519 for the proofs on its attestations.
        await AccountService.InsertKeysAsync(conn, tx, id, urls.RsaKeyId(username), urls.Ed25519KeyId(username), LocalKeyMaterial.Generate(), now, ct);
        return id;
    }

    static string Escape(string text) =>
        text.Length == 0 ? "" : "<p>" + System.Net.WebUtility.HtmlEncode(text).Replace("\n", "<br>", StringComparison.Ordinal) + "</p>";

    public async Task<Result<GroupRow>> CreateAsync(long creatorId, string? username, string? displayName, string? note, string? membership, CancellationToken ct)
    {
        if (username is null || !AccountService.IsValidUsername(username))
            return Error.Validation("Validation failed: username must be 1-30 letters, digits or underscores");
        if (AccountService.IsReserved(username)) return Error.Validation($"Validation failed: username '{username}' is reserved");
        if (ParseMembership(membership ?? "open") is not { } locked)
            return Error.Validation("Validation failed: membership must be open or approved");
        if ((displayName ?? "").Length > MaxDisplayName) return Error.Validation($"Validation failed: display_name is longer than {MaxDisplayName} characters");
        if ((note ?? "").Length > MaxNote) return Error.Validation($"Validation failed: note is longer than {MaxNote} characters");
        await using var conn = await db.OpenConnectionAsync(ct);
        await using var tx = await conn.BeginTransactionAsync(ct);
        if (!await conn.ExecuteScalarAsync<bool>(new CommandDefinition(GroupQueries.IsCoopMember, new { accountId = creatorId }, tx, cancellationToken: ct)))
            return Error.Forbidden("Only members of the co-op can create workgroups");
        long id;
        try
        {
            id = await InsertGroupAccountAsync(conn, tx, username, displayName ?? "", note ?? "", locked, ct);
        }
        catch (PostgresException e) when (e.SqlState == PostgresErrorCodes.UniqueViolation)
        {
            return Error.Validation($"Validation failed: username '{username}' is already taken");
        }
        var now = clock.GetUtcNow();
        await conn.ExecuteAsync(new CommandDefinition(GroupQueries.Insert, new { accountId = id, kind = GroupKinds.Workgroup, createdBy = creatorId, now }, tx, cancellationToken: ct));
        // The creator is its first member and facilitator.
        await conn.ExecuteAsync(new CommandDefinition(FollowQueries.InsertFollow,
            new { accountId = creatorId, targetId = id, uri = (string?)null, showReblogs = true, notify = false, now }, tx, cancellationToken: ct));
        await conn.ExecuteAsync(new CommandDefinition(GroupQueries.InsertRole, new { groupId = id, accountId = creatorId, role = GroupRoles.Facilitator, now }, tx, cancellationToken: ct));
        var row = await conn.QuerySingleAsync<GroupRow>(new CommandDefinition(GroupQueries.ByAccount, new { id }, tx, cancellationToken: ct));
        await tx.CommitAsync(ct);
        return row;
    }

    static bool? ParseMembership(string value) => value switch
    {
        "open" => false,
        "approved" => true,
        _ => null,
    };

    public async Task<GroupRow?> FindAsync(long id, CancellationToken ct)
    {
        await using var conn = await db.OpenConnectionAsync(ct);
        return await conn.QuerySingleOrDefaultAsync<GroupRow>(new CommandDefinition(GroupQueries.ByAccount, new { id }, cancellationToken: ct));
    }

    public async Task<IReadOnlyList<GroupRow>> ListAsync(CancellationToken ct)
    {
        await using var conn = await db.OpenConnectionAsync(ct);
        return (await conn.QueryAsync<GroupRow>(new CommandDefinition(GroupQueries.List, cancellationToken: ct))).ToList();
    }

    /// <summary>Whether <paramref name="accountId"/> belongs to <paramref name="group"/>: what lets their posts be announced.</summary>
    public static Task<bool> IsMemberAsync(NpgsqlConnection conn, NpgsqlTransaction? tx, GroupRow group, long accountId, CancellationToken ct) =>
        group.IsCoop
            ? conn.ExecuteScalarAsync<bool>(new CommandDefinition(GroupQueries.IsCoopMember, new { accountId }, tx, cancellationToken: ct))
            : conn.ExecuteScalarAsync<bool>(new CommandDefinition(GroupQueries.IsWorkgroupMember, new { groupId = group.AccountId, accountId }, tx, cancellationToken: ct));

    public async Task<string?> RoleAsync(GroupRow group, long accountId, CancellationToken ct)
    {
        await using var conn = await db.OpenConnectionAsync(ct);
        if (!await IsMemberAsync(conn, null, group, accountId, ct)) return null;
        return await conn.ExecuteScalarAsync<string?>(new CommandDefinition(GroupQueries.RoleOf, new { groupId = group.AccountId, accountId }, cancellationToken: ct))
            ?? GroupRoles.Member;
    }

    async Task<Result<GroupRow>> AsFacilitatorAsync(long accountId, long groupId, CancellationToken ct)
    {
        var group = await FindAsync(groupId, ct);
        if (group is null) return Error.NotFound();
        if (await RoleAsync(group, accountId, ct) != GroupRoles.Facilitator)
            return Error.Forbidden("Only the group's facilitators can do this");
        return group;
    }

    public async Task<Result<GroupRow>> UpdateAsync(long accountId, long groupId, string? displayName, string? note, string? membership, CancellationToken ct)
    {
        var check = await AsFacilitatorAsync(accountId, groupId, ct);
        if (!check.IsOk) return check;
        bool? locked = null;
        if (membership is not null)
        {
            if (check.Value.IsCoop) return Error.Validation("Validation failed: the co-op's membership follows its accounts");
            locked = ParseMembership(membership);
            if (locked is null) return Error.Validation("Validation failed: membership must be open or approved");
        }
        if ((displayName ?? "").Length > MaxDisplayName) return Error.Validation($"Validation failed: display_name is longer than {MaxDisplayName} characters");
        if ((note ?? "").Length > MaxNote) return Error.Validation($"Validation failed: note is longer than {MaxNote} characters");
        await using var conn = await db.OpenConnectionAsync(ct);
        await using var tx = await conn.BeginTransactionAsync(ct);
        await conn.ExecuteAsync(new CommandDefinition("""
            UPDATE accounts SET display_name = coalesce(@displayName, display_name), note = coalesce(@note, note),
                locked = coalesce(@locked, locked), updated_at = @now
            WHERE id = @groupId
            """, new { groupId, displayName, note = note is null ? null : Escape(note), locked, now = clock.GetUtcNow() }, tx, cancellationToken: ct));
        var group = await conn.AccountByIdAsync(groupId, tx, ct);
        await publisher.ActorUpdatedAsync(conn, tx, group, ct);
        await tx.CommitAsync(ct);
        documents.Invalidate(group.Username);
        return check.Value;
    }

    /// <summary>Closes a workgroup: its actor is deleted (followers' servers are told) and it announces nothing more.</summary>
    public async Task<Result<GroupRow>> DeleteAsync(long accountId, long groupId, CancellationToken ct)
    {
        var check = await AsFacilitatorAsync(accountId, groupId, ct);
        if (!check.IsOk) return check;
        if (check.Value.IsCoop) return Error.Forbidden("The co-op group cannot be deleted");
        await using var conn = await db.OpenConnectionAsync(ct);
        await using var tx = await conn.BeginTransactionAsync(ct);
        var group = await conn.AccountByIdAsync(groupId, tx, ct);
        var delete = ActivityPubWriter.Delete(urls.NewActivity(group.Username, "delete"), group.Uri, group.Uri, [ActivityStreams.Public], [urls.Followers(group.Username)]);
        // Delivered to the followers first: the fan-out reads them when it runs, so they are kept until then.
        await outbox.EnqueueAsync(conn, tx, new OutgoingActivity
        {
            ActivityId = delete["id"]!.GetValue<string>(),
            ActorAccountId = group.Id,
            Body = ActivityPubWriter.Serialize(delete),
            ToFollowersOf = [],
            ToActorUris = (await conn.QueryAsync<string>(new CommandDefinition(
                "SELECT a.uri FROM follows f JOIN accounts a ON a.id = f.account_id WHERE f.target_account_id = @groupId AND a.domain IS NOT NULL",
                new { groupId }, tx, cancellationToken: ct))).ToArray(),
            ToInboxes = [],
        }, ct);
        await conn.ExecuteAsync(new CommandDefinition("""
            UPDATE accounts SET deleted_at = @now WHERE id = @groupId;
            DELETE FROM follows WHERE target_account_id = @groupId OR account_id = @groupId;
            DELETE FROM follow_requests WHERE target_account_id = @groupId OR account_id = @groupId;
            DELETE FROM group_roles WHERE group_account_id = @groupId;
            """, new { groupId, now = clock.GetUtcNow() }, tx, cancellationToken: ct));
        await tx.CommitAsync(ct);
        documents.Invalidate(group.Username);
        return check.Value;
    }

    public async Task<Result<GroupRow>> JoinAsync(long accountId, long groupId, CancellationToken ct)
    {
        var group = await FindAsync(groupId, ct);
        if (group is null) return Error.NotFound();
        if (group.IsCoop) return Error.Forbidden("Membership of the co-op comes with an approved account");
        var followed = await follows.FollowAsync(accountId, groupId, reblogs: true, notify: false, languages: null, ct);
        return followed.IsOk ? group : followed.Error!;
    }

    public async Task<Result<GroupRow>> LeaveAsync(long accountId, long groupId, CancellationToken ct)
    {
        var group = await FindAsync(groupId, ct);
        if (group is null) return Error.NotFound();
        if (group.IsCoop) return Error.Forbidden("Membership of the co-op comes with an approved account");
        await using (var conn = await db.OpenConnectionAsync(ct))
        {
            var role = await conn.ExecuteScalarAsync<string?>(new CommandDefinition(GroupQueries.RoleOf, new { groupId, accountId }, cancellationToken: ct));
            var facilitators = await conn.ExecuteScalarAsync<long>(new CommandDefinition(GroupQueries.FacilitatorCount, new { groupId }, cancellationToken: ct));
            if (role == GroupRoles.Facilitator && facilitators == 1)
                return Error.Conflict("You are the group's only facilitator: make another member a facilitator first");
            await conn.ExecuteAsync(new CommandDefinition(GroupQueries.DeleteRole, new { groupId, accountId }, cancellationToken: ct));
        }
        var unfollowed = await follows.UnfollowAsync(accountId, groupId, ct);
        return unfollowed.IsOk ? group : unfollowed.Error!;
    }

    /// <summary>A facilitator admits a request to join: the Follow is accepted (an Accept goes to a remote requester).</summary>
    public async Task<Result<GroupRow>> ApproveAsync(long accountId, long groupId, long requesterId, CancellationToken ct)
    {
        var check = await AsFacilitatorAsync(accountId, groupId, ct);
        if (!check.IsOk) return check;
        var done = await follows.AuthorizeAsync(groupId, requesterId, ct);
        return done.IsOk ? check.Value : done.Error!;
    }

    public async Task<Result<GroupRow>> RejectAsync(long accountId, long groupId, long requesterId, CancellationToken ct)
    {
        var check = await AsFacilitatorAsync(accountId, groupId, ct);
        if (!check.IsOk) return check;
        var done = await follows.RejectAsync(groupId, requesterId, ct);
        return done.IsOk ? check.Value : done.Error!;
    }

    /// <summary>A facilitator gives a member a role (member or facilitator).</summary>
    public async Task<Result<GroupRow>> SetRoleAsync(long accountId, long groupId, long memberId, string? role, CancellationToken ct)
    {
        var check = await AsFacilitatorAsync(accountId, groupId, ct);
        if (!check.IsOk) return check;
        if (role is not (GroupRoles.Member or GroupRoles.Facilitator)) return Error.Validation("Validation failed: role must be member or facilitator");
        await using var conn = await db.OpenConnectionAsync(ct);
        if (!await IsMemberAsync(conn, null, check.Value, memberId, ct)) return Error.NotFound("That account is not a member of the group");
        if (role == GroupRoles.Facilitator)
        {
            await conn.ExecuteAsync(new CommandDefinition(GroupQueries.InsertRole, new { groupId, accountId = memberId, role, now = clock.GetUtcNow() }, cancellationToken: ct));
        }
        else
        {
            var facilitators = await conn.ExecuteScalarAsync<long>(new CommandDefinition(GroupQueries.FacilitatorCount, new { groupId }, cancellationToken: ct));
            var current = await conn.ExecuteScalarAsync<string?>(new CommandDefinition(GroupQueries.RoleOf, new { groupId, accountId = memberId }, cancellationToken: ct));
            if (current == GroupRoles.Facilitator && facilitators == 1 && !check.Value.IsCoop)
                return Error.Conflict("A workgroup keeps at least one facilitator");
            await conn.ExecuteAsync(new CommandDefinition(GroupQueries.DeleteRole, new { groupId, accountId = memberId }, cancellationToken: ct));
        }
        return check.Value;
    }

    public async Task<IReadOnlyList<GroupMemberRow>> MembersAsync(GroupRow group, long? maxId, int limit, CancellationToken ct)
    {
        await using var conn = await db.OpenConnectionAsync(ct);
        return (await conn.QueryAsync<GroupMemberRow>(new CommandDefinition(group.IsCoop ? GroupQueries.CoopMembersPage : GroupQueries.WorkgroupMembersPage,
            new { groupId = group.AccountId, maxId, limit }, cancellationToken: ct))).ToList();
    }

    public async Task<long> MemberCountAsync(GroupRow group, CancellationToken ct)
    {
        await using var conn = await db.OpenConnectionAsync(ct);
        return await conn.ExecuteScalarAsync<long>(new CommandDefinition(group.IsCoop ? GroupQueries.CoopMemberCount : GroupQueries.WorkgroupMemberCount,
            new { groupId = group.AccountId }, cancellationToken: ct));
    }

    public async Task<Result<IReadOnlyList<long>>> RequestsAsync(long accountId, long groupId, CancellationToken ct)
    {
        var check = await AsFacilitatorAsync(accountId, groupId, ct);
        if (!check.IsOk) return check.Error!;
        await using var conn = await db.OpenConnectionAsync(ct);
        return (await conn.QueryAsync<long>(new CommandDefinition(GroupQueries.Requests, new { groupId }, cancellationToken: ct))).ToList();
    }

    public async Task<bool> RequestedAsync(long groupId, long accountId, CancellationToken ct)
    {
        await using var conn = await db.OpenConnectionAsync(ct);
        return await conn.ExecuteScalarAsync<bool>(new CommandDefinition(GroupQueries.Requested, new { groupId, accountId }, cancellationToken: ct));
    }
}
