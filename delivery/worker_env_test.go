package delivery

import (
	"context"
	"fmt"
	"log/slog"
	"strings"
	"testing"
	"time"

	"github.com/casegate/casegate"
	"github.com/casegate/casegate/accesscode"
	"github.com/casegate/casegate/internal/smtptest"
	"github.com/casegate/casegate/internal/testenv"
	"github.com/casegate/casegate/portal"
)

var t0 = time.Date(2026, 3, 2, 13, 55, 0, 0, time.UTC)

// env is a store, a keyring, a mail server and a worker sending to it.
type env struct {
	t      *testing.T
	ctx    context.Context
	store  casegate.Store
	keys   *accesscode.Keyring
	server *smtptest.Server
	clock  *testenv.Clock
	log    *testenv.LogBuffer // shared by worker goroutines
	party  int64
}

func newEnv(t *testing.T) *env {
	t.Helper()
	ctx := t.Context()
	st, _ := testenv.SQLite(t)
	keys := testenv.Keyring(t)
	e := &env{t: t, ctx: ctx, store: st, keys: keys, server: smtptest.Start(t),
		clock: testenv.NewClock(t0), log: &testenv.LogBuffer{}}
	e.update(func(tx casegate.Tx) error {
		p := casegate.Party{GivenName: "José", FamilyName: "García", DateOfBirth: "1990-04-02",
			CountryOfBirth: "MX", Email: "jose@example.com", Language: "es"}
		err := tx.InsertParty(ctx, &p)
		e.party = p.ID
		return err
	})
	return e
}

// worker returns a worker on the env's store sending mail through its own SMTP sender.
func (e *env) worker() *Worker {
	e.t.Helper()
	w, err := NewWorker(e.store, e.keys, map[casegate.Channel]casegate.Sender{casegate.ChannelEmail: newTestSMTP(e.t, e.server, "")}, testURL)
	if err != nil {
		e.t.Fatal(err)
	}
	w.Now = e.clock.Now
	w.Logger = slog.New(slog.NewJSONHandler(e.log, &slog.HandlerOptions{Level: slog.LevelDebug}))
	w.Recorder = e.recorder(w, e.store)
	return w
}

// recorder is the portal over st recording what w reports, as serve wires
// them: the outcomes' rows and audit events are the portal's to write.
func (e *env) recorder(w *Worker, st casegate.Store) Recorder {
	e.t.Helper()
	p, err := portal.New(portal.Deps{Store: st, Keys: e.keys, Limits: portal.DefaultLimits(), Now: e.clock.Now, Outbox: w})
	if err != nil {
		e.t.Fatal(err)
	}
	return p
}

func (e *env) update(fn func(casegate.Tx) error) {
	e.t.Helper()
	if err := e.store.Update(e.ctx, fn); err != nil {
		e.t.Fatal(err)
	}
}

// queueCode stores a challenge expiring in ten minutes and a delivery of its
// code to to, changed by edit, and returns the delivery's id and the code.
func (e *env) queueCode(challengeID, to string, edit ...func(*casegate.Delivery)) (int64, string) {
	e.t.Helper()
	return e.queueCodeWith(challengeID, to, func(tx casegate.Tx, d *casegate.Delivery) error {
		return tx.EnqueueDelivery(e.ctx, d)
	}, edit...)
}

// queueCodeWith is queueCode with the delivery queued by enqueue, in the
// transaction that stores the challenge.
func (e *env) queueCodeWith(challengeID, to string, enqueue func(casegate.Tx, *casegate.Delivery) error, edit ...func(*casegate.Delivery)) (int64, string) {
	e.t.Helper()
	code := testCode(e.t)
	now := e.clock.Now()
	d := casegate.Delivery{ChallengeID: challengeID, PartyID: e.party, Channel: casegate.ChannelEmail,
		Destination: to, Template: casegate.TemplateAccessCode, Language: "en",
		Params: map[string]string{
			"expires_at":    now.Add(10 * time.Minute).Format(time.RFC3339),
			"valid_minutes": "10",
		},
		SealedCode: e.keys.Seal(code), CreatedAt: now}
	for _, f := range edit {
		f(&d)
	}
	e.update(func(tx casegate.Tx) error {
		keyID, mac := e.keys.MAC(challengeID, code)
		err := tx.InsertChallenge(e.ctx, casegate.Challenge{ID: challengeID, PartyID: e.party,
			Purpose: casegate.PurposeSignIn, Channel: casegate.ChannelEmail, Language: "en", KeyID: keyID,
			CodeMAC: mac, CreatedAt: now, ExpiresAt: now.Add(10 * time.Minute), Sends: 1})
		if err != nil {
			return err
		}
		return enqueue(tx, &d)
	})
	return d.ID, code
}

// lease reads the lease delivery id is held under.
func (e *env) lease(id int64) casegate.Lease {
	e.t.Helper()
	var l casegate.Lease
	if err := e.store.View(e.ctx, func(tx casegate.Tx) error {
		var err error
		l, err = tx.DeliveryLease(e.ctx, id)
		return err
	}); err != nil {
		e.t.Fatal(err)
	}
	return l
}

// delivery reads one delivery back.
func (e *env) delivery(id int64) casegate.Delivery {
	e.t.Helper()
	var all []casegate.Delivery
	if err := e.store.View(e.ctx, func(tx casegate.Tx) error {
		var err error
		all, err = tx.Deliveries(e.ctx, "", 0)
		return err
	}); err != nil {
		e.t.Fatal(err)
	}
	for _, d := range all {
		if d.ID == id {
			return d
		}
	}
	e.t.Fatalf("no delivery %d", id)
	return casegate.Delivery{}
}

// audit returns the actions recorded for delivery id, in order.
func (e *env) audit(id int64) []casegate.AuditEvent {
	e.t.Helper()
	var events []casegate.AuditEvent
	if err := e.store.View(e.ctx, func(tx casegate.Tx) error {
		var err error
		events, err = tx.AuditEvents(e.ctx, 0, 1000)
		return err
	}); err != nil {
		e.t.Fatal(err)
	}
	var out []casegate.AuditEvent
	for _, ev := range events {
		if ev.Target == fmt.Sprintf("delivery:%d", id) {
			out = append(out, ev)
		}
	}
	return out
}

// runOnce runs one round and wants want outcomes recorded.
func (e *env) runOnce(w *Worker, want int) {
	e.t.Helper()
	n, err := w.RunOnce(e.ctx)
	if err != nil {
		e.t.Fatal(err)
	}
	if n != want {
		e.t.Fatalf("RunOnce handled %d, want %d", n, want)
	}
}

// checkAudit wants exactly these actions for delivery id, each well formed.
func (e *env) checkAudit(id int64, actions ...string) {
	e.t.Helper()
	events := e.audit(id)
	var got []string
	for _, ev := range events {
		got = append(got, ev.Action)
		if ev.Actor != "system" || ev.Details["channel"] != "email" || ev.Details["template"] != casegate.TemplateAccessCode || ev.Details["attempt"] == "" {
			e.t.Errorf("audit event %+v", ev)
		}
	}
	if strings.Join(got, " ") != strings.Join(actions, " ") {
		e.t.Errorf("audit actions = %q, want %q", got, actions)
	}
}

// checkLogClean fails when the log holds a secret or a destination.
func (e *env) checkLogClean(secrets ...string) {
	e.t.Helper()
	log := e.log.String()
	for _, s := range secrets {
		if s != "" && strings.Contains(log, s) {
			e.t.Errorf("log contains %q:\n%s", s, log)
		}
	}
}
