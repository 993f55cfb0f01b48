-- Fellows schema, part 15: members' filters (Mastodon's filters v2): words and posts to warn about or hide.

CREATE TABLE filters (
    id bigint PRIMARY KEY DEFAULT fellows_id(now()),
    account_id bigint NOT NULL REFERENCES accounts (id) ON DELETE CASCADE,
    title text NOT NULL,
    context text[] NOT NULL,                       -- home, notifications, public, thread, account
    filter_action text NOT NULL DEFAULT 'warn',    -- warn, hide, blur
    expires_at timestamptz NULL,
    created_at timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX filters_account ON filters (account_id);

CREATE TABLE filter_keywords (
    id bigint PRIMARY KEY DEFAULT fellows_id(now()),
    filter_id bigint NOT NULL REFERENCES filters (id) ON DELETE CASCADE,
    keyword text NOT NULL,
    whole_word boolean NOT NULL DEFAULT true
);
CREATE INDEX filter_keywords_filter ON filter_keywords (filter_id);

CREATE TABLE filter_statuses (
    id bigint PRIMARY KEY DEFAULT fellows_id(now()),
    filter_id bigint NOT NULL REFERENCES filters (id) ON DELETE CASCADE,
    status_id bigint NOT NULL REFERENCES statuses (id) ON DELETE CASCADE,
    UNIQUE (filter_id, status_id)
);
