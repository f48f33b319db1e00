package store

import (
	"context"
	"database/sql"
	"embed"
	"fmt"
	"io/fs"

	"github.com/pressly/goose/v3"
	"github.com/pressly/goose/v3/lock"
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
	locker  lock.SessionLocker
}{
	"sqlite":   {goose.DialectSQLite3, "migrations/sqlite", nil},
	"postgres": {goose.DialectPostgres, "migrations/postgres", schemaLock{}},
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
	if g.locker != nil {
		// Hold the lock on a connection of its own around everything goose
		// does, the creation of its version table included, which goose's
		// own session locking leaves to retries a second apart.
		conn, err := db.Conn(ctx)
		if err != nil {
			return fmt.Errorf("store: migrate: %w", err)
		}
		defer conn.Close()
		if err := g.locker.SessionLock(ctx, conn); err != nil {
			return fmt.Errorf("store: migrate: lock: %w", err)
		}
		defer g.locker.SessionUnlock(context.WithoutCancel(ctx), conn)
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

// schemaLock keeps PostgreSQL instances that start together from migrating
// at once: an advisory lock keyed on the current schema, waited for rather
// than polled (goose's own locker tries every 5 seconds), and per schema, so
// separate casegate schemas in one database do not wait on each other.
type schemaLock struct{}

const schemaLockKey = `hashtextextended('casegate.migrate.' || coalesce(current_schema(), ''), 0)`

func (schemaLock) SessionLock(ctx context.Context, conn *sql.Conn) error {
	_, err := conn.ExecContext(ctx, `SELECT pg_advisory_lock(`+schemaLockKey+`)`)
	return err
}

func (schemaLock) SessionUnlock(ctx context.Context, conn *sql.Conn) error {
	_, err := conn.ExecContext(ctx, `SELECT pg_advisory_unlock(`+schemaLockKey+`)`)
	return err
}
