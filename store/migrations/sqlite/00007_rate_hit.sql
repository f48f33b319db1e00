-- A rate key's row holds what HitRate needs to count an event in one
-- statement: prev, the key's time before the last event (microseconds, as
-- tat), from which the caller works the decision out again; and seen, the
-- latest time (nanoseconds) an event of the key was judged at, so that a
-- request that waited for the row lock is never judged earlier than the
-- one that held it.

-- +goose Up
ALTER TABLE rate_limits ADD COLUMN prev BIGINT NOT NULL DEFAULT 0;
ALTER TABLE rate_limits ADD COLUMN seen BIGINT NOT NULL DEFAULT 0;

-- +goose Down
ALTER TABLE rate_limits DROP COLUMN seen;
ALTER TABLE rate_limits DROP COLUMN prev;
