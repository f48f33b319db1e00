package loadtest

import (
	"cmp"
	"context"
	"fmt"
	"io"
	"math"
	"math/rand/v2"
	"net/http"
	"slices"
	"time"

	"github.com/casegate/casegate/accesscode"
)

// TimingConfig is a run of the anti-enumeration timing measurement: for each
// of three comparisons, Pairs interleaved pairs of requests, one on the path
// of a real person and one on a decoy's, each pair in a random order.
type TimingConfig struct {
	Target     string
	Pairs      int        // measured pairs per comparison; 50 more are run first as warm-up
	Identities []Identity // real people on file
	Seed       uint64     // of the order within pairs and the made-up identities
	Progress   io.Writer  // nil for none
}

// Comparison is how the answer times of two paths compare.
type Comparison struct {
	Name          string  `json:"name"`
	Pairs         int     `json:"pairs"`
	RealMedianUS  float64 `json:"real_median_us"`
	DecoyMedianUS float64 `json:"decoy_median_us"`
	MedianDiffPct float64 `json:"median_diff_pct"` // (real − decoy) / decoy
	Z             float64 `json:"mann_whitney_z"`  // > 0: the real path is slower
	Pass          bool    `json:"pass"`            // |z| < 3 and medians within 3 %
}

// timingWarmup pairs are run before measuring and thrown away.
const timingWarmup = 50

// Timing measures, over loopback HTTP against a server that trusts this
// process as a proxy, the answer times of: a code request that matches a
// person against one that matches nobody; a resend of a real request against
// a decoy's; a wrong code on a real challenge against one on a decoy. The
// server must allow resends at once (CASEGATE_RESEND_COOLDOWN of a
// millisecond) and lift the limits a single client hits.
func Timing(ctx context.Context, cfg TimingConfig) ([]Comparison, error) {
	if cfg.Pairs < 10 || len(cfg.Identities) == 0 {
		return nil, fmt.Errorf("loadtest: timing needs at least 10 pairs and one identity")
	}
	t := &timer{cfg: cfg, client: &http.Client{Timeout: 30 * time.Second}, rng: rand.New(rand.NewPCG(cfg.Seed, 1))}
	var out []Comparison
	for _, c := range []struct {
		name string
		pair func(ctx context.Context, i int) (real, decoy time.Duration, err error)
	}{
		{"code request: matched vs unmatched", t.requestPair},
		{"resend: real vs decoy", t.resendPair},
		{"wrong code: real vs decoy challenge", t.redeemPair},
	} {
		var real, decoy []time.Duration
		for i := range cfg.Pairs + timingWarmup {
			r, d, err := c.pair(ctx, i)
			if err != nil {
				return out, fmt.Errorf("loadtest: %s, pair %d: %w", c.name, i, err)
			}
			if i >= timingWarmup {
				real, decoy = append(real, r), append(decoy, d)
			}
		}
		r := compare(c.name, real, decoy)
		if cfg.Progress != nil {
			fmt.Fprintf(cfg.Progress, "loadtest: %s: medians %.0f µs vs %.0f µs (%+.1f %%), z = %.2f\n",
				c.name, r.RealMedianUS, r.DecoyMedianUS, r.MedianDiffPct, r.Z)
		}
		out = append(out, r)
	}
	return out, nil
}

// timer drives the pairs; each request comes from an address of its own,
// so no per-IP limit is shared between the two paths.
type timer struct {
	cfg    TimingConfig
	client *http.Client
	rng    *rand.Rand
	ip     int
}

func (t *timer) nextIP() string {
	t.ip++
	return fmt.Sprintf("198.18.%d.%d", t.ip/250%256, t.ip%250+1)
}

// body is the code request for who.
func requestBody(who Identity) map[string]string {
	return map[string]string{
		"receipt_number": who.Receipt, "given_name": who.Given, "family_name": who.Family,
		"date_of_birth": who.DOB, "country_of_birth": who.Country, "channel": "email",
	}
}

// stranger is who an enumerator would try: the name, date and country of
// birth of someone, with a receipt number of the same service centre that
// no case has (10 made-up digits). Only whether the record exists differs
// from the real person's request; the text of the two is alike.
func (t *timer) stranger(i int) Identity {
	who := t.cfg.Identities[(i+1)%len(t.cfg.Identities)]
	who.Receipt = fmt.Sprintf("%s%010d", who.Receipt[:3], t.rng.Int64N(1e10))
	return who
}

// timed runs fn and how long it took.
func timed(fn func() error) (time.Duration, error) {
	start := time.Now()
	err := fn()
	return time.Since(start), err
}

// timingGap is the pause before each measured request, so that what came
// before it (the delivery a real request hands to the worker is sent, and
// its outcome recorded, the worker gathering outcomes for 10 ms) is over.
const timingGap = 20 * time.Millisecond

// settle puts the server in the same state before every measured request:
// an unmeasured code request for a real person (so a code is sent), then
// timingGap of quiet. Without it a request measured after a real one would
// find the machine warmer than one measured after a decoy, and with pairs in
// a random order a decoy follows a real request three times in four.
func (t *timer) settle(ctx context.Context) error {
	_, err := t.request(ctx, t.cfg.Identities[t.rng.IntN(len(t.cfg.Identities))])
	time.Sleep(timingGap)
	return err
}

// inOrder runs a and b in a random order, each after settle, and returns
// their durations.
func (t *timer) inOrder(ctx context.Context, a, b func() (time.Duration, error)) (time.Duration, time.Duration, error) {
	first, second := a, b
	swap := t.rng.IntN(2) == 1
	if swap {
		first, second = b, a
	}
	if err := t.settle(ctx); err != nil {
		return 0, 0, err
	}
	d1, err := first()
	if err != nil {
		return 0, 0, err
	}
	if err := t.settle(ctx); err != nil {
		return 0, 0, err
	}
	d2, err := second()
	if err != nil {
		return 0, 0, err
	}
	if swap {
		d1, d2 = d2, d1
	}
	return d1, d2, nil
}

// request asks for a code for who and returns the request id.
func (t *timer) request(ctx context.Context, who Identity) (string, error) {
	var issued struct {
		RequestID string `json:"request_id"`
	}
	status, err := postJSON(ctx, t.client, t.cfg.Target+"/api/v1/access-codes", requestBody(who), "", t.nextIP(), &issued)
	if err == nil && status != http.StatusAccepted {
		err = fmt.Errorf("code request answered %d", status)
	}
	return issued.RequestID, err
}

func (t *timer) requestPair(ctx context.Context, i int) (time.Duration, time.Duration, error) {
	who := t.cfg.Identities[i%len(t.cfg.Identities)]
	nobody := t.stranger(i)
	ask := func(p Identity) func() (time.Duration, error) {
		return func() (time.Duration, error) {
			return timed(func() error { _, err := t.request(ctx, p); return err })
		}
	}
	return t.inOrder(ctx, ask(who), ask(nobody))
}

// challenges asks for a code for a real person and one for a stranger, and
// returns the two request ids.
func (t *timer) challenges(ctx context.Context, i int) (real, decoy string, err error) {
	if real, err = t.request(ctx, t.cfg.Identities[i%len(t.cfg.Identities)]); err != nil {
		return "", "", err
	}
	decoy, err = t.request(ctx, t.stranger(i))
	return real, decoy, err
}

func (t *timer) resendPair(ctx context.Context, i int) (time.Duration, time.Duration, error) {
	real, decoy, err := t.challenges(ctx, i)
	if err != nil {
		return 0, 0, err
	}
	resend := func(id string) func() (time.Duration, error) {
		return func() (time.Duration, error) {
			return timed(func() error {
				status, err := postJSON(ctx, t.client, t.cfg.Target+"/api/v1/access-codes/"+id+"/resend", struct{}{}, "", t.nextIP(), nil)
				if err == nil && status != http.StatusAccepted {
					err = fmt.Errorf("resend answered %d", status)
				}
				return err
			})
		}
	}
	return t.inOrder(ctx, resend(real), resend(decoy))
}

func (t *timer) redeemPair(ctx context.Context, i int) (time.Duration, time.Duration, error) {
	real, decoy, err := t.challenges(ctx, i)
	if err != nil {
		return 0, 0, err
	}
	wrong, err := accesscode.Generate(accesscode.DefaultLength) // well formed, and (all but surely) not the code sent
	if err != nil {
		return 0, 0, err
	}
	redeem := func(id string) func() (time.Duration, error) {
		return func() (time.Duration, error) {
			return timed(func() error {
				status, err := postJSON(ctx, t.client, t.cfg.Target+"/api/v1/sessions", map[string]string{"request_id": id, "code": wrong}, "", t.nextIP(), nil)
				if err == nil && status != http.StatusUnauthorized {
					err = fmt.Errorf("a wrong code answered %d, want 401", status)
				}
				return err
			})
		}
	}
	return t.inOrder(ctx, redeem(real), redeem(decoy))
}

// compare summarises two samples: medians, their relative difference, and
// the Mann-Whitney U test's z score (ties ranked by their mean rank).
func compare(name string, real, decoy []time.Duration) Comparison {
	c := Comparison{Name: name, Pairs: len(real)}
	c.RealMedianUS = medianMicros(real)
	c.DecoyMedianUS = medianMicros(decoy)
	c.MedianDiffPct = 100 * (c.RealMedianUS - c.DecoyMedianUS) / c.DecoyMedianUS
	c.Z = mannWhitneyZ(real, decoy)
	c.Pass = math.Abs(c.Z) < 3 && math.Abs(c.MedianDiffPct) < 3
	return c
}

func medianMicros(ds []time.Duration) float64 {
	s := slices.Clone(ds)
	slices.Sort(s)
	n := len(s)
	if n == 0 {
		return 0
	}
	m := s[n/2]
	if n%2 == 0 {
		m = (s[n/2-1] + s[n/2]) / 2
	}
	return float64(m) / float64(time.Microsecond)
}

// mannWhitneyZ returns the normal approximation of the U statistic of a
// against b, with the tie correction: positive when a tends to be larger.
func mannWhitneyZ(a, b []time.Duration) float64 {
	type obs struct {
		d     time.Duration
		fromA bool
	}
	all := make([]obs, 0, len(a)+len(b))
	for _, d := range a {
		all = append(all, obs{d, true})
	}
	for _, d := range b {
		all = append(all, obs{d, false})
	}
	slices.SortFunc(all, func(x, y obs) int { return cmp.Compare(x.d, y.d) })
	n1, n2 := float64(len(a)), float64(len(b))
	n := n1 + n2
	var rankA, ties float64
	for i := 0; i < len(all); {
		j := i
		for j < len(all) && all[j].d == all[i].d {
			j++
		}
		rank := float64(i+j+1) / 2 // mean of ranks i+1 … j
		for k := i; k < j; k++ {
			if all[k].fromA {
				rankA += rank
			}
		}
		t := float64(j - i)
		ties += t*t*t - t
		i = j
	}
	u := rankA - n1*(n1+1)/2
	sigma := math.Sqrt(n1 * n2 / 12 * ((n + 1) - ties/(n*(n-1))))
	if sigma == 0 {
		return 0
	}
	return (u - n1*n2/2) / sigma
}
