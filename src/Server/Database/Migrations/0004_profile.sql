-- Fellows schema, part 4: what a member writes about themselves, and their posting defaults.

-- The bio as typed (accounts.note holds the rendered HTML that federates).
ALTER TABLE users ADD COLUMN note_source text NOT NULL DEFAULT '';
-- Posting defaults shown to clients as `source`: visibility (0 public .. 3 direct), sensitive, language.
ALTER TABLE users ADD COLUMN default_visibility smallint NOT NULL DEFAULT 0;
ALTER TABLE users ADD COLUMN default_sensitive boolean NOT NULL DEFAULT false;
ALTER TABLE users ADD COLUMN default_language text NULL;
-- When the member last moved away, so a move is not repeated in a hurry.
ALTER TABLE users ADD COLUMN moved_at timestamptz NULL;
