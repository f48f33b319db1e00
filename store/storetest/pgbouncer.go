package storetest

import (
	"fmt"
	"net/url"
	"os"
	"os/exec"
	"os/user"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/casegate/casegate/internal/testenv"
)

// Pooled is a fresh schema on the test PostgreSQL reached through a
// PgBouncer of the test's own in transaction pooling mode.
type Pooled struct {
	// URL reaches the schema through PgBouncer, configured the way
	// docs/deployment.md says: no search_path (PgBouncer's database entry
	// sets it on every server connection) and default_query_exec_mode=exec
	// (no named prepared statements, which a server connection shared
	// transaction by transaction cannot keep).
	URL string
	// Direct reaches the same schema on PostgreSQL itself, search_path in
	// the URL, for checks from outside the pooler.
	Direct string
	Schema string
	// Log is what PgBouncer has logged, for messages when a test fails.
	Log *testenv.LogBuffer
}

// PgBouncerSchema starts PgBouncer in front of a fresh schema
// (PostgresSchema) and returns how to reach it. PgBouncer listens on a free
// loopback port and offers one database, "casegate", whose server
// connections have their search_path set to the schema (connect_query);
// settings are added to its [pgbouncer] section as they are, e.g.
// "ignore_startup_parameters = search_path". It runs as the postgres user
// when the test runs as root (PgBouncer refuses root) and is stopped when the
// test ends, before the schema is dropped. Without pgbouncer or PostgreSQL it
// skips t, or fails it when CASEGATE_TEST_REQUIRE demands them.
func PgBouncerSchema(t testing.TB, settings ...string) Pooled {
	t.Helper()
	bin := testenv.PgBouncer(t)
	direct := PostgresSchema(t)
	up, err := url.Parse(direct)
	if err != nil {
		t.Fatal(err)
	}
	schema := up.Query().Get("search_path")
	host, port := up.Hostname(), up.Port()
	if port == "" {
		port = "5432"
	}
	upUser := up.User.Username()
	if upUser == "" {
		upUser = "postgres"
	}
	entry := fmt.Sprintf("host=%s port=%s dbname=%s user=%s", host, port, strings.TrimPrefix(up.Path, "/"), upUser)
	if pw, ok := up.User.Password(); ok {
		entry += " password=" + pw
	}
	entry += " connect_query='SET search_path = " + schema + "'"

	// Not t.TempDir: its parent is private to the test's user, and
	// PgBouncer may run as another.
	dir, err := os.MkdirTemp("", "casegate-pgbouncer-")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { os.RemoveAll(dir) })
	listen := testenv.FreePort(t)
	ini := strings.Join(append([]string{
		"[databases]",
		"casegate = " + entry,
		"[pgbouncer]",
		"listen_addr = 127.0.0.1",
		"listen_port = " + strconv.Itoa(listen),
		"unix_socket_dir =",
		"auth_type = trust",
		"auth_file = " + filepath.Join(dir, "users.txt"),
		"pool_mode = transaction",
		"default_pool_size = 20",
		"max_client_conn = 500",
		"server_login_retry = 1",
	}, settings...), "\n") + "\n"
	writeFile(t, filepath.Join(dir, "pgbouncer.ini"), ini)
	writeFile(t, filepath.Join(dir, "users.txt"), strconv.Quote(upUser)+` ""`+"\n")

	cmd := exec.Command(bin, filepath.Join(dir, "pgbouncer.ini"))
	log := &testenv.LogBuffer{}
	cmd.Stdout, cmd.Stderr = log, log
	if os.Geteuid() == 0 {
		asPostgres(t, cmd, dir)
	}
	if err := cmd.Start(); err != nil {
		t.Fatalf("start pgbouncer: %v", err)
	}
	exited := make(chan struct{})
	go func() { cmd.Wait(); close(exited) }()
	t.Cleanup(func() {
		cmd.Process.Signal(syscall.SIGINT) // PgBouncer's immediate shutdown
		select {
		case <-exited:
		case <-time.After(10 * time.Second):
			cmd.Process.Kill()
			<-exited
		}
		if t.Failed() {
			t.Logf("pgbouncer log:\n%s", log.String())
		}
	})

	pooled := fmt.Sprintf("postgres://%s@127.0.0.1:%d/casegate?sslmode=disable&default_query_exec_mode=exec", url.User(upUser).String(), listen)
	var last error
	if !testenv.Eventually(15*time.Second, func() bool {
		select {
		case <-exited:
			t.Fatalf("pgbouncer exited: %s", log.String())
		default:
		}
		last = testenv.PingPostgres(pooled, 2*time.Second)
		return last == nil
	}) {
		t.Fatalf("pgbouncer did not answer within 15s: %v\n%s", last, log.String())
	}
	return Pooled{URL: pooled, Direct: direct, Schema: schema, Log: log}
}

// asPostgres makes cmd run as the postgres user and gives dir to it.
func asPostgres(t testing.TB, cmd *exec.Cmd, dir string) {
	t.Helper()
	u, err := user.Lookup("postgres")
	if err != nil {
		testenv.Require(t, testenv.NamePgBouncer, "PgBouncer refuses to run as root and there is no postgres user to run it as: "+err.Error())
	}
	uid, _ := strconv.Atoi(u.Uid)
	gid, _ := strconv.Atoi(u.Gid)
	err = filepath.Walk(dir, func(path string, _ os.FileInfo, err error) error {
		if err != nil {
			return err
		}
		return os.Chown(path, uid, gid)
	})
	if err != nil {
		t.Fatal(err)
	}
	cmd.SysProcAttr = &syscall.SysProcAttr{Credential: &syscall.Credential{Uid: uint32(uid), Gid: uint32(gid)}}
}

func writeFile(t testing.TB, path, data string) {
	t.Helper()
	if err := os.WriteFile(path, []byte(data), 0o600); err != nil {
		t.Fatal(err)
	}
}
