package main

import (
	"net"
	"sync"
	"testing"

	"github.com/casegate/casegate/internal/testenv"
)

// A network stand-in for the multi-instance test: a mail server that never
// answers. (The proxy in front of the database that can be cut is testenv's.)

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
	ln, err := testenv.ListenAgain(addr)
	if err != nil {
		t.Fatalf("listen on %s: %v", addr, err)
	}
	b := &blackHole{ln: ln}
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
