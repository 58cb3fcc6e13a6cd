-- Data retention. The audit log stays append-only, except that entries older
-- than audit_retention.prune_before may be deleted: the daily retention job
-- sets that instant (AUDIT_RETENTION ago) in the transaction that deletes
-- them. UPDATE stays refused, and so does DELETE of anything newer.

CREATE TABLE audit_retention (
    id            INTEGER PRIMARY KEY CHECK (id = 1),
    prune_before  TEXT NOT NULL
);

DROP TRIGGER audit_log_no_delete;

CREATE TRIGGER audit_log_no_delete BEFORE DELETE ON audit_log
WHEN OLD.at >= COALESCE((SELECT prune_before FROM audit_retention WHERE id = 1), '')
BEGIN
    SELECT RAISE(ABORT, 'audit_log is append-only: DELETE refused');
END;

-- What pruning reads: read notifications by age, finished ledger entries by
-- fire time, job runs by start.
CREATE INDEX notifications_read_created_idx ON notifications (created_at) WHERE read = 1;
CREATE INDEX reminder_ledger_fire_at_idx ON reminder_ledger (fire_at);
CREATE INDEX job_runs_started_at_idx ON job_runs (started_at);
