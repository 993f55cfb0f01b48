using Fellows.Server.Features.Mastodon;
using Fellows.Server.Features.Statuses;

namespace Fellows.Server.Features.Timelines;

static class TimelineQueries
{
    /// <summary>
    /// Home: the member's own posts and those of accounts they follow, newest first, chronological and nothing
    /// else (no ranking). Boosts from accounts whose boosts the member hid are left out, and posts in languages the
    /// member did not ask for from that account (follow with languages[]). Computed over all statuses: the home
    /// endpoint reads <see cref="HomeFeed"/> and uses this only below where the member's feed is complete.
    /// </summary>
    public const string Home = $"""
        SELECT {StatusQueries.Columns} FROM statuses s
        WHERE ({OwnOrFollowed})
          AND {StatusQueries.VisibleTo}
          AND {NotMuted}
          AND {Accounts.DomainBlockQueries.StatusNotBlocked}
          {StatusPage.Conditions}
        {StatusPage.OrderAndLimit}
        """;

    /// <summary>
    /// Home for a member who follows hashtags: also public posts (not boosts) carrying one of them, from anyone they
    /// have not blocked or been blocked by, as in Mastodon. A separate query so members who follow no tag keep the
    /// plain plan.
    /// </summary>
    public const string HomeWithTags = $"""
        SELECT {StatusQueries.Columns} FROM statuses s
        WHERE ({OwnOrFollowed}
               OR (s.visibility = 0 AND s.reblog_of_id IS NULL
                   AND s.id IN (SELECT st.status_id FROM tag_follows tf JOIN status_tags st ON st.tag_id = tf.tag_id WHERE tf.account_id = @viewer)
                   AND NOT EXISTS (SELECT 1 FROM blocks b WHERE (b.account_id = s.account_id AND b.target_account_id = @viewer)
                                                          OR (b.account_id = @viewer AND b.target_account_id = s.account_id))))
          AND {StatusQueries.VisibleTo}
          AND {NotMuted}
          AND {Accounts.DomainBlockQueries.StatusNotBlocked}
          {StatusPage.Conditions}
        {StatusPage.OrderAndLimit}
        """;

    /// <summary>
    /// Home read from the member's materialised feed (home_feed, kept by the triggers of migration 0023): a walk down
    /// the member's rows newest first, each checked against the same home rule as <see cref="Home"/> and
    /// <see cref="HomeWithTags"/> (here per row, as StreamingQueries.Audience states it), so only a page's worth of
    /// rows is read. Only rows from <see cref="HomeFeedCompleteFrom"/> on (where the feed is known to hold every
    /// candidate); the endpoint reads anything older with <see cref="Home"/>. Paged between @lower and @upper (never
    /// null) in a fixed order, newest first (<see cref="HomeFeedOldestFirst"/> from min_id), so one plan serves every
    /// page and PostgreSQL may keep it instead of planning the query again on each request.
    /// </summary>
    public static readonly string HomeFeed = $"""
        SELECT {StatusQueries.Columns} FROM home_feed h JOIN statuses s ON s.id = h.status_id
        WHERE h.account_id = @viewer AND h.status_id >= ({HomeFeedCompleteFrom})
          AND (s.account_id = @viewer
               OR (EXISTS (SELECT 1 FROM follows f WHERE f.account_id = @viewer AND f.target_account_id = s.account_id
                           AND (s.reblog_of_id IS NULL OR f.show_reblogs)
                           AND (f.languages IS NULL OR s.language IS NULL OR s.language = ANY(f.languages)))
                   AND NOT EXISTS (SELECT 1 FROM lists l JOIN list_accounts la ON la.list_id = l.id
                                   WHERE l.account_id = @viewer AND l.exclusive AND la.account_id = s.account_id))
               OR (s.visibility = 0 AND s.reblog_of_id IS NULL
                   AND EXISTS (SELECT 1 FROM tag_follows tf JOIN status_tags st ON st.tag_id = tf.tag_id WHERE tf.account_id = @viewer AND st.status_id = s.id)
                   AND NOT EXISTS (SELECT 1 FROM blocks b WHERE (b.account_id = s.account_id AND b.target_account_id = @viewer)
                                                          OR (b.account_id = @viewer AND b.target_account_id = s.account_id))))
          AND {StatusQueries.VisibleTo}
          AND {NotMuted}
          AND {Accounts.DomainBlockQueries.StatusNotBlocked}
          AND h.status_id < @upper AND h.status_id > @lower
        ORDER BY h.status_id DESC
        LIMIT @limit
        """;

    public static readonly string HomeFeedOldestFirst = HomeFeed.Replace("ORDER BY h.status_id DESC", "ORDER BY h.status_id", StringComparison.Ordinal);

    /// <summary>Where the member's feed begins to hold every candidate (0: all of them).</summary>
    public const string HomeFeedCompleteFrom = "SELECT coalesce((SELECT complete_from FROM home_feed_bounds WHERE account_id = @viewer), 0)";

    public const string FollowsTags = "SELECT EXISTS (SELECT 1 FROM tag_follows WHERE account_id = @viewer)";

    /// <summary>
    /// The member's own posts and those of accounts they follow (not on one of their exclusive lists), boosts only
    /// where they did not hide them, languages as the follow asked. The set of accounts is a subquery that does not
    /// depend on the row, so PostgreSQL can read it once and walk the statuses by id (or each account's statuses
    /// by index) and stop after a page; the per-follow choices are then checked only on the rows that qualify.
    /// </summary>
    const string OwnOrFollowed = """
        s.account_id IN (SELECT f.target_account_id FROM follows f WHERE f.account_id = @viewer
                         AND NOT EXISTS (SELECT 1 FROM lists l JOIN list_accounts la ON la.list_id = l.id
                                         WHERE l.account_id = @viewer AND l.exclusive AND la.account_id = f.target_account_id)
                         UNION ALL SELECT @viewer::bigint)
        AND (s.account_id = @viewer
             OR EXISTS (SELECT 1 FROM follows f WHERE f.account_id = @viewer AND f.target_account_id = s.account_id
                        AND (s.reblog_of_id IS NULL OR f.show_reblogs)
                        AND (f.languages IS NULL OR s.language IS NULL OR s.language = ANY(f.languages))))
        """;

    /// <summary>
    /// Nothing from accounts the viewer muted: neither their posts and boosts, nor boosts of their posts by others.
    /// Most members mute nobody; the first test runs once per query (an uncorrelated InitPlan) and spares every row
    /// the per-row check. For those who do, each check is one probe of the (account, target) key, the author's and
    /// (for a boost) the boosted author's, rather than a scan of all the member's mutes per row.
    /// </summary>
    const string NotMuted = $"""
        (NOT EXISTS (SELECT 1 FROM mutes m0 WHERE m0.account_id = @viewer)
         OR (NOT EXISTS (SELECT 1 FROM mutes mu WHERE mu.account_id = @viewer AND mu.target_account_id = s.account_id AND {Follows.FollowQueries.ActiveMute})
             AND (s.reblog_of_id IS NULL
                  OR NOT EXISTS (SELECT 1 FROM statuses o JOIN mutes mu ON mu.account_id = @viewer AND mu.target_account_id = o.account_id
                                 WHERE o.id = s.reblog_of_id AND {Follows.FollowQueries.ActiveMute}))))
        """;

    /// <summary>
    /// A public post (not a boost) as the public and hashtag timelines list it: only local or remote ones (@local) or
    /// only those with media (@onlyMedia) when asked, nothing by accounts the viewer blocked or muted or that blocked
    /// them, nor from servers they blocked.
    /// </summary>
    const string PublicPost = $"""
        s.visibility = 0 AND s.deleted_at IS NULL AND s.reblog_of_id IS NULL
          AND (@local::boolean IS NULL OR s.local = @local)
          AND (NOT @onlyMedia OR EXISTS (SELECT 1 FROM media_attachments m WHERE m.status_id = s.id))
          AND NOT EXISTS (SELECT 1 FROM blocks b WHERE b.account_id = s.account_id AND b.target_account_id = @viewer)
          AND NOT EXISTS (SELECT 1 FROM blocks b WHERE b.account_id = @viewer AND b.target_account_id = s.account_id)
          AND {NotMuted}
          AND {Accounts.DomainBlockQueries.StatusNotBlocked}
        """;

    public const string Public = $"""
        SELECT {StatusQueries.Columns} FROM statuses s
        WHERE {PublicPost}
          {StatusPage.Conditions}
        {StatusPage.OrderAndLimit}
        """;

    /// <summary>
    /// A hashtag's public posts: any of @any (the tag and any[]), all of @all, none of @none.
    /// </summary>
    public const string Tag = $"""
        SELECT {StatusQueries.Columns} FROM statuses s
        WHERE {PublicPost}
          AND EXISTS (SELECT 1 FROM status_tags st JOIN tags t ON t.id = st.tag_id WHERE st.status_id = s.id AND lower(t.name) = ANY(@any))
          AND (SELECT count(DISTINCT lower(t.name)) FROM status_tags st JOIN tags t ON t.id = st.tag_id
               WHERE st.status_id = s.id AND lower(t.name) = ANY(@all)) = cardinality(@all)
          AND NOT EXISTS (SELECT 1 FROM status_tags st JOIN tags t ON t.id = st.tag_id WHERE st.status_id = s.id AND lower(t.name) = ANY(@none))
          {StatusPage.Conditions}
        {StatusPage.OrderAndLimit}
        """;

    public const string Account = $"""
        SELECT {StatusQueries.Columns} FROM statuses s
        WHERE s.account_id = @accountId AND {StatusQueries.VisibleTo}
          AND (NOT @excludeReplies OR s.in_reply_to_id IS NULL)
          AND (NOT @excludeReblogs OR s.reblog_of_id IS NULL)
          AND (NOT @onlyMedia OR EXISTS (SELECT 1 FROM media_attachments m WHERE m.status_id = s.id))
          AND (NOT @pinned OR EXISTS (SELECT 1 FROM status_pins p WHERE p.status_id = s.id AND p.account_id = s.account_id))
          AND (@tagged::text IS NULL OR EXISTS (SELECT 1 FROM status_tags st JOIN tags t ON t.id = st.tag_id WHERE st.status_id = s.id AND lower(t.name) = lower(@tagged)))
          {StatusPage.Conditions}
        {StatusPage.OrderAndLimit}
        """;
}
