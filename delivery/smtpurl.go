package delivery

import (
	"fmt"
	"net"
	"net/netip"
	"net/url"
	"strconv"
	"strings"
	"time"
)

// TLSMode is how the SMTP connection is protected.
type TLSMode string

// The TLS modes of an smtp:// URL's tls parameter.
const (
	TLSNone     TLSMode = "none"     // plain text; for a relay on the same host or a test server
	TLSStartTLS TLSMode = "starttls" // plain connect, then STARTTLS, required (the default)
	TLSImplicit TLSMode = "implicit" // TLS from the first byte ("SMTPS", port 465)
)

// SMTPConfig says how to reach the SMTP server.
type SMTPConfig struct {
	Host     string
	Port     int
	Username string // empty: no AUTH
	Password string
	TLS      TLSMode

	DialTimeout time.Duration // connecting; default 10s
	SendTimeout time.Duration // the greeting, TLS and AUTH after connecting, and each send; default 15s
	Connections int           // connections kept to the server; default DefaultSMTPConnections

	DKIM *DKIM // signs every message when set
}

// String describes the configuration without the password.
func (c SMTPConfig) String() string {
	u := url.URL{Scheme: "smtp", Host: net.JoinHostPort(c.Host, strconv.Itoa(c.Port)), RawQuery: "tls=" + string(c.TLS)}
	if c.Username != "" {
		u.User = url.User(c.Username)
	}
	return u.String()
}

// ParseSMTPURL reads smtp://user:pass@host:port?tls=none|starttls|implicit.
// tls defaults to starttls and the port to 587, or 465 for implicit TLS. The
// user and password are percent-decoded. Errors never repeat the password.
func ParseSMTPURL(raw string) (SMTPConfig, error) {
	fail := func(format string, args ...any) (SMTPConfig, error) {
		return SMTPConfig{}, fmt.Errorf("SMTP URL: "+format, args...)
	}
	if strings.TrimSpace(raw) == "" {
		return fail("empty; want smtp://user:password@host:port?tls=starttls")
	}
	u, err := url.Parse(raw)
	if err != nil {
		// The parser's message quotes pieces of the URL, perhaps of the password.
		return fail("not a valid URL; percent-encode special characters in the user name and password (/ as %%2F, @ as %%40, : as %%3A, %% as %%25)")
	}
	if strings.Contains(u.EscapedPath()+u.RawQuery+u.Fragment, "@") || (u.User == nil && strings.Contains(raw, "@")) {
		// An unencoded / ? or # in the password ended the host early.
		return fail("not a valid URL; percent-encode special characters in the user name and password (/ as %%2F, ? as %%3F, # as %%23)")
	}
	if u.Scheme != "smtp" {
		return fail("scheme %q is not supported; use smtp:// (choose TLS with ?tls=)", u.Scheme)
	}
	if u.Opaque != "" {
		return fail("want smtp://host:port, with two slashes")
	}
	if u.Path != "" && u.Path != "/" {
		return fail("unexpected path %q; the URL has only a host, a port and ?tls=", u.Path)
	}
	if u.Fragment != "" {
		return fail("unexpected fragment after #")
	}
	cfg := SMTPConfig{TLS: TLSStartTLS}
	if u.User != nil {
		cfg.Username = u.User.Username()
		cfg.Password, _ = u.User.Password()
		if cfg.Username == "" && cfg.Password != "" {
			return fail("a password without a user name")
		}
		if hasControl(cfg.Username) || hasControl(cfg.Password) {
			return fail("the user name or password contains a control character")
		}
	}
	cfg.Host = u.Hostname()
	if cfg.Host == "" {
		return fail("no host")
	}
	if !validHost(cfg.Host, strings.HasPrefix(u.Host, "[")) {
		return fail("invalid host %q; want a DNS name, an IPv4 address or an IPv6 address in [brackets]", cfg.Host)
	}
	query, err := url.ParseQuery(u.RawQuery)
	if err != nil {
		return fail("invalid query: %v", err)
	}
	for key, values := range query {
		if key != "tls" {
			return fail("unknown parameter %q; the only parameter is tls=none|starttls|implicit", key)
		}
		if len(values) != 1 {
			return fail("tls is given %d times", len(values))
		}
		switch mode := TLSMode(values[0]); mode {
		case TLSNone, TLSStartTLS, TLSImplicit:
			cfg.TLS = mode
		default:
			return fail("tls=%q is not one of none, starttls, implicit", values[0])
		}
	}
	if port := u.Port(); port != "" {
		n, err := strconv.Atoi(port)
		if err != nil || n < 1 || n > 65535 {
			return fail("port %q is not a number from 1 to 65535", port)
		}
		cfg.Port = n
	} else if strings.HasSuffix(u.Host, ":") {
		return fail("empty port after the host")
	} else if cfg.TLS == TLSImplicit {
		cfg.Port = 465
	} else {
		cfg.Port = 587
	}
	return cfg, nil
}

// validHost accepts a DNS name or IPv4 address, or an IPv6 address when it
// was written in brackets.
func validHost(host string, bracketed bool) bool {
	if bracketed {
		ip, err := netip.ParseAddr(host)
		return err == nil && ip.Is6() && ip.Zone() == ""
	}
	for _, c := range host {
		if !(c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || c == '-' || c == '.' || c == '_') {
			return false
		}
	}
	return true
}

// hasControl reports whether s contains a control character, which no SMTP
// user name or password may carry (AUTH PLAIN separates its fields with NUL).
func hasControl(s string) bool {
	return strings.ContainsFunc(s, func(r rune) bool { return r < 0x20 || r == 0x7f })
}
