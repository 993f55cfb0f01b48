-- The rendered-status cache (Features/Statuses/RenderedStatuses.cs) keeps each status's and account's API JSON with
-- the xmin of the rows it came from, and renders again when a row's xmin moves. These triggers make the few writes
-- that change what a status or an account shows without writing its row touch that row, so the version moves too.

-- An account's entity shows its commitments kept and open (motion_commitments) and the day of its last post of any
-- visibility; the counters row (account_stats) already changes with follows and public posts. Touch it for
-- followers-only and direct posts appearing or going, and for commitments made, kept or removed.
CREATE OR REPLACE FUNCTION statuses_count() RETURNS trigger LANGUAGE plpgsql AS $$
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
    ELSIF TG_OP <> 'UPDATE' OR OLD.deleted_at IS DISTINCT FROM NEW.deleted_at THEN
        PERFORM account_stats_add(coalesce(NEW.account_id, OLD.account_id), 0, 0, 0);
    END IF;
    RETURN NULL;
END $$;

CREATE FUNCTION motion_commitments_touch() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF TG_OP IN ('UPDATE', 'DELETE') THEN PERFORM account_stats_add(OLD.account_id, 0, 0, 0); END IF;
    IF TG_OP = 'INSERT' OR (TG_OP = 'UPDATE' AND NEW.account_id <> OLD.account_id) THEN PERFORM account_stats_add(NEW.account_id, 0, 0, 0); END IF;
    RETURN NULL;
END $$;

CREATE TRIGGER motion_commitments_touch AFTER INSERT OR UPDATE OF fulfilled_at, account_id OR DELETE ON motion_commitments
    FOR EACH ROW EXECUTE FUNCTION motion_commitments_touch();

-- An attachment's description and focus may change after posting, and processing may finish after a scheduled post
-- went out: touch the post's row (a counter column, so no streaming "edited" event and no other trigger fires).
CREATE FUNCTION media_attachments_touch() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    UPDATE statuses SET replies_count = replies_count WHERE id = NEW.status_id;
    RETURN NULL;
END $$;

CREATE TRIGGER media_attachments_touch AFTER UPDATE OF description, focus_x, focus_y, state, file_path, preview_path, remote_url ON media_attachments
    FOR EACH ROW WHEN (NEW.status_id IS NOT NULL) EXECUTE FUNCTION media_attachments_touch();

-- Each node keeps recently presented tokens in memory (Features/Auth/TokenCache.cs) and empties that cache when told
-- anything changed that could end or alter a token's standing.
CREATE FUNCTION fellows_tokens_changed() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    PERFORM pg_notify('fellows_tokens', '');
    RETURN NULL;
END $$;

CREATE TRIGGER oauth_access_tokens_changed AFTER UPDATE OR DELETE ON oauth_access_tokens
    FOR EACH STATEMENT EXECUTE FUNCTION fellows_tokens_changed();
CREATE TRIGGER users_tokens_changed AFTER UPDATE OF approved, disabled_at, account_id OR DELETE ON users
    FOR EACH STATEMENT EXECUTE FUNCTION fellows_tokens_changed();
CREATE TRIGGER accounts_tokens_changed AFTER UPDATE OF suspended_at OR DELETE ON accounts
    FOR EACH STATEMENT EXECUTE FUNCTION fellows_tokens_changed();
