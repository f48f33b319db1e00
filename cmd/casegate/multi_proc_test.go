package main

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"sort"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

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
	stdout, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	in := &instance{cmd: cmd, stderr: &testenv.LogBuffer{}, done: make(chan struct{})}
	cmd.Stderr = in.stderr
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	serving := make(chan string, 1)
	go func() {
		sc := bufio.NewScanner(stdout)
		re := regexp.MustCompile(`serving on (http://\S+)`)
		for sc.Scan() {
			if m := re.FindStringSubmatch(sc.Text()); m != nil {
				serving <- m[1]
			}
		}
		io.Copy(io.Discard, stdout)
	}()
	go func() {
		cmd.Wait()
		close(in.done)
	}()
	select {
	case in.base = <-serving:
	case <-in.done:
		t.Fatalf("%s exited before serving:\n%s", name, in.stderr.String())
	case <-time.After(30 * time.Second):
		cmd.Process.Kill()
		t.Fatalf("%s did not start within 30s:\n%s", name, in.stderr.String())
	}
	return in
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

// url returns the address of path on instance i mod the number of instances.
func (c *cluster) url(i int, path string) string {
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

// writeCases writes n cases as JSON Lines, one party each: receipt
// IOE08000000NN, "Ana Prueba", and the email personNN@example.com.
func writeCases(t *testing.T, n int) string {
	t.Helper()
	var b bytes.Buffer
	for i := range n {
		line := map[string]any{
			"receipt_number": receiptN(i), "form_type": "I-485", "office": "NBC", "received_on": "2025-03-14",
			"history": []map[string]string{{"status": "received", "at": "2025-03-14T10:00:00Z"}},
			"parties": []map[string]string{{
				"role": "applicant", "given_name": "Ana", "family_name": "Prueba", "date_of_birth": "1990-04-02",
				"country_of_birth": "MX", "email": emailN(i), "language": "en",
			}},
		}
		if err := json.NewEncoder(&b).Encode(line); err != nil {
			t.Fatal(err)
		}
	}
	path := filepath.Join(t.TempDir(), "cases.jsonl")
	if err := os.WriteFile(path, b.Bytes(), 0o600); err != nil {
		t.Fatal(err)
	}
	return path
}

func receiptN(i int) string { return fmt.Sprintf("IOE08000000%02d", i) }
func emailN(i int) string   { return fmt.Sprintf("person%02d@example.com", i) }

// codeRequestFor is the body asking for a code for case i's party.
func codeRequestFor(receipt string) map[string]string {
	return map[string]string{
		"receipt_number": receipt, "given_name": "Ana", "family_name": "Prueba",
		"date_of_birth": "1990-04-02", "country_of_birth": "MX", "channel": "email", "language": "en",
	}
}
