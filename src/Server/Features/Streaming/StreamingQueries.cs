using Fellows.Server.Features.Statuses;

namespace Fellows.Server.Features.Streaming;

static class StreamingQueries
{
    /// <summary>
    /// For each viewer in @viewers: may they see status @id (the same rule as every other route, with the viewer bound
    /// per row), is it on their home timeline (their own, or by someone they follow, boosts only where they show
    /// them, and not someone they keep in an exclusive list), and does a block (either way) or the viewer's mute
    /// stand between them and its author. The home rule is TimelineQueries.Home's (and HomeWithTags'), written per
    /// viewer row with EXISTS where the timeline, for one viewer, reads its accounts once with an uncorrelated IN;
    /// TimelineQueries.HomeFeed states it per row too, on the member's materialised feed: change one, change all.
    /// </summary>
    public static readonly string Audience = $"""
        SELECT v.id AS viewer,
               ({StatusQueries.VisibleTo.Replace("@viewer", "v.id", StringComparison.Ordinal)}) AS visible,
               (s.account_id = v.id
                OR EXISTS (SELECT 1 FROM follows f WHERE f.account_id = v.id AND f.target_account_id = s.account_id
                           AND (s.reblog_of_id IS NULL OR f.show_reblogs)
                           AND (f.languages IS NULL OR s.language IS NULL OR s.language = ANY(f.languages))
                           AND NOT EXISTS (SELECT 1 FROM lists l JOIN list_accounts la ON la.list_id = l.id
                                           WHERE l.account_id = v.id AND l.exclusive AND la.account_id = s.account_id))
                OR (s.visibility = 0 AND s.reblog_of_id IS NULL
                    AND EXISTS (SELECT 1 FROM tag_follows tf JOIN status_tags st ON st.tag_id = tf.tag_id
                                WHERE tf.account_id = v.id AND st.status_id = s.id))) AS home,
               (EXISTS (SELECT 1 FROM blocks b
                        WHERE (b.account_id = v.id AND b.target_account_id = s.account_id)
                           OR (b.account_id = s.account_id AND b.target_account_id = v.id))
                OR EXISTS (SELECT 1 FROM mutes mu WHERE mu.account_id = v.id AND {Follows.FollowQueries.ActiveMute}
                           AND mu.target_account_id = s.account_id)
                OR EXISTS (SELECT 1 FROM accounts da JOIN account_domain_blocks d ON d.account_id = v.id AND d.domain = lower(da.domain)
                           WHERE da.id IN (s.account_id, (SELECT o.account_id FROM statuses o WHERE o.id = s.reblog_of_id)))) AS blocked
        FROM statuses s CROSS JOIN unnest(@viewers::bigint[]) AS v(id)
        WHERE s.id = @id
        """;

    /// <summary>
    /// Who may have a deleted status on screen: the author, their followers, those it mentioned. Read from what is
    /// left (the row may be gone with its mentions); a <c>delete</c> carries only the id, so a spare one is harmless.
    /// </summary>
    public const string DeleteAudience = """
        SELECT v.id AS viewer,
               (v.id = @author OR EXISTS (SELECT 1 FROM follows f WHERE f.account_id = v.id AND f.target_account_id = @author)) AS home,
               (v.id = @author OR EXISTS (SELECT 1 FROM mentions m WHERE m.status_id = @id AND m.account_id = v.id)) AS addressed
        FROM unnest(@viewers::bigint[]) AS v(id)
        """;

    public const string TagsOf = """
        SELECT lower(t.name) FROM status_tags st JOIN tags t ON t.id = st.tag_id WHERE st.status_id = @id
        """;

    public const string HasMedia = "SELECT EXISTS (SELECT 1 FROM media_attachments WHERE status_id = @id)";
}
