-- A draft motion's attachments: reserved for it (neither posted elsewhere nor deleted) until the motion is posted,
-- when they move to the motion's status like any post's.
ALTER TABLE media_attachments ADD COLUMN motion_id bigint NULL REFERENCES motions (id) ON DELETE SET NULL;
CREATE INDEX media_attachments_motion ON media_attachments (motion_id, position) WHERE motion_id IS NOT NULL;
