-- Fellows schema, part 12: motions (proposals) within one instance and mirrored from allied instances, stances
-- with their history, rejections, outcomes, commitments and reminders. The counting rules are in
-- docs/fep/deliberation.md; the tally stored at the close is what Tally.Count computed, digest included.

CREATE TABLE motions (
    id bigint PRIMARY KEY,
    uri text NOT NULL UNIQUE,                      -- the Question's id (for local motions: the status uri)
    local boolean NOT NULL,
    status_id bigint NULL UNIQUE REFERENCES statuses (id) ON DELETE SET NULL, -- the post that carries the discussion
    author_account_id bigint NOT NULL REFERENCES accounts (id) ON DELETE CASCADE,
    title text NOT NULL,
    body_source text NOT NULL DEFAULT '',          -- Markdown as written
    body_html text NOT NULL DEFAULT '',            -- rendered with Markdig and sanitized
    method text NOT NULL CHECK (method IN ('consent', 'majority', 'approval', 'ranked-choice', 'score')),
    options text[] NOT NULL DEFAULT '{}',
    threshold text NOT NULL,
    quorum text NULL,                              -- "12" or "1/2"
    coop_quorum text NULL,                         -- the same, within each co-op
    counting_mode text NOT NULL DEFAULT 'pooled' CHECK (counting_mode IN ('pooled', 'coop-by-coop')),
    score_min integer NOT NULL DEFAULT 0,
    score_max integer NOT NULL DEFAULT 5,
    secret_ballot boolean NOT NULL DEFAULT false,
    results_before_close boolean NOT NULL DEFAULT false,
    -- Allied instances whose members may take a stance, named by an actor of theirs (instance or group actor).
    allied_actors text[] NOT NULL DEFAULT '{}',
    state text NOT NULL CHECK (state IN ('draft', 'discussion', 'voting', 'closed', 'withdrawn')),
    discussion_ends_at timestamptz NULL,
    voting_ends_at timestamptz NOT NULL,
    remind_before interval NOT NULL DEFAULT '1 day',
    opened_at timestamptz NULL,
    voting_opened_at timestamptz NULL,
    closed_at timestamptz NULL,
    withdrawn_at timestamptz NULL,
    tally jsonb NULL,                              -- the published tally document (ballots embedded)
    tally_digest text NULL,
    tally_state text NULL,
    tally_verified boolean NULL,                   -- remote motions: whether the published ballots recount to it
    outcome_statement text NULL,                   -- Markdown
    outcome_html text NULL,
    outcome_account_id bigint NULL REFERENCES accounts (id) ON DELETE SET NULL,
    outcome_at timestamptz NULL,
    review_at timestamptz NULL,
    created_at timestamptz NOT NULL,
    updated_at timestamptz NOT NULL
);
CREATE INDEX motions_list ON motions (id DESC);
CREATE INDEX motions_open ON motions (voting_ends_at) WHERE state IN ('discussion', 'voting');

CREATE TABLE motion_stances (
    id bigint PRIMARY KEY,
    motion_id bigint NOT NULL REFERENCES motions (id) ON DELETE CASCADE,
    voter_account_id bigint NOT NULL REFERENCES accounts (id) ON DELETE CASCADE,
    uri text NOT NULL UNIQUE,
    coop text NOT NULL,                            -- the co-op (actor) that vouches for the voter
    choices text[] NOT NULL DEFAULT '{}',
    scores jsonb NOT NULL DEFAULT '[]',
    abstain boolean NOT NULL DEFAULT false,
    reason text NULL,                              -- sanitized HTML
    receipt text NULL,                             -- secret ballots
    proof_value text NULL,
    document jsonb NULL,                           -- the signed stance as sent or received
    poll_vote boolean NOT NULL DEFAULT false,      -- came as a plain FEP-9967 poll vote
    published timestamptz NOT NULL,
    received_at timestamptz NOT NULL,
    current boolean NOT NULL DEFAULT true          -- false once the voter changed it (history is kept)
);
CREATE UNIQUE INDEX motion_stances_current ON motion_stances (motion_id, voter_account_id) WHERE current;
CREATE INDEX motion_stances_motion ON motion_stances (motion_id, id);

-- Stances that were refused (ineligible, late, forged, malformed): never counted, answered with a Reject.
CREATE TABLE motion_rejections (
    id bigint PRIMARY KEY DEFAULT fellows_id(now()),
    motion_id bigint NOT NULL REFERENCES motions (id) ON DELETE CASCADE,
    stance_uri text NOT NULL,
    voter_uri text NOT NULL,
    reason text NOT NULL,
    detail text NOT NULL,
    created_at timestamptz NOT NULL
);
CREATE INDEX motion_rejections_motion ON motion_rejections (motion_id, id);

CREATE TABLE motion_commitments (
    id bigint PRIMARY KEY,
    motion_id bigint NOT NULL REFERENCES motions (id) ON DELETE CASCADE,
    account_id bigint NOT NULL REFERENCES accounts (id) ON DELETE CASCADE,
    uri text NOT NULL UNIQUE,
    what text NOT NULL,
    for_whom text NULL,
    due_at timestamptz NULL,
    fulfilled_at timestamptz NULL,
    created_at timestamptz NOT NULL
);
CREATE INDEX motion_commitments_motion ON motion_commitments (motion_id, id);

-- Reminders sent to members who had not taken a position before the deadline (there is no notifications
-- table yet; the API shows these to the member).
CREATE TABLE motion_reminders (
    id bigint PRIMARY KEY DEFAULT fellows_id(now()),
    motion_id bigint NOT NULL REFERENCES motions (id) ON DELETE CASCADE,
    account_id bigint NOT NULL REFERENCES accounts (id) ON DELETE CASCADE,
    created_at timestamptz NOT NULL,
    UNIQUE (motion_id, account_id)
);
CREATE INDEX motion_reminders_account ON motion_reminders (account_id, id DESC);
