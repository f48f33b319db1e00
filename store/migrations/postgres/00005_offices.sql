-- The office catalog: what cases and processing times name by a code
-- (NBC, POTOMAC), with the name people read and where they can reach it.

-- +goose Up
CREATE TABLE offices (
    code    TEXT PRIMARY KEY,
    name    TEXT NOT NULL,
    address TEXT NOT NULL DEFAULT '',
    phone   TEXT NOT NULL DEFAULT '',
    url     TEXT NOT NULL DEFAULT ''
);

-- +goose Down
DROP TABLE offices;
