-- The reminder engine's durable state. The ledger holds one row per reminder
-- instant, keyed by (kind, entity, occurrence, offset): planning the same
-- window twice, on one node or two, can never produce a second row.

CREATE TABLE reminder_ledger (
    key                TEXT PRIMARY KEY,
    kind               TEXT NOT NULL,
    entity_id          UUID NOT NULL,
    care_recipient_id  UUID NOT NULL REFERENCES care_recipients (id) ON DELETE CASCADE,
    occurrence_at      TIMESTAMPTZ NOT NULL,
    offset_minutes     INTEGER NOT NULL,
    fire_at            TIMESTAMPTZ NOT NULL,
    status             TEXT NOT NULL,
    reason             TEXT,
    recipients         INTEGER NOT NULL DEFAULT 0,
    planned_at         TIMESTAMPTZ NOT NULL,
    enqueued_at        TIMESTAMPTZ,
    done_at            TIMESTAMPTZ
);
CREATE INDEX reminder_ledger_due_idx ON reminder_ledger (status, fire_at);
CREATE INDEX reminder_ledger_care_recipient_id_idx ON reminder_ledger (care_recipient_id);
CREATE INDEX reminder_ledger_entity_idx ON reminder_ledger (entity_id, occurrence_at);

-- How far each planner has durably planned.
CREATE TABLE planner_state (
    name        TEXT PRIMARY KEY,
    watermark   TIMESTAMPTZ NOT NULL,
    updated_at  TIMESTAMPTZ NOT NULL
);

-- One row per run of a periodic job.
CREATE TABLE job_runs (
    id           UUID PRIMARY KEY,
    job          TEXT NOT NULL,
    started_at   TIMESTAMPTZ NOT NULL,
    duration_ms  BIGINT NOT NULL,
    items        INTEGER NOT NULL,
    status       TEXT NOT NULL,
    error        TEXT
);
CREATE INDEX job_runs_job_idx ON job_runs (job, started_at);

-- Jobs that failed for good: a permanent error or every attempt used.
CREATE TABLE dead_letters (
    id          UUID PRIMARY KEY,
    job_id      BIGINT,
    kind        TEXT NOT NULL,
    queue       TEXT NOT NULL,
    args        TEXT NOT NULL,
    error       TEXT NOT NULL,
    attempts    INTEGER NOT NULL,
    created_at  TIMESTAMPTZ NOT NULL,
    retried_at  TIMESTAMPTZ
);
CREATE INDEX dead_letters_created_at_idx ON dead_letters (created_at);
