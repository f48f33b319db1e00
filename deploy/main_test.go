// Package deploy holds no code: the tests here check the deployment files
// beside them (container recipe, systemd unit, Caddy and nginx
// configurations, the Debian install script) with the real tools.
package deploy

import (
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"testing"
)

// binDir holds the casegate binary the tests share; TestMain removes it.
var binDir string

func TestMain(m *testing.M) {
	code := m.Run()
	if binDir != "" {
		os.RemoveAll(binDir)
	}
	os.Exit(code)
}

var (
	buildOnce sync.Once
	builtBin  string
	buildErr  error
	buildOut  []byte
)

// casegateBinary builds ./cmd/casegate once, static and cgo-free as the
// container recipe builds it, and returns its path.
func casegateBinary(t *testing.T) string {
	t.Helper()
	buildOnce.Do(func() {
		binDir, buildErr = os.MkdirTemp("", "casegate-deploy-")
		if buildErr != nil {
			return
		}
		builtBin = filepath.Join(binDir, "casegate")
		cmd := exec.Command("go", "build", "-trimpath", "-o", builtBin, "../cmd/casegate")
		cmd.Env = append(os.Environ(), "CGO_ENABLED=0")
		buildOut, buildErr = cmd.CombinedOutput()
	})
	if buildErr != nil {
		t.Fatalf("go build ../cmd/casegate: %v\n%s", buildErr, buildOut)
	}
	return builtBin
}

// readFile returns a file of this folder as text.
func readFile(t *testing.T, name string) string {
	t.Helper()
	b, err := os.ReadFile(name)
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

// replaceAll replaces each old with new in s (pairs), failing t when one is
// not there: a test that adapts a shipped file must notice when the file
// stops saying what it adapts.
func replaceAll(t *testing.T, s string, pairs ...string) string {
	t.Helper()
	for i := 0; i+1 < len(pairs); i += 2 {
		if !strings.Contains(s, pairs[i]) {
			t.Fatalf("the shipped file no longer contains %q", pairs[i])
		}
		s = strings.ReplaceAll(s, pairs[i], pairs[i+1])
	}
	return s
}

func itoa(n int) string { return strconv.Itoa(n) }
