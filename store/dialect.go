package store

import (
	"errors"
	"strconv"
	"strings"

	"modernc.org/sqlite"
	sqlite3 "modernc.org/sqlite/lib"
)

// dialect holds everything that differs between the databases the store speaks.
// The queries themselves are shared.
type dialect struct {
	name string
	// numbered placeholders: $1, $2 … instead of ?.
	numbered bool
	// lockRow is appended to a SELECT that reads a row the transaction will
	// change, and skipLocked to the one that claims deliveries. SQLite needs
	// neither: its write transactions begin IMMEDIATE on a single connection,
	// so they already run one at a time.
	lockRow    string
	skipLocked string
	// isUniqueViolation reports whether err broke a UNIQUE or PRIMARY KEY rule.
	isUniqueViolation func(error) bool
}

var sqliteDialect = &dialect{
	name: "sqlite",
	isUniqueViolation: func(err error) bool {
		var e *sqlite.Error
		if !errors.As(err, &e) {
			return false
		}
		return e.Code() == sqlite3.SQLITE_CONSTRAINT_UNIQUE || e.Code() == sqlite3.SQLITE_CONSTRAINT_PRIMARYKEY
	},
}

// PostgreSQL will be:
//
//	&dialect{name: "postgres", numbered: true, lockRow: " FOR UPDATE",
//		skipLocked: " FOR UPDATE SKIP LOCKED", isUniqueViolation: /* pgconn.PgError.Code == "23505" */}

// rebind rewrites the ? placeholders of query for the dialect. Queries in this
// package never hold a ? inside a string literal.
func (d *dialect) rebind(query string) string {
	if !d.numbered {
		return query
	}
	var b strings.Builder
	b.Grow(len(query) + 8)
	n := 0
	for i := 0; i < len(query); i++ {
		if query[i] != '?' {
			b.WriteByte(query[i])
			continue
		}
		n++
		b.WriteByte('$')
		b.WriteString(strconv.Itoa(n))
	}
	return b.String()
}
