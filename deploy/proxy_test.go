package deploy

import (
	"bytes"
	"context"
	"crypto/tls"
	"crypto/x509"
	"encoding/json"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/http/cookiejar"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/casegate/casegate"
	"github.com/casegate/casegate/internal/smtptest"
	"github.com/casegate/casegate/internal/testcases"
	"github.com/casegate/casegate/internal/testenv"
)

// This file holds what the proxy tests share: casegate behind a proxy, the
// walk through it, and the clients.

// proxied is a casegate serve started for a proxy to stand in front of.
type proxied struct {
	port int
	mail *smtptest.Server
	logs *testenv.LogBuffer
}

// startBehindProxy starts a real `casegate serve` on a free port of
// 127.0.0.1, with public as CASEGATE_PUBLIC_URL, 127.0.0.1 as its trusted
// proxy, one code request per client address per hour, a real SMTP server
// and three cases (testcases.WriteJSONL), and waits until it answers.
func startBehindProxy(t *testing.T, public string) *proxied {
	t.Helper()
	bin := casegateBinary(t)
	dir := t.TempDir()
	app := &proxied{port: testenv.FreePort(t), mail: smtptest.Start(t)}
	env := append(os.Environ(),
		"CASEGATE_DB="+filepath.Join(dir, "casegate.db"),
		"CASEGATE_SECRET_FILE="+filepath.Join(dir, "secret.key"),
		"CASEGATE_SMTP_URL="+app.mail.URL(),
		"CASEGATE_PUBLIC_URL="+public,
		"CASEGATE_TRUSTED_PROXIES=127.0.0.1/32",
		fmt.Sprintf("CASEGATE_LISTEN=127.0.0.1:%d", app.port),
		"CASEGATE_LIMIT_REQUESTS_PER_IP=1/1h",
		"CASEGATE_LOG_LEVEL=warn",
	)
	casegate := func(args ...string) {
		t.Helper()
		cmd := exec.CommandContext(t.Context(), bin, args...)
		cmd.Env = env
		if out, err := cmd.CombinedOutput(); err != nil {
			t.Fatalf("casegate %s: %v\n%s", strings.Join(args, " "), err, out)
		}
	}
	casegate("migrate")
	casegate("import", testcases.WriteJSONL(t, proxyReceipts, 3))
	serve := startProcess(t, env, bin, "serve")
	app.logs = serve.logs
	if !testenv.Eventually(30*time.Second, func() bool {
		resp, err := http.Get(fmt.Sprintf("http://127.0.0.1:%d/healthz", app.port))
		if err == nil {
			resp.Body.Close()
		}
		return err == nil && resp.StatusCode == 200
	}) {
		t.Fatalf("casegate serve did not answer /healthz within 30s:\n%s", serve.logs.String())
	}
	return app
}

// waitTLS waits until a TLS handshake with 127.0.0.1:port for localhost
// succeeds trusting roots() (which may be empty until the proxy made its
// certificates) and returns those roots.
func waitTLS(t *testing.T, port int, roots func() *x509.CertPool) *x509.CertPool {
	t.Helper()
	var pool *x509.CertPool
	if !testenv.Eventually(30*time.Second, func() bool {
		if pool = roots(); pool == nil {
			return false
		}
		c, err := tls.Dial("tcp", fmt.Sprintf("127.0.0.1:%d", port), &tls.Config{RootCAs: pool, ServerName: "localhost"})
		if err != nil {
			return false
		}
		c.Close()
		return true
	}) {
		t.Fatalf("no TLS handshake with the proxy on 127.0.0.1:%d within 30s", port)
	}
	return pool
}

// walkBehindProxy walks the flow through a TLS proxy at public (plain
// HTTP at plain) in front of app, trusting only roots:
//
//   - plain HTTP is redirected to the same path over HTTPS;
//   - a code requested over HTTPS arrives by real SMTP and redeems, the
//     session is the Secure, HttpOnly __Host- cookie, and the dashboard
//     answers with it; every answer carries HSTS, once;
//   - the per-address limit keys on the address the proxy saw: a second
//     request from one client is refused whatever X-Forwarded-For it sends,
//     while a client from another address (the proxy itself connects from
//     127.0.0.1) still gets its code;
//   - the request ID is the one the proxy made (it matches proxyID), not
//     an X-Request-ID the client sent, which casegate would otherwise
//     believe as it trusts the proxy;
//   - an unsubscribe token in the query string is not in the proxy's
//     access log (accessLog returns what it has written so far), though
//     the request is.
//
// Clients connect from 127.0.0.2 and 127.0.0.3, other addresses of the
// loopback network, so each is a client of its own.
func walkBehindProxy(t *testing.T, public, plain string, roots *x509.CertPool, app *proxied, proxyID *regexp.Regexp, accessLog func() string) {
	t.Helper()
	a, b := newClient(t, "127.0.0.2", roots), newClient(t, "127.0.0.3", roots)

	t.Run("RequestIDIsTheProxys", func(t *testing.T) {
		req, err := http.NewRequestWithContext(t.Context(), http.MethodGet, public+"/healthz", nil)
		if err != nil {
			t.Fatal(err)
		}
		const forged = "forged-by-client"
		req.Header.Set("X-Request-ID", forged)
		resp, err := a.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		got := resp.Header.Get("X-Request-ID")
		if got == forged {
			t.Fatalf("X-Request-ID: %q, the client's own: the proxy passed it on and casegate believed it", got)
		}
		if !proxyID.MatchString(got) || !casegate.ValidRequestID(got) {
			t.Errorf("X-Request-ID: %q, want one the proxy made (%s)", got, proxyID)
		}
	})

	t.Run("UnsubscribeTokenNotInAccessLog", func(t *testing.T) {
		const token = "SECRETTOKEN"
		resp, err := a.Get(public + "/unsubscribe?t=" + token)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		if !testenv.Eventually(10*time.Second, func() bool { return strings.Contains(accessLog(), "/unsubscribe") }) {
			t.Fatalf("the proxy's access log has no line for /unsubscribe within 10s:\n%s", accessLog())
		}
		if log := accessLog(); strings.Contains(log, token) {
			t.Errorf("the proxy's access log holds the unsubscribe token:\n%s", log)
		}
	})

	t.Run("PlainHTTPRedirects", func(t *testing.T) {
		resp, err := a.Get(plain + "/dashboard?lang=en")
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		if resp.StatusCode != http.StatusPermanentRedirect && resp.StatusCode != http.StatusMovedPermanently {
			t.Errorf("plain HTTP: %d, want a permanent redirect", resp.StatusCode)
		}
		if got, want := resp.Header.Get("Location"), public+"/dashboard?lang=en"; got != want {
			t.Errorf("plain HTTP redirects to %q, want %q", got, want)
		}
	})

	t.Run("SignInOverHTTPS", func(t *testing.T) {
		r := postJSON(t, a, public+"/api/v1/access-codes", codeRequest(0), "203.0.113.50")
		if r.status != http.StatusAccepted {
			t.Fatalf("request a code over HTTPS: %d %s", r.status, r.body)
		}
		requireHSTS(t, r.header)
		var asked struct {
			RequestID string `json:"request_id"`
		}
		if err := json.Unmarshal(r.body, &asked); err != nil || asked.RequestID == "" {
			t.Fatalf("code request answer %s: %v", r.body, err)
		}
		code := testcases.WaitCode(t, app.mail, testcases.Email(0))
		r = postJSON(t, a, public+"/api/v1/sessions", map[string]string{"request_id": asked.RequestID, "code": code}, "")
		if r.status != http.StatusCreated {
			t.Fatalf("redeem over HTTPS: %d %s", r.status, r.body)
		}
		var session *http.Cookie
		for _, c := range r.cookies {
			if c.Name == "__Host-casegate_session" {
				session = c
			}
		}
		if session == nil {
			t.Fatalf("redeem set no __Host-casegate_session cookie; Set-Cookie: %q", r.header.Values("Set-Cookie"))
		}
		if !session.Secure || !session.HttpOnly || session.Path != "/" || session.Domain != "" {
			t.Errorf("session cookie %q: want Secure, HttpOnly, Path=/ and no Domain (the __Host- rules)", session.String())
		}

		// The jar sends the cookie back only over HTTPS, to this host.
		resp, err := a.Get(public + "/dashboard")
		if err != nil {
			t.Fatal(err)
		}
		page, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		if resp.StatusCode != http.StatusOK || !bytes.Contains(page, []byte(receiptN(0))) {
			t.Errorf("GET /dashboard with the session: %d, want 200 showing %s", resp.StatusCode, receiptN(0))
		}
		requireHSTS(t, resp.Header)
	})

	t.Run("LimitKeysOnTheAddressTheProxySaw", func(t *testing.T) {
		// Client a spent its one request above; another X-Forwarded-For
		// of its own choosing does not buy it a second.
		if r := postJSON(t, a, public+"/api/v1/access-codes", codeRequest(1), "198.51.100.9"); r.status != http.StatusTooManyRequests {
			t.Errorf("second request from 127.0.0.2, claiming to be 198.51.100.9: %d %s, want 429", r.status, r.body)
		}
		// Another client is another address: it is not counted with a, nor
		// with Caddy's own 127.0.0.1.
		if r := postJSON(t, b, public+"/api/v1/access-codes", codeRequest(2), "203.0.113.50"); r.status != http.StatusAccepted {
			t.Errorf("first request from 127.0.0.3: %d %s, want 202", r.status, r.body)
		}
	})
}

// requireHSTS fails t unless h carries exactly one Strict-Transport-Security
// of at least a year.
func requireHSTS(t *testing.T, h http.Header) {
	t.Helper()
	v := h.Values("Strict-Transport-Security")
	if len(v) != 1 || !regexp.MustCompile(`max-age=([0-9]{8,})`).MatchString(v[0]) {
		t.Errorf("Strict-Transport-Security: %q, want one header with a max-age of a year or more", v)
	}
}

// newClient is an HTTPS client that trusts only roots and connects from
// the loopback address from, to 127.0.0.1 whatever the URL's host, and
// follows no redirect.
func newClient(t *testing.T, from string, roots *x509.CertPool) *http.Client {
	t.Helper()
	jar, err := cookiejar.New(nil)
	if err != nil {
		t.Fatal(err)
	}
	d := &net.Dialer{LocalAddr: &net.TCPAddr{IP: net.ParseIP(from)}, Timeout: 10 * time.Second}
	return &http.Client{
		Jar:     jar,
		Timeout: 30 * time.Second,
		Transport: &http.Transport{
			TLSClientConfig: &tls.Config{RootCAs: roots},
			DialContext: func(ctx context.Context, network, addr string) (net.Conn, error) {
				_, port, err := net.SplitHostPort(addr)
				if err != nil {
					return nil, err
				}
				return d.DialContext(ctx, "tcp4", net.JoinHostPort("127.0.0.1", port))
			},
		},
		CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse },
	}
}

// reply is an HTTP answer read whole.
type reply struct {
	status  int
	header  http.Header
	cookies []*http.Cookie
	body    []byte
}

// postJSON posts body as JSON, with X-Forwarded-For set to xff unless it is
// empty, and reads the answer.
func postJSON(t *testing.T, c *http.Client, url string, body any, xff string) reply {
	t.Helper()
	b, err := json.Marshal(body)
	if err != nil {
		t.Fatal(err)
	}
	req, err := http.NewRequestWithContext(t.Context(), http.MethodPost, url, bytes.NewReader(b))
	if err != nil {
		t.Fatal(err)
	}
	req.Header.Set("Content-Type", "application/json")
	if xff != "" {
		req.Header.Set("X-Forwarded-For", xff)
	}
	resp, err := c.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	out, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatal(err)
	}
	return reply{status: resp.StatusCode, header: resp.Header, cookies: resp.Cookies(), body: out}
}

// process is a program the test started and stops at its end.
type process struct {
	cmd  *exec.Cmd
	logs *testenv.LogBuffer
	done chan struct{}
}

// startProcess starts name with args and env, its output kept for failure
// messages, and stops it with SIGTERM (SIGKILL after 20 s) when t ends.
func startProcess(t *testing.T, env []string, name string, args ...string) *process {
	t.Helper()
	p := &process{cmd: exec.Command(name, args...), logs: &testenv.LogBuffer{}, done: make(chan struct{})}
	p.cmd.Env = env
	p.cmd.Stdout, p.cmd.Stderr = p.logs, p.logs
	if err := p.cmd.Start(); err != nil {
		t.Fatalf("start %s: %v", name, err)
	}
	go func() {
		p.cmd.Wait()
		close(p.done)
	}()
	t.Cleanup(func() {
		p.cmd.Process.Signal(syscall.SIGTERM)
		select {
		case <-p.done:
		case <-time.After(20 * time.Second):
			p.cmd.Process.Kill()
			<-p.done
		}
	})
	return p
}

// proxyReceipts starts the receipt numbers of the cases behind the proxy.
const proxyReceipts = "IOE09000000"

func receiptN(i int) string               { return testcases.Receipt(proxyReceipts, i) }
func codeRequest(i int) map[string]string { return testcases.CodeRequest(receiptN(i)) }
