package main

import (
	"database/sql"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/casegate/casegate/internal/smtptest"
)

// Faults under a running `casegate serve` on SQLite: the file locked by
// another process, the disk full, and a SIGKILL under load. The mail server
// going down and coming back is web's TestSMTPDownThenUpStillDelivers.

// longTests reports whether CASEGATE_LONG_TESTS=1 asks for the long runs.
func longTests() bool { return os.Getenv("CASEGATE_LONG_TESTS") == "1" }

// faultVars are the settings of a serve on the SQLite file db with mail to smtpURL.
func faultVars(t *testing.T, db, smtpURL string) map[string]string {
	return map[string]string{
		"CASEGATE_DB": db, "CASEGATE_SECRET_FILE": filepath.Join(t.TempDir(), "secret.key"),
		"CASEGATE_SMTP_URL": smtpURL, "CASEGATE_PUBLIC_URL": "https://casegate.test",
		"CASEGATE_TRUSTED_PROXIES": "127.0.0.1",
	}
}

// reply is one HTTP answer.
type reply struct {
	status     int
	retryAfter string
	code       string // the problem's code
	took       time.Duration
	err        error
}

func (r reply) String() string {
	if r.err != nil {
		return r.err.Error()
	}
	return fmt.Sprintf("%d %s (Retry-After %q) in %v", r.status, r.code, r.retryAfter, r.took.Round(time.Millisecond))
}

// send makes one request and reads the problem code of the answer, if any.
func send(method, url, contentType, body string, header ...string) reply {
	start := time.Now()
	req, _ := http.NewRequest(method, url, strings.NewReader(body))
	req.Header.Set("Content-Type", contentType)
	for i := 0; i+1 < len(header); i += 2 {
		req.Header.Set(header[i], header[i+1])
	}
	resp, err := (&http.Client{Timeout: 2 * time.Minute, CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}).Do(req)
	if err != nil {
		return reply{err: err, took: time.Since(start)}
	}
	defer resp.Body.Close()
	data, _ := io.ReadAll(resp.Body)
	r := reply{status: resp.StatusCode, retryAfter: resp.Header.Get("Retry-After"), took: time.Since(start)}
	var p struct{ Code string }
	if json.Unmarshal(data, &p) == nil {
		r.code = p.Code
	}
	return r
}

// codeRequestBody is the API body asking for a code for case i's party.
func codeRequestBody(i int) string {
	return fmt.Sprintf(`{"receipt_number":%q,"given_name":"Rosa","family_name":"Prueba","date_of_birth":"1990-04-02","country_of_birth":"MX","channel":"email"}`, rosaReceipt(i))
}

// pageForm is the request form asking for a code for case i's party.
func pageForm(i int) string {
	return url.Values{"receipt_number": {rosaReceipt(i)}, "given_name": {"Rosa"}, "family_name": {"Prueba"},
		"dob_month": {"4"}, "dob_day": {"2"}, "dob_year": {"1990"}, "country_of_birth": {"MX"}, "channel": {"email"}}.Encode()
}

// holdWriteLock takes the write lock of the SQLite file at path from a
// connection of its own, as another process would, until release is called.
func holdWriteLock(t *testing.T, path string) (release func()) {
	t.Helper()
	db, err := sql.Open("sqlite", path+"?_pragma=busy_timeout(10000)")
	if err != nil {
		t.Fatal(err)
	}
	conn, err := db.Conn(t.Context())
	if err != nil {
		t.Fatal(err)
	}
	if _, err := conn.ExecContext(t.Context(), `BEGIN IMMEDIATE`); err != nil {
		t.Fatal(err)
	}
	var once sync.Once
	release = func() {
		once.Do(func() {
			conn.ExecContext(t.Context(), `ROLLBACK`)
			conn.Close()
			db.Close()
		})
	}
	t.Cleanup(release)
	return release
}

// TestServeAnswers503WhileTheDatabaseIsLocked holds the write lock of the
// SQLite file from outside for longer than the busy timeout (10 s): a code
// request answers 503 unavailable with Retry-After, through the API and the
// request page alike, not 500; once the lock is gone, the same request gets
// its 202. With CASEGATE_LONG_TESTS=1 it sends four requests at once, pages
// and API, and shows how they queue behind the one writer connection.
func TestServeAnswers503WhileTheDatabaseIsLocked(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	db := filepath.Join(dir, "casegate.db")
	mail := smtptest.Start(t)
	vars := faultVars(t, db, mail.URL())
	if out, _, err := runCmd(t, vars, "import", casesFile(t, 8)); err != nil {
		t.Fatalf("import: %v %s", err, out)
	}
	s := startServe(t, vars)
	release := holdWriteLock(t, db)

	type job struct {
		name string
		do   func() reply
	}
	jobs := []job{
		{"API", func() reply {
			return send("POST", s.base+"/api/v1/access-codes", "application/json", codeRequestBody(0), "X-Forwarded-For", "192.0.2.1")
		}},
		{"page", func() reply {
			return send("POST", s.base+"/request", "application/x-www-form-urlencoded", pageForm(1), "X-Forwarded-For", "192.0.2.2", "Accept", "text/html")
		}},
	}
	if longTests() {
		for i := 2; i < 4; i++ {
			jobs = append(jobs, job{fmt.Sprintf("API %d", i), func() reply {
				return send("POST", s.base+"/api/v1/access-codes", "application/json", codeRequestBody(i), "X-Forwarded-For", clientAddr(i))
			}})
		}
	} else {
		jobs = jobs[:1]
		t.Log("one request; CASEGATE_LONG_TESTS=1 sends the request page and 3 API requests at once")
	}
	replies := make([]reply, len(jobs))
	var wg sync.WaitGroup
	for i, j := range jobs {
		wg.Go(func() { replies[i] = j.do() })
	}
	wg.Wait()
	for i, r := range replies {
		t.Logf("%s with the file locked: %v", jobs[i].name, r)
		if r.status != http.StatusServiceUnavailable || r.retryAfter == "" {
			t.Errorf("%s: %v, want 503 with Retry-After", jobs[i].name, r)
		}
		if strings.HasPrefix(jobs[i].name, "API") && r.code != "unavailable" {
			t.Errorf("%s: problem code %q, want unavailable", jobs[i].name, r.code)
		}
		if r.took < 9*time.Second {
			t.Errorf("%s gave up after %v, before the 10s busy timeout", jobs[i].name, r.took)
		}
	}
	release()
	if r := send("POST", s.base+"/api/v1/access-codes", "application/json", codeRequestBody(0), "X-Forwarded-For", "192.0.2.1"); r.status != http.StatusAccepted {
		t.Errorf("after the lock was released: %v, want 202", r)
	}
	if _, err := mail.WaitFor(1, 15*time.Second); err != nil {
		t.Errorf("the code asked for after the lock: %v", err)
	}
	if strings.Contains(s.stderr.String(), `"level":"ERROR","msg":"internal error"`) {
		t.Errorf("the lock was logged as an internal error:\n%s", s.stderr.String())
	}
}

// TestServeOnAFullDisk puts the database on a 2 MiB tmpfs, fills the disk
// beside it, and asks for codes until a request fails: every answer is 202
// or 503 with Retry-After, never 500. Once space is freed, requests succeed
// again; every accepted request's code is mailed exactly once; and after
// serve stops, `casegate audit verify` passes and PRAGMA integrity_check is ok.
// It needs to mount a tmpfs (root, or CAP_SYS_ADMIN) and skips otherwise.
func TestServeOnAFullDisk(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	if err := syscall.Mount("tmpfs", dir, "tmpfs", 0, "size=2m"); err != nil {
		t.Skipf("skipping: cannot mount a tmpfs to fill (%v); needs root or CAP_SYS_ADMIN", err)
	}
	// Cleanups run last-in first-out: serve stops (registered later) before this unmounts.
	t.Cleanup(func() {
		if err := syscall.Unmount(dir, 0); err != nil {
			t.Errorf("unmount: %v", err)
		}
	})
	db := filepath.Join(dir, "casegate.db")
	mail := smtptest.Start(t)
	vars := faultVars(t, db, mail.URL())
	const parties = 40
	if out, _, err := runCmd(t, vars, "import", casesFile(t, parties)); err != nil {
		t.Fatalf("import: %v %s", err, out)
	}
	s := startServe(t, vars)
	filler := filepath.Join(dir, "filler")
	var st syscall.Statfs_t
	if err := syscall.Statfs(dir, &st); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filler, make([]byte, int64(st.Bavail)*st.Bsize-48<<10), 0o600); err != nil {
		t.Fatalf("fill the disk: %v", err)
	}

	accepted := map[int]bool{}
	statuses := map[int]int{}
	full := -1
	for i := range parties / 2 {
		r := send("POST", s.base+"/api/v1/access-codes", "application/json", codeRequestBody(i), "X-Forwarded-For", clientAddr(i))
		statuses[r.status]++
		switch {
		case r.status == http.StatusAccepted:
			accepted[i] = true
		case r.status == http.StatusServiceUnavailable && r.retryAfter != "" && r.code == "unavailable":
			if full < 0 {
				full = i
			}
		default:
			t.Errorf("request %d on a full disk: %v, want 202 or 503 unavailable with Retry-After", i, r)
		}
	}
	t.Logf("on the full disk: %v (the first 503 at request %d)", statuses, full)
	if full < 0 {
		t.Fatal("no request failed on the full disk")
	}
	if err := os.Remove(filler); err != nil {
		t.Fatal(err)
	}
	for i := parties / 2; i < parties; i++ {
		if r := send("POST", s.base+"/api/v1/access-codes", "application/json", codeRequestBody(i), "X-Forwarded-For", clientAddr(i)); r.status != http.StatusAccepted {
			t.Errorf("request %d once space was freed: %v", i, r)
		} else {
			accepted[i] = true
		}
	}
	waitMailed(t, mail, accepted, 40*time.Second)
	if err := s.stop(t); err != nil {
		t.Errorf("serve: %v", err)
	}
	checkAfterFault(t, vars, db)
}

// waitMailed waits until every party in accepted has its code, then holds
// each to exactly one message and every other party to none.
func waitMailed(t *testing.T, mail *smtptest.Server, accepted map[int]bool, within time.Duration) {
	t.Helper()
	if _, err := mail.WaitFor(len(accepted), within); err != nil {
		t.Errorf("waiting for %d codes: %v", len(accepted), err)
	}
	// A real pause: a duplicate would be a second send already on its way,
	// and nothing marks one that should not exist.
	time.Sleep(500 * time.Millisecond)
	got := map[string]int{}
	for _, m := range mail.Messages() {
		got[strings.Join(m.To, ",")]++
	}
	for i := range 100 {
		want := 0
		if accepted[i] {
			want = 1
		}
		if got[rosaEmail(i)] != want {
			t.Errorf("%s got %d messages, want %d", rosaEmail(i), got[rosaEmail(i)], want)
		}
	}
}

// checkAfterFault runs `casegate audit verify` and PRAGMA integrity_check.
func checkAfterFault(t *testing.T, vars map[string]string, db string) {
	t.Helper()
	out, _, err := runCmd(t, vars, "audit", "verify")
	if err != nil || !strings.Contains(out, "audit chain intact") {
		t.Errorf("audit verify: %v %s", err, out)
	}
	t.Logf("audit verify: %s", strings.TrimSpace(out))
	conn, err := sql.Open("sqlite", db)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	var res string
	if err := conn.QueryRow(`PRAGMA integrity_check`).Scan(&res); err != nil || res != "ok" {
		t.Errorf("PRAGMA integrity_check: %q %v", res, err)
	}
}
