-- Fellows schema, part 20: what a member keeps about other accounts and topics: domains they block, hashtags they
-- feature on their profile or follow, accounts they endorse, private notes, threads they muted, and the languages
-- they want from someone they follow.

-- A member's own block of a whole server (not the instance's domain_blocks, which moderators set for everyone).
-- Domain as in accounts.domain: lower-case host, with the port when it is not the default.
CREATE TABLE account_domain_blocks (
    id bigint PRIMARY KEY,                         -- fellows_id(created_at): pages the list
    account_id bigint NOT NULL REFERENCES accounts (id) ON DELETE CASCADE,
    domain text NOT NULL,
    created_at timestamptz NOT NULL,
    UNIQUE (account_id, domain)
);

-- Hashtags a member shows on their profile (Mastodon's featured tags, federated as toot:featuredTags).
CREATE TABLE featured_tags (
    id bigint PRIMARY KEY,
    account_id bigint NOT NULL REFERENCES accounts (id) ON DELETE CASCADE,
    tag_id bigint NOT NULL REFERENCES tags (id) ON DELETE CASCADE,
    created_at timestamptz NOT NULL,
    UNIQUE (account_id, tag_id)
);

-- Hashtags a member follows: public posts carrying them join the member's home timeline.
CREATE TABLE tag_follows (
    id bigint PRIMARY KEY,
    account_id bigint NOT NULL REFERENCES accounts (id) ON DELETE CASCADE,
    tag_id bigint NOT NULL REFERENCES tags (id) ON DELETE CASCADE,
    created_at timestamptz NOT NULL,
    UNIQUE (account_id, tag_id)
);
CREATE INDEX tag_follows_tag ON tag_follows (tag_id);
-- Finding a tag's posts newest first (status_tags is keyed (tag_id, status_id) already; this serves the reverse).
CREATE INDEX status_tags_status ON status_tags (status_id);

-- Accounts a member endorses on their profile (Mastodon's account pins); only accounts they follow.
CREATE TABLE account_pins (
    id bigint PRIMARY KEY,
    account_id bigint NOT NULL REFERENCES accounts (id) ON DELETE CASCADE,
    target_account_id bigint NOT NULL REFERENCES accounts (id) ON DELETE CASCADE,
    created_at timestamptz NOT NULL,
    UNIQUE (account_id, target_account_id)
);
CREATE INDEX account_pins_target ON account_pins (target_account_id);

-- An endorsement needs the follow under it: however the follow ends (unfollow, block, a Reject from their server,
-- a domain block), the endorsement goes with it, as in Mastodon.
CREATE FUNCTION follows_leave_endorsements() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    DELETE FROM account_pins WHERE account_id = OLD.account_id AND target_account_id = OLD.target_account_id;
    RETURN NULL;
END $$;
CREATE TRIGGER follows_leave_endorsements AFTER DELETE ON follows FOR EACH ROW EXECUTE FUNCTION follows_leave_endorsements();

-- A member's private note about another account (shown to them alone, in the relationship).
CREATE TABLE account_notes (
    account_id bigint NOT NULL REFERENCES accounts (id) ON DELETE CASCADE,
    target_account_id bigint NOT NULL REFERENCES accounts (id) ON DELETE CASCADE,
    comment text NOT NULL,
    updated_at timestamptz NOT NULL,
    PRIMARY KEY (account_id, target_account_id)
);

-- Threads a member muted, by the thread's first post: no more notifications from anything in it.
CREATE TABLE conversation_mutes (
    account_id bigint NOT NULL REFERENCES accounts (id) ON DELETE CASCADE,
    root_status_id bigint NOT NULL REFERENCES statuses (id) ON DELETE CASCADE,
    created_at timestamptz NOT NULL,
    PRIMARY KEY (account_id, root_status_id)
);
CREATE INDEX conversation_mutes_root ON conversation_mutes (root_status_id);

-- Follow with languages[]: only posts in these languages (or with none given) reach the follower's home. NULL: all.
ALTER TABLE follows ADD COLUMN languages text[] NULL;
ALTER TABLE follow_requests ADD COLUMN languages text[] NULL;
