-- API tokens (only the SHA-256 of each secret) and exchanges, each owning
-- the bank of its name (deleting the bank deletes the exchange).
CREATE TABLE api_token (
    id            {{id}},
    name          TEXT NOT NULL UNIQUE,
    secret_sha256 TEXT NOT NULL UNIQUE,
    roles         TEXT NOT NULL,
    created_at    {{int}} NOT NULL,
    revoked_at    {{int}}
);

CREATE TABLE exchange (
    bank_id    {{int}} PRIMARY KEY REFERENCES bank(id) ON DELETE CASCADE,
    api        TEXT NOT NULL,
    config     {{json}} NOT NULL,
    enabled    {{bool}} NOT NULL DEFAULT {{true}},
    status     {{json}} NOT NULL DEFAULT '{}',
    created_at {{int}} NOT NULL
);
