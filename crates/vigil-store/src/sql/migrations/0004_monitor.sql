-- The monitor: watched sources, sightings of content at URLs with their
-- matches and liveness, webhooks, alerts and every delivery attempt.
-- Times are Unix milliseconds.
CREATE TABLE monitor_source (
    id             {{id}},
    name           TEXT NOT NULL UNIQUE,
    kind           TEXT NOT NULL,
    location       TEXT NOT NULL,
    interval_ms    {{int}} NOT NULL,
    ignore_robots  {{bool}} NOT NULL DEFAULT {{false}},
    created_at     {{int}} NOT NULL,
    last_polled_at {{int}},
    last_error     TEXT
);

CREATE TABLE sighting (
    id              {{id}},
    url             TEXT NOT NULL UNIQUE,
    host            TEXT NOT NULL,
    host_class      TEXT NOT NULL,
    source_id       {{int}} NOT NULL,
    post_key        TEXT NOT NULL,
    post_url        TEXT,
    posted_at       {{int}},
    first_seen_at   {{int}} NOT NULL,
    state           TEXT NOT NULL DEFAULT 'pending',
    reason          TEXT,
    final_url       TEXT,
    media_kind      TEXT,
    signals         TEXT,
    matched         {{bool}} NOT NULL DEFAULT {{false}},
    liveness        TEXT NOT NULL DEFAULT 'untracked',
    ladder_step     {{int}},
    next_check_at   {{int}},
    last_checked_at {{int}},
    removed_at      {{int}},
    removal_reason  TEXT,
    resurfaced_from {{int}}
);
CREATE INDEX sighting_pending ON sighting (id) WHERE state = 'pending';
CREATE INDEX sighting_due ON sighting (next_check_at) WHERE liveness = 'live';

CREATE TABLE sighting_match (
    sighting_id {{int}} NOT NULL REFERENCES sighting(id) ON DELETE CASCADE,
    content_id  {{int}} NOT NULL,
    bank        TEXT NOT NULL,
    signal_type TEXT NOT NULL,
    distance    {{int}} NOT NULL,
    PRIMARY KEY (sighting_id, content_id)
);
CREATE INDEX sighting_match_content ON sighting_match (content_id);

CREATE TABLE webhook (
    id         {{id}},
    name       TEXT NOT NULL UNIQUE,
    url        TEXT NOT NULL,
    created_at {{int}} NOT NULL
);

CREATE TABLE alert (
    id          TEXT PRIMARY KEY,
    seq         {{int}} NOT NULL UNIQUE,
    sighting_id {{int}} NOT NULL,
    kind        TEXT NOT NULL,
    body        TEXT NOT NULL,
    created_at  {{int}} NOT NULL
);

CREATE TABLE alert_delivery (
    alert_id        TEXT NOT NULL REFERENCES alert(id) ON DELETE CASCADE,
    webhook_id      {{int}} NOT NULL REFERENCES webhook(id) ON DELETE CASCADE,
    attempts        {{int}} NOT NULL DEFAULT 0,
    next_attempt_at {{int}},
    delivered_at    {{int}},
    last_error      TEXT,
    PRIMARY KEY (alert_id, webhook_id)
);
CREATE INDEX alert_delivery_due ON alert_delivery (next_attempt_at) WHERE next_attempt_at IS NOT NULL;

-- Every attempt, kept as evidence of what was sent when.
CREATE TABLE alert_attempt (
    alert_id   TEXT NOT NULL,
    webhook_id {{int}} NOT NULL,
    at         {{int}} NOT NULL,
    status     INTEGER,
    error      TEXT,
    delivered  {{bool}} NOT NULL
);
