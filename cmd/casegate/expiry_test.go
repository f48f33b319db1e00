package main

import (
	"net/http"
	"path/filepath"
	"testing"
	"time"

	"github.com/casegate/casegate/internal/smtptest"
	"github.com/casegate/casegate/internal/testenv"
)

// TestUnsentCodeIsWipedSoonAfterItExpires asks for a code while the mail
// server hangs, so the code is never sent: its sealed copy must leave the
// outbox within 5 seconds of the code's expiry, not at the worker's next
// try.
func TestUnsentCodeIsWipedSoonAfterItExpires(t *testing.T) {
	db := filepath.Join(t.TempDir(), "c.db")
	vars := faultVars(t, db, smtptest.Silent(t))
	vars["CASEGATE_CODE_TTL"] = "2s"
	if _, _, err := runCmd(t, vars, "import", casesFile(t, 1)); err != nil {
		t.Fatalf("import: %v", err)
	}
	s := startServe(t, vars)
	asked := time.Now()
	if r := send("POST", s.base+"/api/v1/access-codes", "application/json", codeRequestBody(0)); r.status != http.StatusAccepted {
		t.Fatalf("code request: %v", r)
	}
	sealed := `SELECT count(*) FROM deliveries WHERE sealed_code IS NOT NULL`
	if n := countRows(t, db, sealed); n != 1 {
		t.Fatalf("%d sealed codes in the outbox right after the request, want 1 (the mail server hangs)", n)
	}
	expiry := asked.Add(2 * time.Second)
	if !testenv.Eventually(time.Until(expiry.Add(5*time.Second)), func() bool { return countRows(t, db, sealed) == 0 }) {
		t.Fatalf("the sealed code is still in the outbox %v after the code expired", time.Since(expiry).Round(time.Millisecond))
	}
	t.Logf("wiped %v after the expiry", time.Since(expiry).Round(100*time.Millisecond))
	if n := countRows(t, db, `SELECT count(*) FROM deliveries WHERE status = 'cancelled'`); n != 1 {
		t.Errorf("%d cancelled deliveries, want the expired code's", n)
	}
}
