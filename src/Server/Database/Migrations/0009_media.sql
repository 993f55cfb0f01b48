-- Fellows schema, part 9: media attachments (uploaded by members, or linked from remote posts).

CREATE TABLE media_attachments (
    id bigint PRIMARY KEY DEFAULT fellows_id(now()),
    account_id bigint NOT NULL REFERENCES accounts (id) ON DELETE CASCADE,
    status_id bigint NULL REFERENCES statuses (id) ON DELETE SET NULL,
    type text NOT NULL DEFAULT 'image',           -- image, gifv, video, audio, unknown (Mastodon's names)
    state smallint NOT NULL DEFAULT 0,             -- 0 processing, 1 ready, 2 failed
    upload_path text NULL,                         -- the raw upload, until processed (relative to the media folder)
    file_path text NULL,                           -- processed original, relative to the media folder
    preview_path text NULL,                        -- small version for timelines
    content_type text NULL,
    file_size integer NULL,
    width integer NULL,
    height integer NULL,
    preview_width integer NULL,
    preview_height integer NULL,
    remote_url text NULL,                          -- for remote attachments: where the file lives
    description text NOT NULL DEFAULT '',
    focus_x real NOT NULL DEFAULT 0,
    focus_y real NOT NULL DEFAULT 0,
    blurhash text NULL,
    error text NULL,
    position smallint NOT NULL DEFAULT 0,
    created_at timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX media_attachments_status ON media_attachments (status_id, position) WHERE status_id IS NOT NULL;
CREATE INDEX media_attachments_pending ON media_attachments (id) WHERE state = 0;
CREATE INDEX media_attachments_unattached ON media_attachments (account_id, created_at) WHERE status_id IS NULL AND remote_url IS NULL;
