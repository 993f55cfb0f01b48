-- Fellows schema, part 15: members' filters (Mastodon's filters v2): words and posts to warn about or hide.

CREATE TABLE filters (
    id bigint PRIMARY KEY DEFAULT fellows_id(now()),
    account_id bigint NOT NULL REFERENCES accounts (id) ON DELETE CASCADE,
    title text NOT NULL,
    context text[] NOT NULL,                       -- home, notifications, public, thread, account
    filter_action text NOT NULL DEFAULT 'warn',    -- warn, hide, blur
    expires_at timestamptz NULL,
    created_at timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX filters_account ON filters (account_id);

CREATE TABLE filter_keywords (
    id bigint PRIMARY KEY DEFAULT fellows_id(now()),
    filter_id bigint NOT NULL REFERENCES filters (id) ON DELETE CASCADE,
    keyword text NOT NULL,
    whole_word boolean NOT NULL DEFAULT true
);
CREATE INDEX filter_keywords_filter ON filter_keywords (filter_id);

CREATE TABLE filter_statuses (
    id bigint PRIMARY KEY DEFAULT fellows_id(now()),
    filter_id bigint NOT NULL REFERENCES filters (id) ON DELETE CASCADE,
    status_id bigint NOT NULL REFERENCES statuses (id) ON DELETE CASCADE,
    UNIQUE (filter_id, status_id)
);

-- Any change to a member's filters tells their open streams (`filters_changed`), so apps reload them.
CREATE FUNCTION filters_changed() RETURNS trigger LANGUAGE plpgsql AS $$
DECLARE
    owner bigint;
BEGIN
    IF TG_TABLE_NAME = 'filters' THEN
        owner := coalesce(NEW.account_id, OLD.account_id);
    ELSE
        SELECT account_id INTO owner FROM filters WHERE id = coalesce(NEW.filter_id, OLD.filter_id);
    END IF;
    IF owner IS NOT NULL THEN
        PERFORM pg_notify('fellows_stream', json_build_object('event', 'filters_changed', 'account_id', owner)::text);
    END IF;
    RETURN NULL;
END $$;
CREATE TRIGGER filters_changed AFTER INSERT OR UPDATE OR DELETE ON filters FOR EACH ROW EXECUTE FUNCTION filters_changed();
CREATE TRIGGER filters_changed AFTER INSERT OR UPDATE OR DELETE ON filter_keywords FOR EACH ROW EXECUTE FUNCTION filters_changed();
CREATE TRIGGER filters_changed AFTER INSERT OR UPDATE OR DELETE ON filter_statuses FOR EACH ROW EXECUTE FUNCTION filters_changed();
