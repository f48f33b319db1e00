// Package store keeps casegate's state in one SQL database. It implements
// casegate.Store and casegate.Tx over SQLite (modernc.org/sqlite, pure Go) and
// PostgreSQL (pgx through database/sql) with the same queries: statements are
// written with ? placeholders and go through dialect.rebind, and every
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
	"time"

	"github.com/casegate/casegate"
	"github.com/jackc/pgx/v5/pgconn"
)

// Open opens the database that dsn names, without migrating it: a
// postgres:// or postgresql:// URL for PostgreSQL, else a file path or a
// "file:" URI for SQLite.
func Open(ctx context.Context, dsn string) (casegate.Store, error) {
	if IsPostgres(dsn) {
		p, err := OpenPostgres(ctx, dsn)
		if err != nil {
			return nil, err // not a typed nil in the interface
		}
		return p, nil
	}
	var (
		s   *SQLite
		err error
	)
	switch {
	case dsn == "":
		return nil, errors.New("store: open: no database given")
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

// IsPostgres reports whether dsn names a PostgreSQL database.
func IsPostgres(dsn string) bool {
	return strings.HasPrefix(dsn, "postgres://") || strings.HasPrefix(dsn, "postgresql://")
}

// tx implements casegate.Tx over one database/sql transaction.
type tx struct {
	sqlTx *sql.Tx
	d     *dialect
	write bool       // inside Update: reads of rows to be changed lock them
	stmts *stmtCache // prepared statements of the pool, or nil

	unprepared []string             // queries run without a prepared statement, to prepare after the transaction
	txStmts    map[string]*sql.Stmt // prepared statements bound to this transaction
	// nextPartyID, once NewPartyIDs has reserved ids on SQLite, is the next
	// party id no reservation holds; 0 before.
	nextPartyID int64
}

// lock is what a SELECT of a row the transaction may change ends with:
// the dialect's row lock inside Update, nothing inside View.
func (t *tx) lock() string {
	if !t.write {
		return ""
	}
	return t.d.lockRow
}

var _ casegate.Tx = (*tx)(nil)

// runTx runs fn in a transaction on db; it commits when fn returns nil and
// rolls back otherwise, a panic included.
func runTx(ctx context.Context, db *sql.DB, d *dialect, opts *sql.TxOptions, stmts *stmtCache, fn func(casegate.Tx) error) error {
	sqlTx, err := db.BeginTx(ctx, opts)
	if err != nil {
		return err
	}
	defer sqlTx.Rollback() // a no-op after Commit
	write := opts == nil || !opts.ReadOnly
	t := &tx{sqlTx: sqlTx, d: d, write: write, stmts: stmts}
	err = fn(t)
	if err == nil {
		err = sqlTx.Commit()
		if errors.Is(err, sql.ErrTxDone) && ctx.Err() != nil {
			// database/sql rolled the transaction back when ctx ended:
			// say so, so that callers see a cancelled request, not a fault.
			err = fmt.Errorf("%w (%w)", ctx.Err(), err)
		}
	} else {
		sqlTx.Rollback()
	}
	if stmts != nil && len(t.unprepared) > 0 {
		stmts.prepare(context.WithoutCancel(ctx), t.unprepared)
	}
	return err
}

// takeTurns makes the rest of the transaction wait for every other one that
// took turns on name, where the dialect needs that; SQLite's single writer
// already runs transactions one at a time.
func (t *tx) takeTurns(ctx context.Context, name string) error {
	if t.d.lockName == "" {
		return nil
	}
	_, err := t.exec(ctx, t.d.lockName, name)
	return err
}

// traceKey carries the function WithStatementTrace gives.
type traceKey struct{}

// WithStatementTrace returns ctx under which the store passes the text of
// every statement it runs in a transaction to fn, in order, never the
// arguments. Tests use it to show that two paths do the same database work;
// it also counts statements per use case.
func WithStatementTrace(ctx context.Context, fn func(query string)) context.Context {
	return context.WithValue(ctx, traceKey{}, fn)
}

// trace passes query to the context's trace function, if it has one.
func trace(ctx context.Context, query string) {
	if fn, ok := ctx.Value(traceKey{}).(func(string)); ok {
		fn(query)
	}
}

func (t *tx) exec(ctx context.Context, query string, args ...any) (sql.Result, error) {
	query = t.d.rebind(query)
	trace(ctx, query)
	if st := t.stmt(ctx, query); st != nil {
		return st.ExecContext(ctx, args...)
	}
	return t.sqlTx.ExecContext(ctx, query, args...)
}

func (t *tx) query(ctx context.Context, query string, args ...any) (*sql.Rows, error) {
	query = t.d.rebind(query)
	trace(ctx, query)
	if st := t.stmt(ctx, query); st != nil {
		return st.QueryContext(ctx, args...)
	}
	return t.sqlTx.QueryContext(ctx, query, args...)
}

func (t *tx) queryRow(ctx context.Context, query string, args ...any) *sql.Row {
	query = t.d.rebind(query)
	trace(ctx, query)
	if st := t.stmt(ctx, query); st != nil {
		return st.QueryRowContext(ctx, args...)
	}
	return t.sqlTx.QueryRowContext(ctx, query, args...)
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

// unavailable wraps err, which says the database could not be reached, in an
// EUnavailable error so that callers answer "try again" (HTTP 503); err stays
// in the chain for the log.
// fail wraps err from op, marking EUnavailable what the dialect says is
// about reaching the database: PostgreSQL gone, SQLite busy or full.
func (d *dialect) fail(op string, err error) error {
	if d.isUnavailable(err) {
		return unavailable(op, err)
	}
	if lostStatement(err) {
		return fmt.Errorf("store: %s: %w (the driver's prepared statements do not survive a connection pooler in transaction mode: "+
			"add default_query_exec_mode=exec to the database URL, see docs/deployment.md)", op, err)
	}
	return fmt.Errorf("store: %s: %w", op, err)
}

// lostStatement reports whether err is PostgreSQL finding one of pgx's
// cached prepared statements already there, or not there: a server
// connection shared with other clients, as behind PgBouncer in transaction
// mode, where casegate's own statements never are.
func lostStatement(err error) bool {
	var e *pgconn.PgError
	return errors.As(err, &e) && (e.Code == "42P05" || e.Code == "26000") && strings.Contains(e.Message, "stmtcache_")
}

func unavailable(op string, err error) error {
	return fmt.Errorf("store: %s: %w (%w)", op, &casegate.Error{
		Code:       casegate.EUnavailable,
		Msg:        casegate.M("error.unavailable"),
		RetryAfter: 5 * time.Second,
	}, err)
}

// conflict returns the error for a row that would break a uniqueness rule.
func conflict(message string) error {
	return fmt.Errorf("store: %w", casegate.Errorf(casegate.EConflict, "%s", message))
}
