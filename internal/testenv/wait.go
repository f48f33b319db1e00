package testenv

import (
	"net"
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
