-- Fellows schema, part 19: polls on ordinary posts, posts scheduled for later, and direct-message conversations.

-- A poll on a status (a motion's status is shown as a poll from the motions table instead). For our own polls the
-- counts are computed from poll_votes; for a remote Question they are the counts its server last published.
CREATE TABLE polls (
    id bigint PRIMARY KEY,
    status_id bigint NOT NULL UNIQUE REFERENCES statuses (id) ON DELETE CASCADE,
    account_id bigint NOT NULL REFERENCES accounts (id) ON DELETE CASCADE,
    local boolean NOT NULL,
    options text[] NOT NULL,
    multiple boolean NOT NULL,
    hide_totals boolean NOT NULL DEFAULT false,
    expires_at timestamptz NULL,
    closed_at timestamptz NULL,                    -- set when this server processed the end (voters and author told)
    remote_counts bigint[] NULL,                   -- remote polls: votes per option as last published
    remote_voters_count bigint NULL,
    created_at timestamptz NOT NULL,
    updated_at timestamptz NOT NULL
);
CREATE INDEX polls_due ON polls (expires_at) WHERE closed_at IS NULL;

-- One row per chosen option. A remote voter's vote keeps the id of the Note that carried it; a member's vote on a
-- remote poll keeps the id of the Note sent for it.
CREATE TABLE poll_votes (
    id bigint PRIMARY KEY DEFAULT fellows_id(now()),
    poll_id bigint NOT NULL REFERENCES polls (id) ON DELETE CASCADE,
    account_id bigint NOT NULL REFERENCES accounts (id) ON DELETE CASCADE,
    choice integer NOT NULL,
    uri text NULL UNIQUE,
    created_at timestamptz NOT NULL,
    UNIQUE (poll_id, account_id, choice)
);
CREATE INDEX poll_votes_account ON poll_votes (account_id, poll_id);

-- A post to be published later: the parameters as the client sent them, published by a Quartz job at the time.
CREATE TABLE scheduled_statuses (
    id bigint PRIMARY KEY,
    account_id bigint NOT NULL REFERENCES accounts (id) ON DELETE CASCADE,
    scheduled_at timestamptz NOT NULL,
    params jsonb NOT NULL,
    created_at timestamptz NOT NULL
);
CREATE INDEX scheduled_statuses_account ON scheduled_statuses (account_id, id DESC);
CREATE INDEX scheduled_statuses_due ON scheduled_statuses (scheduled_at);

-- Media attached to a scheduled post stays reserved for it until it is published or cancelled.
ALTER TABLE media_attachments ADD COLUMN scheduled_status_id bigint NULL REFERENCES scheduled_statuses (id) ON DELETE SET NULL;

-- A direct-message conversation as one member sees it: the other participants, the latest message, unread or not.
-- Messages of one thread with the same participants land in the same row (root_status_id is the thread's first post).
CREATE TABLE conversations (
    id bigint PRIMARY KEY DEFAULT fellows_id(now()),
    account_id bigint NOT NULL REFERENCES accounts (id) ON DELETE CASCADE,
    root_status_id bigint NOT NULL,
    participant_ids bigint[] NOT NULL,             -- the others, sorted
    last_status_id bigint NOT NULL REFERENCES statuses (id) ON DELETE CASCADE,
    unread boolean NOT NULL,
    updated_at timestamptz NOT NULL,
    UNIQUE (account_id, root_status_id, participant_ids)
);
CREATE INDEX conversations_account ON conversations (account_id, last_status_id DESC);
