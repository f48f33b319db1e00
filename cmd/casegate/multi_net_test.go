package main

import (
	"io"
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

// tcpProxy forwards connections from a loopback port to target, and can cut
// them all and refuse new ones, as a database that went away would.
type tcpProxy struct {
	addr, target string

	mu    sync.Mutex
	ln    net.Listener
	conns []net.Conn
}

func startTCPProxy(t *testing.T, target string) *tcpProxy {
	t.Helper()
	p := &tcpProxy{addr: "127.0.0.1:0", target: target}
	p.open(t)
	t.Cleanup(p.cut)
	return p
}

// open listens (again, after cut, on the same port).
func (p *tcpProxy) open(t *testing.T) {
	t.Helper()
	ln := listenAgain(t, p.addr)
	p.mu.Lock()
	p.ln, p.addr = ln, ln.Addr().String()
	p.mu.Unlock()
	go func() {
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			up, err := net.Dial("tcp", p.target)
			if err != nil {
				c.Close()
				continue
			}
			p.mu.Lock()
			p.conns = append(p.conns, c, up)
			p.mu.Unlock()
			go func() { io.Copy(up, c); up.Close() }()
			go func() { io.Copy(c, up); c.Close() }()
		}
	}()
}

// cut closes the listener and every forwarded connection.
func (p *tcpProxy) cut() {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.ln != nil {
		p.ln.Close()
		p.ln = nil
	}
	for _, c := range p.conns {
		c.Close()
	}
	p.conns = nil
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
