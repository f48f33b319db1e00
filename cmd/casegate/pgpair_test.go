package main

import (
	"context"
	"fmt"
	"os"
	"os/exec"
	"os/user"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/casegate/casegate/internal/testenv"
	"github.com/jackc/pgx/v5"
)

// pgPair is a PostgreSQL primary and a streaming standby that a test runs
// itself, each in a folder of its own under a temporary one, on free ports
// of 127.0.0.1, with synchronous replication: a commit returns once the
// standby has its WAL on disk. Nothing of the shared server on 5432 is
// touched. Both servers are stopped and their folders removed when the test
// ends, whether it passed or not.
type pgPair struct {
	t                *testing.T
	bin              string // the folder of initdb, pg_ctl, pg_basebackup
	dir              string
	primary, standby pgNode
}

// pgNode is one server of a pgPair.
type pgNode struct {
	data string // the data folder
	port int
}

// standbyName is the standby's application_name, as synchronous_standby_names names it.
const standbyName = "casegate_standby"

// pgUser is the system user the servers run as when the test runs as root.
const pgUser = "postgres"

// startPgPair makes, starts and connects the two servers, and makes the
// database casegate on the primary, replicated to the standby.
func startPgPair(t *testing.T) *pgPair {
	t.Helper()
	bin := testenv.PgServer(t)
	p := &pgPair{t: t, bin: bin}
	dir, err := os.MkdirTemp("", "casegate-failover-")
	if err != nil {
		t.Fatal(err)
	}
	p.dir = dir
	t.Cleanup(p.cleanup)
	if os.Geteuid() == 0 {
		u, err := user.Lookup(pgUser)
		if err != nil {
			testenv.Require(t, testenv.NamePgServer, "running as root, and no "+pgUser+" user to run PostgreSQL as: "+err.Error())
		}
		uid, _ := strconv.Atoi(u.Uid)
		gid, _ := strconv.Atoi(u.Gid)
		if err := os.Chown(dir, uid, gid); err != nil {
			t.Fatal(err)
		}
	}
	p.primary = pgNode{data: filepath.Join(dir, "primary"), port: testenv.FreePort(t)}
	p.standby = pgNode{data: filepath.Join(dir, "standby"), port: testenv.FreePort(t)}

	p.run("initdb", "-D", p.primary.data, "-U", "postgres", "--auth=trust", "-E", "UTF8", "--no-sync")
	// fsync is off: the test ends a server's process, never the machine, and
	// what a process wrote before it died is in the system's page cache.
	p.appendConf(p.primary.data, "postgresql.conf", fmt.Sprintf(`
listen_addresses = '127.0.0.1'
port = %d
unix_socket_directories = '%s'
max_connections = 60
shared_buffers = 16MB
wal_level = replica
max_wal_senders = 4
hot_standby = on
synchronous_commit = on
fsync = off
log_min_messages = warning
`, p.primary.port, dir))
	p.start(p.primary)
	// The standby is a base backup of the primary; -R makes it follow.
	p.run("pg_basebackup", "-D", p.standby.data, "-R", "-X", "stream", "-c", "fast",
		"-d", fmt.Sprintf("host=127.0.0.1 port=%d user=postgres", p.primary.port))
	// postgresql.auto.conf is read last and its last line wins: the
	// standby's own port, and its name in the primary's conninfo.
	p.appendConf(p.standby.data, "postgresql.auto.conf", fmt.Sprintf(`
port = %d
primary_conninfo = 'host=127.0.0.1 port=%d user=postgres application_name=%s'
`, p.standby.port, p.primary.port, standbyName))
	p.start(p.standby)
	// Synchronous only now, on the primary alone: the standby's copy of
	// the settings must not wait for a standby of its own once promoted.
	p.exec(p.primary, "ALTER SYSTEM SET synchronous_standby_names = '"+standbyName+"'")
	p.exec(p.primary, "SELECT pg_reload_conf()")
	if !testenv.Eventually(30*time.Second, func() bool {
		var state string
		err := p.scan(p.primary, "postgres", "SELECT sync_state FROM pg_stat_replication WHERE application_name = $1", []any{standbyName}, &state)
		return err == nil && state == "sync"
	}) {
		t.Fatal("the standby was not replicating synchronously within 30s")
	}
	p.exec(p.primary, "CREATE DATABASE casegate")
	return p
}

// dsn is the URL casegate connects with: both hosts, the writable one chosen.
func (p *pgPair) dsn() string {
	return fmt.Sprintf("postgres://postgres@127.0.0.1:%d,127.0.0.1:%d/casegate?sslmode=disable&target_session_attrs=read-write&connect_timeout=2",
		p.primary.port, p.standby.port)
}

// run runs one of the server programs as the postgres user and fails the
// test when it fails.
func (p *pgPair) run(program string, args ...string) {
	p.t.Helper()
	if out, err := p.command(program, args...).CombinedOutput(); err != nil {
		p.t.Fatalf("%s %s: %v\n%s", program, strings.Join(args, " "), err, out)
	}
}

func (p *pgPair) command(program string, args ...string) *exec.Cmd {
	argv := testenv.AsUser(pgUser, append([]string{filepath.Join(p.bin, program)}, args...)...)
	cmd := exec.Command(argv[0], argv[1:]...)
	cmd.Dir = p.dir // runuser keeps the working folder, which postgres must be able to enter
	return cmd
}

// appendConf appends text to a configuration file of a data folder.
func (p *pgPair) appendConf(data, file, text string) {
	p.t.Helper()
	f, err := os.OpenFile(filepath.Join(data, file), os.O_APPEND|os.O_WRONLY, 0)
	if err != nil {
		p.t.Fatal(err)
	}
	defer f.Close()
	if _, err := f.WriteString(text); err != nil {
		p.t.Fatal(err)
	}
}

// start starts n and waits until it takes connections.
func (p *pgPair) start(n pgNode) {
	p.t.Helper()
	p.run("pg_ctl", "start", "-w", "-t", "60", "-D", n.data, "-l", n.data+".log")
}

// stop stops n: "immediate" ends every process of the server at once, as
// a crash would, without a checkpoint; "fast" disconnects the clients and
// shuts down cleanly.
func (p *pgPair) stop(n pgNode, mode string) {
	p.t.Helper()
	p.run("pg_ctl", "stop", "-w", "-t", "60", "-m", mode, "-D", n.data)
}

// promote makes the standby a primary and waits until it takes writes.
func (p *pgPair) promote() {
	p.t.Helper()
	p.run("pg_ctl", "promote", "-w", "-t", "60", "-D", p.standby.data)
}

// exec runs one statement on n's postgres database.
func (p *pgPair) exec(n pgNode, sql string) {
	p.t.Helper()
	conn := p.connect(n, "postgres")
	defer conn.Close(context.Background())
	if _, err := conn.Exec(p.t.Context(), sql); err != nil {
		p.t.Fatalf("%s: %v", sql, err)
	}
}

// scan runs a query on database db of n and scans its one row into dst.
func (p *pgPair) scan(n pgNode, db, sql string, args []any, dst ...any) error {
	ctx, cancel := context.WithTimeout(p.t.Context(), 5*time.Second)
	defer cancel()
	conn, err := pgx.Connect(ctx, fmt.Sprintf("postgres://postgres@127.0.0.1:%d/%s?sslmode=disable&connect_timeout=2", n.port, db))
	if err != nil {
		return err
	}
	defer conn.Close(context.Background())
	return conn.QueryRow(ctx, sql, args...).Scan(dst...)
}

// count runs a count(*) query on the database casegate of n; -1 when it fails.
func (p *pgPair) count(n pgNode, sql string) int {
	var c int64
	if err := p.scan(n, "casegate", sql, nil, &c); err != nil {
		p.t.Logf("%s: %v", sql, err)
		return -1
	}
	return int(c)
}

func (p *pgPair) connect(n pgNode, db string) *pgx.Conn {
	p.t.Helper()
	conn, err := pgx.Connect(p.t.Context(), fmt.Sprintf("postgres://postgres@127.0.0.1:%d/%s?sslmode=disable&connect_timeout=5", n.port, db))
	if err != nil {
		p.t.Fatalf("connect to port %d: %v", n.port, err)
	}
	return conn
}

// cleanup stops whichever server still runs, at once, and removes the folder.
func (p *pgPair) cleanup() {
	for _, n := range []pgNode{p.primary, p.standby} {
		if n.data == "" {
			continue
		}
		if _, err := os.Stat(filepath.Join(n.data, "postmaster.pid")); err == nil {
			if out, err := p.command("pg_ctl", "stop", "-w", "-t", "30", "-m", "immediate", "-D", n.data).CombinedOutput(); err != nil {
				p.t.Logf("cleanup: pg_ctl stop %s: %v\n%s", n.data, err, out)
			}
		}
	}
	if err := os.RemoveAll(p.dir); err != nil {
		p.t.Logf("cleanup: %v", err)
	}
}

// logs returns the end of both servers' logs, for a failure message.
func (p *pgPair) logs() string {
	var b strings.Builder
	for _, n := range []pgNode{p.primary, p.standby} {
		data, _ := os.ReadFile(n.data + ".log")
		if len(data) > 4000 {
			data = data[len(data)-4000:]
		}
		fmt.Fprintf(&b, "--- %s.log\n%s", filepath.Base(n.data), data)
	}
	return b.String()
}
