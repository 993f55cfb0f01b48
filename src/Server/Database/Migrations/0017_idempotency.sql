-- Fellows schema, part 17: Idempotency-Key on posting, so an app retrying after a dropped connection posts once.

CREATE TABLE status_idempotency (
    account_id bigint NOT NULL REFERENCES accounts (id) ON DELETE CASCADE,
    key text NOT NULL,
    status_id bigint NOT NULL REFERENCES statuses (id) ON DELETE CASCADE,
    created_at timestamptz NOT NULL,
    PRIMARY KEY (account_id, key)
);
CREATE INDEX status_idempotency_age ON status_idempotency (created_at);
