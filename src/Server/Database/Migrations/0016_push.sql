-- Fellows schema, part 16: Web Push. One subscription per access token, as in Mastodon.

CREATE TABLE push_subscriptions (
    id bigint PRIMARY KEY DEFAULT fellows_id(now()),
    access_token_id bigint NOT NULL UNIQUE REFERENCES oauth_access_tokens (id) ON DELETE CASCADE,
    account_id bigint NOT NULL REFERENCES accounts (id) ON DELETE CASCADE,
    endpoint text NOT NULL,
    p256dh text NOT NULL,
    auth text NOT NULL,
    alerts text[] NOT NULL DEFAULT '{}',           -- notification types the app wants pushed
    policy text NOT NULL DEFAULT 'all',            -- all, followed, follower, none
    protected_token text NOT NULL,                 -- the bearer token, encrypted: Mastodon's payload names it
    created_at timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX push_subscriptions_account ON push_subscriptions (account_id);

-- The server's VAPID key pair (P-256), made once so every node signs pushes alike.
CREATE TABLE vapid_keys (
    id integer PRIMARY KEY DEFAULT 1 CHECK (id = 1),
    public_key text NOT NULL,                      -- uncompressed point, base64url
    private_key text NOT NULL                      -- scalar, base64url
);

-- Each notification is pushed once, by whichever node claims it first.
ALTER TABLE notifications ADD COLUMN pushed_at timestamptz NULL;

-- Announced twice: to the push worker, and to the streaming API (its event shape, see Features/Streaming).
CREATE FUNCTION notifications_announce() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    PERFORM pg_notify('fellows_notification', NEW.id::text);
    PERFORM pg_notify('fellows_stream', json_build_object('event', 'notification', 'account_id', NEW.account_id, 'notification_id', NEW.id)::text);
    RETURN NULL;
END $$;
CREATE TRIGGER notifications_announce AFTER INSERT ON notifications FOR EACH ROW EXECUTE FUNCTION notifications_announce();
