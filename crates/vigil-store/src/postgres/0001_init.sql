-- The schema of ../sqlite/0001_init.sql, in PostgreSQL's types.
CREATE TABLE bank (
    id            BIGSERIAL PRIMARY KEY,
    name          TEXT NOT NULL UNIQUE,
    enabled_ratio DOUBLE PRECISION NOT NULL DEFAULT 1.0,
    created_at    BIGINT NOT NULL
);

CREATE TABLE content (
    id                  BIGSERIAL PRIMARY KEY,
    bank_id             BIGINT NOT NULL REFERENCES bank(id) ON DELETE CASCADE,
    disable_until_ts    BIGINT NOT NULL DEFAULT 1,
    labels              JSONB NOT NULL DEFAULT '{}',
    metadata            JSONB NOT NULL DEFAULT '{}',
    note                TEXT,
    provenance_exchange TEXT,
    provenance_fetch_id TEXT,
    created_at          BIGINT NOT NULL
);
CREATE INDEX content_by_bank ON content (bank_id, id);

CREATE TABLE content_signal (
    content_id  BIGINT NOT NULL REFERENCES content(id) ON DELETE CASCADE,
    signal_type TEXT NOT NULL,
    value       TEXT NOT NULL,
    PRIMARY KEY (content_id, signal_type)
);
CREATE INDEX content_signal_by_value ON content_signal (signal_type, value);

CREATE TABLE change_log (
    seq       BIGSERIAL PRIMARY KEY,
    kind      TEXT NOT NULL,
    object_id BIGINT NOT NULL
);

CREATE TABLE audit_log (
    seq    BIGSERIAL PRIMARY KEY,
    at     BIGINT NOT NULL,
    actor  TEXT NOT NULL,
    action TEXT NOT NULL,
    target TEXT NOT NULL,
    detail TEXT NOT NULL
);
CREATE FUNCTION audit_log_append_only() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    RAISE EXCEPTION 'the audit log is append-only';
END;
$$;
CREATE TRIGGER audit_log_no_change BEFORE UPDATE OR DELETE ON audit_log
FOR EACH ROW EXECUTE FUNCTION audit_log_append_only();
