-- The keyed audit chain, the anchor a purge leaves, and refused requests
-- counted per limit key and window instead of one audit event each.

-- +goose Up
ALTER TABLE audit_events ADD COLUMN key_id TEXT NOT NULL DEFAULT '';

-- One row at most: the signed checkpoint of the last event a purge removed,
-- which the first remaining event's prev_hash must equal.
CREATE TABLE audit_anchor (
    id      INTEGER PRIMARY KEY CHECK (id = 1),
    seq     BIGINT NOT NULL,
    hash    TEXT   NOT NULL,
    at      BIGINT NOT NULL,
    key_id  TEXT   NOT NULL,
    mac     TEXT   NOT NULL
);

CREATE TABLE refusals (
    rate_key  TEXT    NOT NULL, -- the limit's key: a keyed tag
    action    TEXT    NOT NULL, -- code.request, code.resend, code.redeem
    from_at   BIGINT  NOT NULL, -- the window
    until_at  BIGINT  NOT NULL,
    limit_name TEXT   NOT NULL,
    ip_hash   TEXT    NOT NULL DEFAULT '',
    refused   INTEGER NOT NULL,
    PRIMARY KEY (rate_key, action, from_at)
);
CREATE INDEX refusals_until ON refusals (until_at);

-- Retention: events are cut by time; finished deliveries lose their
-- destinations, then go, by creation time. (No partial index of the rows
-- still to scrub: a decoy's row, with no destination, would skip an index
-- insert a real one makes.)
CREATE INDEX audit_events_at ON audit_events (at);
CREATE INDEX deliveries_created ON deliveries (created_at);

-- +goose Down
DROP INDEX deliveries_created;
DROP INDEX audit_events_at;
DROP TABLE refusals;
DROP TABLE audit_anchor;
ALTER TABLE audit_events DROP COLUMN key_id;
