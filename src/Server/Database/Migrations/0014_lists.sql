-- Fellows schema, part 14: members' lists of accounts they follow, each with its own timeline.

CREATE TABLE lists (
    id bigint PRIMARY KEY DEFAULT fellows_id(now()),
    account_id bigint NOT NULL REFERENCES accounts (id) ON DELETE CASCADE,
    title text NOT NULL,
    replies_policy text NOT NULL DEFAULT 'list',   -- followed, list, none (Mastodon's names)
    exclusive boolean NOT NULL DEFAULT false,      -- members of an exclusive list leave the home timeline
    created_at timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX lists_account ON lists (account_id, id);

CREATE TABLE list_accounts (
    list_id bigint NOT NULL REFERENCES lists (id) ON DELETE CASCADE,
    account_id bigint NOT NULL REFERENCES accounts (id) ON DELETE CASCADE,
    PRIMARY KEY (list_id, account_id)
);
CREATE INDEX list_accounts_account ON list_accounts (account_id);

-- Unfollowing someone takes them off the follower's lists, as in Mastodon.
CREATE FUNCTION follows_leave_lists() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    DELETE FROM list_accounts la USING lists l
    WHERE la.list_id = l.id AND l.account_id = OLD.account_id AND la.account_id = OLD.target_account_id;
    RETURN NULL;
END $$;
CREATE TRIGGER follows_leave_lists AFTER DELETE ON follows FOR EACH ROW EXECUTE FUNCTION follows_leave_lists();
