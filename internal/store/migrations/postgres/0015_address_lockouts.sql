-- Failure counts and locks kept per email address rather than per account,
-- so that signing in to an address with no account is counted and locked
-- exactly as for one with an account. key is "PURPOSE@sha256(address)";
-- the address itself is not kept. A row is meaningless after expires_at
-- (its counting window and its lock have both ended) and is swept then.
CREATE TABLE address_lockouts (
    key             TEXT PRIMARY KEY,
    attempts        INTEGER NOT NULL,
    window_ends_at  TIMESTAMPTZ NOT NULL,
    locked_until    TIMESTAMPTZ NOT NULL,
    expires_at      TIMESTAMPTZ NOT NULL
);

CREATE INDEX address_lockouts_expires ON address_lockouts (expires_at);
