-- Fellows schema, part 4: what a member writes about themselves, and their posting defaults.

-- The bio as typed (accounts.note holds the rendered HTML that federates).
ALTER TABLE users ADD COLUMN note_source text NOT NULL DEFAULT '';
-- Posting defaults shown to clients as `source`: visibility (0 public .. 3 direct), sensitive, language.
ALTER TABLE users ADD COLUMN default_visibility smallint NOT NULL DEFAULT 0;
ALTER TABLE users ADD COLUMN default_sensitive boolean NOT NULL DEFAULT false;
ALTER TABLE users ADD COLUMN default_language text NULL;
-- When the member last moved away, so a move is not repeated in a hurry.
ALTER TABLE users ADD COLUMN moved_at timestamptz NULL;

-- Per-account counters, kept by triggers so every path that writes follows or statuses keeps them right,
-- and account lookups stay cheap however many posts there are. (Shown to the member themselves only.)
CREATE TABLE account_stats (
    account_id bigint PRIMARY KEY REFERENCES accounts (id) ON DELETE CASCADE,
    followers_count integer NOT NULL DEFAULT 0,
    following_count integer NOT NULL DEFAULT 0,
    statuses_count integer NOT NULL DEFAULT 0       -- public and unlisted posts and boosts, not deleted
);

INSERT INTO account_stats (account_id, followers_count, following_count, statuses_count)
SELECT a.id,
       (SELECT count(*) FROM follows f WHERE f.target_account_id = a.id),
       (SELECT count(*) FROM follows f WHERE f.account_id = a.id),
       (SELECT count(*) FROM statuses s WHERE s.account_id = a.id AND s.deleted_at IS NULL AND s.visibility <= 1)
FROM accounts a;

CREATE FUNCTION account_stats_add(account bigint, followers integer, following integer, statuses integer) RETURNS void
LANGUAGE sql AS $$
    INSERT INTO account_stats AS s (account_id, followers_count, following_count, statuses_count)
    SELECT account, greatest(followers, 0), greatest(following, 0), greatest(statuses, 0)
    WHERE EXISTS (SELECT 1 FROM accounts WHERE id = account)
    ON CONFLICT (account_id) DO UPDATE SET
        followers_count = greatest(s.followers_count + followers, 0),
        following_count = greatest(s.following_count + following, 0),
        statuses_count = greatest(s.statuses_count + statuses, 0)
$$;

CREATE FUNCTION follows_count() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF TG_OP = 'INSERT' THEN
        PERFORM account_stats_add(NEW.target_account_id, 1, 0, 0);
        PERFORM account_stats_add(NEW.account_id, 0, 1, 0);
    ELSIF TG_OP = 'DELETE' THEN
        PERFORM account_stats_add(OLD.target_account_id, -1, 0, 0);
        PERFORM account_stats_add(OLD.account_id, 0, -1, 0);
    END IF;
    RETURN NULL;
END $$;

CREATE TRIGGER follows_count AFTER INSERT OR DELETE ON follows FOR EACH ROW EXECUTE FUNCTION follows_count();

CREATE FUNCTION statuses_count() RETURNS trigger LANGUAGE plpgsql AS $$
DECLARE
    before integer := 0;
    after integer := 0;
BEGIN
    IF TG_OP IN ('UPDATE', 'DELETE') AND OLD.deleted_at IS NULL AND OLD.visibility <= 1 THEN before := 1; END IF;
    IF TG_OP IN ('UPDATE', 'INSERT') AND NEW.deleted_at IS NULL AND NEW.visibility <= 1 THEN after := 1; END IF;
    IF TG_OP = 'UPDATE' AND OLD.account_id <> NEW.account_id THEN
        PERFORM account_stats_add(OLD.account_id, 0, 0, -before);
        PERFORM account_stats_add(NEW.account_id, 0, 0, after);
    ELSIF after <> before THEN
        PERFORM account_stats_add(coalesce(NEW.account_id, OLD.account_id), 0, 0, after - before);
    END IF;
    RETURN NULL;
END $$;

CREATE TRIGGER statuses_count AFTER INSERT OR UPDATE OF deleted_at, visibility, account_id OR DELETE ON statuses
    FOR EACH ROW EXECUTE FUNCTION statuses_count();
