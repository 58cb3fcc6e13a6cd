-- Notification delivery: what each channel did with each notification, every
-- email attempt, the daily email counters when no Redis is configured, and
-- routine email deferred to a later day.

-- One row per notification, channel and target (a push endpoint, an email
-- address, a phone number). A row marked sent is never sent again.
CREATE TABLE notification_deliveries (
    notification_id  UUID NOT NULL REFERENCES notifications (id) ON DELETE CASCADE,
    channel          TEXT NOT NULL,
    target           TEXT NOT NULL,
    status           TEXT NOT NULL,
    provider         TEXT,
    attempts         INTEGER NOT NULL DEFAULT 0,
    error            TEXT,
    updated_at       TIMESTAMPTZ NOT NULL,
    PRIMARY KEY (notification_id, channel, target)
);

CREATE TABLE email_attempts (
    id          UUID PRIMARY KEY,
    at          TIMESTAMPTZ NOT NULL,
    to_address  TEXT NOT NULL,
    template    TEXT NOT NULL,
    provider    TEXT,
    priority    TEXT NOT NULL,
    status      TEXT NOT NULL,
    error       TEXT
);
CREATE INDEX email_attempts_at_idx ON email_attempts (at);

CREATE TABLE counters (
    key         TEXT PRIMARY KEY,
    value       BIGINT NOT NULL,
    expires_at  TIMESTAMPTZ NOT NULL
);

CREATE TABLE deferred_emails (
    id          UUID PRIMARY KEY,
    to_address  TEXT NOT NULL,
    subject     TEXT NOT NULL,
    text_body   TEXT NOT NULL,
    html_body   TEXT NOT NULL,
    template    TEXT NOT NULL,
    due_at      TIMESTAMPTZ NOT NULL,
    attempts    INTEGER NOT NULL DEFAULT 0,
    created_at  TIMESTAMPTZ NOT NULL
);
CREATE INDEX deferred_emails_due_idx ON deferred_emails (due_at);
