package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"time"
)

// balancerConf is the Caddyfile of a plain-HTTP round-robin balancer on
// 127.0.0.1:port in front of upstreams (host:port each), as
// docs/deployment.md shows it ("Several instances behind a balancer").
// Caddy passes on the X-Forwarded-For of a client it trusts (here the
// loopback: the load generator stands in for an outer balancer) and adds
// the address it saw; casegate, trusting 127.0.0.1, takes the nearest
// address that is not a proxy.
func balancerConf(port int, upstreams []string) string {
	return fmt.Sprintf(`{
	admin off
	auto_https off
}

http://:%d {
	bind 127.0.0.1
	reverse_proxy %s {
		lb_policy round_robin
		trusted_proxies 127.0.0.1/32 ::1/128
		header_up X-Request-ID {http.request.uuid}
	}
}
`, port, strings.Join(upstreams, " "))
}

// balancer is a running Caddy in front of several instances.
type balancer struct {
	cmd  *exec.Cmd
	url  string        // http://127.0.0.1:port
	done chan struct{} // closed when Caddy has exited; err is then its exit
	err  error
}

// findCaddy returns the path of the caddy program: on PATH or in /usr/bin.
func findCaddy() (string, error) {
	if p, err := exec.LookPath("caddy"); err == nil {
		return p, nil
	}
	if p := "/usr/bin/caddy"; isExecutableFile(p) {
		return p, nil
	}
	return "", errors.New("caddy not found on PATH; install the caddy package (Debian: apt-get install caddy) or pass -caddy")
}

func isExecutableFile(p string) bool {
	fi, err := os.Stat(p)
	return err == nil && !fi.IsDir() && fi.Mode()&0o111 != 0
}

// startBalancer writes balancerConf into dir and runs caddy on it, its log
// going to logs, and waits until /healthz answers 200 through it.
func startBalancer(ctx context.Context, caddy, dir string, upstreams []string, logs io.Writer) (*balancer, error) {
	port, err := freeLoopbackPort()
	if err != nil {
		return nil, err
	}
	conf := filepath.Join(dir, "Caddyfile")
	if err := os.WriteFile(conf, []byte(balancerConf(port, upstreams)), 0o644); err != nil {
		return nil, err
	}
	cmd := exec.Command(caddy, "run", "--adapter", "caddyfile", "--config", conf)
	// Caddy keeps its state under HOME and the XDG folders: the temporary folder.
	cmd.Env = append(os.Environ(), "HOME="+dir, "XDG_DATA_HOME="+filepath.Join(dir, "data"), "XDG_CONFIG_HOME="+filepath.Join(dir, "config"))
	cmd.Stdout, cmd.Stderr = logs, logs
	if err := cmd.Start(); err != nil {
		return nil, fmt.Errorf("start caddy: %w", err)
	}
	b := &balancer{cmd: cmd, url: fmt.Sprintf("http://127.0.0.1:%d", port), done: make(chan struct{})}
	go func() {
		b.err = cmd.Wait()
		close(b.done)
	}()
	client := &http.Client{Timeout: time.Second}
	for deadline := time.Now().Add(30 * time.Second); time.Now().Before(deadline); {
		if resp, err := client.Get(b.url + "/healthz"); err == nil {
			resp.Body.Close()
			if resp.StatusCode == http.StatusOK {
				return b, nil
			}
		}
		select {
		case <-b.done:
			return nil, fmt.Errorf("caddy stopped before serving: %v", b.err)
		case <-ctx.Done():
			b.stop()
			return nil, ctx.Err()
		case <-time.After(50 * time.Millisecond):
		}
	}
	b.stop()
	return nil, errors.New("caddy did not answer /healthz within 30 s")
}

// stop ends Caddy with SIGINT, and kills it after 10 seconds; once it has
// exited, stop does nothing.
func (b *balancer) stop() {
	select {
	case <-b.done:
		return
	default:
	}
	b.cmd.Process.Signal(os.Interrupt)
	select {
	case <-b.done:
	case <-time.After(10 * time.Second):
		b.cmd.Process.Kill()
		<-b.done
	}
}

// freeLoopbackPort returns a TCP port on 127.0.0.1 that was free a moment ago.
func freeLoopbackPort() (int, error) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return 0, err
	}
	defer ln.Close()
	return ln.Addr().(*net.TCPAddr).Port, nil
}
