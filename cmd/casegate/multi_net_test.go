package main

import (
	"net"
	"sync"
	"testing"
	"time"
)

// Network stand-ins for the multi-instance test: a proxy in front of the
// database that can be cut, and a mail server that never answers.

// listenAgain listens on addr, retrying for a second while a port that was
// just closed is released.
func listenAgain(t *testing.T, addr string) net.Listener {
	t.Helper()
	var ln net.Listener
	var err error
	for range 50 {
		if ln, err = net.Listen("tcp", addr); err == nil {
			return ln
		}
		time.Sleep(20 * time.Millisecond)
	}
	t.Fatalf("listen on %s: %v", addr, err)
	return nil
}

// blackHole listens on addr and accepts connections without ever answering:
// a mail server that hangs. Sends to it wait until their timeout, holding
// their deliveries' leases all the while.
type blackHole struct {
	ln    net.Listener
	mu    sync.Mutex
	conns []net.Conn
}

func startBlackHole(t *testing.T, addr string) *blackHole {
	t.Helper()
	b := &blackHole{ln: listenAgain(t, addr)}
	go func() {
		for {
			c, err := b.ln.Accept()
			if err != nil {
				return
			}
			b.mu.Lock()
			b.conns = append(b.conns, c)
			b.mu.Unlock()
		}
	}()
	t.Cleanup(b.close)
	return b
}

// close stops listening and drops every held connection.
func (b *blackHole) close() {
	b.ln.Close()
	b.mu.Lock()
	defer b.mu.Unlock()
	for _, c := range b.conns {
		c.Close()
	}
	b.conns = nil
}
