-- CareCircle data model (SQLite). Identifiers are UUID text, timestamps are
-- fixed-width RFC 3339 UTC text (sorting as text sorts by time), booleans 0/1,
-- lists and objects JSON text. Identifiers and timestamps come from the application.

CREATE TABLE users (
    id                    TEXT PRIMARY KEY,
    email                 TEXT NOT NULL,
    password_hash         TEXT NOT NULL,
    full_name             TEXT NOT NULL,
    phone                 TEXT,
    timezone              TEXT NOT NULL,
    avatar_url            TEXT,
    status                TEXT NOT NULL,
    system_role           TEXT NOT NULL DEFAULT 'USER',
    email_verified        INTEGER NOT NULL DEFAULT 0,
    email_verified_at     TEXT,
    phone_verified        INTEGER NOT NULL DEFAULT 0,
    last_login_at         TEXT,
    onboarding_completed  INTEGER NOT NULL DEFAULT 0,
    preferences           TEXT NOT NULL DEFAULT '{}',
    failed_logins         INTEGER NOT NULL DEFAULT 0,
    locked_until          TEXT,
    created_at            TEXT NOT NULL,
    updated_at            TEXT NOT NULL
);
CREATE UNIQUE INDEX users_email_key ON users (email);

CREATE TABLE sessions (
    id            TEXT PRIMARY KEY,
    user_id       TEXT NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    device_info   TEXT,
    ip_address    TEXT,
    user_agent    TEXT,
    remember_me   INTEGER NOT NULL DEFAULT 0,
    created_at    TEXT NOT NULL,
    last_used_at  TEXT NOT NULL,
    expires_at    TEXT NOT NULL,
    revoked_at    TEXT,
    revoke_reason TEXT
);
CREATE INDEX sessions_user_id_idx ON sessions (user_id, revoked_at);

-- Every refresh token ever issued within a session. A token that was already
-- rotated and is presented again betrays theft: its whole session is revoked.
CREATE TABLE refresh_tokens (
    token_hash  TEXT PRIMARY KEY,
    session_id  TEXT NOT NULL REFERENCES sessions (id) ON DELETE CASCADE,
    created_at  TEXT NOT NULL,
    rotated_at  TEXT
);
CREATE INDEX refresh_tokens_session_id_idx ON refresh_tokens (session_id);

-- One-time codes (email verification, phone verification), hashed.
CREATE TABLE one_time_codes (
    user_id     TEXT NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    purpose     TEXT NOT NULL,
    code_hash   TEXT NOT NULL,
    attempts    INTEGER NOT NULL DEFAULT 0,
    sent_at     TEXT NOT NULL,
    expires_at  TEXT NOT NULL,
    PRIMARY KEY (user_id, purpose)
);

CREATE TABLE password_resets (
    token_hash  TEXT PRIMARY KEY,
    user_id     TEXT NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    created_at  TEXT NOT NULL,
    expires_at  TEXT NOT NULL,
    used_at     TEXT
);
CREATE INDEX password_resets_user_id_idx ON password_resets (user_id);

CREATE TABLE families (
    id            TEXT PRIMARY KEY,
    name          TEXT NOT NULL,
    created_by_id TEXT REFERENCES users (id) ON DELETE SET NULL,
    created_at    TEXT NOT NULL,
    updated_at    TEXT NOT NULL
);
CREATE INDEX families_created_by_id_idx ON families (created_by_id);

CREATE TABLE family_members (
    id         TEXT PRIMARY KEY,
    family_id  TEXT NOT NULL REFERENCES families (id) ON DELETE CASCADE,
    user_id    TEXT NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    role       TEXT NOT NULL,
    nickname   TEXT,
    can_edit   INTEGER NOT NULL DEFAULT 1,
    is_active  INTEGER NOT NULL DEFAULT 1,
    joined_at  TEXT NOT NULL,
    UNIQUE (family_id, user_id)
);
CREATE INDEX family_members_user_id_idx ON family_members (user_id, is_active);

CREATE TABLE family_invitations (
    id             TEXT PRIMARY KEY,
    family_id      TEXT NOT NULL REFERENCES families (id) ON DELETE CASCADE,
    email          TEXT NOT NULL,
    role           TEXT NOT NULL,
    status         TEXT NOT NULL,
    token_hash     TEXT NOT NULL,
    invited_by_id  TEXT REFERENCES users (id) ON DELETE SET NULL,
    message        TEXT,
    expires_at     TEXT NOT NULL,
    created_at     TEXT NOT NULL,
    responded_at   TEXT
);
CREATE UNIQUE INDEX family_invitations_token_hash_key ON family_invitations (token_hash);
CREATE INDEX family_invitations_family_id_idx ON family_invitations (family_id, status);
CREATE INDEX family_invitations_email_idx ON family_invitations (email, status);
CREATE INDEX family_invitations_invited_by_id_idx ON family_invitations (invited_by_id);

CREATE TABLE care_recipients (
    id                   TEXT PRIMARY KEY,
    family_id            TEXT NOT NULL REFERENCES families (id) ON DELETE CASCADE,
    full_name            TEXT NOT NULL,
    preferred_name       TEXT,
    date_of_birth        TEXT,
    photo_url            TEXT,
    blood_type           TEXT,
    allergies            TEXT NOT NULL DEFAULT '[]',
    conditions           TEXT NOT NULL DEFAULT '[]',
    notes                TEXT,
    primary_hospital     TEXT,
    hospital_address     TEXT,
    insurance_provider   TEXT,
    insurance_policy_no  TEXT,
    timezone             TEXT NOT NULL,
    created_at           TEXT NOT NULL,
    updated_at           TEXT NOT NULL
);
CREATE INDEX care_recipients_family_id_idx ON care_recipients (family_id, full_name);

CREATE TABLE doctors (
    id                 TEXT PRIMARY KEY,
    care_recipient_id  TEXT NOT NULL REFERENCES care_recipients (id) ON DELETE CASCADE,
    name               TEXT NOT NULL,
    specialty          TEXT,
    phone              TEXT,
    fax                TEXT,
    email              TEXT,
    address            TEXT,
    notes              TEXT,
    created_at         TEXT NOT NULL,
    updated_at         TEXT NOT NULL
);
CREATE INDEX doctors_care_recipient_id_idx ON doctors (care_recipient_id, name);

CREATE TABLE emergency_contacts (
    id                 TEXT PRIMARY KEY,
    care_recipient_id  TEXT NOT NULL REFERENCES care_recipients (id) ON DELETE CASCADE,
    name               TEXT NOT NULL,
    relationship       TEXT NOT NULL,
    phone              TEXT NOT NULL,
    email              TEXT,
    is_primary         INTEGER NOT NULL DEFAULT 0,
    notes              TEXT,
    created_at         TEXT NOT NULL,
    updated_at         TEXT NOT NULL
);
CREATE INDEX emergency_contacts_care_recipient_id_idx ON emergency_contacts (care_recipient_id);
CREATE UNIQUE INDEX emergency_contacts_one_primary ON emergency_contacts (care_recipient_id) WHERE is_primary = 1;

CREATE TABLE medications (
    id                 TEXT PRIMARY KEY,
    care_recipient_id  TEXT NOT NULL REFERENCES care_recipients (id) ON DELETE CASCADE,
    name               TEXT NOT NULL,
    generic_name       TEXT,
    dosage             TEXT NOT NULL,
    form               TEXT NOT NULL,
    frequency          TEXT NOT NULL,
    times_per_day      INTEGER,
    scheduled_times    TEXT NOT NULL DEFAULT '[]',
    instructions       TEXT,
    prescribed_by      TEXT,
    pharmacy           TEXT,
    pharmacy_phone     TEXT,
    current_supply     INTEGER,
    refill_at          INTEGER,
    last_refill_date   TEXT,
    is_active          INTEGER NOT NULL DEFAULT 1,
    start_date         TEXT,
    end_date           TEXT,
    notes              TEXT,
    created_at         TEXT NOT NULL,
    updated_at         TEXT NOT NULL
);
CREATE INDEX medications_care_recipient_id_idx ON medications (care_recipient_id, is_active);

CREATE TABLE medication_logs (
    id              TEXT PRIMARY KEY,
    medication_id   TEXT NOT NULL REFERENCES medications (id) ON DELETE CASCADE,
    given_by_id     TEXT REFERENCES users (id) ON DELETE SET NULL,
    scheduled_time  TEXT NOT NULL,
    given_time      TEXT,
    status          TEXT NOT NULL,
    skip_reason     TEXT,
    notes           TEXT,
    created_at      TEXT NOT NULL,
    updated_at      TEXT NOT NULL,
    UNIQUE (medication_id, scheduled_time)
);
CREATE INDEX medication_logs_given_by_id_idx ON medication_logs (given_by_id);
CREATE INDEX medication_logs_created_at_idx ON medication_logs (medication_id, created_at);

CREATE TABLE appointments (
    id                   TEXT PRIMARY KEY,
    care_recipient_id    TEXT NOT NULL REFERENCES care_recipients (id) ON DELETE CASCADE,
    doctor_id            TEXT REFERENCES doctors (id) ON DELETE SET NULL,
    title                TEXT NOT NULL,
    type                 TEXT NOT NULL,
    start_time           TEXT NOT NULL,
    end_time             TEXT NOT NULL,
    location             TEXT,
    address              TEXT,
    notes                TEXT,
    is_recurring         INTEGER NOT NULL DEFAULT 0,
    recurrence_rule      TEXT,
    recurring_series_id  TEXT,
    recurring_index      INTEGER,
    reminder_minutes     TEXT NOT NULL DEFAULT '[60,1440]',
    status               TEXT NOT NULL,
    created_by_id        TEXT REFERENCES users (id) ON DELETE SET NULL,
    created_at           TEXT NOT NULL,
    updated_at           TEXT NOT NULL
);
CREATE INDEX appointments_care_recipient_id_idx ON appointments (care_recipient_id, start_time);
CREATE INDEX appointments_doctor_id_idx ON appointments (doctor_id);
CREATE INDEX appointments_series_idx ON appointments (recurring_series_id, start_time);
CREATE INDEX appointments_created_by_id_idx ON appointments (created_by_id);
CREATE INDEX appointments_start_time_idx ON appointments (start_time, status);

CREATE TABLE transport_assignments (
    id              TEXT PRIMARY KEY,
    appointment_id  TEXT NOT NULL REFERENCES appointments (id) ON DELETE CASCADE,
    assigned_to_id  TEXT NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    notes           TEXT,
    confirmed       INTEGER NOT NULL DEFAULT 0,
    created_at      TEXT NOT NULL,
    updated_at      TEXT NOT NULL,
    UNIQUE (appointment_id)
);
CREATE INDEX transport_assignments_assigned_to_id_idx ON transport_assignments (assigned_to_id);

CREATE TABLE caregiver_shifts (
    id                 TEXT PRIMARY KEY,
    care_recipient_id  TEXT NOT NULL REFERENCES care_recipients (id) ON DELETE CASCADE,
    caregiver_id       TEXT NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    start_time         TEXT NOT NULL,
    end_time           TEXT NOT NULL,
    notes              TEXT,
    handoff_notes      TEXT,
    status             TEXT NOT NULL,
    checked_in_at      TEXT,
    checked_out_at     TEXT,
    created_by_id      TEXT REFERENCES users (id) ON DELETE SET NULL,
    created_at         TEXT NOT NULL,
    updated_at         TEXT NOT NULL
);
CREATE INDEX caregiver_shifts_care_recipient_id_idx ON caregiver_shifts (care_recipient_id, start_time);
CREATE INDEX caregiver_shifts_caregiver_id_idx ON caregiver_shifts (caregiver_id, start_time);
CREATE INDEX caregiver_shifts_created_by_id_idx ON caregiver_shifts (created_by_id);

CREATE TABLE timeline_entries (
    id                 TEXT PRIMARY KEY,
    care_recipient_id  TEXT NOT NULL REFERENCES care_recipients (id) ON DELETE CASCADE,
    created_by_id      TEXT REFERENCES users (id) ON DELETE SET NULL,
    type               TEXT NOT NULL,
    title              TEXT NOT NULL,
    description        TEXT,
    severity           TEXT,
    vitals             TEXT,
    attachments        TEXT NOT NULL DEFAULT '[]',
    occurred_at        TEXT NOT NULL,
    created_at         TEXT NOT NULL,
    updated_at         TEXT NOT NULL
);
CREATE INDEX timeline_entries_care_recipient_id_idx ON timeline_entries (care_recipient_id, occurred_at);
CREATE INDEX timeline_entries_created_by_id_idx ON timeline_entries (created_by_id);

CREATE TABLE documents (
    id              TEXT PRIMARY KEY,
    family_id       TEXT NOT NULL REFERENCES families (id) ON DELETE CASCADE,
    uploaded_by_id  TEXT REFERENCES users (id) ON DELETE SET NULL,
    name            TEXT NOT NULL,
    type            TEXT NOT NULL,
    status          TEXT NOT NULL,
    mime_type       TEXT NOT NULL,
    size_bytes      INTEGER NOT NULL,
    storage_key     TEXT NOT NULL,
    sha256          TEXT,
    expires_at      TEXT,
    notes           TEXT,
    created_at      TEXT NOT NULL,
    updated_at      TEXT NOT NULL
);
CREATE INDEX documents_family_id_idx ON documents (family_id, type);
CREATE INDEX documents_uploaded_by_id_idx ON documents (uploaded_by_id);
CREATE INDEX documents_expires_at_idx ON documents (expires_at);

CREATE TABLE emergency_alerts (
    id                 TEXT PRIMARY KEY,
    care_recipient_id  TEXT NOT NULL REFERENCES care_recipients (id) ON DELETE CASCADE,
    created_by_id      TEXT REFERENCES users (id) ON DELETE SET NULL,
    type               TEXT NOT NULL,
    title              TEXT NOT NULL,
    description        TEXT NOT NULL,
    location           TEXT,
    status             TEXT NOT NULL,
    acknowledged_at    TEXT,
    acknowledged_by_id TEXT REFERENCES users (id) ON DELETE SET NULL,
    resolved_at        TEXT,
    resolved_by_id     TEXT REFERENCES users (id) ON DELETE SET NULL,
    resolution_notes   TEXT,
    created_at         TEXT NOT NULL,
    updated_at         TEXT NOT NULL
);
CREATE INDEX emergency_alerts_care_recipient_id_idx ON emergency_alerts (care_recipient_id, status, created_at);
CREATE INDEX emergency_alerts_created_by_id_idx ON emergency_alerts (created_by_id);
CREATE INDEX emergency_alerts_acknowledged_by_id_idx ON emergency_alerts (acknowledged_by_id);
CREATE INDEX emergency_alerts_resolved_by_id_idx ON emergency_alerts (resolved_by_id);

CREATE TABLE notifications (
    id          TEXT PRIMARY KEY,
    user_id     TEXT NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    type        TEXT NOT NULL,
    title       TEXT NOT NULL,
    body        TEXT NOT NULL,
    data        TEXT NOT NULL DEFAULT '{}',
    read        INTEGER NOT NULL DEFAULT 0,
    read_at     TEXT,
    dedupe_key  TEXT,
    created_at  TEXT NOT NULL
);
CREATE INDEX notifications_user_id_idx ON notifications (user_id, read, created_at);
CREATE UNIQUE INDEX notifications_dedupe_key ON notifications (user_id, dedupe_key) WHERE dedupe_key IS NOT NULL;

CREATE TABLE push_subscriptions (
    id           TEXT PRIMARY KEY,
    user_id      TEXT NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    endpoint     TEXT NOT NULL,
    p256dh       TEXT NOT NULL,
    auth         TEXT NOT NULL,
    platform     TEXT,
    device_name  TEXT,
    created_at   TEXT NOT NULL,
    last_used_at TEXT
);
CREATE UNIQUE INDEX push_subscriptions_endpoint_key ON push_subscriptions (endpoint);
CREATE INDEX push_subscriptions_user_id_idx ON push_subscriptions (user_id);

-- Small named values the system generates once and keeps (e.g. VAPID keys).
CREATE TABLE settings (
    key         TEXT PRIMARY KEY,
    value       TEXT NOT NULL,
    created_at  TEXT NOT NULL
);
