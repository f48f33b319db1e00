package main

import (
	"context"
	"encoding/json"
	"fmt"
	"maps"
	"net/http"
	"slices"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/casegate/casegate/internal/smtptest"
	"github.com/casegate/casegate/internal/testenv"
)

// failoverAnswer is one answer the clients of the failover test received.
type failoverAnswer struct {
	route      string // request, redeem, me
	sent, at   time.Time
	status     int
	retryAfter string
	err        error
}

// failoverLoad is the clients of the failover test: each takes the next
// party, asks for its code, reads it from the mail server, redeems it and
// reads its case, and then takes the next; every fourth party only asks,
// so that its code stays unused and nothing but its delivery's row keeps
// it from being sent again. A request answered 503 is not asked again for
// the same party (its commit may have landed: then the party's code comes
// anyway); a redeem or a read answered 503 is tried again until it gets
// another answer.
type failoverLoad struct {
	base    string
	mail    *smtptest.Server
	parties int

	next    atomic.Int64
	stopped atomic.Bool

	mu      sync.Mutex
	answers []failoverAnswer
	outcome map[int]string // party → accepted, or the request's status
	cycles  []time.Time    // when each full cycle ended
	trouble []string       // what went wrong inside a cycle
}

func (l *failoverLoad) call(route, method, url string, body any, headers ...string) jsonReply {
	start := time.Now()
	// Not the test's context: once stopped, a client ends the cycle it is in.
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	r, err := callJSON(ctx, method, url, body, headers...)
	l.mu.Lock()
	l.answers = append(l.answers, failoverAnswer{route: route, sent: start, at: time.Now(), status: r.status, retryAfter: r.retryAfter, err: err})
	l.mu.Unlock()
	return r
}

func (l *failoverLoad) problem(format string, args ...any) {
	l.mu.Lock()
	l.trouble = append(l.trouble, fmt.Sprintf(format, args...))
	l.mu.Unlock()
}

// client runs cycles until the load is stopped or the parties run out.
func (l *failoverLoad) client() {
	for i := int(l.next.Add(1) - 1); i < l.parties && !l.stopped.Load(); i = int(l.next.Add(1) - 1) {
		ip := clientAddr(i)
		r := l.call("request", "POST", l.base+"/api/v1/access-codes", json.RawMessage(codeRequestBody(i)), "X-Forwarded-For", ip)
		l.mu.Lock()
		if r.status == http.StatusAccepted {
			l.outcome[i] = "accepted"
		} else {
			l.outcome[i] = strconv.Itoa(r.status)
		}
		l.mu.Unlock()
		if r.status != http.StatusAccepted || i%4 == 3 {
			continue // every fourth party asks and leaves: its code stays unused, and a second send would reach it
		}
		id, _ := r.body["request_id"].(string)
		code, ok := l.code(rosaEmail(i), 60*time.Second)
		if !ok {
			l.problem("party %d: accepted, and no code within 60s", i)
			continue
		}
		token := ""
		retried := false
		if !l.untilAnswered(func() bool {
			r := l.call("redeem", "POST", l.base+"/api/v1/sessions", map[string]string{"request_id": id, "code": code}, "X-Forwarded-For", ip)
			switch {
			case r.status == http.StatusServiceUnavailable:
				retried = true
				return false
			case r.status == http.StatusCreated:
				token, _ = r.body["token"].(string)
			case r.status == http.StatusGone && retried:
				// The redeem answered 503 had committed after all: the code is used.
			default:
				l.problem("party %d: redeem %d %v", i, r.status, r.body)
			}
			return true
		}) || token == "" {
			continue
		}
		if !l.untilAnswered(func() bool {
			r := l.call("me", "GET", l.base+"/api/v1/me", nil, "Authorization", "Bearer "+token, "X-Forwarded-For", ip)
			if r.status == http.StatusServiceUnavailable {
				return false
			}
			if r.status != http.StatusOK {
				l.problem("party %d: me %d %v", i, r.status, r.body)
			}
			return true
		}) {
			continue
		}
		l.mu.Lock()
		l.cycles = append(l.cycles, time.Now())
		l.mu.Unlock()
	}
}

// untilAnswered calls try until it returns true, for up to a minute; between
// tries it waits 100 ms, as a client told to come back would.
func (l *failoverLoad) untilAnswered(try func() bool) bool {
	for deadline := time.Now().Add(time.Minute); time.Now().Before(deadline); {
		if try() {
			return true
		}
		time.Sleep(100 * time.Millisecond) // pacing: the client's own pause before asking again
	}
	l.problem("no answer but 503 for a minute")
	return false
}

// code waits for the first message to addr and returns its code.
func (l *failoverLoad) code(addr string, within time.Duration) (string, bool) {
	var code string
	ok := testenv.Eventually(within, func() bool {
		for _, m := range l.mail.Messages() {
			if len(m.To) == 1 && m.To[0] == addr {
				code = mailedCode.FindString(m.Text)
				return true
			}
		}
		return false
	})
	return code, ok && code != ""
}

func (l *failoverLoad) snapshot() ([]failoverAnswer, []time.Time) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return slices.Clone(l.answers), slices.Clone(l.cycles)
}

// TestFailoverUnderLoad runs the casegate binary on a PostgreSQL primary
// with a synchronous streaming standby, connected through one URL naming
// both hosts with target_session_attrs=read-write, while eight clients sign
// people in. The mail server is made to hold its reply to the next message,
// so that a send is under way; then the primary is stopped (pg_ctl stop
// -m immediate, as a crash: no checkpoint, connections cut without a word;
// and -m fast, an orderly shutdown that ends every session with
// admin_shutdown), clients meet the gap for two seconds, and
// the standby is promoted (pg_ctl promote). Every answer in the gap is 503
// with Retry-After, none 500; casegate, never restarted, answers a request
// sent after the promotion with success within 10 s; every code request
// answered 202 gets exactly one message, every other at most one, and as
// many messages went out as deliveries are recorded sent; and `casegate
// audit verify` finds the chain intact on the promoted server. A send whose
// outcome was lost with the primary would leave its row pending until its
// 30 s lease ran out and then go out again: the test waits for no row to
// be pending, so it sees that second message. It skips in -short mode: it
// builds the binary and runs two PostgreSQL servers (about 15 s a mode).
func TestFailoverUnderLoad(t *testing.T) {
	if testing.Short() {
		t.Skip("skipping in -short mode: builds casegate and runs a PostgreSQL primary and standby")
	}
	for _, mode := range []string{"immediate", "fast"} {
		t.Run(mode, func(t *testing.T) { failoverUnderLoad(t, mode) })
	}
}

// failoverUnderLoad is TestFailoverUnderLoad with the primary stopped in
// pg_ctl's mode.
func failoverUnderLoad(t *testing.T, mode string) {
	pg := startPgPair(t)
	bin := buildCasegate(t)
	mail := smtptest.Start(t)
	env := []string{"CASEGATE_DB=" + pg.dsn(), "CASEGATE_SECRET_FILE=" + t.TempDir() + "/secret.key",
		"CASEGATE_SMTP_URL=" + mail.URL(), "CASEGATE_PUBLIC_URL=https://casegate.test",
		"CASEGATE_TRUSTED_PROXIES=127.0.0.1", "CASEGATE_LOG_LEVEL=warn"}
	for _, k := range slices.Sorted(maps.Keys(relaxedLimits)) {
		env = append(env, k+"="+relaxedLimits[k])
	}
	c := &cluster{t: t, bin: bin, env: env}
	const parties = 3000
	if out, err := c.command("import", casesFile(t, parties)); err != nil {
		t.Fatalf("import: %v\n%s", err, out)
	}
	in := c.launch(t, "casegate")
	t.Cleanup(func() {
		in.cmd.Process.Kill()
		<-in.done
	})
	t.Cleanup(func() {
		if t.Failed() {
			log := in.stderr.String()
			if len(log) > 6000 {
				log = "…" + log[len(log)-6000:]
			}
			t.Logf("casegate's log:\n%s\n%s", log, pg.logs())
		}
	})

	load := &failoverLoad{base: in.base, mail: mail, parties: parties, outcome: map[int]string{}}
	var clients sync.WaitGroup
	for range 8 {
		clients.Go(load.client)
	}
	defer func() { load.stopped.Store(true); clients.Wait() }()
	cyclesSince := func(at time.Time) int {
		_, cycles := load.snapshot()
		return len(slices.DeleteFunc(cycles, func(c time.Time) bool { return c.Before(at) }))
	}
	if !testenv.Eventually(60*time.Second, func() bool { return cyclesSince(time.Time{}) >= 40 }) {
		t.Fatalf("only %d full cycles in 60s before the failover", cyclesSince(time.Time{}))
	}

	// A send under way at the crash: the mail server keeps the message and
	// holds its reply, so the outcome is written, if at all, after the
	// primary is gone.
	mail.HoldReplies(1500 * time.Millisecond)
	if !testenv.Eventually(10*time.Second, func() bool { return mail.Holding() > 0 }) {
		t.Fatal("no send under way within 10s")
	}
	heldAtCrash := mail.Holding()
	stoppedAt := time.Now()
	pg.stop(pg.primary, mode)
	mail.HoldReplies(0)
	first503 := func() (time.Time, bool) {
		answers, _ := load.snapshot()
		for _, a := range answers {
			if a.status == http.StatusServiceUnavailable && !a.sent.Before(stoppedAt) {
				return a.at, true
			}
		}
		return time.Time{}, false
	}
	if !testenv.Eventually(15*time.Second, func() bool { _, ok := first503(); return ok }) {
		t.Fatalf("no 503 within 15s of stopping the primary")
	}
	// A person on the pages, and the balancer's readiness probe, meet the gap too.
	page := send("POST", in.base+"/request", "application/x-www-form-urlencoded", pageForm(parties-1),
		"X-Forwarded-For", clientAddr(parties-1), "Accept", "text/html")
	if page.status != http.StatusServiceUnavailable || page.retryAfter == "" {
		t.Errorf("the request page in the gap: %v, want 503 with Retry-After", page)
	}
	if r := send("GET", in.base+"/readyz", "", ""); r.status != http.StatusServiceUnavailable || r.retryAfter == "" {
		t.Errorf("/readyz in the gap: %v, want 503 with Retry-After", r)
	}
	// The gap lasts two seconds more, a promotion decided quickly (Patroni
	// takes up to its ttl): the clients meet it all along.
	time.Sleep(2 * time.Second)
	promoteAt := time.Now()
	pg.promote()
	promotedAt := time.Now()

	firstSuccess := func() (time.Time, bool) {
		answers, _ := load.snapshot()
		var first time.Time
		for _, a := range answers {
			if a.status >= 200 && a.status < 300 && !a.sent.Before(promoteAt) && (first.IsZero() || a.at.Before(first)) {
				first = a.at
			}
		}
		return first, !first.IsZero()
	}
	if !testenv.Eventually(10*time.Second-time.Since(promoteAt), func() bool { _, ok := firstSuccess(); return ok }) {
		t.Errorf("no success within 10s of the promotion")
	}
	if !testenv.Eventually(5*time.Second, func() bool { return send("GET", in.base+"/readyz", "", "").status == http.StatusOK }) {
		t.Errorf("/readyz after the promotion: %v, want 200 within 5s of a success", send("GET", in.base+"/readyz", "", ""))
	}
	if !testenv.Eventually(30*time.Second, func() bool { return cyclesSince(promotedAt) >= 40 }) {
		t.Errorf("only %d full cycles in 30s after the promotion", cyclesSince(promotedAt))
	}
	load.stopped.Store(true)
	clients.Wait()

	// Every delivery settles on the promoted server; a send whose outcome
	// was lost with the primary would be sent again once its lease ran out.
	pending := `SELECT count(*) FROM deliveries WHERE status = 'pending'`
	if !testenv.Eventually(60*time.Second, func() bool { return pg.count(pg.standby, pending) == 0 }) {
		t.Errorf("%d deliveries still pending 60s after the load ended", pg.count(pg.standby, pending))
	}
	// A real pause: a duplicate would be a second send already on its way,
	// and nothing marks one that should not exist.
	time.Sleep(500 * time.Millisecond)

	answers, cycles := load.snapshot()
	statuses := map[string]int{}
	unavailable, without := 0, 0
	for _, a := range answers {
		switch {
		case a.err != nil:
			t.Errorf("%s sent %v after the start: %v", a.route, a.sent.Sub(stoppedAt).Round(time.Millisecond), a.err)
		case a.status == http.StatusServiceUnavailable:
			unavailable++
			if n, err := strconv.Atoi(a.retryAfter); err != nil || n <= 0 {
				without++
			}
		case a.status >= 500:
			t.Errorf("%s answered %d %v after the crash", a.route, a.status, a.at.Sub(stoppedAt).Round(time.Millisecond))
		}
		statuses[fmt.Sprintf("%s %d", a.route, a.status)]++
	}
	if without > 0 {
		t.Errorf("%d of %d answers 503 came without a Retry-After of whole seconds", without, unavailable)
	}
	for _, p := range load.trouble {
		t.Error(p)
	}
	got := mailCounts(mail)
	accepted, others := 0, 0
	for i := range parties {
		outcome, asked := load.outcome[i]
		if !asked {
			continue
		}
		n := got[rosaEmail(i)]
		if outcome == "accepted" {
			accepted++
		} else {
			others++
		}
		if outcome == "accepted" && n != 1 || outcome != "accepted" && n > 1 {
			t.Errorf("%s (request %s) got %d messages", rosaEmail(i), outcome, n)
		}
	}
	sent := pg.count(pg.standby, `SELECT count(*) FROM deliveries WHERE status = 'sent'`)
	if sent != len(mail.Messages()) {
		t.Errorf("%d deliveries recorded sent on the promoted server, %d messages received", sent, len(mail.Messages()))
	}
	if strings.Contains(in.stderr.String(), `"msg":"internal error"`) {
		t.Error("casegate logged an internal error during the failover")
	}
	select {
	case <-in.done:
		t.Fatalf("casegate exited during the failover")
	default:
	}
	if out, err := c.command("audit", "verify"); err != nil || !strings.Contains(out, "audit chain intact") {
		t.Errorf("audit verify on the promoted server: %v %s", err, out)
	} else {
		t.Logf("audit verify: %s", strings.TrimSpace(out))
	}

	f503, _ := first503()
	fok, ok := firstSuccess()
	t.Logf("primary stopped (%s) with %d send(s) under way; first 503 %v later; promotion began %v after the stop and took %v",
		mode, heldAtCrash, f503.Sub(stoppedAt).Round(time.Millisecond), promoteAt.Sub(stoppedAt).Round(time.Millisecond), promotedAt.Sub(promoteAt).Round(time.Millisecond))
	if ok {
		t.Logf("first success %v after the promotion began; gap from the first 503 to it: %v",
			fok.Sub(promoteAt).Round(time.Millisecond), fok.Sub(f503).Round(time.Millisecond))
	}
	t.Logf("%d answers 503 (all with Retry-After: %v); %d code requests accepted, %d not; %d messages, %d recorded sent; %d full cycles, %d after the promotion",
		unavailable, without == 0, accepted, others, len(mail.Messages()), sent, len(cycles), cyclesSince(promotedAt))
	t.Logf("answers: %v", statuses)
	in.stop(t, "casegate")
}
