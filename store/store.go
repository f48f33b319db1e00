// Package store keeps casegate's state in one SQL database. It implements
// casegate.Store and casegate.Tx over SQLite (modernc.org/sqlite, pure Go) and
// is written so that PostgreSQL can follow with the same queries: statements
// are written with ? placeholders and go through dialect.rebind, and every
// difference between the two databases lives in the dialect struct.
//
// Times are stored as unix microseconds in UTC, NULL when unset, and come back
// in UTC; the zero time.Time and NULL are the same thing.
package store

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"strings"

	"github.com/casegate/casegate"
)

// Open opens the database that dsn names, without migrating it. dsn is a file
// path or a "file:" URI for SQLite; postgres:// and postgresql:// URLs are
// recognised but not supported yet.
func Open(ctx context.Context, dsn string) (casegate.Store, error) {
	var (
		s   *SQLite
		err error
	)
	switch {
	case dsn == "":
		return nil, errors.New("store: open: no database given")
	case strings.HasPrefix(dsn, "postgres://"), strings.HasPrefix(dsn, "postgresql://"):
		return nil, errors.New("store: open: PostgreSQL support is not built yet; use a SQLite file path")
	case strings.HasPrefix(dsn, "file:"):
		s, err = openSQLiteURI(ctx, dsn)
	default:
		s, err = OpenSQLite(ctx, dsn)
	}
	if err != nil {
		return nil, err // not a typed nil in the interface
	}
	return s, nil
}

// tx implements casegate.Tx over one database/sql transaction.
type tx struct {
	sqlTx *sql.Tx
	d     *dialect
}

var _ casegate.Tx = (*tx)(nil)

func (t *tx) exec(ctx context.Context, query string, args ...any) (sql.Result, error) {
	return t.sqlTx.ExecContext(ctx, t.d.rebind(query), args...)
}

func (t *tx) query(ctx context.Context, query string, args ...any) (*sql.Rows, error) {
	return t.sqlTx.QueryContext(ctx, t.d.rebind(query), args...)
}

func (t *tx) queryRow(ctx context.Context, query string, args ...any) *sql.Row {
	return t.sqlTx.QueryRowContext(ctx, t.d.rebind(query), args...)
}

// execOne runs a statement that must change exactly one row; when none
// changed it returns notFound.
func (t *tx) execOne(ctx context.Context, notFound error, query string, args ...any) error {
	res, err := t.exec(ctx, query, args...)
	if err != nil {
		return err
	}
	n, err := res.RowsAffected()
	if err != nil {
		return err
	}
	if n == 0 {
		return notFound
	}
	return nil
}

// exists reports whether query, a SELECT 1 …, finds a row.
func (t *tx) exists(ctx context.Context, query string, args ...any) (bool, error) {
	var one int
	err := t.queryRow(ctx, query, args...).Scan(&one)
	if errors.Is(err, sql.ErrNoRows) {
		return false, nil
	}
	return err == nil, err
}

// scanner is a *sql.Row or *sql.Rows.
type scanner interface {
	Scan(dest ...any) error
}

// queryAll runs query and scans every row with scan.
func queryAll[T any](ctx context.Context, t *tx, scan func(scanner) (T, error), query string, args ...any) ([]T, error) {
	rows, err := t.query(ctx, query, args...)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var out []T
	for rows.Next() {
		v, err := scan(rows)
		if err != nil {
			return nil, err
		}
		out = append(out, v)
	}
	return out, rows.Err()
}

// notFound returns the error for a missing row, named by what.
func notFound(format string, args ...any) error {
	return fmt.Errorf("store: "+format+": %w", append(args, casegate.ErrNotFound)...)
}

// conflict returns the error for a row that would break a uniqueness rule.
func conflict(message string) error {
	return fmt.Errorf("store: %w", casegate.Errorf(casegate.EConflict, "%s", message))
}
