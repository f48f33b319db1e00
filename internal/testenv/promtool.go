package testenv

import (
	"fmt"
	"os/exec"
	"testing"
)

// NamePromtool is Prometheus's promtool in CASEGATE_TEST_REQUIRE.
const NamePromtool = "promtool"

// PromtoolPath is where Debian's prometheus package puts promtool.
const PromtoolPath = "/usr/bin/promtool"

// Promtool returns the path of promtool: Debian's location, else the name on
// PATH. Without it, it ends t through Require.
func Promtool(t testing.TB) string {
	t.Helper()
	if isExecutable(PromtoolPath) {
		return PromtoolPath
	}
	if p, err := exec.LookPath("promtool"); err == nil {
		return p
	}
	Require(t, NamePromtool, fmt.Sprintf("promtool not found at %s or on PATH; install the prometheus package or run .ci/run", PromtoolPath))
	return ""
}
