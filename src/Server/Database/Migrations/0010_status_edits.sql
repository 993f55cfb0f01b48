-- Fellows schema, part 10: the earlier versions of edited statuses (Mastodon's edit history).

CREATE TABLE status_edits (
    id bigint PRIMARY KEY DEFAULT fellows_id(now()),
    status_id bigint NOT NULL REFERENCES statuses (id) ON DELETE CASCADE,
    content text NOT NULL,
    source_text text NULL,
    spoiler_text text NOT NULL DEFAULT '',
    sensitive boolean NOT NULL DEFAULT false,
    media_ids bigint[] NOT NULL DEFAULT '{}',
    created_at timestamptz NOT NULL                -- when this version was written (the post, or the edit before)
);
CREATE INDEX status_edits_status ON status_edits (status_id, created_at, id);
