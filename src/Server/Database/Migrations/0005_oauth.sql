-- OAuth 2 sign-in: hashed client secrets, authorization codes, token families, browser sessions for the sign-in
-- page, throttling of failed sign-ins, and sign-up awaiting a co-op's approval.

-- A client secret is shown once, when the app registers; only its SHA-256 is kept, like bearer tokens.
ALTER TABLE oauth_applications ADD COLUMN client_secret_hash bytea NULL;
UPDATE oauth_applications SET client_secret_hash = sha256(convert_to(client_secret, 'UTF8'));
ALTER TABLE oauth_applications ALTER COLUMN client_secret_hash SET NOT NULL;
ALTER TABLE oauth_applications DROP COLUMN client_secret;

-- Apps are never deleted behind a client's back (Mastodon before 4.3 vacuumed unused apps and broke clients):
-- deleting an app that still has tokens or codes is refused instead of cascading.
ALTER TABLE oauth_access_tokens DROP CONSTRAINT oauth_access_tokens_application_id_fkey;
ALTER TABLE oauth_access_tokens ADD CONSTRAINT oauth_access_tokens_application_id_fkey
    FOREIGN KEY (application_id) REFERENCES oauth_applications (id) ON DELETE RESTRICT;

-- Tokens that descend from one grant (an authorization code, a password sign-in, and every refresh after it)
-- share grant_id, so a replayed code or a reused refresh token revokes the whole family at once.
ALTER TABLE oauth_access_tokens ADD COLUMN grant_id bigint NULL;
ALTER TABLE oauth_access_tokens ADD COLUMN rotated_at timestamptz NULL;   -- its refresh token was exchanged
CREATE INDEX oauth_access_tokens_grant ON oauth_access_tokens (grant_id) WHERE grant_id IS NOT NULL;

CREATE TABLE oauth_authorization_codes (
    id bigint PRIMARY KEY DEFAULT fellows_id(now()),
    code_hash bytea NOT NULL UNIQUE,               -- SHA-256 of the code; the code itself is never stored
    application_id bigint NOT NULL REFERENCES oauth_applications (id) ON DELETE RESTRICT,
    account_id bigint NOT NULL REFERENCES accounts (id) ON DELETE CASCADE,
    redirect_uri text NOT NULL,
    scopes text[] NOT NULL,
    code_challenge text NULL,                      -- RFC 7636 PKCE
    code_challenge_method text NULL CHECK (code_challenge_method IN ('S256', 'plain')),
    created_at timestamptz NOT NULL,
    expires_at timestamptz NOT NULL,
    used_at timestamptz NULL
);
CREATE INDEX oauth_authorization_codes_expiry ON oauth_authorization_codes (expires_at);

-- The browser session of the sign-in page (a random cookie value, stored hashed).
CREATE TABLE web_sessions (
    id bigint PRIMARY KEY DEFAULT fellows_id(now()),
    token_hash bytea NOT NULL UNIQUE,
    account_id bigint NOT NULL REFERENCES accounts (id) ON DELETE CASCADE,
    created_at timestamptz NOT NULL,
    expires_at timestamptz NOT NULL,
    revoked_at timestamptz NULL,
    user_agent text NULL,
    remote_ip text NULL
);
CREATE INDEX web_sessions_account ON web_sessions (account_id);

-- Failed sign-ins (and sign-ups) counted per key ('ip:…', 'login:…', 'signup:…') in a fixed window, shared by
-- every node of a deployment.
CREATE TABLE sign_in_throttle (
    key text PRIMARY KEY,
    attempts integer NOT NULL,
    window_started_at timestamptz NOT NULL
);

-- Sign-up through the API: what the applicant wrote for the co-op, and when they accepted the rules.
ALTER TABLE users ADD COLUMN registration_reason text NULL;
ALTER TABLE users ADD COLUMN agreement_accepted_at timestamptz NULL;
ALTER TABLE users ADD COLUMN sign_up_application_id bigint NULL REFERENCES oauth_applications (id) ON DELETE SET NULL;
ALTER TABLE users ADD COLUMN approved_at timestamptz NULL;
