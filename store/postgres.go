package store

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"math/rand/v2"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/casegate/casegate"
	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"
	"github.com/jackc/pgx/v5/stdlib"
)

// Postgres pool defaults. pool_max_conns in the URL overrides the size.
const (
	defaultPoolSize       = 16
	defaultConnectTimeout = 5 * time.Second
	// retries is how many times Update runs a transaction again after a
	// serialization failure or a deadlock.
	retries = 4
)

// Postgres is a casegate.Store on PostgreSQL, through pgx's database/sql
// driver and a pool of connections. Transactions run at READ COMMITTED; the
// dialect's row locks (FOR UPDATE, SKIP LOCKED), the atomic UPDATEs the
// queries already are, and an advisory lock on the audit chain make
// concurrent transactions, from this instance or any other on the same
// database, behave as the conformance suite demands.
type Postgres struct {
	db *sql.DB
}

var _ casegate.Store = (*Postgres)(nil)

// OpenPostgres connects to the PostgreSQL database that dsn, a postgres:// or
// postgresql:// URL, names and checks that it answers. It runs no migrations.
// Besides pgx's parameters (sslmode, connect_timeout, search_path and other
// run-time settings), the URL may carry pool_max_conns, the most connections
// this instance opens (default 16). When the server does not answer, the
// error has code casegate.EUnavailable. When the URL sets search_path and
// the connection has another one, as behind a pooler that drops the
// setting, it fails rather than use tables in the wrong schema.
func OpenPostgres(ctx context.Context, dsn string) (*Postgres, error) {
	cfg, poolSize, err := parsePostgresURL(dsn)
	if err != nil {
		return nil, fmt.Errorf("store: open postgres: %w", err)
	}
	if tr, ok := ctx.Value(tracerKey{}).(pgx.QueryTracer); ok {
		cfg.Tracer = tr
	}
	db := stdlib.OpenDB(*cfg)
	db.SetMaxOpenConns(poolSize)
	db.SetMaxIdleConns(poolSize)
	db.SetConnMaxIdleTime(5 * time.Minute)
	db.SetConnMaxLifetime(time.Hour)
	if err := db.PingContext(ctx); err != nil {
		db.Close()
		return nil, unavailable("open postgres", err)
	}
	if want, ok := cfg.RuntimeParams["search_path"]; ok {
		if err := checkSearchPath(ctx, db, want); err != nil {
			db.Close()
			return nil, err
		}
	}
	return &Postgres{db: db}, nil
}

// checkSearchPath fails unless a connection of db has the search_path want.
// PostgreSQL takes it from the connection's start-up message; PgBouncer 1.18
// refuses a start-up message that carries it, unless told to ignore it
// (ignore_startup_parameters), and then drops it, leaving each server
// connection with whatever search_path it has.
func checkSearchPath(ctx context.Context, db *sql.DB, want string) error {
	var got string
	if err := db.QueryRowContext(ctx, `SELECT current_setting('search_path')`).Scan(&got); err != nil {
		return postgresDialect.fail("open postgres: read search_path", err)
	}
	if slices.Equal(searchPathSchemas(got), searchPathSchemas(want)) {
		return nil
	}
	return fmt.Errorf("store: open postgres: the URL sets search_path %q, but the database connection has %q: "+
		"a connection pooler in between (such as PgBouncer) does not pass the setting on; set the schema there "+
		"(PgBouncer: connect_query in the database's entry) or for the database user (ALTER ROLE … SET search_path), "+
		"and leave search_path out of the URL (docs/deployment.md)", want, got)
}

// searchPathSchemas splits a search_path value into the names PostgreSQL
// reads from it: elements separated by commas, spaces around them ignored,
// a double-quoted element as written (a doubled quote standing for one),
// any other folded to lower case.
func searchPathSchemas(v string) []string {
	var out []string
	for rest := strings.TrimSpace(v); rest != ""; {
		var name string
		if rest[0] == '"' {
			var b strings.Builder
			i := 1
			for ; i < len(rest); i++ {
				if rest[i] == '"' {
					if i+1 < len(rest) && rest[i+1] == '"' {
						b.WriteByte('"')
						i++
						continue
					}
					break
				}
				b.WriteByte(rest[i])
			}
			name = b.String()
			rest = rest[min(i+1, len(rest)):]
			rest, _ = strings.CutPrefix(strings.TrimSpace(rest), ",")
		} else {
			var part string
			part, rest, _ = strings.Cut(rest, ",")
			name = strings.ToLower(strings.TrimSpace(part))
		}
		out = append(out, name)
		rest = strings.TrimSpace(rest)
	}
	return out
}

// tracerKey carries the tracer WithPostgresTracer gives.
type tracerKey struct{}

// WithPostgresTracer returns ctx under which OpenPostgres (and Open, for a
// PostgreSQL URL) gives every connection of the pool tr, which sees each
// statement the store sends, BEGIN and COMMIT included, from any goroutine
// and under any later context. Tests count statements per sign-in with it.
func WithPostgresTracer(ctx context.Context, tr pgx.QueryTracer) context.Context {
	return context.WithValue(ctx, tracerKey{}, tr)
}

// parsePostgresURL reads dsn into pgx's configuration and takes out the
// store's own parameter, pool_max_conns. Errors never repeat the URL, which
// may hold a password.
func parsePostgresURL(dsn string) (*pgx.ConnConfig, int, error) {
	cfg, poolSize, err := parsePostgresURLAsIs(dsn)
	if err != nil {
		return nil, 0, withoutSecrets(dsn, err)
	}
	return cfg, poolSize, nil
}

// withoutSecrets is err, about dsn, told without dsn. pgx repeats the
// connection string it could not parse with the password taken out as best
// it can: that repetition is dropped. Whatever else still contains text that
// could be the password (what follows a colon up to an @, or password=) gives
// way to a plain message. A fuzz test found a URL whose password pgx showed.
func withoutSecrets(dsn string, err error) error {
	var pce *pgconn.ParseConfigError
	if errors.As(err, &pce) {
		short := *pce
		short.ConnString = "…"
		err = &short
	}
	text := err.Error()
	for _, secret := range secretCandidates(dsn) {
		for _, form := range []string{secret, url.QueryEscape(secret), url.PathEscape(secret), url.UserPassword("", secret).String()} {
			if form != "" && strings.Contains(text, form) {
				return errors.New("the URL does not parse (it should read postgres://user:password@host:port/database?settings)")
			}
		}
	}
	return err
}

// secretCandidates are the parts of dsn that may be a password: each run
// between a colon and the next @, and each value of password=.
func secretCandidates(dsn string) []string {
	var out []string
	for i := 0; i < len(dsn); i++ {
		if dsn[i] != ':' {
			continue
		}
		if j := strings.IndexByte(dsn[i+1:], '@'); j > 0 {
			out = append(out, dsn[i+1:i+1+j])
		}
	}
	for rest := dsn; ; {
		i := strings.Index(rest, "password=")
		if i < 0 {
			break
		}
		rest = rest[i+len("password="):]
		if v, _, _ := strings.Cut(rest, " "); v != "" {
			out = append(out, strings.Trim(v, "'"))
		}
	}
	return out
}

func parsePostgresURLAsIs(dsn string) (*pgx.ConnConfig, int, error) {
	poolSize := defaultPoolSize
	if strings.Contains(dsn, "pool_max_conns") { // else pgx reads the URL as it is
		u, err := url.Parse(dsn)
		if err != nil {
			var ue *url.Error
			if errors.As(err, &ue) {
				err = ue.Err
			}
			return nil, 0, fmt.Errorf("the URL does not parse: %w", err)
		}
		q := u.Query()
		v := q.Get("pool_max_conns")
		n, err := strconv.Atoi(v)
		if err != nil || n < 2 || n > 1000 { // Migrate holds one connection while it works on another
			return nil, 0, fmt.Errorf("pool_max_conns: want a whole number from 2 to 1000, got %q", v)
		}
		poolSize = n
		q.Del("pool_max_conns")
		u.RawQuery = q.Encode()
		dsn = u.String()
	}
	cfg, err := pgx.ParseConfig(dsn)
	if err != nil {
		return nil, 0, err
	}
	if cfg.ConnectTimeout == 0 {
		cfg.ConnectTimeout = defaultConnectTimeout
	}
	if _, ok := cfg.RuntimeParams["application_name"]; !ok {
		cfg.RuntimeParams["application_name"] = "casegate"
	}
	return cfg, poolSize, nil
}

// Update runs fn in one READ COMMITTED transaction and commits when fn
// returns nil. When PostgreSQL rolls the transaction back for a
// serialization failure or a deadlock, Update runs fn again, up to 4 more
// times after a short random pause, so fn must not have effects outside tx
// that would be wrong to repeat. fn must not call Update or View.
func (p *Postgres) Update(ctx context.Context, fn func(casegate.Tx) error) error {
	for attempt := 0; ; attempt++ {
		err := runTx(ctx, p.db, postgresDialect, nil, nil, fn)
		if err == nil {
			return nil
		}
		if attempt < retries && postgresDialect.isRetryable(err) && ctx.Err() == nil {
			pause := time.Duration(1+rand.IntN(5<<attempt)) * time.Millisecond
			select {
			case <-time.After(pause):
				continue
			case <-ctx.Done():
			}
		}
		return postgresDialect.fail("update", err)
	}
}

// View runs fn in a read-only transaction.
func (p *Postgres) View(ctx context.Context, fn func(casegate.Tx) error) error {
	if err := runTx(ctx, p.db, postgresDialect, &sql.TxOptions{ReadOnly: true}, nil, fn); err != nil {
		return postgresDialect.fail("view", err)
	}
	return nil
}

// Ping reports whether the database answers.
func (p *Postgres) Ping(ctx context.Context) error {
	if err := p.db.PingContext(ctx); err != nil {
		return postgresDialect.fail("ping", err)
	}
	return nil
}

// BulkLoad does nothing on PostgreSQL: an import writes the same bulk
// statements as on SQLite (bulk.go), and what SQLite changes for it, the
// page cache and the spacing of checkpoints, are the server's settings here
// (shared_buffers, max_wal_size), shared with every instance and every
// other client; one import has no business changing them.
func (p *Postgres) BulkLoad(context.Context) (done func(), err error) {
	return func() {}, nil
}

// Migrate brings the schema up to date. Instances that start together take
// turns on an advisory lock on the schema, held by a transaction (lockSchema).
func (p *Postgres) Migrate(ctx context.Context) error {
	if err := migrate(ctx, p.db, postgresDialect); err != nil {
		if postgresDialect.isUnavailable(err) {
			return unavailable("migrate", err)
		}
		return err
	}
	return nil
}

// Close closes the pool.
func (p *Postgres) Close() error {
	if err := p.db.Close(); err != nil {
		return fmt.Errorf("store: close: %w", err)
	}
	return nil
}
