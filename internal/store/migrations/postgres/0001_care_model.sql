-- CareCircle data model. Identifiers and timestamps are set by the application
-- (UUIDv7, UTC), so both dialects share the same SQL for reads and writes.

CREATE TABLE users (
    id                    UUID PRIMARY KEY,
    email                 TEXT NOT NULL,
    password_hash         TEXT NOT NULL,
    full_name             TEXT NOT NULL,
    phone                 TEXT,
    timezone              TEXT NOT NULL,
    avatar_url            TEXT,
    status                TEXT NOT NULL,
    system_role           TEXT NOT NULL DEFAULT 'USER',
    email_verified        BOOLEAN NOT NULL DEFAULT FALSE,
    email_verified_at     TIMESTAMPTZ,
    phone_verified        BOOLEAN NOT NULL DEFAULT FALSE,
    last_login_at         TIMESTAMPTZ,
    onboarding_completed  BOOLEAN NOT NULL DEFAULT FALSE,
    preferences           JSONB NOT NULL DEFAULT '{}',
    failed_logins         INTEGER NOT NULL DEFAULT 0,
    locked_until          TIMESTAMPTZ,
    created_at            TIMESTAMPTZ NOT NULL,
    updated_at            TIMESTAMPTZ NOT NULL
);
CREATE UNIQUE INDEX users_email_key ON users (email);

CREATE TABLE sessions (
    id            UUID PRIMARY KEY,
    user_id       UUID NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    device_info   TEXT,
    ip_address    TEXT,
    user_agent    TEXT,
    remember_me   BOOLEAN NOT NULL DEFAULT FALSE,
    created_at    TIMESTAMPTZ NOT NULL,
    last_used_at  TIMESTAMPTZ NOT NULL,
    expires_at    TIMESTAMPTZ NOT NULL,
    revoked_at    TIMESTAMPTZ,
    revoke_reason TEXT
);
CREATE INDEX sessions_user_id_idx ON sessions (user_id, revoked_at);

-- Every refresh token ever issued within a session. A token that was already
-- rotated and is presented again betrays theft: its whole session is revoked.
CREATE TABLE refresh_tokens (
    token_hash  TEXT PRIMARY KEY,
    session_id  UUID NOT NULL REFERENCES sessions (id) ON DELETE CASCADE,
    created_at  TIMESTAMPTZ NOT NULL,
    rotated_at  TIMESTAMPTZ
);
CREATE INDEX refresh_tokens_session_id_idx ON refresh_tokens (session_id);

-- One-time codes (email verification, phone verification), hashed.
CREATE TABLE one_time_codes (
    user_id     UUID NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    purpose     TEXT NOT NULL,
    code_hash   TEXT NOT NULL,
    attempts    INTEGER NOT NULL DEFAULT 0,
    sent_at     TIMESTAMPTZ NOT NULL,
    expires_at  TIMESTAMPTZ NOT NULL,
    PRIMARY KEY (user_id, purpose)
);

CREATE TABLE password_resets (
    token_hash  TEXT PRIMARY KEY,
    user_id     UUID NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    created_at  TIMESTAMPTZ NOT NULL,
    expires_at  TIMESTAMPTZ NOT NULL,
    used_at     TIMESTAMPTZ
);
CREATE INDEX password_resets_user_id_idx ON password_resets (user_id);

CREATE TABLE families (
    id            UUID PRIMARY KEY,
    name          TEXT NOT NULL,
    created_by_id UUID REFERENCES users (id) ON DELETE SET NULL,
    created_at    TIMESTAMPTZ NOT NULL,
    updated_at    TIMESTAMPTZ NOT NULL
);
CREATE INDEX families_created_by_id_idx ON families (created_by_id);

CREATE TABLE family_members (
    id         UUID PRIMARY KEY,
    family_id  UUID NOT NULL REFERENCES families (id) ON DELETE CASCADE,
    user_id    UUID NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    role       TEXT NOT NULL,
    nickname   TEXT,
    can_edit   BOOLEAN NOT NULL DEFAULT TRUE,
    is_active  BOOLEAN NOT NULL DEFAULT TRUE,
    joined_at  TIMESTAMPTZ NOT NULL,
    UNIQUE (family_id, user_id)
);
CREATE INDEX family_members_user_id_idx ON family_members (user_id, is_active);

CREATE TABLE family_invitations (
    id             UUID PRIMARY KEY,
    family_id      UUID NOT NULL REFERENCES families (id) ON DELETE CASCADE,
    email          TEXT NOT NULL,
    role           TEXT NOT NULL,
    status         TEXT NOT NULL,
    token_hash     TEXT NOT NULL,
    invited_by_id  UUID REFERENCES users (id) ON DELETE SET NULL,
    message        TEXT,
    expires_at     TIMESTAMPTZ NOT NULL,
    created_at     TIMESTAMPTZ NOT NULL,
    responded_at   TIMESTAMPTZ
);
CREATE UNIQUE INDEX family_invitations_token_hash_key ON family_invitations (token_hash);
CREATE INDEX family_invitations_family_id_idx ON family_invitations (family_id, status);
CREATE INDEX family_invitations_email_idx ON family_invitations (email, status);
CREATE INDEX family_invitations_invited_by_id_idx ON family_invitations (invited_by_id);

CREATE TABLE care_recipients (
    id                   UUID PRIMARY KEY,
    family_id            UUID NOT NULL REFERENCES families (id) ON DELETE CASCADE,
    full_name            TEXT NOT NULL,
    preferred_name       TEXT,
    date_of_birth        TEXT,
    photo_url            TEXT,
    blood_type           TEXT,
    allergies            JSONB NOT NULL DEFAULT '[]',
    conditions           JSONB NOT NULL DEFAULT '[]',
    notes                TEXT,
    primary_hospital     TEXT,
    hospital_address     TEXT,
    insurance_provider   TEXT,
    insurance_policy_no  TEXT,
    timezone             TEXT NOT NULL,
    created_at           TIMESTAMPTZ NOT NULL,
    updated_at           TIMESTAMPTZ NOT NULL
);
CREATE INDEX care_recipients_family_id_idx ON care_recipients (family_id, full_name);

CREATE TABLE doctors (
    id                 UUID PRIMARY KEY,
    care_recipient_id  UUID NOT NULL REFERENCES care_recipients (id) ON DELETE CASCADE,
    name               TEXT NOT NULL,
    specialty          TEXT,
    phone              TEXT,
    fax                TEXT,
    email              TEXT,
    address            TEXT,
    notes              TEXT,
    created_at         TIMESTAMPTZ NOT NULL,
    updated_at         TIMESTAMPTZ NOT NULL
);
CREATE INDEX doctors_care_recipient_id_idx ON doctors (care_recipient_id, name);

CREATE TABLE emergency_contacts (
    id                 UUID PRIMARY KEY,
    care_recipient_id  UUID NOT NULL REFERENCES care_recipients (id) ON DELETE CASCADE,
    name               TEXT NOT NULL,
    relationship       TEXT NOT NULL,
    phone              TEXT NOT NULL,
    email              TEXT,
    is_primary         BOOLEAN NOT NULL DEFAULT FALSE,
    notes              TEXT,
    created_at         TIMESTAMPTZ NOT NULL,
    updated_at         TIMESTAMPTZ NOT NULL
);
CREATE INDEX emergency_contacts_care_recipient_id_idx ON emergency_contacts (care_recipient_id);
CREATE UNIQUE INDEX emergency_contacts_one_primary ON emergency_contacts (care_recipient_id) WHERE is_primary;

CREATE TABLE medications (
    id                 UUID PRIMARY KEY,
    care_recipient_id  UUID NOT NULL REFERENCES care_recipients (id) ON DELETE CASCADE,
    name               TEXT NOT NULL,
    generic_name       TEXT,
    dosage             TEXT NOT NULL,
    form               TEXT NOT NULL,
    frequency          TEXT NOT NULL,
    times_per_day      INTEGER,
    scheduled_times    JSONB NOT NULL DEFAULT '[]',
    instructions       TEXT,
    prescribed_by      TEXT,
    pharmacy           TEXT,
    pharmacy_phone     TEXT,
    current_supply     INTEGER,
    refill_at          INTEGER,
    last_refill_date   TEXT,
    is_active          BOOLEAN NOT NULL DEFAULT TRUE,
    start_date         TEXT,
    end_date           TEXT,
    notes              TEXT,
    created_at         TIMESTAMPTZ NOT NULL,
    updated_at         TIMESTAMPTZ NOT NULL
);
CREATE INDEX medications_care_recipient_id_idx ON medications (care_recipient_id, is_active);

CREATE TABLE medication_logs (
    id              UUID PRIMARY KEY,
    medication_id   UUID NOT NULL REFERENCES medications (id) ON DELETE CASCADE,
    given_by_id     UUID REFERENCES users (id) ON DELETE SET NULL,
    scheduled_time  TIMESTAMPTZ NOT NULL,
    given_time      TIMESTAMPTZ,
    status          TEXT NOT NULL,
    skip_reason     TEXT,
    notes           TEXT,
    created_at      TIMESTAMPTZ NOT NULL,
    updated_at      TIMESTAMPTZ NOT NULL,
    UNIQUE (medication_id, scheduled_time)
);
CREATE INDEX medication_logs_given_by_id_idx ON medication_logs (given_by_id);
CREATE INDEX medication_logs_created_at_idx ON medication_logs (medication_id, created_at);

CREATE TABLE appointments (
    id                   UUID PRIMARY KEY,
    care_recipient_id    UUID NOT NULL REFERENCES care_recipients (id) ON DELETE CASCADE,
    doctor_id            UUID REFERENCES doctors (id) ON DELETE SET NULL,
    title                TEXT NOT NULL,
    type                 TEXT NOT NULL,
    start_time           TIMESTAMPTZ NOT NULL,
    end_time             TIMESTAMPTZ NOT NULL,
    location             TEXT,
    address              TEXT,
    notes                TEXT,
    is_recurring         BOOLEAN NOT NULL DEFAULT FALSE,
    recurrence_rule      TEXT,
    recurring_series_id  UUID,
    recurring_index      INTEGER,
    reminder_minutes     JSONB NOT NULL DEFAULT '[60,1440]',
    status               TEXT NOT NULL,
    created_by_id        UUID REFERENCES users (id) ON DELETE SET NULL,
    created_at           TIMESTAMPTZ NOT NULL,
    updated_at           TIMESTAMPTZ NOT NULL
);
CREATE INDEX appointments_care_recipient_id_idx ON appointments (care_recipient_id, start_time);
CREATE INDEX appointments_doctor_id_idx ON appointments (doctor_id);
CREATE INDEX appointments_series_idx ON appointments (recurring_series_id, start_time);
CREATE INDEX appointments_created_by_id_idx ON appointments (created_by_id);
CREATE INDEX appointments_start_time_idx ON appointments (start_time, status);

CREATE TABLE transport_assignments (
    id              UUID PRIMARY KEY,
    appointment_id  UUID NOT NULL REFERENCES appointments (id) ON DELETE CASCADE,
    assigned_to_id  UUID NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    notes           TEXT,
    confirmed       BOOLEAN NOT NULL DEFAULT FALSE,
    created_at      TIMESTAMPTZ NOT NULL,
    updated_at      TIMESTAMPTZ NOT NULL,
    UNIQUE (appointment_id)
);
CREATE INDEX transport_assignments_assigned_to_id_idx ON transport_assignments (assigned_to_id);

CREATE TABLE caregiver_shifts (
    id                 UUID PRIMARY KEY,
    care_recipient_id  UUID NOT NULL REFERENCES care_recipients (id) ON DELETE CASCADE,
    caregiver_id       UUID NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    start_time         TIMESTAMPTZ NOT NULL,
    end_time           TIMESTAMPTZ NOT NULL,
    notes              TEXT,
    handoff_notes      TEXT,
    status             TEXT NOT NULL,
    checked_in_at      TIMESTAMPTZ,
    checked_out_at     TIMESTAMPTZ,
    created_by_id      UUID REFERENCES users (id) ON DELETE SET NULL,
    created_at         TIMESTAMPTZ NOT NULL,
    updated_at         TIMESTAMPTZ NOT NULL
);
CREATE INDEX caregiver_shifts_care_recipient_id_idx ON caregiver_shifts (care_recipient_id, start_time);
CREATE INDEX caregiver_shifts_caregiver_id_idx ON caregiver_shifts (caregiver_id, start_time);
CREATE INDEX caregiver_shifts_created_by_id_idx ON caregiver_shifts (created_by_id);

CREATE TABLE timeline_entries (
    id                 UUID PRIMARY KEY,
    care_recipient_id  UUID NOT NULL REFERENCES care_recipients (id) ON DELETE CASCADE,
    created_by_id      UUID REFERENCES users (id) ON DELETE SET NULL,
    type               TEXT NOT NULL,
    title              TEXT NOT NULL,
    description        TEXT,
    severity           TEXT,
    vitals             JSONB,
    attachments        JSONB NOT NULL DEFAULT '[]',
    occurred_at        TIMESTAMPTZ NOT NULL,
    created_at         TIMESTAMPTZ NOT NULL,
    updated_at         TIMESTAMPTZ NOT NULL
);
CREATE INDEX timeline_entries_care_recipient_id_idx ON timeline_entries (care_recipient_id, occurred_at);
CREATE INDEX timeline_entries_created_by_id_idx ON timeline_entries (created_by_id);

CREATE TABLE documents (
    id              UUID PRIMARY KEY,
    family_id       UUID NOT NULL REFERENCES families (id) ON DELETE CASCADE,
    uploaded_by_id  UUID REFERENCES users (id) ON DELETE SET NULL,
    name            TEXT NOT NULL,
    type            TEXT NOT NULL,
    status          TEXT NOT NULL,
    mime_type       TEXT NOT NULL,
    size_bytes      BIGINT NOT NULL,
    storage_key     TEXT NOT NULL,
    sha256          TEXT,
    expires_at      TIMESTAMPTZ,
    notes           TEXT,
    created_at      TIMESTAMPTZ NOT NULL,
    updated_at      TIMESTAMPTZ NOT NULL
);
CREATE INDEX documents_family_id_idx ON documents (family_id, type);
CREATE INDEX documents_uploaded_by_id_idx ON documents (uploaded_by_id);
CREATE INDEX documents_expires_at_idx ON documents (expires_at);

CREATE TABLE emergency_alerts (
    id                 UUID PRIMARY KEY,
    care_recipient_id  UUID NOT NULL REFERENCES care_recipients (id) ON DELETE CASCADE,
    created_by_id      UUID REFERENCES users (id) ON DELETE SET NULL,
    type               TEXT NOT NULL,
    title              TEXT NOT NULL,
    description        TEXT NOT NULL,
    location           TEXT,
    status             TEXT NOT NULL,
    acknowledged_at    TIMESTAMPTZ,
    acknowledged_by_id UUID REFERENCES users (id) ON DELETE SET NULL,
    resolved_at        TIMESTAMPTZ,
    resolved_by_id     UUID REFERENCES users (id) ON DELETE SET NULL,
    resolution_notes   TEXT,
    created_at         TIMESTAMPTZ NOT NULL,
    updated_at         TIMESTAMPTZ NOT NULL
);
CREATE INDEX emergency_alerts_care_recipient_id_idx ON emergency_alerts (care_recipient_id, status, created_at);
CREATE INDEX emergency_alerts_created_by_id_idx ON emergency_alerts (created_by_id);
CREATE INDEX emergency_alerts_acknowledged_by_id_idx ON emergency_alerts (acknowledged_by_id);
CREATE INDEX emergency_alerts_resolved_by_id_idx ON emergency_alerts (resolved_by_id);

CREATE TABLE notifications (
    id          UUID PRIMARY KEY,
    user_id     UUID NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    type        TEXT NOT NULL,
    title       TEXT NOT NULL,
    body        TEXT NOT NULL,
    data        JSONB NOT NULL DEFAULT '{}',
    read        BOOLEAN NOT NULL DEFAULT FALSE,
    read_at     TIMESTAMPTZ,
    dedupe_key  TEXT,
    created_at  TIMESTAMPTZ NOT NULL
);
CREATE INDEX notifications_user_id_idx ON notifications (user_id, read, created_at);
CREATE UNIQUE INDEX notifications_dedupe_key ON notifications (user_id, dedupe_key) WHERE dedupe_key IS NOT NULL;

CREATE TABLE push_subscriptions (
    id           UUID PRIMARY KEY,
    user_id      UUID NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    endpoint     TEXT NOT NULL,
    p256dh       TEXT NOT NULL,
    auth         TEXT NOT NULL,
    platform     TEXT,
    device_name  TEXT,
    created_at   TIMESTAMPTZ NOT NULL,
    last_used_at TIMESTAMPTZ
);
CREATE UNIQUE INDEX push_subscriptions_endpoint_key ON push_subscriptions (endpoint);
CREATE INDEX push_subscriptions_user_id_idx ON push_subscriptions (user_id);

-- Small named values the system generates once and keeps (e.g. VAPID keys).
CREATE TABLE settings (
    key         TEXT PRIMARY KEY,
    value       TEXT NOT NULL,
    created_at  TIMESTAMPTZ NOT NULL
);
