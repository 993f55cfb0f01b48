-- Fellows schema, part 21: groups (FEP-1b12). A group is a local account of type Group (so WebFinger, actor
-- documents, follows, inbox, outbox and the Mastodon API treat it like any actor); this table says what kind it is.
-- A workgroup's members are its followers (a Follow is a request to join when the account is locked, i.e. when
-- membership needs approval); the co-op group's members are the instance's approved, active people.

CREATE TABLE groups (
    account_id bigint PRIMARY KEY REFERENCES accounts (id) ON DELETE CASCADE,
    kind text NOT NULL CHECK (kind IN ('coop', 'workgroup')),
    created_by bigint NULL REFERENCES accounts (id) ON DELETE SET NULL,
    created_at timestamptz NOT NULL
);
CREATE UNIQUE INDEX groups_one_coop ON groups (kind) WHERE kind = 'coop';

-- Roles beyond plain membership: facilitators approve requests and edit or close the group.
CREATE TABLE group_roles (
    group_account_id bigint NOT NULL REFERENCES groups (account_id) ON DELETE CASCADE,
    account_id bigint NOT NULL REFERENCES accounts (id) ON DELETE CASCADE,
    role text NOT NULL CHECK (role IN ('facilitator')),
    created_at timestamptz NOT NULL,
    PRIMARY KEY (group_account_id, account_id)
);

-- What allied co-ops said about remote voters: whether their co-op group vouched for them, cached for a while so a
-- busy motion does not fetch an attestation per stance.
CREATE TABLE coop_vouches (
    coop_uri text NOT NULL,                        -- the allied actor named on the motion
    member_uri text NOT NULL,
    vouched boolean NOT NULL,
    detail text NOT NULL DEFAULT '',
    attestation jsonb NULL,                        -- the signed Membership document, when vouched
    checked_at timestamptz NOT NULL,
    PRIMARY KEY (coop_uri, member_uri)
);
