package deploy

import (
	"crypto/x509"
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"testing"

	"github.com/casegate/casegate/internal/testenv"
)

// TestCaddyTLS runs the shipped Caddyfile, adapted only in its name, ports
// and storage, with `tls internal`, in front of a real `casegate serve`
// (startBehindProxy), and walks the flow over HTTPS trusting Caddy's own
// local root (walkBehindProxy).
func TestCaddyTLS(t *testing.T) {
	caddy := testenv.Tool(t, testenv.NameCaddy, "caddy")
	dir := t.TempDir()
	httpPort, httpsPort := testenv.FreePort(t), testenv.FreePort(t)
	public := fmt.Sprintf("https://localhost:%d", httpsPort)
	app := startBehindProxy(t, public)

	// The shipped Caddyfile, on this machine: local ports, storage in dir,
	// the internal CA, no admin endpoint, casegate's port. The HTTPS port is
	// in the site's address and not Caddy's https_port, which Caddy takes
	// for the standard port and leaves out of its redirects.
	storage := filepath.Join(dir, "caddy")
	conf := replaceAll(t, readFile(t, "Caddyfile"),
		"email ops@example.gov", fmt.Sprintf("email ops@example.gov\n\thttp_port %d\n\tadmin off\n\tskip_install_trust\n\tstorage file_system {\n\t\troot %s\n\t}", httpPort, storage),
		"status.example.gov {", fmt.Sprintf("localhost:%d {\n\ttls internal", httpsPort),
		"reverse_proxy 127.0.0.1:8080", fmt.Sprintf("reverse_proxy 127.0.0.1:%d", app.port))
	confFile := filepath.Join(dir, "Caddyfile")
	if err := os.WriteFile(confFile, []byte(conf), 0o644); err != nil {
		t.Fatal(err)
	}
	proxy := startProcess(t, append(os.Environ(), "HOME="+dir, "XDG_DATA_HOME="+filepath.Join(dir, "data"), "XDG_CONFIG_HOME="+filepath.Join(dir, "config")),
		caddy, "run", "--adapter", "caddyfile", "--config", confFile)
	defer func() {
		if t.Failed() {
			t.Logf("casegate:\n%s\ncaddy:\n%s", app.logs.String(), proxy.logs.String())
		}
	}()

	// Caddy's local root, once it has made it, is all the clients trust.
	rootFile := filepath.Join(storage, "pki", "authorities", "local", "root.crt")
	roots := waitTLS(t, httpsPort, func() *x509.CertPool {
		pemBytes, err := os.ReadFile(rootFile)
		pool := x509.NewCertPool()
		if err != nil || !pool.AppendCertsFromPEM(pemBytes) {
			return nil
		}
		return pool
	})
	// Caddy's request IDs are UUIDs; its access log is on its stderr.
	uuid := regexp.MustCompile(`^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$`)
	walkBehindProxy(t, public, fmt.Sprintf("http://localhost:%d", httpPort), roots, app, uuid, proxy.logs.String)
}
