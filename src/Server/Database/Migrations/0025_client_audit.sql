-- Fellows schema, part 25: what real Mastodon clients call that had nowhere to live: the Idempotency-Key of a
-- scheduled post, and the follow suggestions a member has dismissed.

-- Idempotency-Key on scheduling (POST /api/v1/statuses with scheduled_at): a retry within the hour gets the same
-- ScheduledStatus back. Apart from status_idempotency because the key names a scheduled post, not a status; when the
-- scheduled post is published or cancelled its key goes with it, as in Mastodon (a later retry schedules anew).
CREATE TABLE scheduled_status_idempotency (
    account_id bigint NOT NULL REFERENCES accounts (id) ON DELETE CASCADE,
    key text NOT NULL,
    scheduled_status_id bigint NOT NULL REFERENCES scheduled_statuses (id) ON DELETE CASCADE,
    created_at timestamptz NOT NULL,
    PRIMARY KEY (account_id, key)
);
CREATE INDEX scheduled_status_idempotency_age ON scheduled_status_idempotency (created_at);

-- Accounts a member asked not to be suggested again (DELETE /api/v1/suggestions/:account_id).
CREATE TABLE suggestion_dismissals (
    account_id bigint NOT NULL REFERENCES accounts (id) ON DELETE CASCADE,
    target_account_id bigint NOT NULL REFERENCES accounts (id) ON DELETE CASCADE,
    created_at timestamptz NOT NULL,
    PRIMARY KEY (account_id, target_account_id)
);

-- The options of the poll each earlier version had, for the edit history (a changed poll is a new version).
ALTER TABLE status_edits ADD COLUMN poll_options text[] NULL;
