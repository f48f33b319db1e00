package main

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"os/exec"
	"path/filepath"
	"sort"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/casegate/casegate/internal/testcases"
	"github.com/casegate/casegate/internal/testenv"
)

// This file holds what the multi-instance test needs around it: the casegate
// binary, instances of it as separate processes, a mail server that takes
// connections and never answers, and a small HTTP client.

// buildCasegate builds this command into a temporary folder and returns the binary's path.
func buildCasegate(t *testing.T) string {
	t.Helper()
	bin := filepath.Join(t.TempDir(), "casegate")
	cmd := exec.CommandContext(t.Context(), "go", "build", "-o", bin, ".")
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("go build: %v\n%s", err, out)
	}
	return bin
}

// cluster is several `casegate serve` processes on one database.
type cluster struct {
	t   *testing.T
	bin string
	env []string // CASEGATE_… settings shared by every process
	// front, when set, is the balancer in front of the instances: url then
	// sends every request there, and the balancer picks the instance.
	front string

	mu        sync.Mutex
	instances []*instance
}

// instance is one running `casegate serve` process.
type instance struct {
	cmd    *exec.Cmd
	base   string // http://127.0.0.1:port
	stderr *testenv.LogBuffer
	done   chan struct{} // closed when the process has exited
}

// command runs a one-shot casegate subcommand with the cluster's settings
// and returns its standard output.
func (c *cluster) command(args ...string) (string, error) {
	var out, errOut bytes.Buffer
	cmd := exec.CommandContext(c.t.Context(), c.bin, args...)
	cmd.Env = c.env
	cmd.Stdout, cmd.Stderr = &out, &errOut
	err := cmd.Run()
	if err != nil {
		return out.String(), fmt.Errorf("casegate %s: %w\n%s%s", strings.Join(args, " "), err, out.String(), errOut.String())
	}
	return out.String(), nil
}

// importAndStart imports cases cases (writeCases) and starts n instances,
// stopped when the test ends; their logs are shown if it has failed.
func (c *cluster) importAndStart(t *testing.T, cases, n int) {
	t.Helper()
	if out, err := c.command("import", writeCases(t, cases)); err != nil || !strings.Contains(out, fmt.Sprintf("%d created", cases)) {
		t.Fatalf("import: %v\n%s", err, out)
	}
	t.Cleanup(c.stopAll)
	t.Cleanup(func() {
		if t.Failed() {
			t.Log(c.logs())
		}
	})
	for i := range n {
		c.start(t, i)
	}
}

// start starts instance i (again, after a kill) and waits until it serves;
// t is the running (sub)test.
func (c *cluster) start(t *testing.T, i int) {
	t.Helper()
	in := c.launch(t, fmt.Sprintf("instance %d", i))
	c.mu.Lock()
	for len(c.instances) <= i {
		c.instances = append(c.instances, nil)
	}
	c.instances[i] = in
	c.mu.Unlock()
}

// launch starts `casegate serve` on a free port with the cluster's settings
// and then extra ones (later settings win), and waits until it serves.
func (c *cluster) launch(t *testing.T, name string, extra ...string) *instance {
	t.Helper()
	cmd := exec.Command(c.bin, "serve")
	cmd.Env = append(append(append([]string(nil), c.env...), "CASEGATE_LISTEN=127.0.0.1:0"), extra...)
	in := &instance{cmd: cmd, stderr: &testenv.LogBuffer{}, done: make(chan struct{})}
	cmd.Stderr = in.stderr
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	go func() {
		cmd.Wait()
		close(in.done)
	}()
	for deadline := time.Now().Add(30 * time.Second); ; {
		if u, ok := servingURLIn(in.stderr.String()); ok {
			in.base = u
			return in
		}
		select {
		case <-in.done:
			t.Fatalf("%s exited before serving:\n%s", name, in.stderr.String())
		case <-time.After(20 * time.Millisecond):
		}
		if time.Now().After(deadline) {
			cmd.Process.Kill()
			t.Fatalf("%s did not start within 30s:\n%s", name, in.stderr.String())
		}
	}
}

// stop ends the instance with SIGTERM and fails t unless it exits cleanly
// within 20 seconds.
func (in *instance) stop(t *testing.T, name string) {
	t.Helper()
	select {
	case <-in.done:
	default:
		in.cmd.Process.Signal(syscall.SIGTERM)
	}
	select {
	case <-in.done:
		if code := in.cmd.ProcessState.ExitCode(); code != 0 && code != -1 {
			t.Errorf("%s exited with %d:\n%s", name, code, in.stderr.String())
		}
	case <-time.After(20 * time.Second):
		in.cmd.Process.Kill()
		t.Errorf("%s did not stop within 20s of SIGTERM", name)
	}
}

// get returns instance i.
func (c *cluster) get(i int) *instance {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.instances[i]
}

// url returns the address of path on instance i mod the number of
// instances, or through the balancer when the cluster has one.
func (c *cluster) url(i int, path string) string {
	if c.front != "" {
		return c.front + path
	}
	return c.direct(i, path)
}

// direct returns the address of path on instance i mod the number of
// instances, bypassing any balancer.
func (c *cluster) direct(i int, path string) string {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.instances[i%len(c.instances)].base + path
}

// kill ends instance i with SIGKILL: no shutdown, no lease handed back.
func (c *cluster) kill(t *testing.T, i int) {
	t.Helper()
	in := c.get(i)
	if err := in.cmd.Process.Signal(syscall.SIGKILL); err != nil {
		t.Fatalf("kill instance %d: %v", i, err)
	}
	<-in.done
}

// pid returns the process id of instance i.
func (c *cluster) pid(i int) int { return c.get(i).cmd.Process.Pid }

// stopAll ends every running instance with SIGTERM, as an orchestrator would,
// and fails the test when one does not exit cleanly within 20 seconds.
func (c *cluster) stopAll() {
	c.mu.Lock()
	instances := append([]*instance(nil), c.instances...)
	c.mu.Unlock()
	for _, in := range instances {
		select {
		case <-in.done:
		default:
			in.cmd.Process.Signal(syscall.SIGTERM)
		}
	}
	for i, in := range instances {
		in.stop(c.t, fmt.Sprintf("instance %d", i))
	}
}

// logs returns every instance's standard error, for a failure message.
func (c *cluster) logs() string {
	c.mu.Lock()
	defer c.mu.Unlock()
	var b strings.Builder
	for i, in := range c.instances {
		fmt.Fprintf(&b, "--- instance %d (pid %d)\n%s", i, in.cmd.Process.Pid, in.stderr.String())
	}
	return b.String()
}

// jsonReply is an HTTP answer: the status, the Retry-After header and the JSON body.
type jsonReply struct {
	status     int
	retryAfter string
	body       map[string]any
}

// callJSON sends a JSON request (body may be nil) and decodes the JSON answer.
// headers alternate names and values.
func callJSON(ctx context.Context, method, url string, body any, headers ...string) (jsonReply, error) {
	var r io.Reader
	if body != nil {
		b, err := json.Marshal(body)
		if err != nil {
			return jsonReply{}, err
		}
		r = bytes.NewReader(b)
	}
	req, err := http.NewRequestWithContext(ctx, method, url, r)
	if err != nil {
		return jsonReply{}, err
	}
	if body != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	for i := 0; i+1 < len(headers); i += 2 {
		req.Header.Set(headers[i], headers[i+1])
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return jsonReply{}, err
	}
	defer resp.Body.Close()
	out := jsonReply{status: resp.StatusCode, retryAfter: resp.Header.Get("Retry-After")}
	if err := json.NewDecoder(resp.Body).Decode(&out.body); err != nil && err != io.EOF {
		return out, fmt.Errorf("%s %s: %d with a body that is not JSON: %w", method, url, resp.StatusCode, err)
	}
	return out, nil
}

// statusCounts counts replies by status, for messages: "202×5 429×10".
func statusCounts(replies []jsonReply) string {
	n := map[int]int{}
	for _, r := range replies {
		n[r.status]++
	}
	var keys []int
	for k := range n {
		keys = append(keys, k)
	}
	sort.Ints(keys)
	var parts []string
	for _, k := range keys {
		parts = append(parts, fmt.Sprintf("%d×%d", k, n[k]))
	}
	return strings.Join(parts, " ")
}

// writeCases writes n cases as JSON Lines (testcases.WriteJSONL): receipt
// IOE08000000NN, "Ana Prueba", and the email personNN@example.com.
func writeCases(t *testing.T, n int) string { return testcases.WriteJSONL(t, multiReceipts, n) }

// multiReceipts starts the receipt numbers of the multi-instance cases.
const multiReceipts = "IOE08000000"

func receiptN(i int) string { return testcases.Receipt(multiReceipts, i) }
func emailN(i int) string   { return testcases.Email(i) }

// codeRequestFor is the body asking for a code for case i's party.
func codeRequestFor(receipt string) map[string]string { return testcases.CodeRequest(receipt) }
