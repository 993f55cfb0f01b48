-- Fellows schema, part 24: removing an author from a member's home feed (migration 0023) by lookup.
--
-- An unfollow (and a block, a Reject, a member's domain block, an account removed: each ends follows row by row)
-- removes the followed author's rows from the follower's feed. home_feed's primary key is (account_id, status_id),
-- so "that author's rows of this member" read every row of the member's feed and filtered on author_id: the cost of
-- an unfollow grew with the whole feed, and a domain block ending fifty follows read it fifty times.
--
-- An index on (author_id, account_id) would answer it, but every post writes one feed row per local follower, and a
-- third index entry per row made a post to 10,000 local followers about a third slower (measured with the trigger
-- under EXPLAIN ANALYZE, interleaved with and without the index: median 145 against 108 ms) to speed up something
-- rare. Instead the rows are found from the other side: the author's statuses (statuses_account, which exists) from
-- the member's oldest feed row on, each looked up in the member's feed by its primary key. A status's feed rows all
-- carry its author (author_id is statuses.account_id), and soft or hard deletion already takes a status off every
-- feed, so those statuses are exactly where the author's rows can be. Since HomeFeedTrimJob keeps each feed to its
-- newest rows, the oldest row is recent and this reads about as many statuses as the author has rows in the feed.
CREATE OR REPLACE FUNCTION fellows_home_feed_unfollow() RETURNS trigger
LANGUAGE plpgsql AS $$
DECLARE
    oldest bigint;
BEGIN
    -- Remote followers (and members with an empty feed) have nothing to remove.
    SELECT h.status_id INTO oldest FROM home_feed h WHERE h.account_id = OLD.account_id ORDER BY h.status_id LIMIT 1;
    IF oldest IS NULL THEN RETURN NULL; END IF;
    DELETE FROM home_feed h
    WHERE h.account_id = OLD.account_id
      AND h.status_id = ANY (ARRAY(SELECT s.id FROM statuses s
                                   WHERE s.account_id = OLD.target_account_id AND s.deleted_at IS NULL AND s.id >= oldest))
      AND h.author_id = OLD.target_account_id
      AND NOT EXISTS (SELECT 1 FROM status_tags st JOIN tag_follows tf ON tf.tag_id = st.tag_id AND tf.account_id = OLD.account_id
                      WHERE st.status_id = h.status_id);
    RETURN NULL;
END
$$;
