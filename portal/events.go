package portal

import (
	"context"
	"fmt"
	"regexp"
	"strconv"
	"strings"
	"time"
	"unicode"

	"github.com/casegate/casegate"
	"github.com/casegate/casegate/identity"
)

// statusCode is the shape of a status code, catalog or custom.
var statusCode = regexp.MustCompile(`^[a-z][a-z0-9_]{0,39}$`)

// maxTitleLen bounds a custom status title.
const maxTitleLen = 200

// StatusEventInput is an operator's new status for a case.
type StatusEventInput struct {
	Status string    // a catalog code, or a custom code with Title
	Title  string    // required for a custom code
	At     time.Time // zero: now
	// IdempotencyKey, when not "", makes a retried post the same event: a
	// post with a key the case already has an event for adds nothing and
	// answers that event, if it is the same status and title (and time, when
	// one is given); the key used for another event is a conflict.
	IdempotencyKey string
}

// maxIdempotencyKeyLen bounds an idempotency key.
const maxIdempotencyKeyLen = 255

// ValidIdempotencyKey reports whether key is 1 to 255 visible ASCII
// characters, without quotes or backslashes.
func ValidIdempotencyKey(key string) bool {
	if key == "" || len(key) > maxIdempotencyKeyLen {
		return false
	}
	for i := 0; i < len(key); i++ {
		if c := key[i]; c <= ' ' || c > '~' || c == '"' || c == '\\' {
			return false
		}
	}
	return true
}

// PostStatusEvent adds a status event to a case and, when it is new, queues a
// notification to every party subscribed to the case, in the party's language
// and on the channels it chose. Posting the same event twice (the same status,
// title and time, or the same idempotency key) adds and notifies once: added
// is false and the event returned is the one on file.
func (p *Portal) PostStatusEvent(ctx context.Context, receipt string, in StatusEventInput, actor string) (casegate.StatusEvent, bool, error) {
	now := p.clock()
	fields := map[string]casegate.Msg{}
	canon, err := identity.ReceiptNumber(receipt)
	if err != nil {
		return casegate.StatusEvent{}, false, casegate.NewError(casegate.ENotFound, "event.no_case")
	}
	in.Title = strings.TrimSpace(in.Title)
	_, known := casegate.Status(in.Status)
	switch {
	case !statusCode.MatchString(in.Status):
		fields["status"] = casegate.M("event.status_code")
	case !known && in.Title == "":
		fields["title"] = casegate.M("event.title_needed")
	}
	if len(in.Title) > maxTitleLen {
		fields["title"] = casegate.M("event.title_too_long")
	} else if strings.IndexFunc(in.Title, func(r rune) bool { return !unicode.IsPrint(r) && r != ' ' }) >= 0 {
		// As the importer refuses: a line break would be a line of its own in messages.
		fields["title"] = casegate.M("event.title_printable")
	}
	if in.IdempotencyKey != "" && !ValidIdempotencyKey(in.IdempotencyKey) {
		return casegate.StatusEvent{}, false, casegate.NewError(casegate.EInvalid, "event.idempotency_key")
	}
	timed := !in.At.IsZero()
	if !timed {
		in.At = now
	}
	if in.At.After(now.Add(time.Hour)) {
		fields["at"] = casegate.M("event.future")
	}
	if len(fields) > 0 {
		return casegate.StatusEvent{}, false, casegate.FieldErrors(fields)
	}
	want := casegate.StatusEvent{Status: in.Status, Title: in.Title, At: in.At.UTC().Truncate(time.Microsecond), IdempotencyKey: in.IdempotencyKey}
	var e casegate.StatusEvent
	var added, queued bool
	err = p.store.Update(ctx, func(tx casegate.Tx) error {
		e, added, queued = want, false, false
		c, err := tx.CaseByReceipt(ctx, canon)
		if casegate.IsNotFound(err) {
			return casegate.NewError(casegate.ENotFound, "event.no_case")
		}
		if err != nil {
			return fmt.Errorf("portal: post event: %w", err)
		}
		e.CaseID = c.ID
		if added, err = tx.AddStatusEvent(ctx, &e); err != nil {
			return fmt.Errorf("portal: post event: %w", err)
		}
		if !added && want.IdempotencyKey != "" && e.IdempotencyKey == want.IdempotencyKey &&
			(e.Status != want.Status || e.Title != want.Title || timed && !e.At.Equal(want.At)) {
			return casegate.NewError(casegate.EConflict, "event.key_reused")
		}
		notified := 0
		if added {
			if notified, err = p.notifySubscribers(ctx, tx, c, e, now); err != nil {
				return err
			}
			queued = notified > 0
		}
		outcome := "added"
		if !added {
			outcome = "duplicate"
		}
		return p.audit(ctx, tx, now, "", casegate.AuditEvent{
			Actor: actor, Action: "case.event", Target: "case:" + canon, Outcome: outcome,
			Details: map[string]string{"status": e.Status, "notified": strconv.Itoa(notified)},
		})
	})
	if err != nil {
		return casegate.StatusEvent{}, false, err
	}
	p.reads.forgetDashboard(0)
	if queued {
		p.wake()
	}
	return e, added, nil
}

// notifySubscribers queues one status message per subscribed party and chosen
// channel with a contact on file. Messages carry the receipt number and the new
// status, nothing else.
func (p *Portal) notifySubscribers(ctx context.Context, tx casegate.Tx, c casegate.Case, e casegate.StatusEvent, now time.Time) (int, error) {
	subs, err := tx.Subscriptions(ctx, c.ID)
	if err != nil {
		return 0, fmt.Errorf("portal: notify: %w", err)
	}
	n := 0
	for _, s := range subs {
		party, err := tx.Party(ctx, s.PartyID)
		if err != nil {
			return 0, fmt.Errorf("portal: notify: %w", err)
		}
		// The message says what the status means in words for the party's
		// role: a representative is not told "we mailed you".
		role, err := roleOf(ctx, tx, c.ID, party.ID)
		if err != nil && !casegate.IsNotFound(err) {
			return 0, fmt.Errorf("portal: notify: %w", err)
		}
		for ch, want := range map[casegate.Channel]bool{casegate.ChannelEmail: s.Email, casegate.ChannelSMS: s.SMS} {
			if !want || party.Contact(ch) == "" {
				continue
			}
			d := casegate.Delivery{
				PartyID: party.ID, Channel: ch, Destination: party.Contact(ch), Template: casegate.TemplateStatusUpdate,
				Language: Language(party.Language),
				Params:   map[string]string{"receipt_number": c.ReceiptNumber, "status": e.Status, "title": e.Title, "role": string(role)},
				Status:   casegate.DeliveryPending, NextAttempt: now, CreatedAt: now,
			}
			queued, err := p.enqueue(ctx, tx, &d, party, now)
			if err != nil {
				return 0, fmt.Errorf("portal: notify: %w", err)
			}
			if queued {
				n++
			}
		}
	}
	return n, nil
}

// SetSubscription records how the signed-in party wants to hear of changes to
// one of its cases.
func (p *Portal) SetSubscription(ctx context.Context, s casegate.Session, receipt string, email, sms bool) (casegate.Subscription, error) {
	now := p.clock()
	notFound := casegate.NewError(casegate.ENotFound, "case.not_on_account")
	canon, err := identity.ReceiptNumber(receipt)
	if err != nil {
		return casegate.Subscription{}, notFound
	}
	var sub casegate.Subscription
	err = p.store.Update(ctx, func(tx casegate.Tx) error {
		c, err := tx.CaseByReceipt(ctx, canon)
		if err != nil {
			return err
		}
		if _, err := roleOf(ctx, tx, c.ID, s.PartyID); err != nil {
			return err
		}
		party, err := tx.Party(ctx, s.PartyID)
		if err != nil {
			return err
		}
		fields := map[string]casegate.Msg{}
		if email && party.Email == "" {
			fields["email"] = casegate.M("subscription.no_email")
		}
		if sms && party.Phone == "" {
			fields["sms"] = casegate.M("subscription.no_phone")
		}
		if len(fields) > 0 {
			return casegate.FieldErrors(fields)
		}
		sub = casegate.Subscription{PartyID: s.PartyID, CaseID: c.ID, Email: email, SMS: sms}
		if err := tx.SetSubscription(ctx, sub); err != nil {
			return err
		}
		return p.audit(ctx, tx, now, "", casegate.AuditEvent{
			Actor: partyActor(s.PartyID), Action: "subscription.set", Target: "case:" + canon, Outcome: "ok",
			Details: map[string]string{"email": strconv.FormatBool(email), "sms": strconv.FormatBool(sms)},
		})
	})
	if casegate.IsNotFound(err) {
		return casegate.Subscription{}, notFound
	}
	if err != nil {
		return casegate.Subscription{}, fmt.Errorf("portal: subscribe: %w", err)
	}
	p.reads.forgetDashboard(s.PartyID)
	return sub, nil
}
