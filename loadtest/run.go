// Package loadtest drives full code sign-in cycles against a casegate server —
// request a code, receive it over SMTP, redeem it, read /api/v1/me — and
// measures throughput, latency by step, code arrival, and the server's CPU
// and memory.
package loadtest

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"slices"
	"sync"
	"sync/atomic"
	"time"
)

// Identity is one person the load generator signs in as.
type Identity struct {
	Receipt, Given, Family, DOB, Country, Email string
}

// Config is one load test run.
type Config struct {
	Target      string // base URL of the server
	Concurrency int
	Warmup      time.Duration
	Duration    time.Duration
	Probe       time.Duration // how long to measure /healthz and /api/v1/me alone
	Identities  []Identity    // shared out among the virtual users; at least Concurrency
	Sink        *Sink         // where the server's mail arrives
	ServerPID   int           // the server process, for CPU and memory; 0 when unknown
	// MorePIDs are further instances of the server behind a balancer:
	// their CPU is added to ServerPID's, and the peak RSS is the largest.
	MorePIDs []int
	// SpreadIPs sends each virtual user's requests with its own
	// X-Forwarded-For address (from 198.18.0.0/15, the range set aside for
	// benchmarks), as traffic through a load balancer arrives. The server
	// must trust the load generator as a proxy.
	SpreadIPs bool
	Progress  io.Writer // nil for none
}

// Report is what a run measured.
type Report struct {
	Concurrency         int                `json:"concurrency"`
	DurationSeconds     float64            `json:"duration_seconds"`
	Cycles              int                `json:"cycles"`
	CyclesPerSecond     float64            `json:"cycles_per_second"`
	Errors              map[string]int     `json:"errors"`
	Latency             map[string]Summary `json:"latency_ms"` // request, arrival, redeem, me, cycle
	ServerCPUPerCycleMs float64            `json:"server_cpu_ms_per_cycle,omitempty"`
	ServerPeakRSSMB     float64            `json:"server_peak_rss_mb,omitempty"`
	HealthzRPS          float64            `json:"healthz_rps"`
	MeRPS               float64            `json:"me_rps"`
	MeOverHealthz       float64            `json:"me_over_healthz"`
}

// Summary is a latency distribution in milliseconds.
type Summary struct {
	P50 float64 `json:"p50"`
	P95 float64 `json:"p95"`
	P99 float64 `json:"p99"`
	Max float64 `json:"max"`
}

func summarize(ds []time.Duration) Summary {
	if len(ds) == 0 {
		return Summary{}
	}
	slices.Sort(ds)
	at := func(p float64) float64 {
		i := int(p*float64(len(ds))+0.999999) - 1
		i = min(max(i, 0), len(ds)-1)
		return float64(ds[i].Microseconds()) / 1000
	}
	return Summary{P50: at(0.50), P95: at(0.95), P99: at(0.99), Max: float64(ds[len(ds)-1].Microseconds()) / 1000}
}

// recorder collects the measurements of the measured window.
type recorder struct {
	mu     sync.Mutex
	on     bool
	steps  map[string][]time.Duration
	errors map[string]int
	cycles int
}

func (r *recorder) step(name string, d time.Duration) {
	r.mu.Lock()
	if r.on {
		r.steps[name] = append(r.steps[name], d)
	}
	r.mu.Unlock()
}

func (r *recorder) fail(kind string) {
	r.mu.Lock()
	if r.on {
		r.errors[kind]++
	}
	r.mu.Unlock()
}

func (r *recorder) done() {
	r.mu.Lock()
	if r.on {
		r.cycles++
	}
	r.mu.Unlock()
}

// Run drives the cycles, then the single-route probes, and reports.
func Run(ctx context.Context, cfg Config) (Report, error) {
	if cfg.Concurrency < 1 || len(cfg.Identities) < cfg.Concurrency {
		return Report{}, fmt.Errorf("loadtest: need at least %d identities, have %d", cfg.Concurrency, len(cfg.Identities))
	}
	client := &http.Client{
		Timeout:   30 * time.Second,
		Transport: &http.Transport{MaxIdleConns: cfg.Concurrency * 2, MaxIdleConnsPerHost: cfg.Concurrency * 2},
	}
	rec := &recorder{steps: map[string][]time.Duration{}, errors: map[string]int{}}
	runCtx, stop := context.WithTimeout(ctx, cfg.Warmup+cfg.Duration)
	defer stop()
	var tokenMu sync.Mutex
	var lastToken string
	var wg sync.WaitGroup
	// Virtual user v signs in as identities v, v+C, v+2C, …: nobody else's.
	perUser := len(cfg.Identities) / cfg.Concurrency
	for v := 0; v < cfg.Concurrency; v++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for n := 0; runCtx.Err() == nil; n++ {
				who := cfg.Identities[v+cfg.Concurrency*(n%perUser)]
				ip := ""
				if cfg.SpreadIPs {
					ip = fmt.Sprintf("198.18.%d.%d", v/250, 1+v%250)
				}
				if tok, ok := cycle(runCtx, client, cfg, rec, who, ip); ok {
					tokenMu.Lock()
					lastToken = tok
					tokenMu.Unlock()
				}
			}
		}()
	}
	// Warm up, then measure.
	select {
	case <-time.After(cfg.Warmup):
	case <-ctx.Done():
		return Report{}, ctx.Err()
	}
	pids := append([]int{cfg.ServerPID}, cfg.MorePIDs...)
	cpu0, _ := processesCPU(pids)
	start := time.Now()
	rec.mu.Lock()
	rec.on = true
	rec.mu.Unlock()
	wg.Wait()
	rec.mu.Lock()
	rec.on = false
	elapsed := time.Since(start)
	rec.mu.Unlock()
	cpu1, cpuErr := processesCPU(pids)

	rep := Report{
		Concurrency: cfg.Concurrency, DurationSeconds: elapsed.Seconds(), Cycles: rec.cycles,
		CyclesPerSecond: float64(rec.cycles) / elapsed.Seconds(), Errors: rec.errors, Latency: map[string]Summary{},
	}
	for name, ds := range rec.steps {
		rep.Latency[name] = summarize(ds)
	}
	if cfg.ServerPID != 0 && cpuErr == nil && rec.cycles > 0 {
		rep.ServerCPUPerCycleMs = float64((cpu1 - cpu0).Microseconds()) / 1000 / float64(rec.cycles)
	}
	if cfg.Probe > 0 {
		rep.HealthzRPS = probe(ctx, client, cfg, "/healthz", "")
		if lastToken != "" {
			rep.MeRPS = probe(ctx, client, cfg, "/api/v1/me", lastToken)
		}
		if rep.HealthzRPS > 0 {
			rep.MeOverHealthz = rep.MeRPS / rep.HealthzRPS
		}
	}
	for _, pid := range pids {
		if rss, err := peakRSS(pid); pid != 0 && err == nil {
			rep.ServerPeakRSSMB = max(rep.ServerPeakRSSMB, float64(rss)/(1<<20))
		}
	}
	return rep, nil
}

// cycle signs in once as who; it returns the session token when all went well.
func cycle(ctx context.Context, client *http.Client, cfg Config, rec *recorder, who Identity, ip string) (string, bool) {
	start := time.Now()
	arrived := cfg.Sink.expect(who.Email)
	defer cfg.Sink.forget(who.Email)
	var issued struct {
		RequestID string `json:"request_id"`
	}
	t0 := time.Now()
	status, err := postJSON(ctx, client, cfg.Target+"/api/v1/access-codes", map[string]string{
		"receipt_number": who.Receipt, "given_name": who.Given, "family_name": who.Family,
		"date_of_birth": who.DOB, "country_of_birth": who.Country, "channel": "email",
	}, "", ip, &issued)
	answered := time.Now()
	rec.step("request", answered.Sub(t0))
	if !ok(ctx, rec, "request", status, err, http.StatusAccepted) {
		return "", false
	}
	var a arrival
	select {
	case a = <-arrived:
	case <-time.After(30 * time.Second):
		rec.fail("code_not_arrived")
		return "", false
	case <-ctx.Done():
		return "", false
	}
	rec.step("arrival", max(a.at.Sub(answered), 0))
	var sess struct {
		Token string `json:"token"`
	}
	t1 := time.Now()
	status, err = postJSON(ctx, client, cfg.Target+"/api/v1/sessions", map[string]string{"request_id": issued.RequestID, "code": a.code}, "", ip, &sess)
	rec.step("redeem", time.Since(t1))
	if !ok(ctx, rec, "redeem", status, err, http.StatusCreated) {
		return "", false
	}
	t2 := time.Now()
	status, err = get(ctx, client, cfg.Target+"/api/v1/me", sess.Token, ip)
	rec.step("me", time.Since(t2))
	if !ok(ctx, rec, "me", status, err, http.StatusOK) {
		return "", false
	}
	rec.step("cycle", time.Since(start))
	rec.done()
	return sess.Token, true
}

// ok records an error kind unless the step answered want.
func ok(ctx context.Context, rec *recorder, step string, status int, err error, want int) bool {
	switch {
	case err != nil && ctx.Err() != nil:
		return false // the run ended mid-request
	case err != nil:
		rec.fail(step + ": " + errKind(err))
		return false
	case status != want:
		rec.fail(fmt.Sprintf("%s: HTTP %d", step, status))
		return false
	}
	return true
}

func errKind(err error) string {
	var ne interface{ Timeout() bool }
	if errors.As(err, &ne) && ne.Timeout() {
		return "timeout"
	}
	return "connection error"
}

func postJSON(ctx context.Context, c *http.Client, url string, body any, token, ip string, out any) (int, error) {
	b, _ := json.Marshal(body)
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, url, bytes.NewReader(b))
	if err != nil {
		return 0, err
	}
	req.Header.Set("Content-Type", "application/json")
	return do(c, req, token, ip, out)
}

func get(ctx context.Context, c *http.Client, url, token, ip string) (int, error) {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, url, nil)
	if err != nil {
		return 0, err
	}
	return do(c, req, token, ip, nil)
}

func do(c *http.Client, req *http.Request, token, ip string, out any) (int, error) {
	if token != "" {
		req.Header.Set("Authorization", "Bearer "+token)
	}
	if ip != "" {
		req.Header.Set("X-Forwarded-For", ip)
	}
	resp, err := c.Do(req)
	if err != nil {
		return 0, err
	}
	defer resp.Body.Close()
	data, err := io.ReadAll(resp.Body)
	if err != nil {
		return 0, err
	}
	if out != nil && resp.StatusCode < 300 {
		if err := json.Unmarshal(data, out); err != nil {
			return resp.StatusCode, err
		}
	}
	return resp.StatusCode, nil
}

// probe measures the requests per second of one GET route alone.
func probe(ctx context.Context, client *http.Client, cfg Config, path, token string) float64 {
	pctx, stop := context.WithTimeout(ctx, cfg.Probe)
	defer stop()
	var n atomic.Int64
	var wg sync.WaitGroup
	start := time.Now()
	for range cfg.Concurrency {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for pctx.Err() == nil {
				if status, err := get(pctx, client, cfg.Target+path, token, ""); err == nil && status == http.StatusOK {
					n.Add(1)
				}
			}
		}()
	}
	wg.Wait()
	return float64(n.Load()) / time.Since(start).Seconds()
}
