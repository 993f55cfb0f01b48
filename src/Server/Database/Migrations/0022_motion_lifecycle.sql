-- Fellows schema, part 22: the rest of a motion's life. Amendments to its text (with the text's history), the
-- outcome federated as its own object, commitments federated between co-ops, and Fellows notifications
-- (reminders, reviews, overdue commitments, amended texts). The rules are written in docs/fep/deliberation.md.

-- The text a motion has now is version `text_version`; every version, the first included, is in motion_versions.
ALTER TABLE motions ADD COLUMN text_version integer NOT NULL DEFAULT 1;
ALTER TABLE motions ADD COLUMN outcome_uri text NULL;          -- the fellows:Outcome's id (ours, or the home instance's)
ALTER TABLE motions ADD COLUMN reviewed_at timestamptz NULL;   -- when members were asked whether the outcome still stands

CREATE TABLE motion_versions (
    motion_id bigint NOT NULL REFERENCES motions (id) ON DELETE CASCADE,
    version integer NOT NULL,
    title text NOT NULL,
    body_source text NOT NULL,
    body_html text NOT NULL,
    amendment_id bigint NULL,                      -- the accepted amendment that made it (none for version 1)
    created_at timestamptz NOT NULL,
    PRIMARY KEY (motion_id, version)
);
INSERT INTO motion_versions (motion_id, version, title, body_source, body_html, created_at)
SELECT id, 1, title, body_source, body_html, created_at FROM motions;

-- Which text a stance was taken on: a stance on an earlier version stays counted, flagged "before amendment N".
ALTER TABLE motion_stances ADD COLUMN text_version integer NOT NULL DEFAULT 1;

-- Proposed changes to a motion's text, by any eligible member here or on an allied instance. Kept on every instance
-- that knows the motion; only the motion's home instance decides them (its Accept or Reject travels to the others).
CREATE TABLE motion_amendments (
    id bigint PRIMARY KEY,
    motion_id bigint NOT NULL REFERENCES motions (id) ON DELETE CASCADE,
    uri text NOT NULL UNIQUE,
    author_account_id bigint NOT NULL REFERENCES accounts (id) ON DELETE CASCADE,
    title text NOT NULL,                           -- the proposed title
    body_source text NOT NULL,                     -- the proposed body, Markdown
    reason_html text NOT NULL,                     -- why, sanitized HTML
    state text NOT NULL CHECK (state IN ('proposed', 'accepted', 'declined', 'voting')),
    text_version integer NULL,                     -- accepted: the version it made
    decided_at timestamptz NULL,
    created_at timestamptz NOT NULL
);
CREATE INDEX motion_amendments_motion ON motion_amendments (motion_id, id);

-- A facilitator may put an amendment to a consent sub-decision instead of the author deciding it alone:
-- one position per eligible member of the home instance, changeable until the facilitator resolves it.
CREATE TABLE motion_amendment_positions (
    amendment_id bigint NOT NULL REFERENCES motion_amendments (id) ON DELETE CASCADE,
    account_id bigint NOT NULL REFERENCES accounts (id) ON DELETE CASCADE,
    position text NOT NULL CHECK (position IN ('agree', 'abstain', 'disagree', 'block')),
    reason text NULL,
    created_at timestamptz NOT NULL,
    PRIMARY KEY (amendment_id, account_id)
);

-- Commitments: remote ones (made on an allied instance, federated here) are kept too; overdue ones are reminded once.
ALTER TABLE motion_commitments ADD COLUMN local boolean NOT NULL DEFAULT true;
ALTER TABLE motion_commitments ADD COLUMN reminded_at timestamptz NULL;
ALTER TABLE motion_commitments ADD COLUMN updated_at timestamptz NULL;
CREATE INDEX motion_commitments_account ON motion_commitments (account_id, id DESC);
CREATE INDEX motion_commitments_due ON motion_commitments (due_at) WHERE fulfilled_at IS NULL AND reminded_at IS NULL AND local;

-- Fellows notifications, beside Mastodon's kinds. The client API shows them as kinds apps already know (see
-- Features/Notifications/FellowsNotifications.cs); the stored kind keeps what happened.
ALTER TABLE notifications DROP CONSTRAINT IF EXISTS notifications_type_check;
ALTER TABLE notifications ADD CONSTRAINT notifications_type_check CHECK (type IN (
    'mention', 'status', 'reblog', 'follow', 'follow_request', 'favourite', 'poll', 'update',
    'fellows.motion_reminder', 'fellows.motion_amended', 'fellows.outcome_review', 'fellows.commitment_due'));
