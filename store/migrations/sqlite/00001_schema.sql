-- The first schema of casegate on SQLite. Times are unix microseconds (UTC) in
-- BIGINT columns, NULL when unset; the PostgreSQL schema mirrors this one.

-- +goose Up
CREATE TABLE cases (
    id          INTEGER PRIMARY KEY,
    receipt     TEXT    NOT NULL UNIQUE,
    form_type   TEXT    NOT NULL DEFAULT '',
    category    TEXT    NOT NULL DEFAULT '',
    office      TEXT    NOT NULL DEFAULT '',
    received_on TEXT             -- YYYY-MM-DD
);

CREATE TABLE status_events (
    id      INTEGER PRIMARY KEY,
    case_id BIGINT  NOT NULL REFERENCES cases (id) ON DELETE CASCADE,
    status  TEXT    NOT NULL,
    title   TEXT    NOT NULL DEFAULT '',
    at      BIGINT  NOT NULL,
    UNIQUE (case_id, status, title, at)
);

CREATE TABLE parties (
    id                   INTEGER PRIMARY KEY,
    given_name           TEXT    NOT NULL DEFAULT '',
    family_name          TEXT    NOT NULL DEFAULT '',
    dob                  TEXT    NOT NULL DEFAULT '',
    country              TEXT    NOT NULL DEFAULT '',
    a_number             TEXT,   -- NULL when none; several parties may share one
    email                TEXT    NOT NULL DEFAULT '',
    phone                TEXT    NOT NULL DEFAULT '',
    language             TEXT    NOT NULL DEFAULT '',
    locked_until         BIGINT,
    locked_indefinitely  BOOLEAN NOT NULL DEFAULT FALSE,
    lock_count           INTEGER NOT NULL DEFAULT 0,
    consecutive_failures INTEGER NOT NULL DEFAULT 0
);
CREATE INDEX parties_a_number ON parties (a_number);

CREATE TABLE case_parties (
    case_id  BIGINT NOT NULL REFERENCES cases (id) ON DELETE CASCADE,
    party_id BIGINT NOT NULL REFERENCES parties (id) ON DELETE CASCADE,
    role     TEXT   NOT NULL,
    PRIMARY KEY (case_id, party_id)
);
CREATE INDEX case_parties_party ON case_parties (party_id);

CREATE TABLE challenges (
    id           TEXT    PRIMARY KEY,
    party_id     BIGINT  REFERENCES parties (id) ON DELETE CASCADE, -- NULL for a decoy
    purpose      TEXT    NOT NULL,
    channel      TEXT    NOT NULL,
    language     TEXT    NOT NULL DEFAULT '',
    key_id       TEXT    NOT NULL DEFAULT '',
    code_mac     BLOB,
    created_at   BIGINT  NOT NULL,
    expires_at   BIGINT  NOT NULL,
    attempts     INTEGER NOT NULL DEFAULT 0,
    sends        INTEGER NOT NULL DEFAULT 0,
    resend_after BIGINT,
    consumed_at  BIGINT,
    new_contact  TEXT    NOT NULL DEFAULT ''
);
CREATE INDEX challenges_expires_at ON challenges (expires_at);

CREATE TABLE rate_limits (
    rate_key TEXT   PRIMARY KEY,
    tat      BIGINT NOT NULL
);
CREATE INDEX rate_limits_tat ON rate_limits (tat);

CREATE TABLE deliveries (
    id              INTEGER PRIMARY KEY,
    challenge_id    TEXT    REFERENCES challenges (id) ON DELETE SET NULL,
    party_id        BIGINT  REFERENCES parties (id) ON DELETE CASCADE,
    channel         TEXT    NOT NULL,
    destination     TEXT    NOT NULL,
    template        TEXT    NOT NULL,
    language        TEXT    NOT NULL DEFAULT '',
    params          TEXT,   -- JSON object
    sealed_code     BLOB,
    status          TEXT    NOT NULL
        CHECK (status IN ('pending', 'sent', 'failed', 'cancelled')),
    attempts        INTEGER NOT NULL DEFAULT 0,
    next_attempt_at BIGINT, -- NULL: due at once
    lease_owner     TEXT,
    lease_until     BIGINT,
    last_error      TEXT    NOT NULL DEFAULT '',
    created_at      BIGINT  NOT NULL,
    sent_at         BIGINT
);
CREATE INDEX deliveries_due ON deliveries (status, next_attempt_at);
CREATE INDEX deliveries_challenge ON deliveries (challenge_id);

CREATE TABLE sessions (
    token_hash   BLOB   PRIMARY KEY,
    party_id     BIGINT NOT NULL REFERENCES parties (id) ON DELETE CASCADE,
    created_at   BIGINT NOT NULL,
    last_seen_at BIGINT NOT NULL,
    expires_at   BIGINT NOT NULL
);
CREATE INDEX sessions_party ON sessions (party_id);
CREATE INDEX sessions_expires_at ON sessions (expires_at);

CREATE TABLE admin_tokens (
    id         INTEGER PRIMARY KEY,
    name       TEXT   NOT NULL UNIQUE,
    token_hash BLOB   NOT NULL UNIQUE,
    created_at BIGINT NOT NULL,
    revoked_at BIGINT
);

CREATE TABLE audit_events (
    seq       INTEGER PRIMARY KEY, -- assigned by AppendAudit: last seq + 1
    at        BIGINT  NOT NULL,
    actor     TEXT    NOT NULL,
    action    TEXT    NOT NULL,
    target    TEXT    NOT NULL DEFAULT '',
    outcome   TEXT    NOT NULL DEFAULT '',
    ip_hash   TEXT    NOT NULL DEFAULT '',
    details   TEXT,   -- JSON object
    prev_hash TEXT    NOT NULL,
    hash      TEXT    NOT NULL
);

-- +goose Down
DROP TABLE audit_events;
DROP TABLE admin_tokens;
DROP TABLE sessions;
DROP TABLE deliveries;
DROP TABLE rate_limits;
DROP TABLE challenges;
DROP TABLE case_parties;
DROP TABLE parties;
DROP TABLE status_events;
DROP TABLE cases;
