package main

import (
	"context"
	"io"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/casegate/casegate"
	"github.com/casegate/casegate/accesscode"
	"github.com/casegate/casegate/identity"
)

// recordingSender keeps what it is given.
type recordingSender struct {
	mu   sync.Mutex
	sent []casegate.Message
}

func (s *recordingSender) Send(_ context.Context, m casegate.Message) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.sent = append(s.sent, m)
	return nil
}

func (s *recordingSender) messages() []casegate.Message {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]casegate.Message(nil), s.sent...)
}

// TestWorkerNeverTextsANumberThatCannotReceiveTexts: texts queued before the
// rule on number types (a premium-rate number on file, a toll-free one) are
// stopped at send time by the worker that serve runs. The code goes by
// email instead; the status update is dropped.
func TestWorkerNeverTextsANumberThatCannotReceiveTexts(t *testing.T) {
	t.Cleanup(func() { identity.SetPhoneRegion(identity.DefaultPhoneRegion) })
	ctx := context.Background()
	dir := t.TempDir()
	vars := map[string]string{
		"CASEGATE_DB":          filepath.Join(dir, "casegate.db"),
		"CASEGATE_SECRET_FILE": filepath.Join(dir, "secret.key"),
		"CASEGATE_SMTP_URL":    "smtp://127.0.0.1:25?tls=none",
		"CASEGATE_SMS_URL":     "kannel://casegate:pw@127.0.0.1:13013",
	}
	e := env{getenv: testEnv(vars), stdin: strings.NewReader(""), stdout: io.Discard, stderr: io.Discard}
	cfg, err := loadConfig(newFlagSet("test", io.Discard), nil, e.getenv)
	if err != nil {
		t.Fatal(err)
	}
	outbox := &laterWorker{}
	a, err := openApp(ctx, e, cfg, true, outbox)
	if err != nil {
		t.Fatal(err)
	}
	defer a.Close()
	email, sms := &recordingSender{}, &recordingSender{}
	w, err := newWorker(a, map[casegate.Channel]casegate.Sender{casegate.ChannelEmail: email, casegate.ChannelSMS: sms})
	if err != nil {
		t.Fatal(err)
	}
	outbox.Worker = w

	now := time.Now().UTC().Truncate(time.Microsecond)
	code, err := accesscode.Generate(accesscode.DefaultLength)
	if err != nil {
		t.Fatal(err)
	}
	err = a.store.Update(ctx, func(tx casegate.Tx) error {
		party := casegate.Party{GivenName: "Ana", FamilyName: "Prior", DateOfBirth: "1990-04-02", CountryOfBirth: "MX",
			Email: "ana@example.com", Phone: "+19005550123", Language: "en"}
		if err := tx.InsertParty(ctx, &party); err != nil {
			return err
		}
		ch := casegate.Challenge{ID: "0123456789abcdef0123456789abcdef", PartyID: party.ID, Purpose: casegate.PurposeSignIn,
			Channel: casegate.ChannelSMS, Language: "en", CreatedAt: now, ExpiresAt: now.Add(10 * time.Minute), Sends: 1, ResendAfter: now}
		ch.KeyID, ch.CodeMAC = a.keys.MAC(ch.ID, code)
		if err := tx.InsertChallenge(ctx, ch); err != nil {
			return err
		}
		for _, d := range []casegate.Delivery{
			{ChallengeID: ch.ID, PartyID: party.ID, Channel: casegate.ChannelSMS, Destination: party.Phone,
				Template: casegate.TemplateAccessCode, Language: "en", SealedCode: a.keys.Seal(code),
				Params: map[string]string{"expires_at": ch.ExpiresAt.Format(time.RFC3339), "valid_minutes": "10"}},
			{PartyID: party.ID, Channel: casegate.ChannelSMS, Destination: "+18005550123", Template: casegate.TemplateStatusUpdate,
				Language: "en", Params: map[string]string{"receipt_number": "IOE0912345678", "status": "approved"}},
		} {
			d.Status, d.NextAttempt, d.CreatedAt = casegate.DeliveryPending, now, now
			if err := tx.EnqueueDelivery(ctx, &d); err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	for range 2 { // the second run sends what the first queued instead
		if _, err := w.RunOnce(ctx); err != nil {
			t.Fatal(err)
		}
	}
	if got := sms.messages(); len(got) != 0 {
		t.Errorf("texted %d messages, first to %s; want none", len(got), got[0].To)
	}
	got := email.messages()
	if len(got) != 1 || got[0].To != "ana@example.com" || !strings.Contains(got[0].Text, accesscode.Display(code)) {
		t.Fatalf("email: %+v; want the code, once, at the address on file", got)
	}
	var reasons []string
	err = a.store.View(ctx, func(tx casegate.Tx) error {
		ds, err := tx.Deliveries(ctx, casegate.DeliveryCancelled, 10)
		for _, d := range ds {
			reasons = append(reasons, d.Template+": "+d.LastError)
		}
		return err
	})
	if err != nil {
		t.Fatal(err)
	}
	if len(reasons) != 2 || !strings.Contains(strings.Join(reasons, "; "), "premium_rate") || !strings.Contains(strings.Join(reasons, "; "), "toll_free") {
		t.Errorf("cancelled: %q; want both texts, with the kind of number", reasons)
	}
}
