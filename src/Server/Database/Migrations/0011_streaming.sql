-- Fellows schema, part 11: streaming events.
--
-- The database announces every change to a status that a streaming client should see, so no write path (a
-- member's post or boost, an edit, a delete, a note or Announce from the inbox, a remote actor's removal) can
-- forget to. NOTIFY is delivered when the transaction commits, so the listener on every node reads the status
-- with its mentions, tags and attachments already visible, and nothing is announced for a rolled-back write.
--
-- The payload is small (kind and ids) and says nothing a viewer may not see: each node renders the status per
-- connection, with the viewer's own visibility checks. Other features announce on the same channel
-- (e.g. {"event":"notification","account_id":N,"notification_id":M}); see Features/Streaming/StreamEvent.cs.

CREATE FUNCTION fellows_stream_status() RETURNS trigger
LANGUAGE plpgsql AS $$
DECLARE
    kind text;
    s statuses;
BEGIN
    IF TG_OP = 'INSERT' THEN
        IF NEW.deleted_at IS NOT NULL THEN RETURN NULL; END IF;
        kind := 'update';
        s := NEW;
    ELSIF TG_OP = 'DELETE' THEN
        IF OLD.deleted_at IS NOT NULL THEN RETURN NULL; END IF;   -- already announced when it was soft-deleted
        kind := 'delete';
        s := OLD;
    ELSIF OLD.deleted_at IS NULL AND NEW.deleted_at IS NOT NULL THEN
        kind := 'delete';
        s := NEW;
    ELSIF NEW.deleted_at IS NULL
          AND (NEW.edited_at, NEW.content, NEW.spoiler_text, NEW.sensitive)
              IS DISTINCT FROM (OLD.edited_at, OLD.content, OLD.spoiler_text, OLD.sensitive) THEN
        -- An edit; compared by what changed too, since two edits may carry the same timestamp (a remote's
        -- "updated", a frozen test clock).
        kind := 'status.update';
        s := NEW;
    ELSE
        RETURN NULL;
    END IF;
    -- Routing facts travel with the event so a delete can be routed after the row (or its follows) are gone.
    PERFORM pg_notify('fellows_stream', json_build_object(
        'event', kind,
        'status_id', s.id,
        'account_id', s.account_id,
        'visibility', s.visibility,
        'local', s.local,
        'reblog_of_id', s.reblog_of_id)::text);
    RETURN NULL;
END
$$;

-- UPDATE OF: counter updates (replies, boosts, favourites) never fire it.
CREATE TRIGGER statuses_stream
AFTER INSERT OR DELETE OR UPDATE OF deleted_at, edited_at, content, spoiler_text, sensitive ON statuses
FOR EACH ROW EXECUTE FUNCTION fellows_stream_status();
