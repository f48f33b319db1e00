package web

import (
	"net"
	"net/http/httptest"
	"net/netip"
	"strings"
	"testing"
)

func TestClientIP(t *testing.T) {
	proxies := []netip.Prefix{netip.MustParsePrefix("10.0.0.0/8"), netip.MustParsePrefix("::1/128")}
	cases := []struct {
		name, remote, xff, want string
	}{
		{"direct peer, header ignored", "203.0.113.9:5555", "198.51.100.1", "203.0.113.9"},
		{"trusted proxy, one hop", "10.1.2.3:80", "198.51.100.1", "198.51.100.1"},
		{"trusted proxy, spoofed left entries ignored", "10.1.2.3:80", "1.1.1.1, 198.51.100.1", "198.51.100.1"},
		{"two trusted proxies", "10.1.2.3:80", "198.51.100.1, 10.9.9.9", "198.51.100.1"},
		{"trusted proxy, garbage header", "10.1.2.3:80", "not-an-ip", "10.1.2.3"},
		{"trusted proxy, no header", "10.1.2.3:80", "", "10.1.2.3"},
		{"IPv6 loopback proxy", "[::1]:80", "2001:db8::5", "2001:db8::5"},
		{"IPv4-mapped peer", "[::ffff:203.0.113.9]:80", "", "203.0.113.9"},
		{"hop with a port", "10.1.2.3:80", "198.51.100.1:4711", "198.51.100.1"},
		{"IPv6 hop with a port", "10.1.2.3:80", "[2001:db8::7]:4711", "2001:db8::7"},
	}
	s := &Server{proxies: proxies}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			r := httptest.NewRequest("GET", "/", nil)
			r.RemoteAddr = c.remote
			if c.xff != "" {
				r.Header.Set("X-Forwarded-For", c.xff)
			}
			if got := s.clientIP(r); got != c.want {
				t.Errorf("clientIP = %q, want %q", got, c.want)
			}
		})
	}
}

func FuzzClientIP(f *testing.F) {
	f.Add("10.1.2.3:80", "198.51.100.1, 10.9.9.9")
	f.Add("[::1]:80", ",,,")
	f.Add("203.0.113.9:1", "10.0.0.1")
	s := &Server{proxies: []netip.Prefix{netip.MustParsePrefix("10.0.0.0/8")}}
	f.Fuzz(func(t *testing.T, remote, xff string) {
		r := httptest.NewRequest("GET", "/", nil)
		r.RemoteAddr = remote
		r.Header.Set("X-Forwarded-For", xff)
		got := s.clientIP(r)
		host, _, err := net.SplitHostPort(remote)
		if err != nil {
			host = remote
		}
		peer, err := netip.ParseAddr(host)
		if err != nil {
			if got != host {
				t.Fatalf("unparsable peer %q gave %q", remote, got)
			}
			return
		}
		if !s.trusted(peer.Unmap()) {
			if got != peer.Unmap().String() {
				t.Fatalf("untrusted peer %q: got %q, the header must be ignored", remote, got)
			}
			return
		}
		// Behind a trusted proxy the answer is the peer or an address from the header.
		if got == peer.Unmap().String() {
			return
		}
		for _, h := range strings.Split(xff, ",") {
			if b, err := parseHop(strings.TrimSpace(h)); err == nil && b.Unmap().String() == got {
				return
			}
		}
		t.Fatalf("client IP %q is neither the peer nor in X-Forwarded-For %q", got, xff)
	})
}
