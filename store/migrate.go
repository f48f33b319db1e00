package store

import (
	"context"
	"database/sql"
	"embed"
	"fmt"
	"io/fs"

	"github.com/pressly/goose/v3"
)

// migrations holds one folder of goose SQL files per database.
//
//go:embed migrations
var migrations embed.FS

// gooseDialects maps a dialect to goose's name for it and its folder.
var gooseDialects = map[string]struct {
	dialect goose.Dialect
	dir     string
}{
	"sqlite": {goose.DialectSQLite3, "migrations/sqlite"},
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
	p, err := goose.NewProvider(g.dialect, db, dir, goose.WithLogger(goose.NopLogger()))
	if err != nil {
		return fmt.Errorf("store: migrate: %w", err)
	}
	if _, err := p.Up(ctx); err != nil {
		return fmt.Errorf("store: migrate: %w", err)
	}
	return nil
}
