-- Banks, contents and signals as in HMA (one value per signal type per
-- content, one global content serial), plus labels, provenance, a change log
-- for indexes and an append-only audit log.
CREATE TABLE bank (
    id            {{id}},
    name          TEXT NOT NULL UNIQUE,
    enabled_ratio {{real}} NOT NULL DEFAULT 1.0,
    created_at    {{int}} NOT NULL
);

CREATE TABLE content (
    id                  {{id}},
    bank_id             {{int}} NOT NULL REFERENCES bank(id) ON DELETE CASCADE,
    disable_until_ts    {{int}} NOT NULL DEFAULT 1,
    labels              {{json}} NOT NULL DEFAULT '{}',
    metadata            {{json}} NOT NULL DEFAULT '{}',
    note                TEXT,
    provenance_exchange TEXT,
    provenance_fetch_id TEXT,
    created_at          {{int}} NOT NULL
);
CREATE INDEX content_by_bank ON content (bank_id, id);

CREATE TABLE content_signal (
    content_id  {{int}} NOT NULL REFERENCES content(id) ON DELETE CASCADE,
    signal_type TEXT NOT NULL,
    value       TEXT NOT NULL,
    PRIMARY KEY (content_id, signal_type)
){{without_rowid}};
CREATE INDEX content_signal_by_value ON content_signal (signal_type, value);

-- kind: 'content' (added or changed), 'content_deleted', 'bank_deleted';
-- object_id is the content or bank id.
CREATE TABLE change_log (
    seq       {{id}},
    kind      TEXT NOT NULL,
    object_id {{int}} NOT NULL
);

CREATE TABLE audit_log (
    seq    {{id}},
    at     {{int}} NOT NULL,
    actor  TEXT NOT NULL,
    action TEXT NOT NULL,
    target TEXT NOT NULL,
    detail TEXT NOT NULL
);
{{audit_log_append_only}}
