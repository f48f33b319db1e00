package store

import (
	"context"
	"database/sql/driver"
	"errors"
	"io"
	"net"
	"strconv"
	"strings"
	"syscall"

	"github.com/jackc/pgx/v5/pgconn"
	"modernc.org/sqlite"
	sqlite3 "modernc.org/sqlite/lib"
)

// dialect holds everything that differs between the databases the store speaks.
// The queries themselves are shared.
type dialect struct {
	name string
	// numbered placeholders: $1, $2 … instead of ?.
	numbered bool
	// lockRow is appended to a SELECT, inside an Update, that reads a row the
	// transaction may change, and skipLocked to the one that claims
	// deliveries. SQLite needs neither: its write transactions begin IMMEDIATE
	// on a single connection, so they already run one at a time. Where rows
	// are locked, RateTAT also inserts a key's row before reading it, so that a
	// new key has a row to lock.
	lockRow    string
	skipLocked string
	// greatest is the function that returns the larger of two values:
	// GREATEST, or SQLite's two-argument max.
	greatest string
	// lockName, when set, is a statement taking a lock on a name (its one
	// placeholder) until the transaction ends, for work that must take turns
	// but has no row to lock: appending to the audit chain, replacing the
	// processing times. See tx.takeTurns.
	lockName string
	// insertFail starts a bulk INSERT that, when a row breaks a UNIQUE or
	// NOT NULL rule, may leave the rows before it written: the caller rolls
	// the transaction back after an error of a bulk write (casegate.Tx says
	// so), and SQLite then keeps no statement journal, which profiles of a
	// bulk import showed copying every page the statement touched.
	insertFail string
	// partyIDs, when set, is a query returning as many new party ids as its
	// one parameter says; without it NewPartyIDs counts on from the highest id.
	partyIDs string
	// isUniqueViolation reports whether err broke a UNIQUE or PRIMARY KEY rule.
	isUniqueViolation func(error) bool
	// isRetryable reports whether err rolled the whole transaction back and
	// running it again may succeed (a serialization failure or a deadlock).
	isRetryable func(error) bool
	// isUnavailable reports whether err says the database could not be
	// reached or is not taking work, rather than that a statement was wrong.
	isUnavailable func(error) bool
}

var sqliteDialect = &dialect{
	name:       "sqlite",
	insertFail: "INSERT OR FAIL",
	greatest:   "max",
	isUniqueViolation: func(err error) bool {
		var e *sqlite.Error
		if !errors.As(err, &e) {
			return false
		}
		return e.Code() == sqlite3.SQLITE_CONSTRAINT_UNIQUE || e.Code() == sqlite3.SQLITE_CONSTRAINT_PRIMARYKEY
	},
	isRetryable:   func(error) bool { return false },
	isUnavailable: sqliteUnavailable,
}

// sqliteUnavailable reports whether err is SQLite saying the file is locked
// by another connection past the busy timeout, or the disk is full: the
// write may succeed later, so it is answered 503 with Retry-After, not 500.
func sqliteUnavailable(err error) bool {
	var e *sqlite.Error
	if !errors.As(err, &e) {
		return false
	}
	switch e.Code() & 0xff {
	case sqlite3.SQLITE_BUSY, sqlite3.SQLITE_LOCKED, sqlite3.SQLITE_FULL:
		return true
	}
	return false
}

var postgresDialect = &dialect{
	name:       "postgres",
	numbered:   true,
	insertFail: "INSERT",
	greatest:   "GREATEST",
	lockRow:    " FOR UPDATE",
	skipLocked: " FOR UPDATE SKIP LOCKED",
	// Advisory locks are per database; the schema is part of the name so
	// that several casegate schemas in one database do not wait on each other.
	lockName:          `SELECT pg_advisory_xact_lock(hashtextextended('casegate.' || ? || '.' || coalesce(current_schema(), ''), 0))`,
	partyIDs:          `SELECT nextval(pg_get_serial_sequence('parties', 'id')) FROM generate_series(1, ?)`,
	isUniqueViolation: func(err error) bool { return sqlState(err) == "23505" },
	isRetryable: func(err error) bool {
		code := sqlState(err)
		return code == "40001" || code == "40P01" // serialization_failure, deadlock_detected
	},
	isUnavailable: postgresUnavailable,
}

// sqlState returns the SQLSTATE of a PostgreSQL error in err's chain, or "".
func sqlState(err error) string {
	var e *pgconn.PgError
	if errors.As(err, &e) {
		return e.Code
	}
	return ""
}

// postgresUnavailable reports whether err is about reaching PostgreSQL: a
// failed connect, a connection lost, the server shutting down, starting up
// or out of connections.
func postgresUnavailable(err error) bool {
	if err == nil || errors.Is(err, context.Canceled) {
		return false
	}
	var connect *pgconn.ConnectError
	var netErr net.Error
	switch code := sqlState(err); {
	case errors.As(err, &connect), errors.As(err, &netErr):
		return true
	case strings.HasPrefix(code, "08"), // connection_exception
		code == "57P01", code == "57P02", code == "57P03", // admin_shutdown, crash_shutdown, cannot_connect_now
		code == "53300": // too_many_connections
		return true
	case code != "":
		return false
	}
	return errors.Is(err, driver.ErrBadConn) || errors.Is(err, pgconn.ErrConnClosed) ||
		errors.Is(err, io.ErrUnexpectedEOF) || errors.Is(err, io.EOF) ||
		errors.Is(err, syscall.ECONNREFUSED) || errors.Is(err, syscall.ECONNRESET)
}

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
