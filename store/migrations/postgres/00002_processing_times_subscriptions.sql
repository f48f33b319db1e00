-- Processing times (recomputed as a whole) and status-notification
-- subscriptions, mirroring migrations/sqlite/00002. Forward-only: only new
-- tables and an index, which instances of the previous release ignore.

-- +goose Up
CREATE TABLE processing_times (
    form_type   TEXT    NOT NULL,
    category    TEXT    NOT NULL,
    office      TEXT    NOT NULL,
    median_days INTEGER NOT NULL,
    p80_days    INTEGER NOT NULL,
    cases       INTEGER NOT NULL,
    computed_at BIGINT  NOT NULL,
    PRIMARY KEY (form_type, category, office)
);

CREATE TABLE subscriptions (
    party_id BIGINT  NOT NULL REFERENCES parties (id) ON DELETE CASCADE,
    case_id  BIGINT  NOT NULL REFERENCES cases (id) ON DELETE CASCADE,
    email    BOOLEAN NOT NULL DEFAULT FALSE,
    sms      BOOLEAN NOT NULL DEFAULT FALSE,
    PRIMARY KEY (party_id, case_id)
);
CREATE INDEX subscriptions_case ON subscriptions (case_id);

-- Finding each case's first terminal event quickly.
CREATE INDEX status_events_status ON status_events (status, case_id, at);
