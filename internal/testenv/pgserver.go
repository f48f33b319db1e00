package testenv

import (
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"testing"
)

// NamePgServer is PostgreSQL's server programs in CASEGATE_TEST_REQUIRE:
// initdb, pg_ctl, pg_basebackup and postgres itself, for a test that runs
// clusters of its own (a primary and a standby for failover).
const NamePgServer = "pg-server"

// PgServerGlob is where Debian's postgresql-NN packages put the server's programs.
const PgServerGlob = "/usr/lib/postgresql/*/bin"

// pgServerPrograms are the programs a test running its own clusters calls.
var pgServerPrograms = []string{"initdb", "pg_ctl", "pg_basebackup", "postgres"}

// PgServer returns the folder holding PostgreSQL's server programs: the
// newest /usr/lib/postgresql/NN/bin that has them all, else the folder of
// `pg_ctl` on PATH when the others sit beside it. Without one, it ends t
// through Require.
func PgServer(t testing.TB) string {
	t.Helper()
	dir, err := findPgServer(PgServerGlob)
	if err != nil {
		Require(t, NamePgServer, err.Error())
	}
	return dir
}

func findPgServer(glob string) (string, error) {
	dirs, _ := filepath.Glob(glob)
	// Newest first: 15 before 13, and 100 after 99 once it comes.
	slices.SortFunc(dirs, func(a, b string) int {
		if len(a) != len(b) {
			return len(b) - len(a)
		}
		return strings.Compare(b, a)
	})
	if p, err := exec.LookPath("pg_ctl"); err == nil {
		dirs = append(dirs, filepath.Dir(p))
	}
	for _, dir := range dirs {
		if hasPrograms(dir, pgServerPrograms) {
			return dir, nil
		}
	}
	return "", fmt.Errorf("PostgreSQL's server programs (%s) not found in %s or on PATH; install the postgresql package or run .ci/run",
		strings.Join(pgServerPrograms, ", "), glob)
}

func hasPrograms(dir string, names []string) bool {
	for _, name := range names {
		if !isExecutable(filepath.Join(dir, name)) {
			return false
		}
	}
	return true
}

// AsUser returns the command line that runs argv as user when this process
// is root (PostgreSQL's server refuses to run as root), through runuser;
// otherwise argv as it is.
func AsUser(user string, argv ...string) []string {
	if os.Geteuid() != 0 {
		return argv
	}
	return append([]string{"runuser", "-u", user, "--"}, argv...)
}
