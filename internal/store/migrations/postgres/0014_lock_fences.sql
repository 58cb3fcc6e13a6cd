-- The highest fencing token the database has accepted for each kv.Locker
-- lock, and until when that token's lease lasts. Work done under such a lease
-- (the failed-jobs monitor's report) is written only with a token at least
-- this one, in the transaction that raises it, so a holder paused past its
-- lease cannot write after the holder that followed it. Once the recorded
-- lease has expired a lower token is accepted too: the lock's counter may
-- have started again (Redis lost its data).
CREATE TABLE lock_fences (
    name        TEXT PRIMARY KEY,
    token       BIGINT NOT NULL,
    expires_at  TIMESTAMPTZ NOT NULL,
    updated_at  TIMESTAMPTZ NOT NULL
);

-- The fencing token a job run was recorded under, when it ran under a lock.
ALTER TABLE job_runs ADD COLUMN fence BIGINT;
