package main

import (
	"context"
	"fmt"
	"path/filepath"
	"strings"
	"sync"
	"testing"

	"github.com/casegate/casegate/internal/smtptest"
	"github.com/casegate/casegate/store/storetest"
	"github.com/jackc/pgx/v5"
)

// TestPgBouncerFlow runs casegate through PgBouncer in transaction pooling
// mode, configured as docs/deployment.md says (the schema set by PgBouncer,
// default_query_exec_mode=exec in CASEGATE_DB), against a fresh schema:
// three migrations at once, an import, three `casegate serve` instances,
// the limits across them, a sign-in (code requested on one instance, mailed
// over SMTP, redeemed on another), the dashboard on every instance,
// sign-out seen by every instance, 50 concurrent redeems of one code with
// exactly one winner, and `casegate audit verify` through the pooler. The
// rows must be in the fresh schema.
func TestPgBouncerFlow(t *testing.T) {
	p := storetest.PgBouncerSchema(t)
	mail := smtptest.Start(t)
	// The secret file exists before the commands that race: each would
	// make it if it were missing.
	secret := filepath.Join(t.TempDir(), "secret.key")
	writeFile(t, secret, string(newSecretFile(t)))
	c := &cluster{t: t, bin: buildCasegate(t), env: []string{
		"CASEGATE_DB=" + p.URL,
		"CASEGATE_SECRET_FILE=" + secret,
		"CASEGATE_SMTP_URL=" + mail.URL(),
		"CASEGATE_PUBLIC_URL=http://casegate.test",
		"CASEGATE_TRUSTED_PROXIES=127.0.0.1",
		"CASEGATE_LOG_LEVEL=warn",
	}}
	errs := make([]error, 3)
	var wg sync.WaitGroup
	for i := range errs {
		wg.Go(func() { _, errs[i] = c.command("migrate") })
	}
	wg.Wait()
	for i, err := range errs {
		if err != nil {
			t.Fatalf("migrate %d of 3 at once through PgBouncer: %v", i, err)
		}
	}
	const cases = 3
	c.importAndStart(t, cases, 3)
	ctx := t.Context()

	t.Run("LimitsHoldAcrossInstances", func(t *testing.T) { limitsAcrossInstances(t, c) })
	t.Run("SignInDashboardSignOut", func(t *testing.T) {
		token := signIn(t, c, mail, 0, 1, 1, "192.0.2.1")
		for i := range 3 {
			me, err := callJSON(ctx, "GET", c.url(i, "/api/v1/me"), nil, "Authorization", "Bearer "+token)
			if err != nil || me.status != 200 || !strings.Contains(fmt.Sprint(me.body), receiptN(1)) {
				t.Errorf("dashboard (GET /api/v1/me) on instance %d: %d %v %v", i, me.status, me.body, err)
			}
		}
		out, err := callJSON(ctx, "DELETE", c.url(2, "/api/v1/sessions/current"), nil, "Authorization", "Bearer "+token)
		if err != nil || out.status != 204 {
			t.Fatalf("sign out on instance 2: %d %v %v", out.status, out.body, err)
		}
		for i := range 3 {
			if me, err := callJSON(ctx, "GET", c.url(i, "/api/v1/me"), nil, "Authorization", "Bearer "+token); err != nil || me.status != 401 {
				t.Errorf("dashboard on instance %d after signing out: %d %v, want 401", i, me.status, err)
			}
		}
	})
	t.Run("ConcurrentRedeemsOneWinner", func(t *testing.T) { concurrentRedeemsOverHTTP(t, c, mail) })

	c.stopAll()
	out, err := c.command("audit", "verify")
	if err != nil || !strings.Contains(out, "audit chain intact") {
		t.Errorf("audit verify through PgBouncer: %v\n%s", err, out)
	}
	db, err := pgx.Connect(ctx, p.Direct)
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close(context.Background())
	var inSchema, sessions int
	if err := db.QueryRow(ctx, `SELECT (SELECT count(*) FROM `+p.Schema+`.cases), (SELECT count(*) FROM `+p.Schema+`.audit_events WHERE action LIKE 'session.%')`).Scan(&inSchema, &sessions); err != nil {
		t.Fatalf("read the fresh schema: %v", err)
	}
	if inSchema != cases || sessions == 0 {
		t.Errorf("schema %s holds %d cases and %d session audit events, want %d cases and some events", p.Schema, inSchema, sessions, cases)
	}
}
