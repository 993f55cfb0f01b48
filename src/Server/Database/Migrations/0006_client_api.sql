-- Fellows schema, part 6: what the Mastodon client API keeps per member: notifications (v1), read markers,
-- bookmarks and mutes.

-- One row per thing a member is told about. Rows are made in the same transaction as what caused them (a local
-- action or an applied inbox activity) and go when it is taken back (unfavourite, unboost, unfollow) or dismissed.
CREATE TABLE notifications (
    id bigint PRIMARY KEY,                         -- fellows_id(created_at): pages like statuses
    account_id bigint NOT NULL REFERENCES accounts (id) ON DELETE CASCADE,      -- the member told (always local)
    from_account_id bigint NOT NULL REFERENCES accounts (id) ON DELETE CASCADE, -- who did it
    type text NOT NULL CHECK (type IN ('mention', 'status', 'reblog', 'follow', 'follow_request', 'favourite', 'poll', 'update')),
    status_id bigint NULL REFERENCES statuses (id) ON DELETE CASCADE,
    created_at timestamptz NOT NULL
);
CREATE INDEX notifications_account ON notifications (account_id, id DESC);
CREATE INDEX notifications_status ON notifications (status_id) WHERE status_id IS NOT NULL;
-- The same event is told once, however often its activity arrives.
CREATE UNIQUE INDEX notifications_once ON notifications (account_id, type, from_account_id, coalesce(status_id, 0));

-- Where a member stopped reading, per timeline (home, notifications), shared by all their apps.
CREATE TABLE markers (
    account_id bigint NOT NULL REFERENCES accounts (id) ON DELETE CASCADE,
    timeline text NOT NULL CHECK (timeline IN ('home', 'notifications')),
    last_read_id bigint NOT NULL,
    version integer NOT NULL DEFAULT 1,
    updated_at timestamptz NOT NULL,
    PRIMARY KEY (account_id, timeline)
);

-- Posts a member saved for later; private to them. Ids page the bookmarks list in the order they were made.
CREATE TABLE bookmarks (
    id bigint PRIMARY KEY,
    account_id bigint NOT NULL REFERENCES accounts (id) ON DELETE CASCADE,
    status_id bigint NOT NULL REFERENCES statuses (id) ON DELETE CASCADE,
    created_at timestamptz NOT NULL,
    UNIQUE (account_id, status_id)
);
CREATE INDEX bookmarks_status ON bookmarks (status_id);

-- Accounts a member does not want to hear from, without telling them (unlike a block, nothing federates).
CREATE TABLE mutes (
    id bigint PRIMARY KEY,
    account_id bigint NOT NULL REFERENCES accounts (id) ON DELETE CASCADE,
    target_account_id bigint NOT NULL REFERENCES accounts (id) ON DELETE CASCADE,
    notifications boolean NOT NULL DEFAULT true,   -- hide their notifications too
    expires_at timestamptz NULL,                   -- NULL: until unmuted
    created_at timestamptz NOT NULL,
    UNIQUE (account_id, target_account_id)
);
CREATE INDEX mutes_target ON mutes (target_account_id);

-- Follower and following lists page by follow id.
CREATE INDEX follows_account ON follows (account_id, id DESC);
CREATE INDEX follows_target_id ON follows (target_account_id, id DESC);
CREATE INDEX favourites_account ON favourites (account_id, id DESC);
