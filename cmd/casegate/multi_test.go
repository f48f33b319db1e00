package main

import (
	"context"
	"fmt"
	"net/url"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/casegate/casegate/internal/smtptest"
	"github.com/casegate/casegate/internal/testcases"
	"github.com/casegate/casegate/internal/testenv"
	"github.com/casegate/casegate/store/storetest"
	"github.com/jackc/pgx/v5"
)

// TestMultiInstance runs three `casegate serve` processes on one PostgreSQL
// schema, as three instances behind a load balancer (trusting its
// X-Forwarded-For), and drives traffic at all of them to show they behave as
// one:
//
//   - the per-identifier and per-IP request limits hold across instances;
//   - a code requested on one instance redeems on another, and the session
//     works on all three;
//   - a session used on one instance is alive on the others, and one idle
//     for the limit ends on all;
//   - of 50 correct redeems of one code spread over the three, exactly one wins;
//   - every accepted delivery is sent exactly once, also when two instances
//     are SIGKILLed while they hold leased deliveries and then restarted;
//   - an instance that loses the database answers 503 and recovers;
//   - `casegate audit verify` passes afterwards.
//
// The crash phase waits out the delivery worker's 30-second lease
// (delivery.DefaultLease), so the test takes about 35 seconds.
func TestMultiInstance(t *testing.T) {
	if testing.Short() {
		t.Skip("skipping in -short mode: starts three casegate processes and waits out a 30s delivery lease")
	}
	dsn := storetest.PostgresSchema(t)
	mail := smtptest.Start(t)
	c := &cluster{t: t, bin: buildCasegate(t), env: []string{
		"CASEGATE_DB=" + dsn,
		"CASEGATE_SECRET_FILE=" + filepath.Join(t.TempDir(), "secret.key"),
		"CASEGATE_SMTP_URL=" + mail.URL(),
		"CASEGATE_PUBLIC_URL=http://casegate.test",
		"CASEGATE_TRUSTED_PROXIES=127.0.0.1",
		"CASEGATE_LOG_LEVEL=warn",
		"CASEGATE_SESSION_IDLE=" + multiIdle.String(),
	}}
	if _, err := c.command("migrate"); err != nil {
		t.Fatal(err)
	}
	const cases = multiIdleCase + 1
	c.importAndStart(t, cases, 3)
	db, err := pgx.Connect(t.Context(), dsn)
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close(context.Background())

	t.Run("LimitsHoldAcrossInstances", func(t *testing.T) { limitsAcrossInstances(t, c) })
	t.Run("RedeemOnAnotherInstance", func(t *testing.T) { redeemElsewhere(t, c, mail) })
	t.Run("SessionUseSeenAcrossInstances", func(t *testing.T) { sessionUseSeenAcrossInstances(t, c, mail) })
	t.Run("ConcurrentRedeemsOneWinner", func(t *testing.T) { concurrentRedeemsOverHTTP(t, c, mail) })
	t.Run("DeliveriesSurviveKills", func(t *testing.T) { deliveriesSurviveKills(t, c, mail, db) })
	if t.Failed() {
		return
	}

	// Every message went out exactly once: case 0's person was sent the 5
	// codes the per-identifier limit allowed, every other person one code.
	waitCount(t, db, `SELECT count(*) FROM deliveries WHERE status = 'pending'`, 0, 10*time.Second)
	byCode, byRecipient := map[string]int{}, map[string]int{}
	for _, m := range mail.Messages() {
		byCode[mailedCode.FindString(m.Text)]++
		byRecipient[strings.Join(m.To, ",")]++
	}
	for code, n := range byCode {
		if code == "" || n != 1 {
			t.Errorf("code %q was mailed %d times, want every message to carry a code, each once", code, n)
		}
	}
	for i := range cases {
		want := 1
		if i == 0 {
			want = 5
		}
		if got := byRecipient[emailN(i)]; got != want {
			t.Errorf("%s received %d messages, want %d", emailN(i), got, want)
		}
	}
	// Decoys' rows (no party) are never sent and hold no destination or code.
	var sent, other, decoyLeaks int
	if err := db.QueryRow(t.Context(), `SELECT count(*) FILTER (WHERE status = 'sent' AND party_id IS NOT NULL),
		count(*) FILTER (WHERE status <> 'sent' AND party_id IS NOT NULL),
		count(*) FILTER (WHERE party_id IS NULL AND (status <> 'cancelled' OR destination <> '' OR sealed_code IS NOT NULL))
		FROM deliveries`).Scan(&sent, &other, &decoyLeaks); err != nil {
		t.Fatal(err)
	}
	if sent != len(mail.Messages()) || other != 0 || decoyLeaks != 0 {
		t.Errorf("deliveries: %d sent and %d otherwise, for %d messages received; %d decoy rows not inert", sent, other, len(mail.Messages()), decoyLeaks)
	}

	t.Run("DatabaseGoneIs503", func(t *testing.T) { databaseGone(t, c, dsn) })

	c.stopAll()
	out, err := c.command("audit", "verify")
	if err != nil || !strings.Contains(out, "audit chain intact") {
		t.Errorf("audit verify after the run: %v\n%s", err, out)
	}
}

var mailedCode = testcases.Code

// fanOut runs fn(i) for every i in [0, n) at once and returns the replies.
func fanOut(t *testing.T, n int, fn func(i int) (jsonReply, error)) []jsonReply {
	t.Helper()
	replies := make([]jsonReply, n)
	errs := make([]error, n)
	start := make(chan struct{})
	var wg sync.WaitGroup
	for i := range n {
		wg.Go(func() {
			<-start
			replies[i], errs[i] = fn(i)
		})
	}
	close(start)
	wg.Wait()
	for i, err := range errs {
		if err != nil {
			t.Fatalf("call %d: %v", i, err)
		}
	}
	return replies
}

// countStatus returns how many replies have status.
func countStatus(replies []jsonReply, status int) int {
	n := 0
	for _, r := range replies {
		if r.status == status {
			n++
		}
	}
	return n
}

// limitsAcrossInstances sends bursts spread over the three instances: 15
// requests for one receipt number from 15 addresses (the limit is 5 per
// identifier per 10 minutes, in all), and 40 requests for 40 receipt numbers
// from one address (25 per address per 5 minutes).
func limitsAcrossInstances(t *testing.T, c *cluster) {
	ctx := t.Context()
	perID := fanOut(t, 15, func(i int) (jsonReply, error) {
		return callJSON(ctx, "POST", c.url(i, "/api/v1/access-codes"), codeRequestFor(receiptN(0)),
			"X-Forwarded-For", fmt.Sprintf("198.51.100.%d", i+1))
	})
	if countStatus(perID, 202) != 5 || countStatus(perID, 429) != 10 {
		t.Errorf("15 requests for one identifier over 3 instances: %s, want 202×5 429×10", statusCounts(perID))
	}
	perIP := fanOut(t, 40, func(i int) (jsonReply, error) {
		return callJSON(ctx, "POST", c.url(i, "/api/v1/access-codes"), codeRequestFor(fmt.Sprintf("IOE07000000%02d", i)),
			"X-Forwarded-For", "203.0.113.7")
	})
	if countStatus(perIP, 202) != 25 || countStatus(perIP, 429) != 15 {
		t.Errorf("40 requests from one address over 3 instances: %s, want 202×25 429×15", statusCounts(perIP))
	}
}

// waitCode waits for the first message to to arrive and returns its code.
func waitCode(t *testing.T, mail *smtptest.Server, to string) string {
	t.Helper()
	return testcases.WaitCode(t, mail, to)
}

// askCode asks instance i for a code for case n and returns the request id.
func askCode(t *testing.T, c *cluster, i, n int, ip string) string {
	t.Helper()
	r, err := callJSON(t.Context(), "POST", c.url(i, "/api/v1/access-codes"), codeRequestFor(receiptN(n)), "X-Forwarded-For", ip)
	if err != nil || r.status != 202 {
		t.Fatalf("request a code for case %d on instance %d: %d %v %v", n, i, r.status, r.body, err)
	}
	return r.body["request_id"].(string)
}

// redeemElsewhere requests a code on instance 0, redeems it on instance 1,
// and uses the session on all three.
func redeemElsewhere(t *testing.T, c *cluster, mail *smtptest.Server) {
	ctx := t.Context()
	token := signIn(t, c, mail, 0, 1, 1, "192.0.2.1")
	for i := range 3 {
		me, err := callJSON(ctx, "GET", c.url(i, "/api/v1/me"), nil, "Authorization", "Bearer "+token)
		if err != nil || me.status != 200 || !strings.Contains(fmt.Sprint(me.body), receiptN(1)) {
			t.Errorf("GET /api/v1/me on instance %d with the session: %d %v %v", i, me.status, me.body, err)
		}
	}
}

// signIn asks instance ask for a code for case n, redeems it on instance
// redeem, and returns the session's token.
func signIn(t *testing.T, c *cluster, mail *smtptest.Server, ask, redeem, n int, ip string) string {
	t.Helper()
	id := askCode(t, c, ask, n, ip)
	code := waitCode(t, mail, emailN(n))
	r, err := callJSON(t.Context(), "POST", c.url(redeem, "/api/v1/sessions"), map[string]string{"request_id": id, "code": code},
		"X-Forwarded-For", ip)
	if err != nil || r.status != 201 {
		t.Fatalf("redeem on instance %d a code requested on instance %d: %d %v %v", redeem, ask, r.status, r.body, err)
	}
	token, _ := r.body["token"].(string)
	return token
}

// sessionUseSeenAcrossInstances uses one session on the three instances in
// turn, every 1.5 s with a 4 s idle limit (multiIdle): each instance's own
// last use is then 4.5 s old, so the session stays alive only if each sees
// the others' uses. Left idle for the limit, it ends on all three.
func sessionUseSeenAcrossInstances(t *testing.T, c *cluster, mail *smtptest.Server) {
	ctx := t.Context()
	token := signIn(t, c, mail, 0, 0, multiIdleCase, "192.0.2.3")
	me := func(i int) int {
		r, err := callJSON(ctx, "GET", c.url(i, "/api/v1/me"), nil, "Authorization", "Bearer "+token)
		if err != nil {
			t.Fatalf("GET /api/v1/me on instance %d: %v", i, err)
		}
		return r.status
	}
	start := time.Now()
	// Real waits: the instances are processes of their own, each on the wall
	// clock, and what is tested is how long a session lasts between them.
	for k := 1; k <= 6; k++ {
		time.Sleep(1500 * time.Millisecond)
		if got := me(k % 3); got != 200 {
			t.Fatalf("use %d, on instance %d, %v after sign-in, last used elsewhere 1.5 s before: %d, want 200",
				k, k%3, time.Since(start).Round(10*time.Millisecond), got)
		}
	}
	time.Sleep(multiIdle + 500*time.Millisecond) // past the idle limit, on every instance's wall clock
	for i := range 3 {
		if got := me(i); got != 401 {
			t.Errorf("instance %d after %v idle: %d, want 401", i, multiIdle+500*time.Millisecond, got)
		}
	}
}

// multiIdle is the idle limit of TestMultiInstance's instances, short enough
// to wait out; multiIdleCase is the case whose person signs in for it.
const (
	multiIdle     = 4 * time.Second
	multiIdleCase = 15
)

// concurrentRedeemsOverHTTP sends the right code 50 times at once, spread
// over the three instances from 50 addresses: one session, 49 code_used.
func concurrentRedeemsOverHTTP(t *testing.T, c *cluster, mail *smtptest.Server) {
	ctx := t.Context()
	id := askCode(t, c, 2, 2, "192.0.2.2")
	code := waitCode(t, mail, emailN(2))
	replies := fanOut(t, 50, func(i int) (jsonReply, error) {
		return callJSON(ctx, "POST", c.url(i, "/api/v1/sessions"), map[string]string{"request_id": id, "code": code},
			"X-Forwarded-For", fmt.Sprintf("10.0.0.%d", i+1))
	})
	used := 0
	for _, r := range replies {
		if r.status == 410 && r.body["code"] == "code_used" {
			used++
		}
	}
	if countStatus(replies, 201) != 1 || used != 49 {
		t.Errorf("50 concurrent correct redeems over 3 instances: %s (%d code_used), want 201×1 410×49 code_used", statusCounts(replies), used)
	}
}

// deliveriesSurviveKills makes the mail server hang, so that the workers
// hold their deliveries' leases while they wait on it; asks for 12 codes
// spread over the instances; SIGKILLs instances 0 and 1 once each holds a
// lease; brings the mail server and the two instances back, and waits for
// every code to arrive. The killed instances' leases expire after 30 seconds
// and another worker sends what they held. The hang also makes the kills
// land where they cannot duplicate a message: a duplicate would need a kill
// between the mail server's acceptance and the commit that marks the
// delivery sent, which no outbox over SMTP can rule out (docs/deployment.md).
func deliveriesSurviveKills(t *testing.T, c *cluster, mail *smtptest.Server, db *pgx.Conn) {
	ctx := t.Context()
	before := len(mail.Messages())
	mail.Stop()
	hole := startBlackHole(t, mail.Addr())
	const first, n = 3, 12
	for k := range n {
		askCode(t, c, k, first+k, fmt.Sprintf("192.0.2.%d", 10+k))
	}
	// Each worker claims what is due and then waits on the mail server.
	heldBy := func(i int) string {
		return fmt.Sprintf(`SELECT count(*) FROM deliveries WHERE status = 'pending' AND lease_owner LIKE '%%-%d-%%'`, c.pid(i))
	}
	waitCount(t, db, `SELECT least(1, (`+heldBy(0)+`)) + least(1, (`+heldBy(1)+`))`, 2, 10*time.Second)
	var held int
	if err := db.QueryRow(ctx, `SELECT (`+heldBy(0)+`) + (`+heldBy(1)+`)`).Scan(&held); err != nil {
		t.Fatal(err)
	}
	c.kill(t, 0)
	c.kill(t, 1)
	hole.close()
	mail.Restart()
	c.start(t, 0)
	c.start(t, 1)
	t.Logf("killed two instances holding %d leases (of %d codes asked for); waiting for the leases to expire", held, n)

	msgs, err := mail.WaitFor(before+n, 60*time.Second)
	if err != nil {
		t.Fatalf("after the kills: %v", err)
	}
	for k := range n {
		got := 0
		for _, m := range msgs[before:] {
			if strings.Join(m.To, ",") == emailN(first+k) {
				got++
			}
		}
		if got != 1 {
			t.Errorf("%s: %d messages after the kills, want 1", emailN(first+k), got)
		}
	}
}

// waitCount waits until query, a SELECT count(*), gives want.
func waitCount(t *testing.T, db *pgx.Conn, query string, want int, within time.Duration) {
	t.Helper()
	got := -1
	if !testenv.Eventually(within, func() bool {
		if err := db.QueryRow(t.Context(), query).Scan(&got); err != nil {
			t.Fatal(err)
		}
		return got == want
	}) {
		t.Fatalf("%s = %d after %v, want %d", query, got, within, want)
	}
}

// databaseGone starts a fourth instance whose database connections go
// through a proxy, cuts the proxy, and expects 503 unavailable (with
// Retry-After) from the API and /readyz; then restores it and expects the
// instance to serve again without a restart. Its requests are for unknown
// receipt numbers, so no delivery is queued while the database is away.
func databaseGone(t *testing.T, c *cluster, dsn string) {
	ctx := t.Context()
	u, err := url.Parse(dsn)
	if err != nil {
		t.Fatal(err)
	}
	proxy := testenv.StartProxy(t, u.Host)
	u.Host = proxy.Addr()
	in := c.launch(t, "instance behind a proxy", "CASEGATE_DB="+u.String())
	defer in.stop(t, "instance behind a proxy")
	defer func() {
		if t.Failed() {
			t.Log(in.stderr.String())
		}
	}()
	ask := func() (jsonReply, error) {
		return callJSON(ctx, "POST", in.base+"/api/v1/access-codes", codeRequestFor("IOE0600000001"), "X-Forwarded-For", "192.0.2.200")
	}
	if r, err := ask(); err != nil || r.status != 202 {
		t.Fatalf("before the cut: %d %v %v", r.status, r.body, err)
	}

	proxy.Cut()
	r, err := ask()
	if err != nil || r.status != 503 || r.body["code"] != "unavailable" || r.body["retry_after"] == nil {
		t.Errorf("code request with the database gone: %d %v %v, want 503 unavailable with retry_after", r.status, r.body, err)
	}
	if r, err := callJSON(ctx, "GET", in.base+"/readyz", nil); err != nil || r.status != 503 {
		t.Errorf("/readyz with the database gone: %d %v", r.status, err)
	}

	proxy.Reopen()
	if !testenv.Eventually(15*time.Second, func() bool {
		r, err = ask()
		return err == nil && r.status == 202
	}) {
		t.Fatalf("after the database came back: %d %v %v", r.status, r.body, err)
	}
}
