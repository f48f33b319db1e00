package main

import (
	"io"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/casegate/casegate/synth"
)

// TestDemoProcessingTimesHaveADistribution loads the demo's cases as
// `casegate demo` does and checks what it publishes: figures for groups of
// a form's category and office, not only whole-form ones, each from at least
// the minimum of finished cases, and with a median below the 80th
// percentile, as days spread over many cases give. A figure from one or two
// cases has them equal. A few may be equal by chance; most may not.
func TestDemoProcessingTimesHaveADistribution(t *testing.T) {
	dir := t.TempDir()
	vars := map[string]string{"CASEGATE_DB": filepath.Join(dir, "demo.db"), "CASEGATE_SECRET_FILE": filepath.Join(dir, "secret.key")}
	a := openTestApp(t, vars)
	res, pts, err := seedDemo(t.Context(), a, demoCases, synth.Options{Seed: demoSeed})
	if err != nil {
		t.Fatal(err)
	}
	if len(res.Rejected) > 0 {
		t.Fatalf("the demo's cases had %d rejected lines: %+v", len(res.Rejected), res.Rejected[0])
	}
	minCases := a.portal.ProcessingMinCases()
	if minCases != 10 {
		t.Fatalf("minimum of cases %d, want the default 10", minCases)
	}
	offices, err := a.portal.Offices(t.Context())
	if err != nil {
		t.Fatal(err)
	}
	var figures, groups, spread int
	for _, pt := range pts {
		if pt.Withheld {
			continue
		}
		if !pt.WholeForm() && offices[pt.Office].Name == "" {
			t.Errorf("office %q of a published figure is not in the demo's office catalog", pt.Office)
		}
		figures++
		if !pt.WholeForm() {
			groups++
		}
		if pt.Cases < minCases {
			t.Errorf("%s %q %s published from %d cases, fewer than %d", pt.FormType, pt.Category, pt.Office, pt.Cases, minCases)
		}
		if pt.MedianDays < pt.P80Days {
			spread++
		} else {
			t.Logf("%s %q %s: median %d, 80th percentile %d, from %d cases", pt.FormType, pt.Category, pt.Office, pt.MedianDays, pt.P80Days, pt.Cases)
		}
	}
	if groups < 8 {
		t.Errorf("the demo publishes %d figures of a category and office (and %d in all), want at least 8", groups, figures)
	}
	if figures == 0 || spread*10 < figures*9 {
		t.Errorf("%d of %d published figures have a median below the 80th percentile, want at least 9 in 10", spread, figures)
	}
}

// TestDemoIdentitiesSayTheirChannel: each identity the demo prints says
// which channel to choose, email or text message, as the one on file.
func TestDemoIdentitiesSayTheirChannel(t *testing.T) {
	ids := demoIdentities(synth.New(synth.Options{Seed: demoSeed}), demoCases)
	if len(ids) != 3 {
		t.Fatalf("%d identities, want 3", len(ids))
	}
	for i, id := range ids {
		if !strings.Contains(id, "code by email") && !strings.Contains(id, "code by text message") {
			t.Errorf("identity %d does not say its channel: %s", i+1, id)
		}
	}
}

// TestDemoLogsRequestsOnlyWhenAsked: the demo logs at warn unless
// CASEGATE_LOG_LEVEL says otherwise, so a line per request does not push
// the identities it printed out of sight.
func TestDemoLogsRequestsOnlyWhenAsked(t *testing.T) {
	for _, tc := range []struct{ set, want string }{{"", "warn"}, {"debug", "debug"}, {"info", "info"}} {
		cfg, err := loadConfig(newFlagSet("demo", io.Discard), nil, demoGetenv(testEnv(map[string]string{"CASEGATE_LOG_LEVEL": tc.set})))
		if err != nil {
			t.Fatal(err)
		}
		if cfg.LogLevel != tc.want {
			t.Errorf("CASEGATE_LOG_LEVEL=%q: the demo logs at %q, want %q", tc.set, cfg.LogLevel, tc.want)
		}
	}
	cfg, err := loadConfig(newFlagSet("demo", io.Discard), []string{"-log-level", "info"}, demoGetenv(testEnv(nil)))
	if err != nil || cfg.LogLevel != "info" {
		t.Errorf("-log-level info: %q, %v; want info", cfg.LogLevel, err)
	}
}

// TestImportOffices loads an office catalog with a bad line, then the same
// file again: the good lines load once, the bad one is reported.
func TestImportOffices(t *testing.T) {
	dir := t.TempDir()
	vars := map[string]string{"CASEGATE_DB": filepath.Join(dir, "c.db"), "CASEGATE_SECRET_FILE": filepath.Join(dir, "secret.key")}
	file := filepath.Join(dir, "offices.jsonl")
	lines := `{"code":"NBC","name":"National Benefits Center","phone":"+1 800 555 0100","url":"https://offices.example.org/nbc"}
{"code":"TSC","name":"Texas Service Center","url":"javascript:alert(1)"}
{"code":"Los Angeles","name":"Los Angeles Field Office"}
`
	if err := os.WriteFile(file, []byte(lines), 0o600); err != nil {
		t.Fatal(err)
	}
	for i, want := range []string{"2 offices created, 0 updated, 1 rejected", "0 offices created, 0 updated, 1 rejected"} {
		out, _, err := runCmd(t, vars, "import-offices", file)
		if exitStatus(err) != exitRejected {
			t.Fatalf("import %d with a bad line: %v, want exit status %d", i+1, err, exitRejected)
		}
		if !strings.Contains(out, want) || !strings.Contains(out, "offices.jsonl:2: url:") {
			t.Fatalf("import %d report:\n%s\nwant %q and line 2's reason", i+1, out, want)
		}
	}
	a := openTestApp(t, vars)
	offices, err := a.portal.Offices(t.Context())
	if err != nil {
		t.Fatal(err)
	}
	if len(offices) != 2 || offices["NBC"].Phone != "+1 800 555 0100" || offices["Los Angeles"].Name != "Los Angeles Field Office" {
		t.Errorf("offices on file %+v", offices)
	}
}
