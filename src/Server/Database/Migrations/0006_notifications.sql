-- Fellows schema, part 6: notifications for members (Mastodon client API, v1).

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
