-- The audit log: every successful write through the API and every read of
-- sensitive data (emergency information, documents, exports), with who did
-- it, from where and when. It is append-only: the store offers no way to
-- change or remove an entry, and the triggers below refuse UPDATE and DELETE
-- to anyone who tries with SQL.

CREATE TABLE audit_log (
    id             TEXT PRIMARY KEY,
    at             TEXT NOT NULL,
    actor_id       TEXT,
    action         TEXT NOT NULL,
    resource_type  TEXT,
    resource_id    TEXT,
    family_id      TEXT,
    ip             TEXT,
    user_agent     TEXT,
    status         INTEGER NOT NULL,
    details        TEXT NOT NULL DEFAULT '{}'
);
CREATE INDEX audit_log_at_idx ON audit_log (at, id);
CREATE INDEX audit_log_actor_idx ON audit_log (actor_id, at);
CREATE INDEX audit_log_action_idx ON audit_log (action, at);

CREATE TRIGGER audit_log_no_update BEFORE UPDATE ON audit_log
BEGIN
    SELECT RAISE(ABORT, 'audit_log is append-only: UPDATE refused');
END;

CREATE TRIGGER audit_log_no_delete BEFORE DELETE ON audit_log
BEGIN
    SELECT RAISE(ABORT, 'audit_log is append-only: DELETE refused');
END;
