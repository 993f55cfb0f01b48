namespace Fellows.Server.Features.Groups;

/// <summary>SQL for groups. A group is an account (actor_type Group) plus a row in <c>groups</c>.</summary>
public static class GroupQueries
{
    public const string Columns = "g.account_id, g.kind, g.created_by, g.created_at";

    public const string ByAccount = $"""
        SELECT {Columns} FROM groups g JOIN accounts a ON a.id = g.account_id
        WHERE g.account_id = @id AND a.deleted_at IS NULL
        """;

    public const string Coop = $"SELECT {Columns} FROM groups g WHERE g.kind = 'coop'";

    public const string List = $"""
        SELECT {Columns} FROM groups g JOIN accounts a ON a.id = g.account_id
        WHERE a.deleted_at IS NULL ORDER BY (g.kind = 'coop') DESC, g.account_id
        LIMIT 200
        """;

    /// <summary>Local groups among the addressed actors of a post.</summary>
    public const string AddressedLocal = $"""
        SELECT {Columns} FROM groups g JOIN accounts a ON a.id = g.account_id
        WHERE a.uri = ANY(@uris) AND a.domain IS NULL AND a.deleted_at IS NULL AND a.suspended_at IS NULL
        """;

    public const string Insert = """
        INSERT INTO groups (account_id, kind, created_by, created_at) VALUES (@accountId, @kind, @createdBy, @now)
        """;

    public const string InsertRole = """
        INSERT INTO group_roles (group_account_id, account_id, role, created_at) VALUES (@groupId, @accountId, @role, @now)
        ON CONFLICT (group_account_id, account_id) DO UPDATE SET role = excluded.role
        """;

    public const string DeleteRole = "DELETE FROM group_roles WHERE group_account_id = @groupId AND account_id = @accountId";

    public const string RoleOf = "SELECT role FROM group_roles WHERE group_account_id = @groupId AND account_id = @accountId";

    /// <summary>The co-op's members: people of this instance whose accounts are approved, enabled and not suspended.</summary>
    public const string CoopMemberCondition = """
        a.domain IS NULL AND a.actor_type = 'Person' AND a.deleted_at IS NULL AND a.suspended_at IS NULL
        AND EXISTS (SELECT 1 FROM users u WHERE u.account_id = a.id AND u.approved AND u.disabled_at IS NULL)
        """;

    public const string IsCoopMember = $"SELECT EXISTS (SELECT 1 FROM accounts a WHERE a.id = @accountId AND {CoopMemberCondition})";

    public const string IsCoopMemberByUri = $"SELECT EXISTS (SELECT 1 FROM accounts a WHERE a.uri = @uri AND {CoopMemberCondition})";

    /// <summary>A workgroup's members are its followers (accepted Follows), local and remote.</summary>
    public const string IsWorkgroupMember = """
        SELECT EXISTS (SELECT 1 FROM follows f JOIN accounts a ON a.id = f.account_id
                       WHERE f.target_account_id = @groupId AND f.account_id = @accountId AND a.deleted_at IS NULL AND a.suspended_at IS NULL)
        """;

    public const string CoopMemberCount = $"SELECT count(*) FROM accounts a WHERE {CoopMemberCondition}";

    public const string WorkgroupMemberCount = "SELECT count(*) FROM follows WHERE target_account_id = @groupId";

    /// <summary>Members with their role, newest id first, for paging by <c>max_id</c> (account ids).</summary>
    public const string CoopMembersPage = $"""
        SELECT a.id AS account_id, a.uri, coalesce(r.role, 'member') AS role FROM accounts a
        LEFT JOIN group_roles r ON r.group_account_id = @groupId AND r.account_id = a.id
        WHERE {CoopMemberCondition} AND (@maxId::bigint IS NULL OR a.id < @maxId)
        ORDER BY a.id DESC LIMIT @limit
        """;

    public const string WorkgroupMembersPage = """
        SELECT a.id AS account_id, a.uri, coalesce(r.role, 'member') AS role FROM follows f
        JOIN accounts a ON a.id = f.account_id
        LEFT JOIN group_roles r ON r.group_account_id = @groupId AND r.account_id = a.id
        WHERE f.target_account_id = @groupId AND a.deleted_at IS NULL AND (@maxId::bigint IS NULL OR a.id < @maxId)
        ORDER BY a.id DESC LIMIT @limit
        """;

    public const string Requests = """
        SELECT r.account_id FROM follow_requests r WHERE r.target_account_id = @groupId ORDER BY r.id
        """;

    public const string Requested = "SELECT EXISTS (SELECT 1 FROM follow_requests WHERE account_id = @accountId AND target_account_id = @groupId)";

    public const string FacilitatorCount = "SELECT count(*) FROM group_roles WHERE group_account_id = @groupId AND role = 'facilitator'";

    /// <summary>Local groups that announced a status (their boosts of it).</summary>
    public const string AnnouncersOf = """
        SELECT s.account_id, s.uri FROM statuses s JOIN groups g ON g.account_id = s.account_id
        WHERE s.reblog_of_id = @statusId AND s.deleted_at IS NULL
        """;

    /// <summary>Whether this instance counts <paramref name="origin"/> among its allies.</summary>
    public const string IsAlliedOrigin = """
        SELECT EXISTS (
            SELECT 1 FROM motions m
            WHERE (NOT m.local AND starts_with(m.uri, @origin || '/'))
               OR (m.local AND EXISTS (SELECT 1 FROM unnest(m.allied_actors) x WHERE starts_with(x, @origin || '/'))))
        """;

    public const string FindVouch = """
        SELECT vouched, detail, checked_at FROM coop_vouches WHERE coop_uri = @coop AND member_uri = @member
        """;

    public const string UpsertVouch = """
        INSERT INTO coop_vouches (coop_uri, member_uri, vouched, detail, attestation, checked_at)
        VALUES (@coop, @member, @vouched, @detail, @attestation::jsonb, @now)
        ON CONFLICT (coop_uri, member_uri) DO UPDATE SET vouched = excluded.vouched, detail = excluded.detail,
            attestation = excluded.attestation, checked_at = excluded.checked_at
        """;
}
