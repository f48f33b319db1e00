-- An operator's Idempotency-Key for a status event, so that a retried post
-- (the answer lost, the request sent again) adds one event and notifies
-- once, even when it gave no time and each try would be "now". Unique per
-- case; events without a key (NULL) never conflict.

-- +goose Up
ALTER TABLE status_events ADD COLUMN idempotency_key TEXT;
CREATE UNIQUE INDEX status_events_idempotency ON status_events (case_id, idempotency_key);

-- +goose Down
DROP INDEX status_events_idempotency;
ALTER TABLE status_events DROP COLUMN idempotency_key;
