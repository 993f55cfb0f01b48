-- Fellows schema, part 1: accounts, statuses, the social graph, OAuth, inbox and delivery queues.

-- Ids are time-sortable like Mastodon's: milliseconds since the epoch in the high 48 bits and a sequence in the
-- low 16, so clients can page by id and remote posts can be placed at their published time.
CREATE SEQUENCE fellows_id_seq AS bigint CYCLE;

CREATE FUNCTION fellows_id(ts timestamptz) RETURNS bigint
LANGUAGE sql VOLATILE AS $$
    SELECT ((floor(extract(epoch FROM ts) * 1000)::bigint) << 16) | (nextval('fellows_id_seq') % 65536)
$$;

CREATE TABLE accounts (
    id bigint PRIMARY KEY DEFAULT fellows_id(now()),
    username text NOT NULL,
    domain text NULL,                             -- NULL for members of this instance
    uri text NOT NULL UNIQUE,                      -- the ActivityPub actor id
    url text NULL,                                 -- the profile page
    actor_type text NOT NULL DEFAULT 'Person',
    display_name text NOT NULL DEFAULT '',
    note text NOT NULL DEFAULT '',                 -- HTML, sanitized when remote
    avatar_url text NULL,
    header_url text NULL,
    inbox_url text NULL,
    shared_inbox_url text NULL,
    outbox_url text NULL,
    followers_url text NULL,
    following_url text NULL,
    featured_url text NULL,
    locked boolean NOT NULL DEFAULT false,
    bot boolean NOT NULL DEFAULT false,
    discoverable boolean NOT NULL DEFAULT true,
    indexable boolean NOT NULL DEFAULT true,
    also_known_as text[] NOT NULL DEFAULT '{}',
    moved_to_account_id bigint NULL REFERENCES accounts (id) ON DELETE SET NULL,
    fields jsonb NOT NULL DEFAULT '[]',
    created_at timestamptz NOT NULL DEFAULT now(),
    updated_at timestamptz NOT NULL DEFAULT now(),
    fetched_at timestamptz NULL,                   -- last refresh of a remote actor
    suspended_at timestamptz NULL,
    deleted_at timestamptz NULL
);
CREATE UNIQUE INDEX accounts_username_domain ON accounts (lower(username), lower(coalesce(domain, '')));
CREATE INDEX accounts_domain ON accounts (domain) WHERE domain IS NOT NULL;
CREATE INDEX accounts_stale ON accounts (fetched_at) WHERE domain IS NOT NULL AND deleted_at IS NULL;

-- Keys: local members keep their private halves here; remote keys are cached public halves looked up by key id.
CREATE TABLE account_keys (
    key_id text PRIMARY KEY,
    account_id bigint NOT NULL REFERENCES accounts (id) ON DELETE CASCADE,
    kind text NOT NULL CHECK (kind IN ('rsa', 'ed25519')),
    public_key text NOT NULL,                      -- SPKI PEM for RSA, multibase for Ed25519
    private_key text NULL,                         -- PKCS#8 PEM for RSA, base64 seed for Ed25519 (local only)
    created_at timestamptz NOT NULL DEFAULT now(),
    fetched_at timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX account_keys_account ON account_keys (account_id);

CREATE TABLE users (
    account_id bigint PRIMARY KEY REFERENCES accounts (id) ON DELETE CASCADE,
    email text NOT NULL,
    password_hash text NOT NULL,
    admin boolean NOT NULL DEFAULT false,
    approved boolean NOT NULL DEFAULT true,
    locale text NOT NULL DEFAULT 'en',
    created_at timestamptz NOT NULL DEFAULT now(),
    last_sign_in_at timestamptz NULL,
    disabled_at timestamptz NULL
);
CREATE UNIQUE INDEX users_email ON users (lower(email));

CREATE TABLE statuses (
    id bigint PRIMARY KEY,
    uri text NOT NULL UNIQUE,
    url text NULL,
    account_id bigint NOT NULL REFERENCES accounts (id) ON DELETE CASCADE,
    in_reply_to_id bigint NULL REFERENCES statuses (id) ON DELETE SET NULL,
    in_reply_to_uri text NULL,
    in_reply_to_account_id bigint NULL REFERENCES accounts (id) ON DELETE SET NULL,
    reblog_of_id bigint NULL REFERENCES statuses (id) ON DELETE CASCADE,
    content text NOT NULL DEFAULT '',              -- HTML; sanitized when remote
    source_text text NULL,                         -- what a local member typed
    spoiler_text text NOT NULL DEFAULT '',
    sensitive boolean NOT NULL DEFAULT false,
    visibility smallint NOT NULL,                  -- 0 public, 1 unlisted, 2 followers-only, 3 direct
    language text NULL,
    local boolean NOT NULL,
    created_at timestamptz NOT NULL,
    edited_at timestamptz NULL,
    deleted_at timestamptz NULL,
    replies_count integer NOT NULL DEFAULT 0,
    reblogs_count integer NOT NULL DEFAULT 0,
    favourites_count integer NOT NULL DEFAULT 0
);
CREATE INDEX statuses_account ON statuses (account_id, id DESC) WHERE deleted_at IS NULL;
CREATE INDEX statuses_reply ON statuses (in_reply_to_id) WHERE in_reply_to_id IS NOT NULL;
CREATE INDEX statuses_reply_uri ON statuses (in_reply_to_uri) WHERE in_reply_to_id IS NULL AND in_reply_to_uri IS NOT NULL;
CREATE INDEX statuses_reblog ON statuses (reblog_of_id, account_id) WHERE reblog_of_id IS NOT NULL;
CREATE INDEX statuses_public ON statuses (id DESC) WHERE visibility = 0 AND deleted_at IS NULL;

CREATE TABLE mentions (
    status_id bigint NOT NULL REFERENCES statuses (id) ON DELETE CASCADE,
    account_id bigint NOT NULL REFERENCES accounts (id) ON DELETE CASCADE,
    PRIMARY KEY (status_id, account_id)
);
CREATE INDEX mentions_account ON mentions (account_id, status_id DESC);

CREATE TABLE tags (
    id bigint PRIMARY KEY DEFAULT fellows_id(now()),
    name text NOT NULL,
    created_at timestamptz NOT NULL DEFAULT now()
);
CREATE UNIQUE INDEX tags_name ON tags (lower(name));

CREATE TABLE status_tags (
    status_id bigint NOT NULL REFERENCES statuses (id) ON DELETE CASCADE,
    tag_id bigint NOT NULL REFERENCES tags (id) ON DELETE CASCADE,
    PRIMARY KEY (tag_id, status_id)
);

CREATE TABLE favourites (
    id bigint PRIMARY KEY DEFAULT fellows_id(now()),
    account_id bigint NOT NULL REFERENCES accounts (id) ON DELETE CASCADE,
    status_id bigint NOT NULL REFERENCES statuses (id) ON DELETE CASCADE,
    uri text NULL UNIQUE,
    created_at timestamptz NOT NULL DEFAULT now(),
    UNIQUE (account_id, status_id)
);
CREATE INDEX favourites_status ON favourites (status_id);

CREATE TABLE follows (
    id bigint PRIMARY KEY DEFAULT fellows_id(now()),
    account_id bigint NOT NULL REFERENCES accounts (id) ON DELETE CASCADE,
    target_account_id bigint NOT NULL REFERENCES accounts (id) ON DELETE CASCADE,
    uri text NULL UNIQUE,
    show_reblogs boolean NOT NULL DEFAULT true,
    notify boolean NOT NULL DEFAULT false,
    created_at timestamptz NOT NULL DEFAULT now(),
    UNIQUE (account_id, target_account_id)
);
CREATE INDEX follows_target ON follows (target_account_id, account_id);

CREATE TABLE follow_requests (
    id bigint PRIMARY KEY DEFAULT fellows_id(now()),
    account_id bigint NOT NULL REFERENCES accounts (id) ON DELETE CASCADE,
    target_account_id bigint NOT NULL REFERENCES accounts (id) ON DELETE CASCADE,
    uri text NULL UNIQUE,
    show_reblogs boolean NOT NULL DEFAULT true,
    notify boolean NOT NULL DEFAULT false,
    created_at timestamptz NOT NULL DEFAULT now(),
    UNIQUE (account_id, target_account_id)
);
CREATE INDEX follow_requests_target ON follow_requests (target_account_id);

CREATE TABLE blocks (
    id bigint PRIMARY KEY DEFAULT fellows_id(now()),
    account_id bigint NOT NULL REFERENCES accounts (id) ON DELETE CASCADE,
    target_account_id bigint NOT NULL REFERENCES accounts (id) ON DELETE CASCADE,
    uri text NULL UNIQUE,
    created_at timestamptz NOT NULL DEFAULT now(),
    UNIQUE (account_id, target_account_id)
);
CREATE INDEX blocks_target ON blocks (target_account_id);

CREATE TABLE status_pins (
    account_id bigint NOT NULL REFERENCES accounts (id) ON DELETE CASCADE,
    status_id bigint NOT NULL REFERENCES statuses (id) ON DELETE CASCADE,
    created_at timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (account_id, status_id)
);

CREATE TABLE domain_blocks (
    domain text PRIMARY KEY,                       -- lower-case host, with port when not default
    severity text NOT NULL DEFAULT 'suspend' CHECK (severity IN ('silence', 'suspend')),
    reason text NOT NULL DEFAULT '',
    created_at timestamptz NOT NULL DEFAULT now()
);

-- What was deleted here, so its id answers 410 Gone and a late copy from elsewhere is not resurrected.
CREATE TABLE tombstones (
    uri text PRIMARY KEY,
    account_id bigint NULL REFERENCES accounts (id) ON DELETE SET NULL,
    former_type text NOT NULL DEFAULT 'Note',
    deleted_at timestamptz NOT NULL DEFAULT now()
);

CREATE TABLE oauth_applications (
    id bigint PRIMARY KEY DEFAULT fellows_id(now()),
    name text NOT NULL,
    website text NULL,
    redirect_uris text[] NOT NULL DEFAULT '{}',
    scopes text[] NOT NULL DEFAULT '{read}',
    client_id text NOT NULL UNIQUE,
    client_secret text NOT NULL,
    owner_account_id bigint NULL REFERENCES accounts (id) ON DELETE SET NULL,
    created_at timestamptz NOT NULL DEFAULT now()
);

CREATE TABLE oauth_access_tokens (
    id bigint PRIMARY KEY DEFAULT fellows_id(now()),
    token_hash bytea NOT NULL UNIQUE,              -- SHA-256 of the bearer token; the token itself is never stored
    refresh_token_hash bytea NULL UNIQUE,
    application_id bigint NULL REFERENCES oauth_applications (id) ON DELETE CASCADE,
    account_id bigint NULL REFERENCES accounts (id) ON DELETE CASCADE,
    scopes text[] NOT NULL,
    created_at timestamptz NOT NULL DEFAULT now(),
    expires_at timestamptz NULL,
    revoked_at timestamptz NULL,
    last_used_at timestamptz NULL
);
CREATE INDEX oauth_access_tokens_account ON oauth_access_tokens (account_id);

-- Inbound activities are stored raw before the 202, then applied by the inbox worker.
CREATE TABLE inbox_activities (
    id bigserial PRIMARY KEY,
    activity_id text NOT NULL,
    activity_type text NOT NULL,
    actor_uri text NOT NULL,
    key_id text NULL,
    recipient_account_id bigint NULL REFERENCES accounts (id) ON DELETE CASCADE,
    body text NOT NULL,
    received_at timestamptz NOT NULL DEFAULT now(),
    state smallint NOT NULL DEFAULT 0,             -- 0 pending, 1 done, 2 failed
    attempts integer NOT NULL DEFAULT 0,
    next_attempt_at timestamptz NOT NULL DEFAULT now(),
    processed_at timestamptz NULL,
    last_error text NULL
);
-- A replayed activity id is stored, and so processed, once.
CREATE UNIQUE INDEX inbox_activities_activity_id ON inbox_activities (activity_id);
CREATE INDEX inbox_activities_pending ON inbox_activities (next_attempt_at, id) WHERE state = 0;

-- Outbound: the activity commits with the state change that caused it (transactional outbox) ...
CREATE TABLE outbox_activities (
    id bigint PRIMARY KEY DEFAULT fellows_id(now()),
    activity_id text NOT NULL UNIQUE,
    actor_account_id bigint NOT NULL REFERENCES accounts (id) ON DELETE CASCADE,
    body text NOT NULL,
    -- who gets it: follower inboxes of these accounts, plus explicit actor ids and inboxes
    to_followers_of bigint[] NOT NULL DEFAULT '{}',
    to_actor_uris text[] NOT NULL DEFAULT '{}',
    to_inboxes text[] NOT NULL DEFAULT '{}',
    created_at timestamptz NOT NULL DEFAULT now(),
    fanned_out_at timestamptz NULL
);
CREATE INDEX outbox_activities_pending ON outbox_activities (id) WHERE fanned_out_at IS NULL;

-- ... and fans out into one delivery per inbox (shared inboxes de-duplicated).
CREATE TABLE deliveries (
    id bigserial PRIMARY KEY,
    outbox_activity_id bigint NOT NULL REFERENCES outbox_activities (id) ON DELETE CASCADE,
    inbox_url text NOT NULL,
    host text NOT NULL,
    state smallint NOT NULL DEFAULT 0,             -- 0 pending, 1 delivered, 2 dead
    attempts integer NOT NULL DEFAULT 0,
    next_attempt_at timestamptz NOT NULL DEFAULT now(),
    locked_until timestamptz NULL,
    last_status integer NULL,
    last_error text NULL,
    created_at timestamptz NOT NULL DEFAULT now(),
    completed_at timestamptz NULL,
    UNIQUE (outbox_activity_id, inbox_url)
);
CREATE INDEX deliveries_due ON deliveries (next_attempt_at, id) WHERE state = 0;
CREATE INDEX deliveries_completed ON deliveries (completed_at) WHERE state <> 0;

-- What we know of each remote host: which signature format it accepts and whether it is answering.
CREATE TABLE remote_hosts (
    host text PRIMARY KEY,
    signature_scheme text NULL,
    consecutive_failures integer NOT NULL DEFAULT 0,
    circuit_open_until timestamptz NULL,
    last_success_at timestamptz NULL,
    last_failure_at timestamptz NULL
);
