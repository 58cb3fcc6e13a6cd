-- Native push tokens (FCM, APNs) of the mobile apps, and of browsers that use
-- a vendor token instead of a Web Push subscription. A token names one app
-- install, so it belongs to one user at a time: registering it again moves it.

CREATE TABLE push_tokens (
    id          UUID PRIMARY KEY,
    user_id     UUID NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    token       TEXT NOT NULL,
    platform    TEXT NOT NULL,
    created_at  TIMESTAMPTZ NOT NULL,
    updated_at  TIMESTAMPTZ NOT NULL
);
CREATE UNIQUE INDEX push_tokens_token_key ON push_tokens (token);
CREATE INDEX push_tokens_user_id_idx ON push_tokens (user_id);
