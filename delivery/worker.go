// Package delivery sends the outbox: a worker claims queued deliveries with a
// lease, renders them from embedded templates (English and Spanish), hands
// them to a Sender (SMTP, the demo Mailbox, SMS gateways) and records each
// outcome with an audit event. See docs/delivery.md.
package delivery

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"log/slog"
	"net/url"
	"os"
	"sync"
	"time"

	"github.com/casegate/casegate"
	"github.com/casegate/casegate/accesscode"
)

// Worker defaults.
const (
	DefaultLease        = 30 * time.Second
	DefaultBatch        = 32
	DefaultParallel     = 8
	DefaultMaxAttempts  = 8
	DefaultBaseBackoff  = 2 * time.Second
	DefaultMaxBackoff   = 5 * time.Minute
	DefaultPollInterval = time.Second
	DefaultSendTimeout  = 15 * time.Second
)

// Worker drains the outbox. Several workers, in one process or in several
// instances on one database, may run at once: a lease keeps each delivery
// with one of them. Set fields before Run or RunOnce and not after.
type Worker struct {
	Store     casegate.Store
	Keys      *accesscode.Keyring // opens the sealed codes
	Senders   map[casegate.Channel]casegate.Sender
	PublicURL string
	Now       func() time.Time
	Logger    *slog.Logger
	Metrics   casegate.Metrics // counts outcomes; may be nil

	Owner        string        // lease owner id, hostname-pid-random; set by NewWorker
	Lease        time.Duration // how long a claim holds; default 30s
	Batch        int           // deliveries claimed at once; default 16
	Parallel     int           // concurrent sends; default 4
	MaxAttempts  int           // sends tried before failed; default 8
	BaseBackoff  time.Duration // first retry delay cap; default 2s
	MaxBackoff   time.Duration // retry delay cap; default 5m
	PollInterval time.Duration // how often to look without a Wake; default 1s
	SendTimeout  time.Duration // one send; default 15s, at most half the lease

	initOnce sync.Once
	wake     chan struct{}
}

// NewWorker returns a worker with the defaults and a fresh owner id. It checks
// that the store, keyring and public URL are usable.
func NewWorker(store casegate.Store, keys *accesscode.Keyring, senders map[casegate.Channel]casegate.Sender, publicURL string) (*Worker, error) {
	if store == nil || keys == nil {
		return nil, errors.New("delivery: worker needs a store and a keyring")
	}
	if u, err := url.Parse(publicURL); err != nil || (u.Scheme != "https" && u.Scheme != "http") || u.Hostname() == "" {
		return nil, fmt.Errorf("delivery: public URL %q is not an absolute http(s) URL", publicURL)
	}
	owner, err := newOwnerID()
	if err != nil {
		return nil, err
	}
	w := &Worker{Store: store, Keys: keys, Senders: senders, PublicURL: publicURL, Owner: owner}
	w.init()
	return w, nil
}

// newOwnerID names this worker in lease columns: hostname-pid-random.
func newOwnerID() (string, error) {
	host, err := os.Hostname()
	if err != nil || host == "" {
		host = "casegate"
	}
	var b [4]byte
	if _, err := rand.Read(b[:]); err != nil {
		return "", fmt.Errorf("delivery: owner id: %w", err)
	}
	return fmt.Sprintf("%s-%d-%s", host, os.Getpid(), hex.EncodeToString(b[:])), nil
}

// init fills unset fields with defaults, once.
func (w *Worker) init() {
	w.initOnce.Do(func() {
		w.wake = make(chan struct{}, 1)
		if w.Now == nil {
			w.Now = time.Now
		}
		if w.Logger == nil {
			w.Logger = slog.Default()
		}
		if w.Metrics == nil {
			w.Metrics = casegate.NopMetrics{}
		}
		if w.Owner == "" {
			w.Owner, _ = newOwnerID()
		}
		setDefault(&w.Lease, DefaultLease)
		setDefault(&w.Batch, DefaultBatch)
		setDefault(&w.Parallel, DefaultParallel)
		setDefault(&w.MaxAttempts, DefaultMaxAttempts)
		setDefault(&w.BaseBackoff, DefaultBaseBackoff)
		setDefault(&w.MaxBackoff, DefaultMaxBackoff)
		setDefault(&w.PollInterval, DefaultPollInterval)
		setDefault(&w.SendTimeout, DefaultSendTimeout)
		w.SendTimeout = min(w.SendTimeout, w.Lease/2)
	})
}

func setDefault[T int | time.Duration](v *T, def T) {
	if *v <= 0 {
		*v = def
	}
}

// Wake tells a running worker that deliveries were queued. It never blocks.
func (w *Worker) Wake() {
	w.init()
	select {
	case w.wake <- struct{}{}:
	default:
	}
}

// Run sends deliveries until ctx is done, looking again at every Wake and
// at least every PollInterval. On the way out it hands back the deliveries it
// still holds, so another instance can send them at once.
func (w *Worker) Run(ctx context.Context) error {
	w.init()
	timer := time.NewTimer(0)
	defer timer.Stop()
	for {
		handled, err := w.RunOnce(ctx)
		if ctx.Err() != nil {
			break
		}
		if err != nil {
			w.Logger.LogAttrs(ctx, slog.LevelError, "delivery worker round failed", slog.String("error", Redact(err.Error())))
		}
		if err == nil && handled >= w.Batch {
			continue // there may be more due right now
		}
		timer.Reset(w.PollInterval)
		select {
		case <-ctx.Done():
		case <-w.wake:
		case <-timer.C:
		}
		if ctx.Err() != nil {
			break
		}
	}
	releaseCtx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 5*time.Second)
	defer cancel()
	err := w.Store.Update(releaseCtx, func(tx casegate.Tx) error {
		return tx.ReleaseLeases(releaseCtx, w.Owner)
	})
	if err != nil {
		return fmt.Errorf("delivery: release leases: %w", err)
	}
	return nil
}

// RunOnce claims one batch of due deliveries, sends them, Parallel at a time,
// and records each outcome. It returns how many outcomes it recorded.
func (w *Worker) RunOnce(ctx context.Context) (handled int, err error) {
	w.init()
	now := w.Now()
	var claimed []casegate.Delivery
	err = w.Store.Update(ctx, func(tx casegate.Tx) error {
		var err error
		claimed, err = tx.ClaimDeliveries(ctx, w.Owner, now, now.Add(w.Lease), w.Batch)
		return err
	})
	if err != nil {
		return 0, fmt.Errorf("delivery: claim: %w", err)
	}

	var (
		wg      sync.WaitGroup
		mu      sync.Mutex
		errs    []error
		results []result
		sem     = make(chan struct{}, w.Parallel)
	)
dispatch:
	for _, d := range claimed {
		select {
		case sem <- struct{}{}:
		case <-ctx.Done():
			break dispatch // the rest stay leased; Run hands them back
		}
		wg.Go(func() {
			defer func() { <-sem }()
			out, err := w.deliver(ctx, d)
			mu.Lock()
			defer mu.Unlock()
			if err != nil {
				errs = append(errs, err)
			}
			if out.action != "" {
				results = append(results, result{d: d, out: out})
			}
		})
	}
	wg.Wait()
	// One transaction records the whole batch: the single writer of SQLite
	// is the scarce resource, and a write per message was a third of them.
	handled, err = w.finish(ctx, results)
	if err != nil {
		errs = append(errs, err)
	}
	return handled, errors.Join(errs...)
}
