// Package delivery sends the outbox: a worker claims queued deliveries with a
// lease, renders them from embedded templates with the catalog's words, hands
// them to a Sender (SMTP, the demo Mailbox, SMS gateways) and reports each
// outcome to its Recorder (the portal), which records the row's new state
// and its audit event. See docs/delivery.md.
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
	"slices"
	"sync"
	"sync/atomic"
	"time"

	"github.com/casegate/casegate"
	"github.com/casegate/casegate/accesscode"
	"github.com/casegate/casegate/branding"
)

// Recorder records what became of the deliveries a worker held: each row's
// new state and its audit event. portal.Portal is one. The worker decides
// what happened to a send; how that changes the row, and what is audited,
// is the portal's, and the worker writes neither.
type Recorder interface {
	// RecordDeliveries records outs in one transaction and reports which
	// were recorded: a delivery whose lease passed to another worker, or
	// that was cancelled meanwhile, keeps the other's record.
	RecordDeliveries(ctx context.Context, outs []casegate.DeliveryOutcome) (recorded []bool, err error)
}

// SMSGuard decides, just before a text is sent, whether its destination may
// be texted at all (a number stored before the rules on number types, or a
// text queued before them, must not be). A text it refuses is cancelled
// (casegate.ReasonSMSRefused), and the Recorder queues what replaces it.
// portal.Portal is one.
type SMSGuard interface {
	// RefuseSMS returns why d must not be sent, in words fit for
	// last_error and without the number, or "".
	RefuseSMS(d casegate.Delivery) string
}

// errNoRecorder is what Run and RunOnce return before anything is claimed
// when no Recorder is set: an outcome could not be written.
var errNoRecorder = errors.New("delivery: the worker has no Recorder to record outcomes")

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
	// DefaultUnsubscribeTTL is how long a notice's unsubscribe link works:
	// long enough for mail read late, short enough that an old message
	// found later does not stay a key to the subscription.
	DefaultUnsubscribeTTL = 60 * 24 * time.Hour
)

// Worker drains the outbox. Several workers, in one process or in several
// instances on one database, may run at once: a lease keeps each delivery
// with one of them. Set fields before Run or RunOnce and not after.
type Worker struct {
	Store     casegate.Store
	Keys      *accesscode.Keyring // opens the sealed codes
	Senders   map[casegate.Channel]casegate.Sender
	PublicURL string
	// Location is where the times in messages are shown ("expires at
	// 10:23 EST"); UTC when nil.
	Location *time.Location
	// UnsubscribeTTL is how long the unsubscribe link of a status notice
	// works; default DefaultUnsubscribeTTL.
	UnsubscribeTTL time.Duration
	Now            func() time.Time
	Logger         *slog.Logger
	Metrics        casegate.Metrics // counts outcomes; may be nil
	// Recorder records the outcomes; Run and RunOnce need one. serve sets
	// the portal.
	Recorder Recorder
	// Guard, when set, is asked before every text whether its destination
	// may be texted at all; serve sets the portal.
	Guard SMSGuard
	// Agency signs every message: its name, contact lines and help address
	// (see RenderAgency). The zero Agency adds nothing.
	Agency branding.Agency

	Owner        string        // lease owner id, hostname-pid-random; set by NewWorker
	Lease        time.Duration // how long a claim holds; default 30s
	Batch        int           // deliveries claimed, or outcomes written, at once; default 32
	Parallel     int           // concurrent sends; default 8
	MaxAttempts  int           // sends tried before failed; default 8
	BaseBackoff  time.Duration // first retry delay cap; default 2s
	MaxBackoff   time.Duration // retry delay cap; default 5m
	PollInterval time.Duration // how often to look without a Wake; default 1s
	SendTimeout  time.Duration // one send; default 15s, at most half the lease

	initOnce sync.Once
	wake     chan struct{}

	// The deliveries leased to this worker and waiting for a sender: handed
	// over by the portal (HandOver) or claimed by Run. Guarded by mu; cond
	// wakes senders.
	mu      sync.Mutex
	cond    *sync.Cond
	queue   []casegate.ClaimedDelivery
	held    map[int64]bool // queued, being sent, or waiting to be recorded: never taken twice
	running bool           // Run is taking deliveries
	more    bool           // the outbox may hold due deliveries that were not claimed for want of room

	handedBack atomic.Int64 // deliveries the last Run handed back when it ended
}

// The worker stops taking hand-overs (Reserve says no, and the portal's
// deliveries wait in the outbox to be claimed instead) when maxQueued
// deliveries wait for a sender, or the one at the front has waited
// maxQueueWait: the senders are not keeping up, and what waits longer than
// its lease allows is handed back unsent.
const (
	maxQueued    = 256
	maxQueueWait = 5 * time.Second
)

// recordLinger is how long a finished send may wait for others to be
// recorded with it in one transaction.
const recordLinger = 10 * time.Millisecond

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
		w.cond = sync.NewCond(&w.mu)
		w.held = map[int64]bool{}
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
		setDefault(&w.UnsubscribeTTL, DefaultUnsubscribeTTL)
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

// Reserve offers the lease under which QueueCode queues a code now, for
// HandOver to give to the worker once its transaction commits, so that it is
// sent at once instead of waiting to be claimed. ok is false when Run is not
// running or too many deliveries already wait for a sender.
func (w *Worker) Reserve() (lease casegate.Lease, ok bool) {
	w.init()
	w.mu.Lock()
	defer w.mu.Unlock()
	now := w.Now()
	if !w.running || len(w.queue) >= maxQueued ||
		len(w.queue) > 0 && w.Lease-w.queue[0].Lease.Until.Sub(now) > maxQueueWait {
		return casegate.Lease{}, false
	}
	return casegate.Lease{Owner: w.Owner, Until: now.Add(w.Lease)}, true
}

// QueueCode queues d, a code whose challenge expires at expiresAt, in tx and
// sets d.ID. A pending code is queued under a lease from Reserve when the
// worker can take one; the delivery returned, with the lease and the state
// of its challenge, is for HandOver once tx commits. It is one insert either
// way, the statement EnqueueDelivery runs.
func (w *Worker) QueueCode(ctx context.Context, tx casegate.Outbox, d *casegate.Delivery, expiresAt time.Time) (casegate.ClaimedDelivery, error) {
	// A lease is asked for every code, a decoy's cancelled row too, so that
	// both do the same work; only a row to be sent (pending, or "" which is
	// stored pending) takes it. The challenge was just made or renewed: its
	// code is not used.
	lease, ok := w.Reserve()
	c := casegate.ClaimedDelivery{Delivery: *d, ChallengeExpiresAt: expiresAt}
	if ok && (d.Status == "" || d.Status == casegate.DeliveryPending) {
		c.Lease = lease
	}
	if err := tx.EnqueueClaimed(ctx, &c); err != nil {
		return casegate.ClaimedDelivery{}, fmt.Errorf("delivery: queue code: %w", err)
	}
	d.ID = c.ID
	return c, nil
}

// HandOver gives the worker a committed code that QueueCode queued. It never
// blocks. One queued under the worker's lease is taken at once; one queued
// when the worker could not take it wakes the worker to claim it. A delivery
// handed over after Run has stopped stays leased until its lease runs out,
// and is then claimed like any other.
func (w *Worker) HandOver(d casegate.ClaimedDelivery) {
	w.init()
	if d.Lease.Owner != w.Owner {
		w.Wake()
		return
	}
	w.push(d)
}

// push puts leased deliveries at the back of the queue and wakes senders.
// When a lease runs out while its delivery waits, a claim can lease the same
// row to this worker again, and one row must not be sent twice: a delivery
// the worker already holds takes the new lease where it waits in the queue,
// and is left out when it is being sent (its outcome clears the new lease).
func (w *Worker) push(ds ...casegate.ClaimedDelivery) {
	w.mu.Lock()
	n := 0
	for _, d := range ds {
		if w.held[d.ID] {
			if i := slices.IndexFunc(w.queue, func(q casegate.ClaimedDelivery) bool { return q.ID == d.ID }); i >= 0 {
				w.queue[i] = d
			}
			continue
		}
		w.held[d.ID] = true
		w.queue = append(w.queue, d)
		n++
	}
	w.mu.Unlock()
	for range n {
		w.cond.Signal()
	}
}

// let goes of deliveries whose outcome is written, or that were left unsent.
func (w *Worker) let(ids ...int64) {
	w.mu.Lock()
	defer w.mu.Unlock()
	for _, id := range ids {
		delete(w.held, id)
	}
}

// next takes the delivery at the front of the queue, waiting for one; ok is
// false once Run is stopping. When the queue runs low while due deliveries
// were left in the outbox, it wakes the claimer.
func (w *Worker) next(ctx context.Context) (d casegate.ClaimedDelivery, ok bool) {
	w.mu.Lock()
	defer w.mu.Unlock()
	for w.running && len(w.queue) == 0 {
		w.cond.Wait()
	}
	// ctx is checked too: Run's stop marks running false a moment after
	// ctx ends, and a sender back from a cut-short send must not start another.
	if !w.running || ctx.Err() != nil {
		return casegate.ClaimedDelivery{}, false
	}
	d = w.queue[0]
	w.queue[0] = casegate.ClaimedDelivery{} // drop the sealed code with the slot
	w.queue = w.queue[1:]
	if w.more && len(w.queue) < w.Parallel {
		w.more = false
		w.Wake()
	}
	return d, true
}

// room is how many deliveries the claimer may claim now; when there is none
// it notes that the outbox may hold more.
func (w *Worker) room() int {
	w.mu.Lock()
	defer w.mu.Unlock()
	if len(w.queue) >= w.Parallel {
		w.more = true
		return 0
	}
	return w.Batch
}

// Run sends deliveries until ctx is done. Deliveries reach it two ways: handed
// over by this instance's portal as soon as the transaction that queued them
// commits (already leased to this worker; see Reserve), and claimed from the
// outbox — retries, deliveries queued by other processes or when the worker
// was busy, leases that ran out — at every Wake and at least every
// PollInterval. Parallel senders take them in order, each as soon as it is
// free, and the outcomes are written a batch per transaction. On the way out
// Run hands back the deliveries it still holds, so another instance can send
// them at once.
func (w *Worker) Run(ctx context.Context) error {
	w.init()
	if w.Recorder == nil {
		return errNoRecorder
	}
	w.mu.Lock()
	w.running = true
	w.mu.Unlock()
	stop := context.AfterFunc(ctx, func() {
		w.mu.Lock()
		w.running = false
		w.mu.Unlock()
		w.cond.Broadcast()
	})
	defer stop()

	results := make(chan result, 4*w.Batch)
	var senders, recorder sync.WaitGroup
	recorder.Go(func() { w.record(ctx, results) })
	for range w.Parallel {
		senders.Go(func() { w.sendQueued(ctx, results) })
	}
	w.claimLoop(ctx)
	senders.Wait()
	close(results)
	recorder.Wait()

	w.mu.Lock()
	w.queue, w.held = nil, map[int64]bool{} // still leased: handed back below
	w.mu.Unlock()
	releaseCtx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 5*time.Second)
	defer cancel()
	var released int
	err := w.Store.Update(releaseCtx, func(tx casegate.Tx) error {
		var err error
		released, err = tx.ReleaseLeases(releaseCtx, w.Owner)
		return err
	})
	if err != nil {
		return fmt.Errorf("delivery: release leases: %w", err)
	}
	w.handedBack.Store(int64(released))
	return nil
}

// HandedBack is how many deliveries the last Run handed back unsent when it
// ended, for the shutdown log line.
func (w *Worker) HandedBack() int { return int(w.handedBack.Load()) }

// claimLoop claims due deliveries into the queue at every Wake and every
// PollInterval, while the queue has room, until ctx is done.
func (w *Worker) claimLoop(ctx context.Context) {
	timer := time.NewTimer(0)
	defer timer.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-w.wake:
		case <-timer.C:
		}
		for ctx.Err() == nil {
			n := w.room()
			if n == 0 {
				break
			}
			claimed, err := w.claim(ctx, n)
			if err != nil {
				if ctx.Err() == nil {
					w.Logger.LogAttrs(ctx, slog.LevelError, "delivery claim failed", slog.String("error", Redact(err.Error())))
				}
				break
			}
			w.push(claimed...)
			if len(claimed) < n {
				break
			}
		}
		timer.Reset(w.PollInterval)
	}
}

// claim leases up to n due deliveries to this worker.
func (w *Worker) claim(ctx context.Context, n int) ([]casegate.ClaimedDelivery, error) {
	now := w.Now()
	var claimed []casegate.ClaimedDelivery
	err := w.Store.Update(ctx, func(tx casegate.Tx) error {
		var err error
		claimed, err = tx.ClaimDeliveries(ctx, w.Owner, now, now.Add(w.Lease), n)
		return err
	})
	if err != nil {
		return nil, fmt.Errorf("delivery: claim: %w", err)
	}
	return claimed, nil
}

// sendQueued is one sender: it takes deliveries from the queue and passes
// their outcomes to the recorder until Run stops.
func (w *Worker) sendQueued(ctx context.Context, results chan<- result) {
	for {
		d, ok := w.next(ctx)
		if !ok {
			return
		}
		out, err := w.deliver(ctx, d)
		if err != nil {
			w.Logger.LogAttrs(ctx, slog.LevelError, "delivery failed to run", slog.String("error", Redact(err.Error())))
		}
		if err != nil || out.action == "" {
			w.let(d.ID)
			continue
		}
		results <- result{d: d, out: out} // the recorder lets go of it
	}
}

// record writes outcomes as they come, gathering those that finish within
// recordLinger of each other (up to Batch) into one transaction, until
// results is closed.
func (w *Worker) record(ctx context.Context, results <-chan result) {
	linger := time.NewTimer(recordLinger)
	defer linger.Stop()
	for r := range results {
		batch := []result{r}
		linger.Reset(recordLinger)
	gather:
		for len(batch) < w.Batch {
			select {
			case r, ok := <-results:
				if !ok {
					break gather
				}
				batch = append(batch, r)
			case <-linger.C:
				break gather
			}
		}
		w.finishHeld(ctx, batch)
		ids := make([]int64, len(batch))
		for i, r := range batch {
			ids[i] = r.d.ID
		}
		w.let(ids...)
	}
}

// Pauses between tries to record a batch while the database is unavailable.
const (
	recordRetryFirst = 100 * time.Millisecond
	recordRetryMax   = 2 * time.Second
)

// finishHeld records a batch of outcomes. While the database is unavailable
// (PostgreSQL failing over to its standby, say) it tries again, pausing a
// little longer each time, until Run stops: the sends happened, and an
// outcome not written leaves its row pending, to be claimed and sent a
// second time. The deliveries stay held meanwhile, so this worker does not
// send them again even when their leases run out (a claim by this worker
// keeps the owner the record needs); the senders wait when the results
// queue is full. Past the lease, another instance may claim and send a row
// first: delivery is at least once.
func (w *Worker) finishHeld(ctx context.Context, batch []result) {
	for pause, tries := recordRetryFirst, 1; ; pause, tries = min(2*pause, recordRetryMax), tries+1 {
		_, err := w.finish(ctx, batch)
		if err == nil {
			if tries > 1 {
				w.Logger.LogAttrs(ctx, slog.LevelWarn, "delivery outcomes recorded after the database came back",
					slog.Int("outcomes", len(batch)), slog.Int("tries", tries))
			}
			return
		}
		if casegate.ErrorCodeOf(err) != casegate.EUnavailable || ctx.Err() != nil {
			w.Logger.LogAttrs(ctx, slog.LevelError, "delivery outcomes not recorded",
				slog.Int("outcomes", len(batch)), slog.Int("tries", tries), slog.String("error", Redact(err.Error())))
			return
		}
		if tries == 1 {
			w.Logger.LogAttrs(ctx, slog.LevelWarn, "delivery outcomes wait for the database",
				slog.Int("outcomes", len(batch)), slog.String("error", Redact(err.Error())))
		}
		select {
		case <-time.After(pause):
		case <-ctx.Done():
		}
	}
}

// RunOnce claims one batch of due deliveries, sends them, Parallel at a time,
// and records each outcome. It returns how many outcomes it recorded.
func (w *Worker) RunOnce(ctx context.Context) (handled int, err error) {
	w.init()
	if w.Recorder == nil {
		return 0, errNoRecorder
	}
	var claimed []casegate.ClaimedDelivery
	if claimed, err = w.claim(ctx, w.Batch); err != nil {
		return 0, err
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
