-- Fellows schema, part 23: the home feed, written when a post is made instead of searched for when it is read.
--
-- Computing a member's home at read time meant finding, among all statuses, the newest 40 by the accounts they
-- follow: tens of milliseconds of PostgreSQL per page at a million statuses. home_feed holds, for each local member,
-- the ids of the statuses that may be on their home (their own, those of accounts they follow, and posts carrying a
-- hashtag they follow), so a page is a walk down one member's index.
--
-- The feed holds candidates, not the answer: a row says "this status may be on this member's home". The home rule
-- itself (boosts hidden, follow languages, exclusive lists, tags, visibility, blocks, mutes, domain blocks, deletion)
-- is still applied when the page is read, on the rows of the page (TimelineQueries.HomeFeed), so every choice that
-- can change after the fact takes effect at once and the rule stays the one TimelineQueries.Home and
-- StreamingQueries.Audience state. What must be kept here is only the set of candidates, by triggers, so no write
-- path can forget it: a status inserted (a member's post or boost, a scheduled post, a note, boost or group
-- announce from the inbox) is added in the same transaction for the author and every local follower; a tag
-- attached adds it for the tag's followers; a new follow or tag follow adds the newest posts of what was followed;
-- an unfollow removes that author's rows; a deletion removes the status's rows.
--
-- home_feed_bounds.complete_from: the feed holds every candidate whose id is at least this (no row: every
-- candidate). Backfills are bounded, so a member's feed may begin later than their history; older pages are read
-- with the computed query (TimelineQueries.Home) below that id. New posts are never bounded: the feed grows with
-- every post a member's follows make (one narrow row each).

-- No foreign keys: checking two of them for each of 10,000 rows doubled the time a post by a much-followed member
-- takes to fan out. The triggers below remove a status's rows when it is deleted (soft or hard) and a member's
-- feed when their users row goes; the page joins statuses, so a row whose status is gone could never show anyway.
CREATE TABLE home_feed (
    account_id bigint NOT NULL,   -- a local member (users.account_id)
    status_id bigint NOT NULL,
    author_id bigint NOT NULL,    -- statuses.account_id (the booster for a boost), so an unfollow removes by author
    PRIMARY KEY (account_id, status_id)
);
CREATE INDEX home_feed_status ON home_feed (status_id);

CREATE TABLE home_feed_bounds (
    account_id bigint PRIMARY KEY REFERENCES accounts (id) ON DELETE CASCADE,
    complete_from bigint NOT NULL
);

-- How many of an account's (or a tag's) newest posts a follow brings into the follower's feed, and how many
-- candidates each member's feed starts with when it is rebuilt (this migration). Mastodon keeps 800 per member.
CREATE FUNCTION fellows_home_feed_bound() RETURNS integer LANGUAGE sql IMMUTABLE AS 'SELECT 800';

-- A new status: for its author if local, and for every local follower of its author, in one INSERT ... SELECT.
-- The status is new, so no member holds it yet: no ON CONFLICT (its speculative insertion cost 40 % more at
-- 10,000 followers); UNION keeps the author once should they follow themselves.
CREATE FUNCTION fellows_home_feed_post() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
    IF NEW.deleted_at IS NOT NULL THEN RETURN NULL; END IF;
    INSERT INTO home_feed (account_id, status_id, author_id)
    SELECT f.account_id, NEW.id, NEW.account_id
    FROM follows f JOIN users u ON u.account_id = f.account_id
    WHERE f.target_account_id = NEW.account_id
    UNION
    SELECT u.account_id, NEW.id, NEW.account_id FROM users u WHERE u.account_id = NEW.account_id;
    RETURN NULL;
END
$$;
CREATE TRIGGER statuses_home_feed AFTER INSERT ON statuses FOR EACH ROW EXECUTE FUNCTION fellows_home_feed_post();

-- A status deleted (soft, or hard: a remote actor's removal cascades to their statuses): off every feed.
CREATE FUNCTION fellows_home_feed_unpost() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
    DELETE FROM home_feed WHERE status_id = OLD.id;
    RETURN NULL;
END
$$;
CREATE TRIGGER statuses_home_feed_delete AFTER UPDATE OF deleted_at ON statuses
FOR EACH ROW WHEN (OLD.deleted_at IS NULL AND NEW.deleted_at IS NOT NULL) EXECUTE FUNCTION fellows_home_feed_unpost();
CREATE TRIGGER statuses_home_feed_remove AFTER DELETE ON statuses
FOR EACH ROW WHEN (OLD.deleted_at IS NULL) EXECUTE FUNCTION fellows_home_feed_unpost();

-- A member removed: their feed goes with them.
CREATE FUNCTION fellows_home_feed_drop() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
    DELETE FROM home_feed WHERE account_id = OLD.account_id;
    RETURN NULL;
END
$$;
CREATE TRIGGER users_home_feed AFTER DELETE ON users FOR EACH ROW EXECUTE FUNCTION fellows_home_feed_drop();

-- A hashtag attached to a post (not a boost): for the members who follow the tag.
CREATE FUNCTION fellows_home_feed_tagged() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
    INSERT INTO home_feed (account_id, status_id, author_id)
    SELECT tf.account_id, s.id, s.account_id
    FROM tag_follows tf JOIN statuses s ON s.id = NEW.status_id
    WHERE tf.tag_id = NEW.tag_id AND s.reblog_of_id IS NULL AND s.deleted_at IS NULL
    ON CONFLICT DO NOTHING;
    RETURN NULL;
END
$$;
CREATE TRIGGER status_tags_home_feed AFTER INSERT ON status_tags FOR EACH ROW EXECUTE FUNCTION fellows_home_feed_tagged();

-- A local member followed an account (author) or a hashtag (tag): its newest posts, at most the bound and none
-- older than where the member's feed is complete, join the feed. When the bound cut them short, the feed is
-- complete only from the oldest one taken, and older pages come from the computed query.
CREATE FUNCTION fellows_home_feed_add(member bigint, author bigint, tag bigint) RETURNS void
LANGUAGE plpgsql AS $$
DECLARE
    floor_id bigint;
    taken integer;
    oldest bigint;
BEGIN
    IF NOT EXISTS (SELECT 1 FROM users WHERE account_id = member) THEN RETURN; END IF;
    SELECT complete_from INTO floor_id FROM home_feed_bounds WHERE account_id = member;
    floor_id := coalesce(floor_id, 0);
    IF author IS NOT NULL THEN
        WITH picked AS (
            SELECT s.id, s.account_id FROM statuses s
            WHERE s.account_id = author AND s.deleted_at IS NULL AND s.id >= floor_id
            ORDER BY s.id DESC LIMIT fellows_home_feed_bound()),
        added AS (
            INSERT INTO home_feed (account_id, status_id, author_id) SELECT member, id, account_id FROM picked
            ON CONFLICT DO NOTHING)
        SELECT count(*), min(id) INTO taken, oldest FROM picked;
    ELSE
        WITH picked AS (
            SELECT s.id, s.account_id FROM status_tags st JOIN statuses s ON s.id = st.status_id
            WHERE st.tag_id = tag AND st.status_id >= floor_id AND s.reblog_of_id IS NULL AND s.deleted_at IS NULL
            ORDER BY st.status_id DESC LIMIT fellows_home_feed_bound()),
        added AS (
            INSERT INTO home_feed (account_id, status_id, author_id) SELECT member, id, account_id FROM picked
            ON CONFLICT DO NOTHING)
        SELECT count(*), min(id) INTO taken, oldest FROM picked;
    END IF;
    IF taken >= fellows_home_feed_bound() THEN
        INSERT INTO home_feed_bounds (account_id, complete_from) VALUES (member, oldest)
        ON CONFLICT (account_id) DO UPDATE SET complete_from = greatest(home_feed_bounds.complete_from, EXCLUDED.complete_from);
    END IF;
END
$$;

CREATE FUNCTION fellows_home_feed_follow() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
    IF TG_TABLE_NAME = 'follows' THEN
        PERFORM fellows_home_feed_add(NEW.account_id, NEW.target_account_id, NULL);
    ELSE
        PERFORM fellows_home_feed_add(NEW.account_id, NULL, NEW.tag_id);
    END IF;
    RETURN NULL;
END
$$;
CREATE TRIGGER follows_home_feed AFTER INSERT ON follows FOR EACH ROW EXECUTE FUNCTION fellows_home_feed_follow();
CREATE TRIGGER tag_follows_home_feed AFTER INSERT ON tag_follows FOR EACH ROW EXECUTE FUNCTION fellows_home_feed_follow();

-- A follow ended (unfollow, block, a Reject, an account gone): that author's rows leave the follower's feed, except
-- posts still there through a hashtag the member follows. A tag unfollowed leaves its rows; the rule read with the
-- page no longer shows them.
CREATE FUNCTION fellows_home_feed_unfollow() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
    DELETE FROM home_feed h
    WHERE h.account_id = OLD.account_id AND h.author_id = OLD.target_account_id
      AND NOT EXISTS (SELECT 1 FROM status_tags st JOIN tag_follows tf ON tf.tag_id = st.tag_id AND tf.account_id = OLD.account_id
                      WHERE st.status_id = h.status_id);
    RETURN NULL;
END
$$;
CREATE TRIGGER follows_home_feed_delete AFTER DELETE ON follows FOR EACH ROW EXECUTE FUNCTION fellows_home_feed_unfollow();

-- Rebuilds the feeds of local members (all, or only one) from what is stored: each member's newest candidates up to
-- the bound (taken per followed account and per followed tag from their indexes, then the newest of those). A member
-- with more candidates than that gets a bound. Run here for existing data; the benchmark's seed, written with
-- triggers off, runs it too.
CREATE FUNCTION fellows_home_feed_rebuild(only_member bigint, bound integer) RETURNS bigint
LANGUAGE plpgsql AS $$
DECLARE
    added bigint;
BEGIN
    DELETE FROM home_feed WHERE only_member IS NULL OR account_id = only_member;
    DELETE FROM home_feed_bounds WHERE only_member IS NULL OR account_id = only_member;
    INSERT INTO home_feed (account_id, status_id, author_id)
    SELECT u.account_id, c.id, c.account_id
    FROM users u
    CROSS JOIN LATERAL (
        SELECT DISTINCT ON (x.id) x.id, x.account_id FROM (
            SELECT s.id, s.account_id
            FROM (SELECT f.target_account_id AS author FROM follows f WHERE f.account_id = u.account_id
                  UNION SELECT u.account_id) a
            CROSS JOIN LATERAL (SELECT s.id, s.account_id FROM statuses s
                                WHERE s.account_id = a.author AND s.deleted_at IS NULL
                                ORDER BY s.id DESC LIMIT bound) s
            UNION ALL
            SELECT s.id, s.account_id
            FROM tag_follows tf
            CROSS JOIN LATERAL (SELECT s.id, s.account_id FROM status_tags st JOIN statuses s ON s.id = st.status_id
                                WHERE st.tag_id = tf.tag_id AND s.reblog_of_id IS NULL AND s.deleted_at IS NULL
                                ORDER BY st.status_id DESC LIMIT bound) s
            WHERE tf.account_id = u.account_id) x
        ORDER BY x.id DESC
        LIMIT bound) c
    WHERE only_member IS NULL OR u.account_id = only_member;
    GET DIAGNOSTICS added = ROW_COUNT;
    INSERT INTO home_feed_bounds (account_id, complete_from)
    SELECT h.account_id, min(h.status_id) FROM home_feed h
    WHERE only_member IS NULL OR h.account_id = only_member
    GROUP BY h.account_id HAVING count(*) >= bound;
    RETURN added;
END
$$;

SELECT fellows_home_feed_rebuild(NULL, fellows_home_feed_bound());
