namespace Fellows.Benchmarks.Timelines;

/// <summary>
/// Set-based seed for the timeline benchmark: accounts, statuses, boosts, replies, tags, follows, favourites,
/// mentions, notifications, lists, blocks, mutes and domain blocks, written straight into the server's real tables with
/// <c>generate_series</c> and the server's own <c>fellows_id(timestamptz)</c>. Triggers are off while seeding
/// (<c>session_replication_role = replica</c>, so a million rows do not each NOTIFY a stream); the counters they keep
/// (<c>account_stats</c>) are then computed once.
/// </summary>
static class TimelineSeed
{
    /// <summary>The statements in order, each with a label for the log. @member is the benchmark member's account id.</summary>
    public static IReadOnlyList<(string Label, string Sql)> Statements(string baseUrl, int accounts, int statuses, int following) =>
    [
        ("session", "SET session_replication_role = replica; SET synchronous_commit = off; SET maintenance_work_mem = '256MB'; SET work_mem = '64MB'"),
        ($"{accounts:N0} accounts (one in five local, the rest on 200 remote hosts)", $"""
            CREATE TEMP TABLE bench_accounts (n int PRIMARY KEY, id bigint NOT NULL, local boolean NOT NULL);
            INSERT INTO accounts (id, username, domain, uri, url, inbox_url, shared_inbox_url, followers_url, display_name, created_at, updated_at, fetched_at)
            SELECT fellows_id(now() - interval '500 days' + g * interval '1 minute'), 'user' || g,
                   CASE WHEN g % 5 = 0 THEN NULL ELSE 'r' || (g % 200) || '.example' END,
                   CASE WHEN g % 5 = 0 THEN '{baseUrl}/users/user' || g ELSE 'https://r' || (g % 200) || '.example/users/user' || g END,
                   CASE WHEN g % 5 = 0 THEN '{baseUrl}/@user' || g ELSE 'https://r' || (g % 200) || '.example/@user' || g END,
                   CASE WHEN g % 5 = 0 THEN NULL ELSE 'https://r' || (g % 200) || '.example/users/user' || g || '/inbox' END,
                   CASE WHEN g % 5 = 0 THEN NULL ELSE 'https://r' || (g % 200) || '.example/inbox' END,
                   CASE WHEN g % 5 = 0 THEN NULL ELSE 'https://r' || (g % 200) || '.example/users/user' || g || '/followers' END,
                   'User ' || g, now() - interval '500 days', now() - interval '500 days',
                   CASE WHEN g % 5 = 0 THEN NULL ELSE now() END
            FROM generate_series(1::bigint, {accounts}) g;
            INSERT INTO bench_accounts SELECT row_number() OVER (ORDER BY id) - 1, id, domain IS NULL FROM accounts WHERE username LIKE 'user%';
            INSERT INTO users (account_id, email, password_hash) SELECT id, 'b' || n || '@bench.test', 'not-a-hash' FROM bench_accounts WHERE local;
            """),
        ($"{statuses:N0} statuses over ~{statuses * 30 / 86400:N0} days (70 % public, 20 % unlisted, 10 % followers-only)", $"""
            INSERT INTO statuses (id, uri, url, account_id, content, visibility, language, local, created_at)
            SELECT fellows_id(t.ts), a.uri || '/statuses/s' || g, a.uri || '/s' || g, a.id,
                   '<p>Post number ' || g || ' about ' || (ARRAY['gardens','housing','bread','bicycles','meetings'])[1 + g % 5]
                       || CASE WHEN g % 4 = 0 THEN ' #tag' || ((g / 4) % 100) ELSE '' END || '</p>',
                   CASE WHEN g % 10 < 7 THEN 0 WHEN g % 10 < 9 THEN 1 ELSE 2 END,
                   CASE WHEN g % 17 = 0 THEN 'de' ELSE 'en' END, ba.local, t.ts
            FROM generate_series(1::bigint, {statuses}) g
            CROSS JOIN LATERAL (SELECT now() - ({statuses} - g) * interval '30 seconds' - interval '1 hour' AS ts) t
            JOIN bench_accounts ba ON ba.n = (g * 7919) % {accounts}
            JOIN accounts a ON a.id = ba.id;
            CREATE TEMP TABLE bench_statuses AS SELECT row_number() OVER (ORDER BY id) AS n, id, account_id FROM statuses WHERE uri LIKE '%/statuses/s%';
            CREATE UNIQUE INDEX ON bench_statuses (n);
            """),
        ("replies: one post in ten answers the post seven before it", """
            UPDATE statuses s SET in_reply_to_id = p.id, in_reply_to_uri = ps.uri, in_reply_to_account_id = p.account_id
            FROM bench_statuses b JOIN bench_statuses p ON p.n = b.n - 7 JOIN statuses ps ON ps.id = p.id
            WHERE s.id = b.id AND b.n % 10 = 3;
            UPDATE statuses s SET replies_count = c.n FROM (SELECT in_reply_to_id, count(*) n FROM statuses WHERE in_reply_to_id IS NOT NULL GROUP BY 1) c
            WHERE s.id = c.in_reply_to_id;
            """),
        ($"{statuses / 20:N0} boosts", $"""
            INSERT INTO statuses (id, uri, account_id, reblog_of_id, visibility, local, created_at)
            SELECT fellows_id(o.created_at + interval '7 seconds'), a.uri || '/statuses/b' || g, a.id, o.id, 0, ba.local, o.created_at + interval '7 seconds'
            FROM generate_series(1::bigint, {statuses / 20}) g
            JOIN bench_statuses b ON b.n = g * 20 - 5
            JOIN statuses o ON o.id = b.id AND o.visibility = 0
            JOIN bench_accounts ba ON ba.n = (g * 104729) % {accounts}
            JOIN accounts a ON a.id = ba.id
            WHERE ba.id <> o.account_id;
            UPDATE statuses s SET reblogs_count = c.n FROM (SELECT reblog_of_id, count(*) n FROM statuses WHERE reblog_of_id IS NOT NULL GROUP BY 1) c
            WHERE s.id = c.reblog_of_id;
            """),
        ("100 tags on a quarter of the posts", """
            INSERT INTO tags (id, name) SELECT fellows_id(now() - interval '500 days'), 'tag' || g FROM generate_series(0, 99) g;
            INSERT INTO status_tags (status_id, tag_id)
            SELECT b.id, t.id FROM bench_statuses b JOIN tags t ON lower(t.name) = 'tag' || ((b.n / 4) % 100) WHERE b.n % 4 = 0;
            """),
        ($"follows: the member follows {following}, every account follows 20", $"""
            INSERT INTO follows (id, account_id, target_account_id, created_at)
            SELECT fellows_id(now() - interval '400 days'), @member, ba.id, now() - interval '400 days'
            FROM bench_accounts ba WHERE ba.n % ({accounts} / {following}) = 1 AND ba.n < {following} * ({accounts} / {following});
            INSERT INTO follows (id, account_id, target_account_id, created_at)
            SELECT fellows_id(now() - interval '400 days'), a.id, t.id, now() - interval '400 days'
            FROM bench_accounts a CROSS JOIN generate_series(1, 20) k JOIN bench_accounts t ON t.n = (a.n * 31 + k * 997) % {accounts}
            WHERE t.id <> a.id ON CONFLICT DO NOTHING;
            -- some of them follow the member
            INSERT INTO follows (id, account_id, target_account_id, created_at)
            SELECT fellows_id(now() - interval '300 days'), ba.id, @member, now() - interval '300 days' FROM bench_accounts ba WHERE ba.n % 20 = 7
            ON CONFLICT DO NOTHING;
            UPDATE follows SET show_reblogs = false WHERE account_id = @member AND target_account_id IN (SELECT id FROM bench_accounts WHERE n % 300 = 1);
            UPDATE follows SET languages = ARRAY['en'] WHERE account_id = @member AND target_account_id IN (SELECT id FROM bench_accounts WHERE n % 300 = 34);
            """),
        ("the member's own posts (2,000), favourites (200,000), mentions and notifications", $"""
            INSERT INTO statuses (id, uri, account_id, content, visibility, language, local, created_at)
            SELECT fellows_id(now() - g * interval '4 hours'), a.uri || '/statuses/m' || g, a.id, '<p>Member post ' || g || '</p>', 0, 'en', true, now() - g * interval '4 hours'
            FROM generate_series(1, 2000) g CROSS JOIN accounts a WHERE a.id = @member;
            INSERT INTO favourites (id, account_id, status_id, created_at)
            SELECT fellows_id(s.created_at + interval '1 minute'), ba.id, b.id, s.created_at + interval '1 minute'
            FROM generate_series(1::bigint, 200000) g
            JOIN bench_statuses b ON b.n = 1 + (g * 48271) % {statuses}
            JOIN statuses s ON s.id = b.id
            JOIN bench_accounts ba ON ba.n = (g * 16807) % {accounts}
            ON CONFLICT DO NOTHING;
            INSERT INTO favourites (id, account_id, status_id, created_at)
            SELECT fellows_id(s.created_at + interval '5 minutes'), ba.id, s.id, s.created_at + interval '5 minutes'
            FROM statuses s JOIN bench_accounts ba ON ba.n = (s.id % 1000) * 10 + 3
            WHERE s.account_id = @member ON CONFLICT DO NOTHING;
            UPDATE statuses s SET favourites_count = c.n FROM (SELECT status_id, count(*) n FROM favourites GROUP BY 1) c WHERE s.id = c.status_id;
            INSERT INTO mentions (status_id, account_id)
            SELECT b.id, CASE WHEN b.n % 1000 = 0 THEN @member ELSE t.id END
            FROM bench_statuses b JOIN bench_accounts t ON t.n = (b.n * 13) % {accounts} WHERE b.n % 20 = 0
            ON CONFLICT DO NOTHING;
            INSERT INTO notifications (id, account_id, from_account_id, type, status_id, created_at)
            SELECT fellows_id(f.created_at), @member, f.account_id, 'favourite', f.status_id, f.created_at
            FROM favourites f JOIN statuses s ON s.id = f.status_id WHERE s.account_id = @member
            ON CONFLICT DO NOTHING;
            INSERT INTO notifications (id, account_id, from_account_id, type, status_id, created_at)
            SELECT fellows_id(s.created_at), @member, s.account_id, 'mention', s.id, s.created_at
            FROM mentions m JOIN statuses s ON s.id = m.status_id WHERE m.account_id = @member
            ON CONFLICT DO NOTHING;
            INSERT INTO notifications (id, account_id, from_account_id, type, created_at)
            SELECT fellows_id(f.created_at), @member, f.account_id, 'follow', f.created_at FROM follows f WHERE f.target_account_id = @member
            ON CONFLICT DO NOTHING;
            """),
        ("lists (the member's three, one exclusive; 2,000 of others), blocks, mutes, domain blocks", $"""
            INSERT INTO lists (id, account_id, title, exclusive)
            SELECT fellows_id(now() - interval '100 days'), @member, 'List ' || g, g = 3 FROM generate_series(1, 3) g;
            INSERT INTO list_accounts (list_id, account_id)
            SELECT l.id, f.target_account_id FROM lists l
            JOIN LATERAL (SELECT target_account_id FROM follows WHERE account_id = @member ORDER BY target_account_id
                          OFFSET (l.id % 3) * 50 LIMIT CASE WHEN l.exclusive THEN 10 ELSE 50 END) f ON true
            WHERE l.account_id = @member;
            INSERT INTO lists (id, account_id, title)
            SELECT fellows_id(now() - interval '100 days'), ba.id, 'List of ' || ba.n FROM bench_accounts ba WHERE ba.n % 5 = 2;
            INSERT INTO list_accounts (list_id, account_id)
            SELECT l.id, f.target_account_id FROM lists l JOIN follows f ON f.account_id = l.account_id WHERE l.account_id <> @member
            ON CONFLICT DO NOTHING;
            INSERT INTO blocks (id, account_id, target_account_id, created_at)
            SELECT fellows_id(now() - interval '50 days'), a.id, t.id, now() FROM bench_accounts a JOIN bench_accounts t ON t.n = (a.n * 7 + 5) % {accounts}
            WHERE a.n % 100 = 9 AND a.id <> t.id ON CONFLICT DO NOTHING;
            INSERT INTO blocks (id, account_id, target_account_id, created_at)
            SELECT fellows_id(now() - interval '50 days'), ba.id, @member, now() FROM bench_accounts ba WHERE ba.n % 1000 = 11;
            INSERT INTO mutes (id, account_id, target_account_id, created_at)
            SELECT fellows_id(now() - interval '40 days'), @member, f.target_account_id, now()
            FROM follows f WHERE f.account_id = @member ORDER BY f.target_account_id DESC LIMIT 5;
            INSERT INTO mutes (id, account_id, target_account_id, created_at)
            SELECT fellows_id(now() - interval '40 days'), a.id, t.id, now() FROM bench_accounts a JOIN bench_accounts t ON t.n = (a.n * 3 + 1) % {accounts}
            WHERE a.n % 50 = 4 AND a.id <> t.id ON CONFLICT DO NOTHING;
            INSERT INTO domain_blocks (domain, severity) VALUES ('r13.example', 'suspend'), ('r14.example', 'silence');
            INSERT INTO account_domain_blocks (id, account_id, domain, created_at)
            SELECT fellows_id(now()), @member, 'r' || g || '.example', now() FROM generate_series(21, 23) g;
            """),
        ("account_stats (the triggers were off)", """
            INSERT INTO account_stats (account_id, followers_count, following_count, statuses_count)
            SELECT a.id,
                   (SELECT count(*) FROM follows f WHERE f.target_account_id = a.id),
                   (SELECT count(*) FROM follows f WHERE f.account_id = a.id),
                   (SELECT count(*) FROM statuses s WHERE s.account_id = a.id AND s.deleted_at IS NULL AND s.visibility <= 1)
            FROM accounts a
            ON CONFLICT (account_id) DO UPDATE SET followers_count = excluded.followers_count, following_count = excluded.following_count,
                statuses_count = excluded.statuses_count;
            """),
        ("VACUUM ANALYZE", "VACUUM (ANALYZE)"),
    ];
}
