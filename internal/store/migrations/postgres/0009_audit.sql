-- The audit log: every successful write through the API and every read of
-- sensitive data (emergency information, documents, exports), with who did
-- it, from where and when. It is append-only: the store offers no way to
-- change or remove an entry, and the triggers below refuse UPDATE, DELETE
-- and TRUNCATE to anyone who tries with SQL.

CREATE TABLE audit_log (
    id             UUID PRIMARY KEY,
    at             TIMESTAMPTZ NOT NULL,
    actor_id       UUID,
    action         TEXT NOT NULL,
    resource_type  TEXT,
    resource_id    TEXT,
    family_id      UUID,
    ip             TEXT,
    user_agent     TEXT,
    status         INTEGER NOT NULL,
    details        JSONB NOT NULL DEFAULT '{}'
);
CREATE INDEX audit_log_at_idx ON audit_log (at, id);
CREATE INDEX audit_log_actor_idx ON audit_log (actor_id, at);
CREATE INDEX audit_log_action_idx ON audit_log (action, at);

CREATE FUNCTION audit_log_refuse_change() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    RAISE EXCEPTION 'audit_log is append-only: % refused', TG_OP
        USING ERRCODE = 'insufficient_privilege';
END
$$;

CREATE TRIGGER audit_log_append_only
    BEFORE UPDATE OR DELETE ON audit_log
    FOR EACH ROW EXECUTE FUNCTION audit_log_refuse_change();

CREATE TRIGGER audit_log_no_truncate
    BEFORE TRUNCATE ON audit_log
    FOR EACH STATEMENT EXECUTE FUNCTION audit_log_refuse_change();
