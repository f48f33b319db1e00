package deploy

import (
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/pem"
	"fmt"
	"math/big"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/casegate/casegate/internal/testenv"
)

// TestNginxConfig: `nginx -t` accepts deploy/nginx.conf as Debian's nginx
// includes it, inside http { }, with its certificate paths pointing at a
// real certificate; and the file sets X-Forwarded-For to the address nginx
// saw and X-Request-ID to its own, redirects plain HTTP and leaves HSTS to
// casegate.
func TestNginxConfig(t *testing.T) {
	nginx := testenv.Tool(t, testenv.NameNginx, "nginx-light")
	dir := t.TempDir()
	cert, key := selfSigned(t, dir, "status.example.gov")
	site := replaceAll(t, readFile(t, "nginx.conf"),
		"/etc/letsencrypt/live/status.example.gov/fullchain.pem", cert,
		"/etc/letsencrypt/live/status.example.gov/privkey.pem", key)
	if err := os.WriteFile(filepath.Join(dir, "casegate.conf"), []byte(site), 0o644); err != nil {
		t.Fatal(err)
	}
	conf := nginxMain(t, dir)
	out, err := exec.CommandContext(t.Context(), nginx, "-t", "-q", "-e", filepath.Join(dir, "error.log"), "-p", dir, "-c", conf).CombinedOutput()
	if err != nil {
		t.Fatalf("nginx -t: %v\n%s", err, out)
	}
	// The directives, without comments.
	var directives strings.Builder
	for line := range strings.SplitSeq(site, "\n") {
		line, _, _ = strings.Cut(line, "#")
		directives.WriteString(strings.TrimSpace(line) + "\n")
	}
	site = directives.String()
	for _, want := range []string{"proxy_set_header X-Forwarded-For $remote_addr;", "return 308 https://", "proxy_set_header X-Forwarded-Proto $scheme;", "proxy_set_header X-Request-ID $request_id;"} {
		if !strings.Contains(site, want) {
			t.Errorf("nginx.conf lacks %q", want)
		}
	}
	if strings.Contains(site, "$http_x_forwarded_for") {
		t.Error("nginx.conf passes the client's own X-Forwarded-For on as the last hop: casegate would believe an address the client chose")
	}
	if strings.Contains(strings.ToLower(site), "add_header strict-transport-security") {
		t.Error("nginx.conf sets HSTS too: casegate sends it, and two would disagree")
	}
}

// nginxMain writes, in dir, a main nginx configuration of its own (pid,
// logs and temporary files in dir; the access log in nginx's combined
// format, as Debian's) whose http block includes dir/casegate.conf, as
// Debian's includes conf.d/*.conf, and returns its path.
func nginxMain(t *testing.T, dir string) string {
	t.Helper()
	for _, d := range []string{"body", "proxy", "fastcgi", "uwsgi", "scgi"} {
		if err := os.Mkdir(filepath.Join(dir, d), 0o700); err != nil {
			t.Fatal(err)
		}
	}
	main := strings.NewReplacer("DIR", dir).Replace(`pid DIR/nginx.pid;
error_log DIR/error.log;
events {}
http {
	access_log DIR/access.log;
	client_body_temp_path DIR/body;
	proxy_temp_path DIR/proxy;
	fastcgi_temp_path DIR/fastcgi;
	uwsgi_temp_path DIR/uwsgi;
	scgi_temp_path DIR/scgi;
	include DIR/casegate.conf;
}
`)
	conf := filepath.Join(dir, "nginx.conf")
	if err := os.WriteFile(conf, []byte(main), 0o644); err != nil {
		t.Fatal(err)
	}
	return conf
}

// TestNginxTLS runs real nginx with the shipped nginx.conf, adapted only in
// its name, ports, certificate, upstream and log directory, in front of a real `casegate
// serve` (startBehindProxy), and walks the flow over HTTPS as TestCaddyTLS
// does (walkBehindProxy). The limit part fails if the configuration passed
// a client's own X-Forwarded-For on instead of the address nginx saw.
func TestNginxTLS(t *testing.T) {
	nginx := testenv.Tool(t, testenv.NameNginx, "nginx-light")
	dir := t.TempDir()
	httpPort, httpsPort := testenv.FreePort(t), testenv.FreePort(t)
	public := fmt.Sprintf("https://localhost:%d", httpsPort)
	app := startBehindProxy(t, public)
	cert, key := selfSigned(t, dir, "localhost")
	site := replaceAll(t, readFile(t, "nginx.conf"),
		"https://status.example.gov$request_uri", public+"$request_uri",
		"server_name status.example.gov;", "server_name localhost;",
		"listen 80;", fmt.Sprintf("listen 127.0.0.1:%d;", httpPort),
		"listen [::]:80;", "",
		"listen 443 ssl http2;", fmt.Sprintf("listen 127.0.0.1:%d ssl http2;", httpsPort),
		"listen [::]:443 ssl http2;", "",
		"/etc/letsencrypt/live/status.example.gov/fullchain.pem", cert,
		"/etc/letsencrypt/live/status.example.gov/privkey.pem", key,
		"server 127.0.0.1:8080;", fmt.Sprintf("server 127.0.0.1:%d;", app.port))
	site = strings.ReplaceAll(site, "/var/log/nginx/", dir+"/")
	if err := os.WriteFile(filepath.Join(dir, "casegate.conf"), []byte(site), 0o644); err != nil {
		t.Fatal(err)
	}
	conf := nginxMain(t, dir)
	proxy := startProcess(t, os.Environ(), nginx, "-e", filepath.Join(dir, "error.log"), "-p", dir, "-c", conf, "-g", "daemon off;")
	defer func() {
		if t.Failed() {
			errlog, _ := os.ReadFile(filepath.Join(dir, "error.log"))
			t.Logf("casegate:\n%s\nnginx:\n%s%s", app.logs.String(), proxy.logs.String(), errlog)
		}
	}()
	pemBytes, err := os.ReadFile(cert)
	if err != nil {
		t.Fatal(err)
	}
	roots := x509.NewCertPool()
	roots.AppendCertsFromPEM(pemBytes)
	waitTLS(t, httpsPort, func() *x509.CertPool { return roots })
	// nginx's $request_id is 32 hex digits; its access log is in dir.
	accessLog := func() string {
		b, _ := os.ReadFile(filepath.Join(dir, "access.log"))
		return string(b)
	}
	walkBehindProxy(t, public, fmt.Sprintf("http://localhost:%d", httpPort), roots, app, regexp.MustCompile(`^[0-9a-f]{32}$`), accessLog)
}

// selfSigned writes a self-signed certificate for host and its key, PEM, in
// dir and returns their paths.
func selfSigned(t *testing.T, dir, host string) (certFile, keyFile string) {
	t.Helper()
	k, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	tmpl := &x509.Certificate{
		SerialNumber: big.NewInt(1), Subject: pkix.Name{CommonName: host}, DNSNames: []string{host},
		NotBefore: time.Now().Add(-time.Hour), NotAfter: time.Now().Add(time.Hour),
		KeyUsage: x509.KeyUsageDigitalSignature | x509.KeyUsageCertSign, ExtKeyUsage: []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth},
		// Its own authority, so a client can trust it as a root.
		IsCA: true, BasicConstraintsValid: true,
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &k.PublicKey, k)
	if err != nil {
		t.Fatal(err)
	}
	kb, err := x509.MarshalPKCS8PrivateKey(k)
	if err != nil {
		t.Fatal(err)
	}
	certFile, keyFile = filepath.Join(dir, "cert.pem"), filepath.Join(dir, "key.pem")
	if err := os.WriteFile(certFile, pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der}), 0o644); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(keyFile, pem.EncodeToMemory(&pem.Block{Type: "PRIVATE KEY", Bytes: kb}), 0o600); err != nil {
		t.Fatal(err)
	}
	return certFile, keyFile
}
