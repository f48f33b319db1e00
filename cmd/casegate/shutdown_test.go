package main

import (
	"context"
	"database/sql"
	"encoding/json"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/casegate/casegate"
	"github.com/casegate/casegate/internal/smtptest"
	"github.com/casegate/casegate/internal/testenv"
	"github.com/casegate/casegate/portal"
	"github.com/casegate/casegate/store"
)

// served is `casegate serve` running in this process through run.
type served struct {
	base   string // http://127.0.0.1:port
	stderr *testenv.LogBuffer
	cancel context.CancelFunc
	done   chan error
	once   sync.Once
	err    error
}

// startServe runs `casegate serve` with vars on a free port and waits until it
// serves. It is stopped when the test ends, if the test did not stop it.
func startServe(t *testing.T, vars map[string]string) *served {
	t.Helper()
	return startServeTo(t, vars, &testenv.LogBuffer{})
}

// startServeTo is startServe with serve's stdout going to out.
func startServeTo(t *testing.T, vars map[string]string, out io.Writer) *served {
	t.Helper()
	env := map[string]string{"CASEGATE_LISTEN": "127.0.0.1:0", "CASEGATE_LOG_LEVEL": "warn"}
	for k, v := range vars {
		env[k] = v
	}
	ctx, cancel := context.WithCancel(context.Background())
	s := &served{stderr: &testenv.LogBuffer{}, cancel: cancel, done: make(chan error, 1)}
	go func() {
		s.done <- run(ctx, []string{"casegate", "serve"}, testEnv(env), strings.NewReader(""), out, s.stderr)
	}()
	for deadline := time.Now().Add(30 * time.Second); ; {
		if u, ok := servingURLIn(s.stderr.String()); ok {
			s.base = u
			break
		}
		select {
		case err := <-s.done:
			cancel()
			t.Fatalf("serve stopped before serving: %v\n%s", err, s.stderr.String())
		case <-time.After(20 * time.Millisecond):
		}
		if time.Now().After(deadline) {
			cancel()
			t.Fatalf("serve did not start within 30s:\n%s", s.stderr.String())
		}
	}
	t.Cleanup(func() { s.stop(t) })
	return s
}

// servingURLIn finds serve's start line in its log and returns the URL it names.
func servingURLIn(log string) (string, bool) {
	for line := range strings.Lines(log) {
		if u, ok := servingURL([]byte(line)); ok {
			return u, true
		}
	}
	return "", false
}

// stop cancels serve's context, as SIGTERM does, and returns what run returned.
func (s *served) stop(t *testing.T) error {
	t.Helper()
	s.once.Do(func() {
		s.cancel()
		select {
		case s.err = <-s.done:
		case <-time.After(60 * time.Second):
			t.Fatalf("serve did not stop within 60s of its context ending")
		}
	})
	return s.err
}

// casesFile writes n cases, one party each (receipt IOE07000000NN, "Rosa
// Prueba", rosaNN@example.com), as JSON Lines, and returns its path.
func casesFile(t *testing.T, n int) string {
	t.Helper()
	var b strings.Builder
	for i := range n {
		fmt.Fprintf(&b, `{"receipt_number":%q,"form_type":"I-485","office":"NBC","received_on":"2025-03-14","parties":[{"role":"applicant","given_name":"Rosa","family_name":"Prueba","date_of_birth":"1990-04-02","country_of_birth":"MX","email":%q}]}`+"\n",
			rosaReceipt(i), rosaEmail(i))
	}
	path := filepath.Join(t.TempDir(), "cases.jsonl")
	if err := os.WriteFile(path, []byte(b.String()), 0o600); err != nil {
		t.Fatal(err)
	}
	return path
}

func rosaReceipt(i int) string { return fmt.Sprintf("IOE07%08d", i) }
func rosaEmail(i int) string   { return fmt.Sprintf("rosa%02d@example.com", i) }

// queueCodes asks for a code for each of the first n parties of casesFile
// through the portal, without a server or a worker, so that n deliveries wait
// in the outbox.
// openTestApp opens the app of the configuration vars, migrated and without
// a worker, closed at the end of the test.
func openTestApp(t *testing.T, vars map[string]string) *app {
	t.Helper()
	cfg, err := loadConfig(newFlagSet("test", io.Discard), nil, testEnv(vars))
	if err != nil {
		t.Fatal(err)
	}
	a, err := openApp(t.Context(), env{getenv: testEnv(vars), stdout: io.Discard, stderr: io.Discard}, cfg, true, nil)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { a.Close() })
	return a
}

func queueCodes(t *testing.T, vars map[string]string, n int) {
	t.Helper()
	a := openTestApp(t, vars)
	for i := range n {
		_, err := a.portal.RequestCode(t.Context(), portal.CodeRequest{ReceiptNumber: rosaReceipt(i), GivenName: "Rosa", FamilyName: "Prueba",
			DateOfBirth: "1990-04-02", CountryOfBirth: "MX", Channel: "email", ClientIP: clientAddr(i)})
		if err != nil {
			t.Fatal(err)
		}
	}
}

// accepting reports whether a server at base (http://host:port) accepts a
// connection.
func accepting(base string) bool {
	c, err := net.DialTimeout("tcp", strings.TrimPrefix(base, "http://"), time.Second)
	if err == nil {
		c.Close()
	}
	return err == nil
}

// countRows runs query, a SELECT count(*), on the SQLite file at path.
func countRows(t *testing.T, path, query string) int {
	t.Helper()
	db, err := sql.Open("sqlite", "file:"+path+"?mode=ro&_pragma=busy_timeout(10000)")
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	var n int
	if err := db.QueryRow(query).Scan(&n); err != nil {
		t.Fatalf("%s: %v", query, err)
	}
	return n
}

// TestShutdownFinishesRequestsAndHandsBackLeases starts serve with a mail
// server that never answers, so the delivery worker holds every code it has
// claimed; starts an import whose body is still arriving, then ends serve's
// context as SIGTERM does. The import completes with 200 and every line
// loaded; serve returns without error; and every delivery still pending has
// no lease left, so another worker claims it at once.
func TestShutdownFinishesRequestsAndHandsBackLeases(t *testing.T) {
	dir := t.TempDir()
	db := filepath.Join(dir, "casegate.db")
	vars := map[string]string{
		"CASEGATE_DB": db, "CASEGATE_SECRET_FILE": filepath.Join(dir, "secret.key"),
		"CASEGATE_SMTP_URL": smtptest.Silent(t), "CASEGATE_PUBLIC_URL": "https://casegate.test",
		"CASEGATE_TRUSTED_PROXIES": "127.0.0.1",
	}
	const parties = 40
	if out, _, err := runCmd(t, vars, "import", casesFile(t, parties)); err != nil {
		t.Fatalf("import: %v %s", err, out)
	}
	token, _, err := runCmd(t, vars, "admin", "token", "create", "ops")
	if err != nil {
		t.Fatal(err)
	}
	token = strings.TrimSpace(token)
	queueCodes(t, vars, parties)
	s := startServe(t, vars)
	// The worker claims a batch at once (16 or more) and sends a few at a
	// time: those hang on the mail server, the rest wait under its lease.
	leased := `SELECT count(*) FROM deliveries WHERE status = 'pending' AND lease_owner IS NOT NULL`
	if !testenv.Eventually(10*time.Second, func() bool { return countRows(t, db, leased) >= 16 }) {
		t.Fatalf("the worker claimed %d deliveries within 10s, want 16 or more", countRows(t, db, leased))
	}
	held := countRows(t, db, leased)

	// An import whose body arrives in two halves, with the shutdown between
	// them, once some of the first half is loaded (the importer reads ahead a
	// few thousand lines before it writes): the handler is surely at work.
	// (On a connection of its own: a kept-alive one that the server has not
	// yet read from counts as idle and is closed, HTTP/1.1's usual race.)
	const lines = 40_000 // the importer writes in batches of 5000 and parses one ahead
	pr, pw := io.Pipe()
	answer := make(chan *http.Response, 1)
	go func() {
		req, _ := http.NewRequest("POST", s.base+"/admin/v1/cases", pr)
		req.Header.Set("Authorization", "Bearer "+token)
		req.Header.Set("Content-Type", "application/x-ndjson")
		resp, err := (&http.Client{Transport: &http.Transport{}}).Do(req)
		if err != nil {
			t.Errorf("import during shutdown: %v", err)
		}
		answer <- resp
	}()
	line := func(i int) string {
		return fmt.Sprintf(`{"receipt_number":"WAC26%08d","form_type":"I-130","office":"CSC","received_on":"2025-01-02","parties":[{"role":"petitioner","given_name":"Ngozi","family_name":"Okafor","date_of_birth":"1980-07-07","country_of_birth":"NG","email":"n%d@example.net"}]}`+"\n", i, i)
	}
	for i := range lines / 2 {
		io.WriteString(pw, line(i))
	}
	loaded := `SELECT count(*) FROM cases WHERE receipt LIKE 'WAC26%'`
	if !testenv.Eventually(20*time.Second, func() bool { return countRows(t, db, loaded) > 0 }) {
		t.Fatalf("the import loaded nothing of its first %d lines within 20s", lines/2)
	}
	start := time.Now()
	stopped := make(chan error, 1)
	go func() { stopped <- s.stop(t) }()
	// Serve is shutting down once its listener refuses connections; the
	// import is in flight.
	if !testenv.Eventually(10*time.Second, func() bool { return !accepting(s.base) }) {
		t.Fatalf("serve still accepts connections 10s after it was told to stop")
	}
	for i := lines / 2; i < lines; i++ {
		if _, err := io.WriteString(pw, line(i)); err != nil {
			t.Fatalf("the import's body was cut off at line %d after %v: %v\n%s", i, time.Since(start), err, s.stderr.String())
		}
	}
	pw.Close()
	resp := <-answer
	if resp == nil {
		t.FailNow()
	}
	var res struct{ Created int }
	json.NewDecoder(resp.Body).Decode(&res)
	resp.Body.Close()
	if resp.StatusCode != http.StatusOK || res.Created != lines {
		t.Errorf("import during shutdown: %d, %d created, want 200 and %d", resp.StatusCode, res.Created, lines)
	}
	if err := <-stopped; err != nil {
		t.Errorf("serve returned %v", err)
	}
	took := time.Since(start)
	t.Logf("shutdown took %v; the worker held %d leases", took.Round(time.Millisecond), held)
	// The sends hang on a server that never greets: they must not hold the
	// shutdown for their 15 s timeout (they did, until the SMTP sender gave
	// up its dial when cancelled). The rest is the import's second half.
	if took > 10*time.Second {
		t.Errorf("shutdown took %v: the hung sends held it", took)
	}

	if n := countRows(t, db, leased); n != 0 {
		t.Errorf("%d pending deliveries still leased after shutdown", n)
	}
	pending := countRows(t, db, `SELECT count(*) FROM deliveries WHERE status = 'pending'`)
	now := time.Now()
	due := countRows(t, db, fmt.Sprintf(`SELECT count(*) FROM deliveries WHERE status = 'pending' AND coalesce(next_attempt_at, 0) <= %d`, now.UnixMicro()))
	st, err := store.Open(t.Context(), db)
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	var claimed int
	err = st.Update(t.Context(), func(tx casegate.Tx) error {
		ds, err := tx.ClaimDeliveries(t.Context(), "another-worker", now, now.Add(30*time.Second), 100)
		claimed = len(ds)
		return err
	})
	if err != nil {
		t.Fatal(err)
	}
	tried := countRows(t, db, `SELECT count(*) FROM deliveries WHERE status = 'pending' AND attempts > 0`)
	// A send that timed out (the mail server never answers) before the
	// shutdown waits out a retry backoff that may be over by now: only the
	// untried ones are surely due.
	untriedDue := countRows(t, db, fmt.Sprintf(`SELECT count(*) FROM deliveries WHERE status = 'pending' AND attempts = 0 AND coalesce(next_attempt_at, 0) <= %d`, now.UnixMicro()))
	t.Logf("%d deliveries pending: %d were being sent before or at shutdown and wait out a retry backoff, %d are due; %d claimed at once by another worker",
		pending, tried, due, claimed)
	if pending != parties || claimed != due || untriedDue != pending-tried || held-tried < 1 {
		t.Errorf("%d pending (want %d), %d tried, %d due (%d untried), %d claimed by another worker, %d were held",
			pending, parties, tried, due, untriedDue, claimed, held)
	}
}

// clientAddr is the address of client i, as a proxy names it in X-Forwarded-For.
func clientAddr(i int) string { return fmt.Sprintf("198.18.%d.%d", i/250, i%250+1) }
