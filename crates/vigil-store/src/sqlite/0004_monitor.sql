-- The monitor: watched sources, sightings of content at URLs with their
-- matches and liveness, webhooks, alerts and every delivery attempt.
-- Times are Unix milliseconds.
CREATE TABLE monitor_source (
    id             INTEGER PRIMARY KEY AUTOINCREMENT,
    name           TEXT NOT NULL UNIQUE,
    kind           TEXT NOT NULL,
    location       TEXT NOT NULL,
    interval_ms    INTEGER NOT NULL,
    ignore_robots  INTEGER NOT NULL DEFAULT 0,
    created_at     INTEGER NOT NULL,
    last_polled_at INTEGER,
    last_error     TEXT
);

CREATE TABLE sighting (
    id              INTEGER PRIMARY KEY AUTOINCREMENT,
    url             TEXT NOT NULL UNIQUE,
    host            TEXT NOT NULL,
    host_class      TEXT NOT NULL,
    source_id       INTEGER NOT NULL,
    post_key        TEXT NOT NULL,
    post_url        TEXT,
    posted_at       INTEGER,
    first_seen_at   INTEGER NOT NULL,
    state           TEXT NOT NULL DEFAULT 'pending',
    reason          TEXT,
    final_url       TEXT,
    media_kind      TEXT,
    signals         TEXT,
    matched         INTEGER NOT NULL DEFAULT 0,
    liveness        TEXT NOT NULL DEFAULT 'untracked',
    ladder_step     INTEGER,
    next_check_at   INTEGER,
    last_checked_at INTEGER,
    removed_at      INTEGER,
    removal_reason  TEXT,
    resurfaced_from INTEGER
);
CREATE INDEX sighting_pending ON sighting (id) WHERE state = 'pending';
CREATE INDEX sighting_due ON sighting (next_check_at) WHERE liveness = 'live';

CREATE TABLE sighting_match (
    sighting_id INTEGER NOT NULL REFERENCES sighting(id) ON DELETE CASCADE,
    content_id  INTEGER NOT NULL,
    bank        TEXT NOT NULL,
    signal_type TEXT NOT NULL,
    distance    INTEGER NOT NULL,
    PRIMARY KEY (sighting_id, content_id)
);
CREATE INDEX sighting_match_content ON sighting_match (content_id);

CREATE TABLE webhook (
    id         INTEGER PRIMARY KEY AUTOINCREMENT,
    name       TEXT NOT NULL UNIQUE,
    url        TEXT NOT NULL,
    created_at INTEGER NOT NULL
);

CREATE TABLE alert (
    id          TEXT PRIMARY KEY,
    seq         INTEGER NOT NULL UNIQUE,
    sighting_id INTEGER NOT NULL,
    kind        TEXT NOT NULL,
    body        TEXT NOT NULL,
    created_at  INTEGER NOT NULL
);

CREATE TABLE alert_delivery (
    alert_id        TEXT NOT NULL REFERENCES alert(id) ON DELETE CASCADE,
    webhook_id      INTEGER NOT NULL REFERENCES webhook(id) ON DELETE CASCADE,
    attempts        INTEGER NOT NULL DEFAULT 0,
    next_attempt_at INTEGER,
    delivered_at    INTEGER,
    last_error      TEXT,
    PRIMARY KEY (alert_id, webhook_id)
);
CREATE INDEX alert_delivery_due ON alert_delivery (next_attempt_at) WHERE next_attempt_at IS NOT NULL;

-- Every attempt, kept as evidence of what was sent when.
CREATE TABLE alert_attempt (
    alert_id   TEXT NOT NULL,
    webhook_id INTEGER NOT NULL,
    at         INTEGER NOT NULL,
    status     INTEGER,
    error      TEXT,
    delivered  INTEGER NOT NULL
);
