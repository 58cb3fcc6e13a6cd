-- The reminder engine's durable state. The ledger holds one row per reminder
-- instant, keyed by (kind, entity, occurrence, offset): planning the same
-- window twice, on one node or two, can never produce a second row.

CREATE TABLE reminder_ledger (
    key                TEXT PRIMARY KEY,
    kind               TEXT NOT NULL,
    entity_id          TEXT NOT NULL,
    care_recipient_id  TEXT NOT NULL REFERENCES care_recipients (id) ON DELETE CASCADE,
    occurrence_at      TEXT NOT NULL,
    offset_minutes     INTEGER NOT NULL,
    fire_at            TEXT NOT NULL,
    status             TEXT NOT NULL,
    reason             TEXT,
    recipients         INTEGER NOT NULL DEFAULT 0,
    planned_at         TEXT NOT NULL,
    enqueued_at        TEXT,
    done_at            TEXT
);
CREATE INDEX reminder_ledger_due_idx ON reminder_ledger (status, fire_at);
CREATE INDEX reminder_ledger_care_recipient_id_idx ON reminder_ledger (care_recipient_id);
CREATE INDEX reminder_ledger_entity_idx ON reminder_ledger (entity_id, occurrence_at);

-- How far each planner has durably planned.
CREATE TABLE planner_state (
    name        TEXT PRIMARY KEY,
    watermark   TEXT NOT NULL,
    updated_at  TEXT NOT NULL
);

-- One row per run of a periodic job.
CREATE TABLE job_runs (
    id           TEXT PRIMARY KEY,
    job          TEXT NOT NULL,
    started_at   TEXT NOT NULL,
    duration_ms  INTEGER NOT NULL,
    items        INTEGER NOT NULL,
    status       TEXT NOT NULL,
    error        TEXT
);
CREATE INDEX job_runs_job_idx ON job_runs (job, started_at);

-- Jobs that failed for good: a permanent error or every attempt used.
CREATE TABLE dead_letters (
    id          TEXT PRIMARY KEY,
    job_id      INTEGER,
    kind        TEXT NOT NULL,
    queue       TEXT NOT NULL,
    args        TEXT NOT NULL,
    error       TEXT NOT NULL,
    attempts    INTEGER NOT NULL,
    created_at  TEXT NOT NULL,
    retried_at  TEXT
);
CREATE INDEX dead_letters_created_at_idx ON dead_letters (created_at);
