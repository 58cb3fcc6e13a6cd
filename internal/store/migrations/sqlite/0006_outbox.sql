-- The transactional outbox. A state change appends its domain events here in
-- the transaction that makes it; the dispatcher hands each event to every
-- consumer at least once and marks it dispatched when all have taken it.

CREATE TABLE outbox_events (
    seq            INTEGER PRIMARY KEY AUTOINCREMENT,
    id             TEXT NOT NULL UNIQUE,
    type           TEXT NOT NULL,
    family_id      TEXT,
    envelope       TEXT NOT NULL,
    created_at     TEXT NOT NULL,
    dispatched_at  TEXT
);
CREATE INDEX outbox_events_pending_idx ON outbox_events (seq) WHERE dispatched_at IS NULL;
CREATE INDEX outbox_events_dispatched_idx ON outbox_events (dispatched_at) WHERE dispatched_at IS NOT NULL;

-- One row per consumer and event once the consumer has been tried: done, or
-- how often it failed and when to try again.
CREATE TABLE outbox_deliveries (
    consumer         TEXT NOT NULL,
    event_id         TEXT NOT NULL,
    attempts         INTEGER NOT NULL DEFAULT 0,
    last_error       TEXT,
    next_attempt_at  TEXT,
    done_at          TEXT,
    gave_up          BOOLEAN NOT NULL DEFAULT FALSE,
    PRIMARY KEY (consumer, event_id)
);

-- Leases elect one holder of a role (such as the outbox dispatcher) across
-- processes; token grows with every change of holder and fences stale ones.
CREATE TABLE leases (
    name        TEXT PRIMARY KEY,
    holder      TEXT NOT NULL,
    token       INTEGER NOT NULL,
    expires_at  TEXT NOT NULL
);
