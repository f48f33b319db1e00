package store

import (
	"context"
	"errors"
	"fmt"
	"io/fs"
	"net/url"
	"os"
	"path"
	"slices"
	"strconv"
	"strings"

	"github.com/casegate/casegate"
)

// Location is the database a connection string names, told so that it can
// be shown to people: never with a password.
type Location struct {
	Postgres bool
	// File is the SQLite database file, for checks of the files themselves;
	// empty for PostgreSQL and for a SQLite database in memory.
	File string
	// Shown names the database: the SQLite file, or the PostgreSQL server,
	// port, database and user, without password or settings.
	Shown string
}

// Locate says what database dsn names, as Open reads dsn, without
// connecting. Its errors never repeat a password.
func Locate(dsn string) (Location, error) {
	if IsPostgres(dsn) {
		cfg, _, err := parsePostgresURL(dsn)
		if err != nil {
			return Location{}, fmt.Errorf("store: locate: %w", err)
		}
		u := url.URL{Scheme: "postgres", User: url.User(cfg.User), Host: cfg.Host + ":" + strconv.Itoa(int(cfg.Port)), Path: "/" + cfg.Database}
		if strings.HasPrefix(cfg.Host, "/") { // a Unix socket's folder
			u.Host = ""
			u.RawQuery = "host=" + url.QueryEscape(cfg.Host)
		}
		return Location{Postgres: true, Shown: u.String()}, nil
	}
	file, err := sqliteFile(dsn)
	if err != nil {
		return Location{}, fmt.Errorf("store: locate: %w", err)
	}
	shown := file
	if file == "" {
		shown = "SQLite in memory"
	}
	return Location{File: file, Shown: shown}, nil
}

// sqliteFile is the file a SQLite dsn (a path or a "file:" URI) names, or
// "" for a database in memory.
func sqliteFile(dsn string) (string, error) {
	switch {
	case dsn == "":
		return "", errors.New("no database given")
	case !strings.HasPrefix(dsn, "file:"):
		return dsn, nil
	}
	base, rawQuery, _ := strings.Cut(dsn, "?")
	query, err := url.ParseQuery(rawQuery)
	if err != nil {
		return "", fmt.Errorf("parameters: %w", err)
	}
	u, err := url.Parse(base)
	if err != nil {
		return "", err
	}
	p := u.Path
	if p == "" {
		p = u.Opaque
	}
	if p == "" || strings.HasPrefix(p, ":memory:") || query.Get("mode") == "memory" {
		return "", nil
	}
	return p, nil
}

// OpenToInspect opens the database dsn names to look at it, changing
// nothing: a SQLite file read-only and never created (an error that
// casegate.IsNotFound recognises when it does not exist), PostgreSQL as
// Open does. It runs no migrations.
func OpenToInspect(ctx context.Context, dsn string) (casegate.Store, error) {
	if IsPostgres(dsn) {
		return Open(ctx, dsn)
	}
	file, err := sqliteFile(dsn)
	if err != nil {
		return nil, fmt.Errorf("store: open sqlite: %w", err)
	}
	if file == "" {
		return nil, errors.New("store: open sqlite: a database in memory has nothing to inspect")
	}
	if _, err := os.Stat(file); errors.Is(err, fs.ErrNotExist) {
		return nil, fmt.Errorf("store: open sqlite: %s: %w", file, casegate.ErrNotFound)
	}
	uri := dsn
	if !strings.HasPrefix(dsn, "file:") {
		uri = (&url.URL{Scheme: "file", Opaque: (&url.URL{Path: dsn}).EscapedPath()}).String()
	}
	base, rawQuery, _ := strings.Cut(uri, "?")
	query, _ := url.ParseQuery(rawQuery) // sqliteFile parsed it
	query.Set("mode", "ro")
	return Open(ctx, base+"?"+query.Encode())
}

// Schema is where a database's schema stands against this casegate's
// migrations.
type Schema struct {
	Version int64   // the highest migration applied; 0 when never migrated
	Latest  int64   // the highest migration this casegate has
	Pending []int64 // this casegate's migrations not applied, in order
}

// SchemaOf reads how far st, a store this package opened, is migrated. It
// changes nothing: a database never migrated is at version 0 with every
// migration pending (its version table is not created).
func SchemaOf(ctx context.Context, st casegate.Store) (Schema, error) {
	var s Schema
	err := st.View(ctx, func(in casegate.Tx) error {
		t, ok := in.(*tx)
		if !ok {
			return errors.New("not a store of this package")
		}
		versions, err := migrationVersions(t.d)
		if err != nil {
			return err
		}
		applied, err := t.appliedMigrations(ctx)
		if err != nil {
			return err
		}
		s.Latest = versions[len(versions)-1]
		for _, v := range applied {
			s.Version = max(s.Version, v)
		}
		for _, v := range versions {
			if !slices.Contains(applied, v) {
				s.Pending = append(s.Pending, v)
			}
		}
		return nil
	})
	if err != nil {
		return Schema{}, fmt.Errorf("store: schema version: %w", err)
	}
	return s, nil
}

// migrationVersions are the versions of d's migrations, ascending: the
// numbers their file names start with.
func migrationVersions(d *dialect) ([]int64, error) {
	g, ok := gooseDialects[d.name]
	if !ok {
		return nil, fmt.Errorf("no migrations for %s", d.name)
	}
	entries, err := fs.ReadDir(migrations, g.dir)
	if err != nil {
		return nil, err
	}
	var out []int64
	for _, e := range entries {
		num, _, ok := strings.Cut(path.Base(e.Name()), "_")
		if v, err := strconv.ParseInt(num, 10, 64); ok && err == nil && strings.HasSuffix(e.Name(), ".sql") {
			out = append(out, v)
		}
	}
	if len(out) == 0 {
		return nil, fmt.Errorf("no migrations for %s", d.name)
	}
	slices.Sort(out)
	return out, nil
}

// versionTableExists is, per dialect, whether goose's version table is
// there (in the current schema on PostgreSQL).
var versionTableExists = map[string]string{
	"sqlite":   `SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = 'goose_db_version'`,
	"postgres": `SELECT 1 WHERE to_regclass('goose_db_version') IS NOT NULL`,
}

// appliedMigrations are the versions goose recorded as applied, none
// when it never ran.
func (t *tx) appliedMigrations(ctx context.Context) ([]int64, error) {
	has, err := t.exists(ctx, versionTableExists[t.d.name])
	if err != nil || !has {
		return nil, err
	}
	rows, err := t.query(ctx, `SELECT DISTINCT version_id FROM goose_db_version WHERE is_applied AND version_id > 0`)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var out []int64
	for rows.Next() {
		var v int64
		if err := rows.Scan(&v); err != nil {
			return nil, err
		}
		out = append(out, v)
	}
	return out, rows.Err()
}
