package testenv

import (
	"net"
	"testing"
	"time"
)

// Eventually calls cond until it returns true or within has passed, and
// reports whether it did. It polls at once, then every millisecond, doubling
// up to 20 ms: a test waits for what it waits for, not for a guess at how
// long that takes. The caller states what failed, so its message stays its own.
func Eventually(within time.Duration, cond func() bool) bool {
	deadline := time.Now().Add(within)
	for pause := time.Millisecond; ; pause = min(2*pause, 20*time.Millisecond) {
		if cond() {
			return true
		}
		if time.Now().After(deadline) {
			return false
		}
		time.Sleep(pause)
	}
}

// ListenAgain listens on addr, a port that was just closed, trying for a
// second while the system releases it.
func ListenAgain(addr string) (net.Listener, error) {
	var ln net.Listener
	var err error
	Eventually(time.Second, func() bool {
		ln, err = net.Listen("tcp", addr)
		return err == nil
	})
	return ln, err
}

// FreePort returns a TCP port of 127.0.0.1 that was free a moment ago, for
// a program a test starts that must be told its port (Caddy, nginx,
// PgBouncer, a PostgreSQL server). Another process may take it in between;
// the programs started this way fail loudly if it has.
func FreePort(t testing.TB) int {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	return ln.Addr().(*net.TCPAddr).Port
}
