-- Data retention. The audit log stays append-only, except that entries older
-- than audit_retention.prune_before may be deleted: the daily retention job
-- sets that instant (AUDIT_RETENTION ago) in the transaction that deletes
-- them. UPDATE and TRUNCATE stay refused, and so does DELETE of anything
-- newer.

CREATE TABLE audit_retention (
    id            INTEGER PRIMARY KEY CHECK (id = 1),
    prune_before  TIMESTAMPTZ NOT NULL
);

CREATE FUNCTION audit_log_guard() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF TG_OP = 'DELETE' AND OLD.at < (SELECT prune_before FROM audit_retention WHERE id = 1) THEN
        RETURN OLD;
    END IF;
    RAISE EXCEPTION 'audit_log is append-only: % refused', TG_OP
        USING ERRCODE = 'insufficient_privilege';
END
$$;

DROP TRIGGER audit_log_append_only ON audit_log;

CREATE TRIGGER audit_log_append_only
    BEFORE UPDATE OR DELETE ON audit_log
    FOR EACH ROW EXECUTE FUNCTION audit_log_guard();

-- What pruning reads: read notifications by age, finished ledger entries by
-- fire time, job runs by start.
CREATE INDEX notifications_read_created_idx ON notifications (created_at) WHERE read;
CREATE INDEX reminder_ledger_fire_at_idx ON reminder_ledger (fire_at);
CREATE INDEX job_runs_started_at_idx ON job_runs (started_at);
