package smtptest

import (
	"net"
	"sync"
	"testing"
)

// Silent listens on a free loopback port and accepts connections without
// ever answering: a mail server that hangs before its greeting. It returns
// the server's smtp:// URL (without TLS) and closes everything when the test
// ends.
func Silent(tb testing.TB) string {
	tb.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		tb.Fatal(err)
	}
	var mu sync.Mutex
	var held []net.Conn
	go func() {
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			mu.Lock()
			held = append(held, c)
			mu.Unlock()
		}
	}()
	tb.Cleanup(func() {
		ln.Close()
		mu.Lock()
		defer mu.Unlock()
		for _, c := range held {
			c.Close()
		}
	})
	return "smtp://" + ln.Addr().String() + "?tls=none"
}
