-- API tokens (only the SHA-256 of each secret) and exchanges, each owning
-- the bank of its name (deleting the bank deletes the exchange).
CREATE TABLE api_token (
    id            BIGSERIAL PRIMARY KEY,
    name          TEXT NOT NULL UNIQUE,
    secret_sha256 TEXT NOT NULL UNIQUE,
    roles         TEXT NOT NULL,
    created_at    BIGINT NOT NULL,
    revoked_at    BIGINT
);

CREATE TABLE exchange (
    bank_id    BIGINT PRIMARY KEY REFERENCES bank(id) ON DELETE CASCADE,
    api        TEXT NOT NULL,
    config     JSONB NOT NULL,
    enabled    BOOLEAN NOT NULL DEFAULT TRUE,
    status     JSONB NOT NULL DEFAULT '{}',
    created_at BIGINT NOT NULL
);
