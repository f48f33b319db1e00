package main

import (
	"context"
	"fmt"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/casegate/casegate/accesscode"
	"github.com/casegate/casegate/internal/smtptest"
	"github.com/casegate/casegate/internal/testenv"
	"github.com/casegate/casegate/store/storetest"
	"github.com/jackc/pgx/v5"
)

// TestInstancesBehindCaddy runs three `casegate serve` processes on one
// PostgreSQL schema behind a real Caddy as a round-robin reverse proxy
// (balancerConf, the Caddyfile docs/deployment.md shows), and sends every
// request through Caddy unless it says otherwise:
//
//   - the requests are spread over all three instances;
//   - the per-identifier and per-address limits hold (limitsAcrossInstances);
//   - wrong codes spread over the instances count once each against the
//     person, who is locked once, after exactly the configured number, and
//     told once; the right code is then refused;
//   - of 50 correct redeems of one code, exactly one wins;
//   - a sign-out through Caddy is refused at once on each instance, reached
//     directly;
//   - every code is mailed once, over SMTP, and `audit verify` passes.
//
// `casegate loadtest --instances 3` is measured in docs/BENCHMARKS.md.
func TestInstancesBehindCaddy(t *testing.T) {
	if testing.Short() {
		t.Skip("skipping in -short mode: starts three casegate processes and Caddy")
	}
	caddy := testenv.Tool(t, testenv.NameCaddy, "caddy")
	dsn := storetest.PostgresSchema(t)
	mail := smtptest.Start(t)
	c := &cluster{t: t, bin: buildCasegate(t), env: []string{
		"CASEGATE_DB=" + dsn,
		"CASEGATE_SECRET_FILE=" + filepath.Join(t.TempDir(), "secret.key"),
		"CASEGATE_SMTP_URL=" + mail.URL(),
		"CASEGATE_PUBLIC_URL=http://casegate.test",
		"CASEGATE_TRUSTED_PROXIES=127.0.0.1",
		"CASEGATE_LOG_LEVEL=info", // a line per request: which instance served it
		"CASEGATE_LIMIT_PARTY_FAILURES=" + fmt.Sprintf("%d/1h", lockAfter),
	}}
	if _, err := c.command("migrate"); err != nil {
		t.Fatal(err)
	}
	const cases = lockCase + 1
	c.importAndStart(t, cases, 3)
	var upstreams []string
	for i := range 3 {
		upstreams = append(upstreams, strings.TrimPrefix(c.get(i).base, "http://"))
	}
	caddyLog := &testenv.LogBuffer{}
	lb, err := startBalancer(t.Context(), caddy, t.TempDir(), upstreams, caddyLog)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(lb.stop) // before the instances: cleanups run last first
	t.Cleanup(func() {
		if t.Failed() {
			t.Logf("caddy:\n%s", caddyLog.String())
		}
	})
	c.front = lb.url
	db, err := pgx.Connect(t.Context(), dsn)
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close(context.Background())

	t.Run("LimitsHoldAcrossInstances", func(t *testing.T) { limitsAcrossInstances(t, c) })
	t.Run("FailuresAndLockCountedOnce", func(t *testing.T) { lockedOnceAcrossInstances(t, c, mail, db) })
	t.Run("ConcurrentRedeemsOneWinner", func(t *testing.T) { concurrentRedeemsOverHTTP(t, c, mail) })
	t.Run("SignOutRefusedEverywhere", func(t *testing.T) {
		token := signIn(t, c, mail, 0, 0, 1, "192.0.2.1")
		out, err := callJSON(t.Context(), "DELETE", c.url(0, "/api/v1/sessions/current"), nil, "Authorization", "Bearer "+token)
		if err != nil || out.status != 204 {
			t.Fatalf("sign out through Caddy: %d %v %v", out.status, out.body, err)
		}
		for i := range 3 {
			if me, err := callJSON(t.Context(), "GET", c.direct(i, "/api/v1/me"), nil, "Authorization", "Bearer "+token); err != nil || me.status != 401 {
				t.Errorf("GET /api/v1/me on instance %d, directly, right after signing out: %d %v, want 401", i, me.status, err)
			}
		}
	})
	// Round robin: each instance served a share of what went through Caddy.
	for i := range 3 {
		if n := strings.Count(c.get(i).stderr.String(), `"route":"POST /api/v1/sessions"`); n < 10 {
			t.Errorf("instance %d served %d sign-in requests of the 50+ sent through Caddy, want its share (≥ 10)", i, n)
		}
	}
	if t.Failed() {
		return
	}

	// Every code went out exactly once; case 0's person was sent the 5
	// codes the per-identifier limit allowed, the locked person two codes
	// and one notice.
	waitCount(t, db, `SELECT count(*) FROM deliveries WHERE status = 'pending'`, 0, 10*time.Second)
	byCode, byRecipient := map[string]int{}, map[string]int{}
	for _, m := range mail.Messages() {
		if code := mailedCode.FindString(m.Text); code != "" {
			byCode[code]++
		}
		byRecipient[strings.Join(m.To, ",")]++
	}
	for code, n := range byCode {
		if n != 1 {
			t.Errorf("code %q was mailed %d times, want once", code, n)
		}
	}
	for i, want := range map[int]int{0: 5, 1: 1, 2: 1, lockCase: 3} {
		if got := byRecipient[emailN(i)]; got != want {
			t.Errorf("%s received %d messages, want %d", emailN(i), got, want)
		}
	}
	var sent, other int
	if err := db.QueryRow(t.Context(), `SELECT count(*) FILTER (WHERE status = 'sent' AND party_id IS NOT NULL),
		count(*) FILTER (WHERE status <> 'sent' AND party_id IS NOT NULL) FROM deliveries`).Scan(&sent, &other); err != nil {
		t.Fatal(err)
	}
	if sent != len(mail.Messages()) || other != 0 {
		t.Errorf("deliveries: %d sent and %d otherwise, for %d messages received", sent, other, len(mail.Messages()))
	}

	lb.stop()
	c.stopAll()
	out, err := c.command("audit", "verify")
	if err != nil || !strings.Contains(out, "audit chain intact") {
		t.Errorf("audit verify after the run: %v\n%s", err, out)
	}

}

// lockAfter is the wrong codes per person before a lock in
// TestInstancesBehindCaddy; lockCase is the case whose person is locked.
const (
	lockAfter = 6
	lockCase  = 3
)

// lockedOnceAcrossInstances asks for two codes for one person, then sends
// 8 wrong codes at once through the balancer (5 on the first challenge, 3 on
// the second): the first lockAfter count and lock the person, once; the
// rest, arriving locked, count only against their challenge. Then neither
// mailed code signs in on the second challenge.
func lockedOnceAcrossInstances(t *testing.T, c *cluster, mail *smtptest.Server, db *pgx.Conn) {
	ctx := t.Context()
	ids := []string{askCode(t, c, 0, lockCase, "192.0.2.50"), askCode(t, c, 1, lockCase, "192.0.2.51")}
	var codes []string
	if !testenv.Eventually(15*time.Second, func() bool {
		codes = codes[:0]
		for _, m := range messagesTo(mail, emailN(lockCase)) {
			codes = append(codes, mailedCode.FindString(m.Text))
		}
		return len(codes) == 2
	}) {
		t.Fatalf("%s: %d codes mailed, want 2", emailN(lockCase), len(codes))
	}
	wrong := func() string {
		for {
			w, err := accesscode.Generate(accesscode.DefaultLength)
			if err != nil {
				t.Fatal(err)
			}
			if w != strings.ReplaceAll(codes[0], "-", "") && w != strings.ReplaceAll(codes[1], "-", "") {
				return w
			}
		}
	}
	replies := fanOut(t, 8, func(i int) (jsonReply, error) {
		return callJSON(ctx, "POST", c.url(i, "/api/v1/sessions"), map[string]string{"request_id": ids[min(i/5, 1)], "code": wrong()},
			"X-Forwarded-For", fmt.Sprintf("10.1.0.%d", i+1))
	})
	if n := countStatus(replies, 201); n != 0 {
		t.Fatalf("8 wrong codes: %s, want none accepted", statusCounts(replies))
	}
	var failures, locks int
	var lockedUntil *int64
	if err := db.QueryRow(ctx, `SELECT p.consecutive_failures, p.locked_until,
		(SELECT count(*) FROM audit_events WHERE action = 'party.lock' AND target = 'party:' || p.id)
		FROM parties p WHERE p.email = $1`, emailN(lockCase)).Scan(&failures, &lockedUntil, &locks); err != nil {
		t.Fatal(err)
	}
	if failures != lockAfter || locks != 1 || lockedUntil == nil {
		t.Errorf("after 8 wrong codes over 3 instances: %d failures counted, %d locks, locked until %v; want %d, 1, a time",
			failures, locks, lockedUntil, lockAfter)
	}
	// The notice of the lock goes to the person once.
	if !testenv.Eventually(15*time.Second, func() bool { return len(messagesTo(mail, emailN(lockCase))) == 3 }) {
		t.Errorf("%s: no lockout notice after the two codes", emailN(lockCase))
	}
	// Locked, the person's right code is refused like a wrong one.
	for _, code := range codes {
		r, err := callJSON(ctx, "POST", c.url(0, "/api/v1/sessions"), map[string]string{"request_id": ids[1], "code": code},
			"X-Forwarded-For", "10.1.0.100")
		if err != nil || r.status == 201 {
			t.Errorf("a mailed code on the locked person's challenge: %d %v %v, want refused", r.status, r.body, err)
		}
	}
}

// messagesTo returns the messages received so far for to alone.
func messagesTo(mail *smtptest.Server, to string) []smtptest.Mail {
	var out []smtptest.Mail
	for _, m := range mail.Messages() {
		if strings.Join(m.To, ",") == to {
			out = append(out, m)
		}
	}
	return out
}

// TestLoadtestInstancesNeedPostgres: `loadtest --instances` refuses what is
// not the scale-out path (SQLite, by default or named) and what it cannot
// do, naming the flag, before it starts anything.
func TestLoadtestInstancesNeedPostgres(t *testing.T) {
	for _, tc := range []struct {
		name string
		args []string
		want string
	}{
		{"default SQLite", []string{"--instances", "3"}, "needs -db postgres://"},
		{"SQLite file", []string{"--instances", "2", "-db", filepath.Join(t.TempDir(), "x.db")}, "not the scale-out path"},
		{"none", []string{"--instances", "0", "-db", "postgres://127.0.0.1/x"}, "want -instances from 1 to 16"},
		{"too many", []string{"--instances", "17", "-db", "postgres://127.0.0.1/x"}, "want -instances from 1 to 16"},
		{"with a target", []string{"--instances", "3", "-target", "http://127.0.0.1:1", "-db", "postgres://127.0.0.1/x"}, "leave out -target"},
		{"with a profile", []string{"--instances", "3", "-server-cpuprofile", "p", "-db", "postgres://127.0.0.1/x"}, "leave it out with -instances"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, _, err := runCmd(t, nil, append([]string{"loadtest"}, tc.args...)...)
			if err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Errorf("loadtest %v: %v, want an error saying %q", tc.args, err, tc.want)
			}
		})
	}
}
