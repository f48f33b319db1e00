package deploy

import (
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"testing"

	"github.com/casegate/casegate/internal/testenv"
)

// maxExposure is the highest `systemd-analyze security` exposure score the
// shipped services may have: the scale runs from 0 to 10, and systemd calls
// up to 1.9 "OK" and up to 4.9 "MEDIUM".
const maxExposure = 1.9

// units are the systemd units shipped in this folder.
var units = []string{"casegate.service", "casegate-backup.service", "casegate-backup.timer"}

// unitCopies writes the shipped units into a temporary folder, with the
// binary they start replaced by a real casegate binary (systemd-analyze
// verify checks that the program exists), and returns the copies' paths.
func unitCopies(t *testing.T, bin string) []string {
	t.Helper()
	dir := t.TempDir()
	var paths []string
	for _, u := range units {
		text := readFile(t, u)
		if strings.HasSuffix(u, ".service") {
			text = replaceAll(t, text, "/usr/local/bin/casegate", bin)
		}
		p := filepath.Join(dir, u)
		if err := os.WriteFile(p, []byte(text), 0o644); err != nil {
			t.Fatal(err)
		}
		paths = append(paths, p)
	}
	return paths
}

// TestSystemdUnitsVerify: systemd-analyze verify accepts the units with no
// warning at all (it exits 0 even for an unknown key, so any output fails).
func TestSystemdUnitsVerify(t *testing.T) {
	analyze := testenv.Tool(t, testenv.NameSystemd, "systemd")
	paths := unitCopies(t, casegateBinary(t))
	out, err := exec.CommandContext(t.Context(), analyze, append([]string{"verify"}, paths...)...).CombinedOutput()
	if err != nil || len(strings.TrimSpace(string(out))) > 0 {
		t.Fatalf("systemd-analyze verify: %v\n%s", err, out)
	}
}

var exposure = regexp.MustCompile(`Overall exposure level for \S+: ([0-9]+(?:\.[0-9]+)?) `)

// TestSystemdUnitsHardened: systemd-analyze security rates each service at
// most maxExposure, and the settings the deployment relies on are there.
func TestSystemdUnitsHardened(t *testing.T) {
	analyze := testenv.Tool(t, testenv.NameSystemd, "systemd")
	paths := unitCopies(t, casegateBinary(t))
	for _, p := range paths {
		if !strings.HasSuffix(p, ".service") {
			continue
		}
		out, err := exec.CommandContext(t.Context(), analyze, "security", "--offline=yes", "--no-pager", p).CombinedOutput()
		if err != nil {
			t.Fatalf("systemd-analyze security %s: %v\n%s", filepath.Base(p), err, out)
		}
		m := exposure.FindSubmatch(out)
		if m == nil {
			t.Fatalf("systemd-analyze security %s printed no overall exposure:\n%s", filepath.Base(p), out)
		}
		score, err := strconv.ParseFloat(string(m[1]), 64)
		if err != nil {
			t.Fatal(err)
		}
		t.Logf("%s: exposure %.1f", filepath.Base(p), score)
		if score > maxExposure {
			t.Errorf("%s: exposure %.1f, want at most %.1f:\n%s", filepath.Base(p), score, maxExposure, out)
		}
	}
	unit := readFile(t, "casegate.service")
	for _, want := range []string{
		"DynamicUser=yes", "StateDirectory=casegate", "ProtectSystem=strict", "NoNewPrivileges=yes",
		"CapabilityBoundingSet=\n", "SystemCallFilter=@system-service", "MemoryDenyWriteExecute=yes",
		"LoadCredential=secret.key:", "LoadCredential=smtp_url:", "LoadCredential=dkim.key:",
		"CASEGATE_SECRET_FILE=%d/secret.key", "CASEGATE_DKIM_KEY_FILE=%d/dkim.key", "EnvironmentFile=",
	} {
		if !strings.Contains(unit, want) {
			t.Errorf("casegate.service lacks %q", want)
		}
	}
}
