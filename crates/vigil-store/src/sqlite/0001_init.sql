-- Banks, contents and signals as in HMA (one value per signal type per
-- content, one global content serial), plus labels, provenance, a change log
-- for indexes and an append-only audit log.
CREATE TABLE bank (
    id            INTEGER PRIMARY KEY AUTOINCREMENT,
    name          TEXT NOT NULL UNIQUE,
    enabled_ratio REAL NOT NULL DEFAULT 1.0,
    created_at    INTEGER NOT NULL
);

CREATE TABLE content (
    id                  INTEGER PRIMARY KEY AUTOINCREMENT,
    bank_id             INTEGER NOT NULL REFERENCES bank(id) ON DELETE CASCADE,
    disable_until_ts    INTEGER NOT NULL DEFAULT 1,
    labels              TEXT NOT NULL DEFAULT '{}',
    metadata            TEXT NOT NULL DEFAULT '{}',
    note                TEXT,
    provenance_exchange TEXT,
    provenance_fetch_id TEXT,
    created_at          INTEGER NOT NULL
);
CREATE INDEX content_by_bank ON content (bank_id, id);

CREATE TABLE content_signal (
    content_id  INTEGER NOT NULL REFERENCES content(id) ON DELETE CASCADE,
    signal_type TEXT NOT NULL,
    value       TEXT NOT NULL,
    PRIMARY KEY (content_id, signal_type)
) WITHOUT ROWID;
CREATE INDEX content_signal_by_value ON content_signal (signal_type, value);

-- kind: 'content' (added or changed), 'content_deleted', 'bank_deleted';
-- object_id is the content or bank id.
CREATE TABLE change_log (
    seq       INTEGER PRIMARY KEY AUTOINCREMENT,
    kind      TEXT NOT NULL,
    object_id INTEGER NOT NULL
);

CREATE TABLE audit_log (
    seq    INTEGER PRIMARY KEY AUTOINCREMENT,
    at     INTEGER NOT NULL,
    actor  TEXT NOT NULL,
    action TEXT NOT NULL,
    target TEXT NOT NULL,
    detail TEXT NOT NULL
);
CREATE TRIGGER audit_log_no_update BEFORE UPDATE ON audit_log
BEGIN SELECT RAISE(ABORT, 'the audit log is append-only'); END;
CREATE TRIGGER audit_log_no_delete BEFORE DELETE ON audit_log
BEGIN SELECT RAISE(ABORT, 'the audit log is append-only'); END;
