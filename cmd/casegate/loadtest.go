package main

import (
	"bufio"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"maps"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/casegate/casegate/loadtest"
	"github.com/casegate/casegate/portal"
	"github.com/casegate/casegate/store"
	"github.com/casegate/casegate/synth"
)

// loadtestSeed makes every run sign in as the same people.
const loadtestSeed = 7

// relaxedLimits are the limits a load test must lift: it signs the same
// people in again and again, far faster than any person would.
var relaxedLimits = map[string]string{
	"CASEGATE_LIMIT_REQUESTS_PER_IP":         "100000000/1m",
	"CASEGATE_LIMIT_REDEEMS_PER_IP":          "100000000/1m",
	"CASEGATE_LIMIT_REQUESTS_PER_IDENTIFIER": "100000000/1m",
	"CASEGATE_LIMIT_CODES_PER_PARTY":         "100000000/1m",
}

func cmdLoadtest(ctx context.Context, e env, args []string) error {
	fs := newFlagSet("loadtest", e.stderr)
	target := fs.String("target", "", "base URL of a running casegate to drive; it must send mail to -smtp-listen (default: start one)")
	conc := fs.Int("c", 16, "concurrent virtual users")
	duration := fs.Duration("duration", 10*time.Second, "how long to measure")
	warmup := fs.Duration("warmup", 2*time.Second, "how long to run before measuring")
	probeFor := fs.Duration("probe", 3*time.Second, "how long to measure /healthz and /api/v1/me alone (0: skip)")
	cases := fs.Int("cases", 2000, "synthetic cases to load into a spawned server")
	db := fs.String("db", "", "database for a spawned server (default: a temporary SQLite file)")
	asJSON := fs.Bool("json", false, "print the report as JSON")
	serverProfile := fs.String("server-cpuprofile", "", "write a CPU profile of the spawned server to this file")
	spread := fs.Bool("spread-ips", true, "give each virtual user its own X-Forwarded-For address (a spawned server trusts the load generator)")
	instances := fs.Int("instances", 1, "start this many servers on one PostgreSQL database (-db postgres://…) behind Caddy as a round-robin balancer, and drive the load through it")
	caddyPath := fs.String("caddy", "", "the caddy program for -instances (default: caddy on PATH)")
	timing := fs.Int("timing", 0, "instead of the load: measure N interleaved pairs each of matched vs unmatched code requests, real vs decoy resends, and wrong codes on real vs decoy challenges (docs/security.md)")
	rest, err := parseArgs(fs, args)
	if err != nil {
		return err
	}
	if err := noArgs("usage: casegate loadtest [flags]", rest); err != nil {
		return err
	}
	if *timing != 0 {
		return timingRun(ctx, e, *timing, *target, *db, *cases, *asJSON)
	}
	if err := checkInstances(*instances, *target, *db, *serverProfile); err != nil {
		return err
	}
	if *conc < 1 || *conc > 10000 || *duration <= 0 || *warmup < 0 || *cases < *conc {
		return errors.New("loadtest: want -c 1–10000, a positive -duration, and at least -c cases")
	}
	// The load generator allocates per request as the server does; it
	// should leave the machine's CPU to the server it measures.
	defer collectLessOften(e, serveGCPercent, 0)()
	sink, err := loadtest.StartSink()
	if err != nil {
		return err
	}
	defer sink.Close()
	opts := synth.Options{Seed: loadtestSeed}
	ids := identities(synth.New(opts), *cases)
	if len(ids) < *conc {
		return fmt.Errorf("loadtest: only %d people with email among %d cases; raise -cases", len(ids), *cases)
	}
	cfg := loadtest.Config{
		Target: strings.TrimSuffix(*target, "/"), Concurrency: *conc, Warmup: *warmup, Duration: *duration,
		Probe: *probeFor, Identities: ids, Sink: sink, Progress: e.stderr, SpreadIPs: *spread,
	}
	if *instances > 1 {
		stop, err := spawnBehindBalancer(ctx, e, &cfg, *instances, *caddyPath, *db, *cases, opts)
		if err != nil {
			return err
		}
		defer stop()
	} else if cfg.Target == "" {
		srv, err := spawnServer(ctx, e, *db, *cases, opts, sink.URL(), *serverProfile, nil)
		if err != nil {
			return err
		}
		defer srv.stop()
		cfg.Target, cfg.ServerPID = srv.url, srv.cmd.Process.Pid
	} else {
		fmt.Fprintf(e.stderr, "loadtest: driving %s; it must deliver mail to %s\n", cfg.Target, sink.URL())
	}
	fmt.Fprintf(e.stderr, "loadtest: %d virtual users, %v warm-up, %v measured\n", *conc, *warmup, *duration)
	rep, err := loadtest.Run(ctx, cfg)
	if err != nil {
		return err
	}
	if *asJSON {
		enc := json.NewEncoder(e.stdout)
		enc.SetIndent("", "  ")
		return enc.Encode(rep)
	}
	printReport(e.stdout, rep)
	if len(rep.Errors) > 0 {
		return fmt.Errorf("loadtest: %d kinds of error", len(rep.Errors))
	}
	return nil
}

// identities are the applicants with an email address among the first n cases.
func identities(g *synth.Generator, n int) []loadtest.Identity {
	var out []loadtest.Identity
	seen := map[string]bool{}
	for i := 0; i < n; i++ {
		c := g.Case(i)
		for _, p := range c.Parties {
			if p.Role != "applicant" || p.Email == "" || seen[strings.ToLower(p.Email)] {
				continue
			}
			seen[strings.ToLower(p.Email)] = true
			out = append(out, loadtest.Identity{Receipt: c.ReceiptNumber, Given: p.GivenName, Family: p.FamilyName,
				DOB: p.DateOfBirth, Country: p.CountryOfBirth, Email: p.Email})
		}
	}
	return out
}

type spawned struct {
	cmd  *exec.Cmd
	url  string
	dir  string // removed by stop; empty for an instance that shares its folder
	done chan error
}

// prepared is a database loaded with synthetic cases and the secret file
// that signed their import: what every instance started on it shares.
type prepared struct {
	dir, db, secretFile string
}

// spawnServer loads n synthetic cases into a fresh database and starts
// `casegate serve` on it as a child process, mail going to smtpURL.
func spawnServer(ctx context.Context, e env, db string, n int, opts synth.Options, smtpURL, cpuProfile string, extra map[string]string) (*spawned, error) {
	p, err := prepareServer(ctx, e, db, n, opts)
	if err != nil {
		return nil, err
	}
	s, err := p.launch(ctx, e, smtpURL, cpuProfile, extra, true)
	if err != nil {
		os.RemoveAll(p.dir)
		return nil, err
	}
	s.dir = p.dir
	return s, nil
}

// prepareServer migrates db (default: a new SQLite file in a temporary
// folder) and imports n synthetic cases into it.
func prepareServer(ctx context.Context, e env, db string, n int, opts synth.Options) (*prepared, error) {
	dir, err := os.MkdirTemp("", "casegate-loadtest-")
	if err != nil {
		return nil, err
	}
	p := &prepared{dir: dir, db: db, secretFile: filepath.Join(dir, "secret.key")}
	if p.db == "" {
		p.db = filepath.Join(dir, "casegate.db")
	}
	if err := p.load(ctx, e, n, opts); err != nil {
		os.RemoveAll(dir)
		return nil, err
	}
	return p, nil
}

func (p *prepared) load(ctx context.Context, e env, n int, opts synth.Options) error {
	st, err := store.Open(ctx, p.db)
	if err != nil {
		return err
	}
	if err := st.Migrate(ctx); err != nil {
		st.Close()
		return err
	}
	pr, pw := io.Pipe()
	go func() { pw.CloseWithError(synth.Write(pw, n, opts, nil)) }()
	secrets, err := loadKeyring(p.secretFile) // the server's, so the import's audit event verifies
	if err != nil {
		st.Close()
		return err
	}
	res, err := (&portal.Importer{Store: st, Keys: secrets}).Import(ctx, pr, "jsonl", "system:loadtest", nil)
	st.Close()
	if err != nil {
		return fmt.Errorf("loadtest: load cases: %w", err)
	}
	fmt.Fprintf(e.stderr, "loadtest: %d cases loaded into %s\n", res.Created+res.Updated, p.db)
	return nil
}

// launch starts one `casegate serve` on the prepared database and waits
// until it serves; say tells whether to print the lifted limits.
func (p *prepared) launch(ctx context.Context, e env, smtpURL, cpuProfile string, extra map[string]string, say bool) (*spawned, error) {
	self, err := os.Executable()
	if err != nil {
		return nil, err
	}
	env := append(os.Environ(),
		"CASEGATE_DB="+p.db, "CASEGATE_SECRET_FILE="+p.secretFile,
		"CASEGATE_LISTEN=127.0.0.1:0", "CASEGATE_SMTP_URL="+smtpURL, "CASEGATE_LOG_LEVEL=warn",
		"CASEGATE_TRUSTED_PROXIES=127.0.0.1") // the load generator stands in for a load balancer
	if cpuProfile != "" {
		if cpuProfile, err = filepath.Abs(cpuProfile); err != nil {
			return nil, err
		}
		env = append(env, "CASEGATE_CPU_PROFILE="+cpuProfile)
	}
	lifted := maps.Clone(relaxedLimits)
	maps.Copy(lifted, extra)
	for _, k := range slices.Sorted(maps.Keys(lifted)) {
		env = append(env, k+"="+lifted[k])
		if say {
			fmt.Fprintf(e.stderr, "loadtest: %s=%s (lifted for the load)\n", k, lifted[k])
		}
	}
	cmd := exec.Command(self, "serve")
	cmd.Env = env
	out, err := cmd.StderrPipe() // the log, its start line naming the address
	if err != nil {
		return nil, err
	}
	if err := cmd.Start(); err != nil {
		return nil, err
	}
	s := &spawned{cmd: cmd, done: make(chan error, 1)}
	go func() { s.done <- cmd.Wait() }()
	urlc := make(chan string, 1)
	go func() {
		sc := bufio.NewScanner(out)
		sc.Buffer(nil, 1<<20)
		for sc.Scan() {
			if u, ok := servingURL(sc.Bytes()); ok {
				urlc <- u
			}
			fmt.Fprintf(e.stderr, "%s\n", sc.Bytes())
		}
		io.Copy(e.stderr, out)
	}()
	select {
	case s.url = <-urlc:
		fmt.Fprintf(e.stderr, "loadtest: server pid %d at %s\n", cmd.Process.Pid, s.url)
		return s, nil
	case err := <-s.done:
		return nil, fmt.Errorf("loadtest: the server stopped: %v", err)
	case <-time.After(60 * time.Second):
		s.stop()
		return nil, errors.New("loadtest: the server did not start within a minute")
	case <-ctx.Done():
		s.stop()
		return nil, ctx.Err()
	}
}

// maxInstances bounds -instances: each is a process with its own pool of
// database connections.
const maxInstances = 16

// checkInstances refuses -instances other than 1 unless the servers are
// spawned on PostgreSQL. Several processes on one SQLite file do work (its
// lock serialises them), but they share one writer on one machine: that is
// not a way to grow, and a load test through a balancer would measure the
// file lock.
func checkInstances(n int, target, db, profile string) error {
	switch {
	case n == 1:
		return nil
	case n < 1 || n > maxInstances:
		return fmt.Errorf("loadtest: want -instances from 1 to %d", maxInstances)
	case target != "":
		return errors.New("loadtest: -instances starts its own servers and balancer; leave out -target")
	case !store.IsPostgres(db):
		return errors.New("loadtest: -instances needs -db postgres://… (one fresh database or schema that every instance shares); several instances on one SQLite file share its single writer and are not the scale-out path")
	case profile != "":
		return errors.New("loadtest: -server-cpuprofile profiles one server; leave it out with -instances")
	}
	return nil
}

// spawnBehindBalancer loads the cases into db once, starts n servers on it
// sharing one secret file and the same settings, and Caddy in front of them
// (balancerConf); cfg is pointed at Caddy and told the servers' processes.
func spawnBehindBalancer(ctx context.Context, e env, cfg *loadtest.Config, n int, caddy, db string, cases int, opts synth.Options) (stop func(), err error) {
	if caddy == "" {
		if caddy, err = findCaddy(); err != nil {
			return nil, fmt.Errorf("loadtest: %w", err)
		}
	}
	p, err := prepareServer(ctx, e, db, cases, opts)
	if err != nil {
		return nil, err
	}
	var servers []*spawned
	var lb *balancer
	stop = func() {
		if lb != nil {
			lb.stop()
		}
		for _, s := range servers {
			s.stop()
		}
		os.RemoveAll(p.dir)
	}
	var upstreams []string
	for i := range n {
		s, err := p.launch(ctx, e, cfg.Sink.URL(), "", nil, i == 0)
		if err != nil {
			stop()
			return nil, err
		}
		servers = append(servers, s)
		upstreams = append(upstreams, strings.TrimPrefix(s.url, "http://"))
		if i > 0 {
			cfg.MorePIDs = append(cfg.MorePIDs, s.cmd.Process.Pid)
		}
	}
	if lb, err = startBalancer(ctx, caddy, p.dir, upstreams, e.stderr); err != nil {
		stop()
		return nil, fmt.Errorf("loadtest: %w", err)
	}
	fmt.Fprintf(e.stderr, "loadtest: %d servers behind Caddy (pid %d, round robin) at %s\n", n, lb.cmd.Process.Pid, lb.url)
	cfg.Target, cfg.ServerPID = lb.url, servers[0].cmd.Process.Pid
	return stop, nil
}

func (s *spawned) stop() {
	s.cmd.Process.Signal(os.Interrupt)
	select {
	case <-s.done:
	case <-time.After(20 * time.Second):
		s.cmd.Process.Kill()
		<-s.done
	}
	if s.dir != "" {
		os.RemoveAll(s.dir)
	}
}

func printReport(w io.Writer, r loadtest.Report) {
	fmt.Fprintf(w, "full cycles: %d in %.1f s = %.1f cycles/s with %d virtual users\n", r.Cycles, r.DurationSeconds, r.CyclesPerSecond, r.Concurrency)
	tw := tabwriter.NewWriter(w, 0, 4, 2, ' ', tabwriter.AlignRight)
	fmt.Fprintln(tw, "step\tp50 ms\tp95 ms\tp99 ms\tmax ms\t")
	for _, step := range []string{"request", "arrival", "redeem", "me", "cycle"} {
		s := r.Latency[step]
		fmt.Fprintf(tw, "%s\t%.2f\t%.2f\t%.2f\t%.2f\t\n", step, s.P50, s.P95, s.P99, s.Max)
	}
	tw.Flush()
	if r.ServerCPUPerCycleMs > 0 {
		fmt.Fprintf(w, "server CPU per cycle: %.2f ms\n", r.ServerCPUPerCycleMs)
	}
	if r.ServerPeakRSSMB > 0 {
		fmt.Fprintf(w, "server peak RSS: %.1f MB\n", r.ServerPeakRSSMB)
	}
	if r.HealthzRPS > 0 {
		fmt.Fprintf(w, "GET /healthz alone: %.0f req/s; GET /api/v1/me alone: %.0f req/s; ratio %.2f\n", r.HealthzRPS, r.MeRPS, r.MeOverHealthz)
	}
	if len(r.Errors) == 0 {
		fmt.Fprintln(w, "errors: none")
		return
	}
	for kind, n := range r.Errors {
		fmt.Fprintf(w, "error %s: %d\n", kind, n)
	}
}

// timingLimits are lifted, besides relaxedLimits, for the timing
// measurement: resends at once, and as many wrong codes as it enters.
var timingLimits = map[string]string{
	"CASEGATE_RESEND_COOLDOWN":                 "1ms",
	"CASEGATE_LIMIT_PARTY_FAILURES":            "100000000/1m",
	"CASEGATE_LOCK_AFTER_CONSECUTIVE_FAILURES": "100000",
}

// timingRun measures the anti-enumeration timing (loadtest.Timing) and
// fails when a comparison is outside |z| < 3 and 3 %.
func timingRun(ctx context.Context, e env, pairs int, target, db string, cases int, asJSON bool) error {
	if pairs < 10 || pairs > 1_000_000 {
		return errors.New("loadtest: want -timing from 10 to 1000000 pairs")
	}
	sink, err := loadtest.StartSink()
	if err != nil {
		return err
	}
	defer sink.Close()
	opts := synth.Options{Seed: loadtestSeed}
	cfg := loadtest.TimingConfig{Target: strings.TrimSuffix(target, "/"), Pairs: pairs, Identities: identities(synth.New(opts), cases),
		Seed: loadtestSeed, Progress: e.stderr}
	if cfg.Target == "" {
		srv, err := spawnServer(ctx, e, db, cases, opts, sink.URL(), "", timingLimits)
		if err != nil {
			return err
		}
		defer srv.stop()
		cfg.Target = srv.url
	} else {
		fmt.Fprintf(e.stderr, "loadtest: measuring %s; it must trust this host as a proxy and allow what timingLimits lifts\n", cfg.Target)
	}
	cmps, err := loadtest.Timing(ctx, cfg)
	if err != nil {
		return err
	}
	if asJSON {
		enc := json.NewEncoder(e.stdout)
		enc.SetIndent("", "  ")
		if err := enc.Encode(cmps); err != nil {
			return err
		}
	} else {
		tw := tabwriter.NewWriter(e.stdout, 0, 4, 2, ' ', 0)
		fmt.Fprintln(tw, "COMPARISON\tPAIRS\tREAL MEDIAN\tDECOY MEDIAN\tDIFFERENCE\tMANN-WHITNEY Z\t")
		for _, c := range cmps {
			verdict := "ok"
			if !c.Pass {
				verdict = "TELLS APART"
			}
			fmt.Fprintf(tw, "%s\t%d\t%.0f µs\t%.0f µs\t%+.2f %%\t%+.2f\t%s\n", c.Name, c.Pairs, c.RealMedianUS, c.DecoyMedianUS, c.MedianDiffPct, c.Z, verdict)
		}
		if err := tw.Flush(); err != nil {
			return err
		}
	}
	for _, c := range cmps {
		if !c.Pass {
			return fmt.Errorf("loadtest: %s: the two paths can be told apart (z %.2f, medians %+.2f %%)", c.Name, c.Z, c.MedianDiffPct)
		}
	}
	return nil
}
