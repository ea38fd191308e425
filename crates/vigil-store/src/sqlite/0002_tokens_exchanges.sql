-- API tokens (only the SHA-256 of each secret) and exchanges, each owning
-- the bank of its name (deleting the bank deletes the exchange).
CREATE TABLE api_token (
    id            INTEGER PRIMARY KEY AUTOINCREMENT,
    name          TEXT NOT NULL UNIQUE,
    secret_sha256 TEXT NOT NULL UNIQUE,
    roles         TEXT NOT NULL,
    created_at    INTEGER NOT NULL,
    revoked_at    INTEGER
);

CREATE TABLE exchange (
    bank_id    INTEGER PRIMARY KEY REFERENCES bank(id) ON DELETE CASCADE,
    api        TEXT NOT NULL,
    config     TEXT NOT NULL,
    enabled    INTEGER NOT NULL DEFAULT 1,
    status     TEXT NOT NULL DEFAULT '{}',
    created_at INTEGER NOT NULL
);
