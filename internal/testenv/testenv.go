// Package testenv finds the optional things some tests need — Chromium,
// PostgreSQL, axe-core — and decides what a test does when one is missing:
// skip with a visible reason on a developer's machine, fail in CI, where
// CASEGATE_TEST_REQUIRE says the thing must be there.
package testenv

import (
	"context"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"
)

// RequireEnv names the environment variable that turns a missing optional
// dependency from a skip into a failure: "all", or a comma-separated list of
// the names below.
const RequireEnv = "CASEGATE_TEST_REQUIRE"

// Names of the optional dependencies, as CASEGATE_TEST_REQUIRE spells them.
const (
	NameChromium = "chromium"
	NamePostgres = "postgres"
	NameAxe      = "axe"
	// NamePgClient is PostgreSQL's client programs: pg_dump, pg_restore, psql.
	NamePgClient = "pg-client"

	// The deployment tools the tests of deploy/ run: Debian's caddy, nginx
	// (nginx-light), podman and systemd packages.
	NameCaddy    = "caddy"
	NameNginx    = "nginx"
	NamePodman   = "podman"
	NameSystemd  = "systemd-analyze"
	NameOpenDKIM = "opendkim" // opendkim-testmsg (Debian opendkim-tools), run in namespaces of its own
	NameRedocly  = "redocly"  // Node.js and @redocly/cli, for the OpenAPI lint
	// NamePgBouncer is the PgBouncer connection pooler (Debian's pgbouncer).
	NamePgBouncer = "pgbouncer"
)

// PostgresEnv holds the DSN of the PostgreSQL the tests may use.
const PostgresEnv = "CASEGATE_TEST_POSTGRES"

// DefaultPostgres is the DSN tried when PostgresEnv is unset.
const DefaultPostgres = "postgres://postgres@127.0.0.1:5432/test?sslmode=disable"

// ChromiumPath is where Debian's chromium package puts the browser.
const ChromiumPath = "/usr/bin/chromium"

// AxePath is axe-core's script, relative to the module root, as `npm ci` lays it out.
const AxePath = "node_modules/axe-core/axe.min.js"

// RedoclyPath is Redocly CLI's entry script, relative to the module root.
const RedoclyPath = "node_modules/@redocly/cli/bin/cli.js"

// Required reports whether the value of CASEGATE_TEST_REQUIRE demands what:
// "all" demands everything; otherwise it is a comma-separated list of names,
// compared without regard to case or surrounding spaces.
func Required(env, what string) bool {
	for name := range strings.SplitSeq(env, ",") {
		name = strings.TrimSpace(name)
		if strings.EqualFold(name, "all") || strings.EqualFold(name, what) {
			return true
		}
	}
	return false
}

// Require ends t because what is missing: t.Fatalf when CASEGATE_TEST_REQUIRE
// demands what, else t.Skipf. Either way the reason is printed.
func Require(t testing.TB, what, reason string) {
	t.Helper()
	if Required(os.Getenv(RequireEnv), what) {
		t.Fatalf("%s is required (%s=%q) but missing: %s", what, RequireEnv, os.Getenv(RequireEnv), reason)
	}
	t.Skipf("skipping: %s", reason)
}

// Chromium returns the path of the Chromium binary: /usr/bin/chromium, else
// `chromium` on PATH. Without one, it ends t through Require.
func Chromium(t testing.TB) string {
	t.Helper()
	path, err := findChromium()
	if err != nil {
		Require(t, NameChromium, err.Error())
	}
	return path
}

func findChromium() (string, error) {
	if isExecutable(ChromiumPath) {
		return ChromiumPath, nil
	}
	if p, err := exec.LookPath("chromium"); err == nil {
		return p, nil
	}
	return "", fmt.Errorf("Chromium not found at %s or on PATH; install the chromium package or run .ci/run", ChromiumPath)
}

// Tool returns the path of the program name (one of the Name constants
// above that is also a command: caddy, nginx, podman, systemd-analyze),
// found on PATH or in /usr/sbin, where Debian puts nginx. Without it, it
// ends t through Require, naming pkg, the Debian package to install.
func Tool(t testing.TB, name, pkg string) string {
	t.Helper()
	if p, err := exec.LookPath(name); err == nil {
		return p
	}
	if p := filepath.Join("/usr/sbin", name); isExecutable(p) {
		return p
	}
	Require(t, name, fmt.Sprintf("%s not found on PATH or in /usr/sbin; install the %s package or run .ci/run", name, pkg))
	return ""
}

func isExecutable(path string) bool {
	fi, err := os.Stat(path)
	return err == nil && !fi.IsDir() && fi.Mode()&0o111 != 0
}

// Postgres returns the DSN of a PostgreSQL that answered a connection within
// two seconds: CASEGATE_TEST_POSTGRES, else DefaultPostgres. Without one, it
// ends t through Require.
func Postgres(t testing.TB) string {
	t.Helper()
	dsn := os.Getenv(PostgresEnv)
	if dsn == "" {
		dsn = DefaultPostgres
	}
	if err := PingPostgres(dsn, 2*time.Second); err != nil {
		// The error may name the host and user, never a password: pgx leaves it out.
		Require(t, NamePostgres, fmt.Sprintf("PostgreSQL not reachable (%s or the default): %v; start one or run .ci/run", PostgresEnv, err))
	}
	return dsn
}

// PingPostgres connects to dsn and pings it, all within the time given.
func PingPostgres(dsn string, within time.Duration) error {
	ctx, cancel := context.WithTimeout(context.Background(), within)
	defer cancel()
	conn, err := pgx.Connect(ctx, dsn)
	if err != nil {
		return err
	}
	defer conn.Close(context.Background())
	return conn.Ping(ctx)
}

// PgClient returns the path of program, one of PostgreSQL's client programs
// (pg_dump, pg_restore, psql; Debian's postgresql-client), found on PATH.
// Without it, it ends t through Require.
func PgClient(t testing.TB, program string) string {
	t.Helper()
	path, err := exec.LookPath(program)
	if err != nil {
		Require(t, NamePgClient, fmt.Sprintf("%s not found on PATH; install the postgresql-client package or run .ci/run", program))
	}
	return path
}

// PgBouncerPath is where Debian's pgbouncer package puts the pooler.
const PgBouncerPath = "/usr/sbin/pgbouncer"

// PgBouncer returns the path of the pgbouncer binary: /usr/sbin/pgbouncer,
// else `pgbouncer` on PATH. Without one, it ends t through Require.
func PgBouncer(t testing.TB) string {
	t.Helper()
	if isExecutable(PgBouncerPath) {
		return PgBouncerPath
	}
	path, err := exec.LookPath("pgbouncer")
	if err != nil {
		Require(t, NamePgBouncer, fmt.Sprintf("pgbouncer not found at %s or on PATH; install the pgbouncer package or run .ci/run", PgBouncerPath))
	}
	return path
}

// AxeScript returns the path of axe-core's axe.min.js under node_modules at
// the module root, found by walking up from the working directory. Without
// it, it ends t through Require.
func AxeScript(t testing.TB) string {
	t.Helper()
	wd, err := os.Getwd()
	if err != nil {
		Require(t, NameAxe, err.Error())
	}
	path, err := findAxe(wd)
	if err != nil {
		Require(t, NameAxe, err.Error())
	}
	return path
}

// findAxe walks up from dir to the folder holding go.mod and looks for
// AxePath there.
func findAxe(dir string) (string, error) {
	return findNodeModule(dir, AxePath, "axe-core")
}

// findNodeModule walks up from dir to the folder holding go.mod and looks
// for the file rel of package name there.
func findNodeModule(dir, rel, name string) (string, error) {
	root, err := moduleRoot(dir)
	if err != nil {
		return "", err
	}
	path := filepath.Join(root, filepath.FromSlash(rel))
	if _, err := os.Stat(path); err != nil {
		return "", fmt.Errorf("%s not found at %s; run `npm ci` at the module root (or .ci/run)", name, path)
	}
	return path, nil
}

// Redocly returns the node binary and Redocly CLI's script under
// node_modules at the module root. Without either, it ends t through Require.
func Redocly(t testing.TB) (node, script string) {
	t.Helper()
	node, err := exec.LookPath("node")
	if err != nil {
		Require(t, NameRedocly, "node is not on PATH: "+err.Error())
	}
	wd, err := os.Getwd()
	if err != nil {
		Require(t, NameRedocly, err.Error())
	}
	if script, err = findNodeModule(wd, RedoclyPath, "@redocly/cli"); err != nil {
		Require(t, NameRedocly, err.Error())
	}
	return node, script
}

// moduleRoot is the nearest folder at or above dir that holds go.mod.
func moduleRoot(dir string) (string, error) {
	for d := dir; ; {
		if _, err := os.Stat(filepath.Join(d, "go.mod")); err == nil {
			return d, nil
		}
		parent := filepath.Dir(d)
		if parent == d {
			return "", errors.New("no go.mod at or above " + dir + ", so no module root to find node_modules in")
		}
		d = parent
	}
}
