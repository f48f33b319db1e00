-- A party's revision, moved on by the portal when a change to the party
-- must show on every instance at once (a contact change): an instance
-- uses its cached dashboard of the party only while the revision read
-- with the session is the one the dashboard was read at.

-- +goose Up
ALTER TABLE parties ADD COLUMN revision BIGINT NOT NULL DEFAULT 0;

-- +goose Down
ALTER TABLE parties DROP COLUMN revision;
