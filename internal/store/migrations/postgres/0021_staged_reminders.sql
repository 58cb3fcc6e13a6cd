-- Staged reminders. Minutes before a reminder's instant the engine decides
-- its outcome, writes its notifications and builds the event announcing
-- them; the ledger entry is STAGED and holds that event and a fingerprint
-- of the outcome. A notification whose dedupe key names a STAGED entry is
-- not shown to anyone. At the instant the engine decides again: if the
-- fingerprint still matches, sending is the entry's move to SENT and the
-- held event's copy into the outbox; if not, the staged notifications are
-- deleted and the reminder is delivered as decided then.

ALTER TABLE reminder_ledger ADD COLUMN fingerprint TEXT;
ALTER TABLE reminder_ledger ADD COLUMN event_id UUID;
ALTER TABLE reminder_ledger ADD COLUMN event_type TEXT;
ALTER TABLE reminder_ledger ADD COLUMN event_family_id UUID;
ALTER TABLE reminder_ledger ADD COLUMN event_envelope TEXT;

-- Due entries are read in (fire time, key) order, a page at a time.
DROP INDEX reminder_ledger_due_idx;
CREATE INDEX reminder_ledger_due_idx ON reminder_ledger (status, fire_at, key);

-- Dropping a changed reminder's staged notifications finds them by key.
CREATE INDEX notifications_dedupe_key_idx ON notifications (dedupe_key) WHERE dedupe_key IS NOT NULL;

-- A staged entry that goes away unsent (its care recipient or family
-- deleted) takes its hidden notifications with it, so they never show.
CREATE FUNCTION reminder_ledger_drop_staged() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    DELETE FROM notifications WHERE dedupe_key = OLD.key;
    RETURN OLD;
END
$$;

CREATE TRIGGER reminder_ledger_staged_deleted
    AFTER DELETE ON reminder_ledger
    FOR EACH ROW WHEN (OLD.status = 'STAGED') EXECUTE FUNCTION reminder_ledger_drop_staged();
