package metrics

import (
	"bytes"
	"os"
	"os/exec"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/casegate/casegate"
	"github.com/casegate/casegate/internal/testenv"
)

// alertRules is the shipped alert-rules file, and its unit tests beside it.
const (
	alertRules     = "../deploy/alerts.yml"
	alertRuleTests = "../deploy/alerts_test.yml"
)

// TestAlertRulesPassPromtool: promtool accepts the shipped rules (`check
// rules`, which lints them too) and their unit tests pass (`test rules`).
func TestAlertRulesPassPromtool(t *testing.T) {
	promtool := testenv.Promtool(t)
	for _, args := range [][]string{{"check", "rules", alertRules}, {"test", "rules", alertRuleTests}} {
		out, err := exec.Command(promtool, args...).CombinedOutput()
		if err != nil {
			t.Errorf("promtool %s: %v\n%s", strings.Join(args, " "), err, out)
		}
		if bytes.Contains(out, []byte("WARNING")) || bytes.Contains(out, []byte("FAILED")) {
			t.Errorf("promtool %s:\n%s", strings.Join(args, " "), out)
		}
	}
}

// TestAlertRulesNameRealMetrics: every casegate metric the rules read is
// one casegate exposes, so that a renamed metric cannot leave an alert that
// never fires.
func TestAlertRulesNameRealMetrics(t *testing.T) {
	rules, err := os.ReadFile(alertRules)
	if err != nil {
		t.Fatal(err)
	}
	st, _ := testenv.SQLite(t)
	r := New()
	r.WatchQueue(st)
	r.Request("GET", "GET /healthz", 200, time.Millisecond)
	r.DeliveryFinished(casegate.ChannelEmail, "code", "sent")
	r.DeliverySent(casegate.ChannelEmail, time.Second)
	r.SMSBudget("code", 1, 10)
	r.AuditVerified(true, time.Now())
	r.BuildInfo("v0", "rev", "go")
	families, err := r.reg.Gather()
	if err != nil {
		t.Fatal(err)
	}
	exposed := map[string]bool{}
	for _, f := range families {
		exposed[f.GetName()] = true
	}
	suffix := regexp.MustCompile(`_(bucket|count|sum)$`)
	names := regexp.MustCompile(`casegate_[a-z_]+`).FindAllString(string(rules), -1)
	if len(names) < 6 {
		t.Fatalf("the rules read %d casegate metrics, want the six of the alerts", len(names))
	}
	for _, name := range names {
		if base := suffix.ReplaceAllString(name, ""); !exposed[name] && !exposed[base] {
			t.Errorf("the rules read %s, which casegate does not expose", name)
		}
	}
}
