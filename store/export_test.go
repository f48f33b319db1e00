package store

import (
	"context"
	"database/sql"
	"fmt"
)

// Settings reads the pragmas of one writer and one reader connection.
func (s *SQLite) Settings(ctx context.Context) (writer, reader map[string]string) {
	read := func(db *sql.DB) map[string]string {
		out := map[string]string{}
		for _, name := range []string{"journal_mode", "synchronous", "foreign_keys", "busy_timeout", "query_only",
			"temp_store", "cache_size", "wal_autocheckpoint"} {
			var v string
			if err := db.QueryRowContext(ctx, "PRAGMA "+name).Scan(&v); err != nil {
				v = fmt.Sprint("error: ", err)
			}
			out[name] = v
		}
		return out
	}
	return read(s.writer), read(s.reader)
}
