package store

import (
	"context"
	"database/sql"
	"embed"
	"fmt"
	"io/fs"
	"time"

	"github.com/pressly/goose/v3"
)

// migrations holds one folder of goose SQL files per database. Migrations
// only move forward, and on PostgreSQL each must be safe while instances of
// the previous release still serve: add tables, columns with defaults and
// indexes; never drop, rename or retype in the same release (docs/deployment.md).
//
//go:embed migrations
var migrations embed.FS

// gooseDialects maps a dialect to goose's name for it, its folder, and the
// lock that keeps two instances from migrating at once (none for SQLite,
// whose single writer already does).
var gooseDialects = map[string]struct {
	dialect goose.Dialect
	dir     string
	lock    func(ctx context.Context, db *sql.DB) (release func(), err error)
}{
	"sqlite":   {goose.DialectSQLite3, "migrations/sqlite", nil},
	"postgres": {goose.DialectPostgres, "migrations/postgres", lockSchema},
}

// migrate runs every pending migration of d on db.
func migrate(ctx context.Context, db *sql.DB, d *dialect) error {
	g, ok := gooseDialects[d.name]
	if !ok {
		return fmt.Errorf("store: migrate: no migrations for %s", d.name)
	}
	dir, err := fs.Sub(migrations, g.dir)
	if err != nil {
		return fmt.Errorf("store: migrate: %w", err)
	}
	if g.lock != nil {
		// Hold the lock around everything goose does, the creation of its
		// version table included, which goose's own session locking leaves
		// to retries a second apart.
		release, err := g.lock(ctx, db)
		if err != nil {
			return fmt.Errorf("store: migrate: lock: %w", err)
		}
		defer release()
	}
	p, err := goose.NewProvider(g.dialect, db, dir, goose.WithLogger(goose.NopLogger()))
	if err != nil {
		return fmt.Errorf("store: migrate: %w", err)
	}
	if _, err := p.Up(ctx); err != nil {
		return fmt.Errorf("store: migrate: %w", err)
	}
	return nil
}

// lockSchema keeps PostgreSQL instances that start together from migrating
// at once: an advisory lock keyed on the current schema, so that separate
// casegate schemas in one database do not wait on each other. It is taken
// for a transaction of its own, on a connection of its own, which stays
// open while goose works on others and ends (releasing the lock) when
// release is called. Two choices make it hold behind a pooler in transaction
// mode (PgBouncer), where a client's statements outside a transaction may
// each run on another server connection:
//
//   - A transaction-level lock, not a session-level one. A session lock
//     stays with the server connection that took it, which the pooler then
//     hands to the next instance (and a session lock is granted again to the
//     session holding it), and the unlock may run on another server
//     connection and release nothing.
//   - Tried every lockPoll, not waited for. A transaction waiting for the
//     lock keeps a server connection of the pooler's; instances waiting
//     together could take every one from the instance that holds the lock
//     and needs one more to migrate.
//
// The lock's transaction stays open but idle, with no snapshot and no lock
// on a table between its statements, so a migration's CREATE INDEX
// CONCURRENTLY does not wait for it (tried on PostgreSQL 15).
func lockSchema(ctx context.Context, db *sql.DB) (release func(), err error) {
	for {
		tx, err := db.BeginTx(ctx, nil)
		if err != nil {
			return nil, err
		}
		var got bool
		if err := tx.QueryRowContext(ctx, `SELECT pg_try_advisory_xact_lock(`+schemaLockKey+`)`).Scan(&got); err != nil {
			tx.Rollback()
			return nil, err
		}
		if got {
			return func() { tx.Rollback() }, nil
		}
		tx.Rollback()
		select {
		case <-time.After(lockPoll):
		case <-ctx.Done():
			return nil, ctx.Err()
		}
	}
}

// lockPoll is how often an instance waiting to migrate tries the lock again.
const lockPoll = 100 * time.Millisecond

const schemaLockKey = `hashtextextended('casegate.migrate.' || coalesce(current_schema(), ''), 0)`
