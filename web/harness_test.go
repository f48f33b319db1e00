package web_test

import (
	"bytes"
	"context"
	"encoding/json"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"net/url"
	"regexp"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/casegate/casegate"
	"github.com/casegate/casegate/accesscode"
	"github.com/casegate/casegate/delivery"
	"github.com/casegate/casegate/internal/smtptest"
	"github.com/casegate/casegate/internal/testenv"
	"github.com/casegate/casegate/metrics"
	"github.com/casegate/casegate/portal"
	"github.com/casegate/casegate/web"
)

// fixture holds the cases every flow test starts with.
const fixture = `{"receipt_number":"IOE0912345678","form_type":"I-485","category":"Family-based","office":"NBC","received_on":"2025-03-14","history":[{"status":"received","at":"2025-03-14T10:00:00Z"},{"status":"biometrics_scheduled","at":"2025-04-01T09:00:00Z"}],"parties":[{"role":"applicant","given_name":"José","family_name":"García López","date_of_birth":"1990-04-02","country_of_birth":"MX","a_number":"A012345678","email":"jose@example.com","phone":"+12015550123","language":"es"},{"role":"representative","given_name":"Ana","family_name":"Smith","date_of_birth":"1975-01-01","country_of_birth":"US","email":"ana@lawfirm.example.com"}]}
{"receipt_number":"EAC2190012345","form_type":"I-765","office":"MSC","received_on":"2025-06-01","history":[{"status":"received","at":"2025-06-01T10:00:00Z"}],"parties":[{"role":"applicant","given_name":"Wei","family_name":"Li","date_of_birth":"1988-12-31","country_of_birth":"CN","email":"wei.li@example.org"}]}
`

// jose is the fixture's first applicant, as a person would type it.
var jose = map[string]string{
	"receipt_number": "IOE-091-234-5678", "given_name": "Jose", "family_name": "Garcia Lopez",
	"date_of_birth": "04/02/1990", "country_of_birth": "Mexico", "channel": "email", "language": "en",
}

// stranger matches nobody.
var stranger = map[string]string{
	"receipt_number": "IOE0999999999", "given_name": "Nobody", "family_name": "Here",
	"date_of_birth": "1970-01-01", "country_of_birth": "FR", "channel": "email", "language": "en",
}

// stack is a whole casegate in-process: a real SQLite file, a real SMTP
// server, the delivery worker and the HTTP server.
type stack struct {
	t      testing.TB
	dbFile string
	store  casegate.Store
	portal *portal.Portal
	smtp   *smtptest.Server
	worker *delivery.Worker
	srv    *httptest.Server
	clock  *testenv.Clock // shared by portal and worker
	logs   *testenv.LogBuffer
	client *http.Client

	mu     sync.Mutex
	bodies [][]byte   // every response body the tests received
	spec   *specGuard // checks every API exchange against the OpenAPI spec
}

type stackOption func(*portal.Limits)

// relaxed lifts the request limits for tests that send many requests.
func relaxed(l *portal.Limits) {
	l.RequestsPerIdentifier = portal.Rate{N: 1_000_000, Per: time.Minute}
	l.RequestsPerIP = portal.Rate{N: 1_000_000, Per: time.Minute}
	l.RedeemsPerIP = portal.Rate{N: 1_000_000, Per: time.Minute}
	l.CodesPerParty = portal.Rate{N: 1_000_000, Per: time.Minute}
}

func newStack(t testing.TB, opts ...stackOption) *stack {
	t.Helper()
	return newStackWith(t, stackMail{}, opts...)
}

// stackMail is how a stack's mail and times are set up: the DKIM signer
// (nil: unsigned) and the time zone (nil: UTC), as CASEGATE_DKIM_* and
// CASEGATE_TIME_ZONE set them.
type stackMail struct {
	dkim *delivery.DKIM
	loc  *time.Location
}

func newStackWith(t testing.TB, mail stackMail, opts ...stackOption) *stack {
	t.Helper()
	st, dbFile := testenv.SQLite(t)
	return newStackOnWith(t, st, dbFile, mail, opts...)
}

// newStackOn is newStack on a migrated store st (dbFile "" for PostgreSQL).
func newStackOn(t testing.TB, st casegate.Store, dbFile string, opts ...stackOption) *stack {
	t.Helper()
	return newStackOnWith(t, st, dbFile, stackMail{}, opts...)
}

// newStackOnWith is newStackWith on a migrated store st.
func newStackOnWith(t testing.TB, st casegate.Store, dbFile string, mail stackMail, opts ...stackOption) *stack {
	t.Helper()
	ctx := context.Background()
	keys := testenv.Keyring(t)
	s := &stack{t: t, store: st, dbFile: dbFile, clock: testenv.NewClock(time.Date(2026, 3, 2, 15, 4, 5, 0, time.UTC)), logs: &testenv.LogBuffer{}}
	log := slog.New(slog.NewJSONHandler(s.logs, &slog.HandlerOptions{Level: slog.LevelDebug}))
	t.Cleanup(func() {
		if t.Failed() {
			t.Logf("server log (warnings and errors):\n%s", grepLines(s.logs.String(), `{"time"`, `"level":"WARN"`, `"level":"ERROR"`))
		}
	})
	limits := portal.DefaultLimits()
	for _, o := range opts {
		o(&limits)
	}
	s.smtp = smtptest.Start(t)
	cfg, err := delivery.ParseSMTPURL(s.smtp.URL())
	if err != nil {
		t.Fatal(err)
	}
	cfg.DKIM = mail.dkim
	sender, err := delivery.NewSMTP(cfg, "casegate <no-reply@casegate.test>")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { sender.Close() })
	public, _ := url.Parse("https://status.casegate.test")
	s.worker, err = delivery.NewWorker(st, keys, map[casegate.Channel]casegate.Sender{casegate.ChannelEmail: sender}, public.String())
	if err != nil {
		t.Fatal(err)
	}
	s.worker.Logger = log
	s.worker.Location = mail.loc
	reg := metrics.New()
	reg.WatchQueue(st)
	s.worker.Metrics = reg
	s.worker.Now = s.clock.Now
	s.worker.PollInterval = 20 * time.Millisecond
	s.worker.BaseBackoff = time.Second
	s.portal, err = portal.New(portal.Deps{Store: st, Keys: keys, Limits: limits, Now: s.clock.Now, Outbox: s.worker, Logger: log, Metrics: reg})
	if err != nil {
		t.Fatal(err)
	}
	s.worker.Recorder = s.portal
	im := s.portal.Importer()
	res, err := im.Import(ctx, strings.NewReader(fixture), "jsonl", "test", nil)
	if err != nil || len(res.Rejected) > 0 || res.Created != 2 {
		t.Fatalf("fixture import: %+v, %v", res, err)
	}
	h, err := web.New(web.Deps{Portal: s.portal, Importer: im, PublicURL: public, Ready: st.Ping, Logger: log, Keys: keys, Now: s.clock.Now, Metrics: reg, Location: mail.loc})
	if err != nil {
		t.Fatal(err)
	}
	checked, g := guard(t, h)
	s.srv, s.spec = httptest.NewServer(checked), g
	t.Cleanup(s.srv.Close)
	s.client = s.srv.Client()
	wctx, cancel := context.WithCancel(ctx)
	done := make(chan struct{})
	go func() { defer close(done); s.worker.Run(wctx) }()
	t.Cleanup(func() { cancel(); <-done })
	return s
}

// do sends a request with a JSON body (nil for none) and returns the answer
// with its body read; every body is kept for the leak scan.
func (s *stack) do(method, path string, body any, header map[string]string) (*http.Response, []byte) {
	s.t.Helper()
	return s.doAs(s.t, method, path, body, header)
}

// doAs is do reporting failures to t (a fuzz target's own T).
func (s *stack) doAs(t testing.TB, method, path string, body any, header map[string]string) (*http.Response, []byte) {
	t.Helper()
	var raw []byte
	switch b := body.(type) {
	case nil:
	case string:
		raw = []byte(b)
	case []byte:
		raw = b
	default:
		j, err := json.Marshal(b)
		if err != nil {
			t.Fatal(err)
		}
		raw = j
	}
	var r io.Reader
	if body != nil {
		r = bytes.NewReader(raw)
	}
	req, err := http.NewRequest(method, s.srv.URL+path, r)
	if err != nil {
		t.Fatal(err)
	}
	if body != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	for k, v := range header {
		req.Header.Set(k, v)
	}
	resp, err := s.client.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	data, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatal(err)
	}
	s.mu.Lock()
	s.bodies = append(s.bodies, data)
	s.mu.Unlock()
	s.spec.report(t)
	return resp, data
}

// issued is the answer to a code request.
type issued struct {
	RequestID   string    `json:"request_id"`
	ExpiresAt   time.Time `json:"expires_at"`
	ResendAfter time.Time `json:"resend_after"`
}

// requestCode asks for a code and expects 202.
func (s *stack) requestCode(who map[string]string) issued {
	s.t.Helper()
	resp, body := s.do("POST", "/api/v1/access-codes", who, nil)
	if resp.StatusCode != http.StatusAccepted {
		s.t.Fatalf("request code: %d %s", resp.StatusCode, body)
	}
	var out issued
	mustJSON(s.t, body, &out)
	return out
}

// problemBody is the part of a problem document tests read.
type problemBody struct {
	Status            int               `json:"status"`
	Code              string            `json:"code"`
	Detail            string            `json:"detail"`
	Errors            map[string]string `json:"errors"`
	AttemptsRemaining *int              `json:"attempts_remaining"`
}

// redeem posts a code and returns the status and body.
func (s *stack) redeem(requestID, code string) (int, []byte) {
	s.t.Helper()
	resp, body := s.do("POST", "/api/v1/sessions", map[string]string{"request_id": requestID, "code": code}, nil)
	return resp.StatusCode, body
}

var codeInMail = regexp.MustCompile(`\b([0-9A-Z]{5}-[0-9A-Z]{5})\b`)

// waitCode waits for the n-th message and returns it with the code it carries.
func (s *stack) waitCode(n int) (smtptest.Mail, string) {
	s.t.Helper()
	msgs, err := s.smtp.WaitFor(n, 10*time.Second)
	if err != nil {
		for _, st := range []casegate.DeliveryStatus{casegate.DeliveryPending, casegate.DeliveryFailed, casegate.DeliveryCancelled} {
			ds, _ := s.portal.Deliveries(context.Background(), st, 100)
			for _, d := range ds {
				s.t.Logf("delivery %d %s %s attempts=%d next=%v err=%q now=%v", d.ID, d.Status, d.Template, d.Attempts, d.NextAttempt, d.LastError, s.clock.Now())
			}
		}
		s.t.Fatalf("waiting for message %d: %v", n, err)
	}
	m := msgs[n-1]
	match := codeInMail.FindStringSubmatch(m.Text)
	if match == nil {
		s.t.Fatalf("no code in message text:\n%s", m.Text)
	}
	return m, match[1]
}

func mustJSON(t testing.TB, data []byte, v any) {
	t.Helper()
	if err := json.Unmarshal(data, v); err != nil {
		t.Fatalf("decode %s: %v", data, err)
	}
}

// wrongCode returns a well-formed code that is not code.
func wrongCode(t *testing.T, code string) string {
	t.Helper()
	for {
		c, err := accesscode.Generate(accesscode.DefaultLength)
		if err != nil {
			t.Fatal(err)
		}
		if c != strings.ReplaceAll(code, "-", "") {
			return c
		}
	}
}

// validCode returns a well-formed code that no challenge holds.
func validCode(t *testing.T) string {
	t.Helper()
	c, err := accesscode.Generate(accesscode.DefaultLength)
	if err != nil {
		t.Fatal(err)
	}
	return c
}

// signIn runs the whole flow for who and returns the session token.
func (s *stack) signIn(who map[string]string, nth int) string {
	s.t.Helper()
	iss := s.requestCode(who)
	_, code := s.waitCode(nth)
	status, body := s.redeem(iss.RequestID, code)
	if status != http.StatusCreated {
		s.t.Fatalf("sign in: %d %s", status, body)
	}
	var out struct {
		Token string `json:"token"`
	}
	mustJSON(s.t, body, &out)
	return out.Token
}

// settle waits until the outbox holds no pending delivery that is due: all
// that the requests so far queued has reached the mail server or failed, so
// a message queued by mistake has arrived too.
func (s *stack) settle() {
	s.t.Helper()
	if !testenv.Eventually(10*time.Second, func() bool { return outboxSettled(s.t, s.store, s.clock.Now()) }) {
		s.t.Fatal("deliveries due still pending after 10 s")
	}
}

// outboxSettled reports whether st holds no pending delivery due at now.
// The worker marks a delivery sent only once the mail server accepted it.
func outboxSettled(t testing.TB, st casegate.Store, now time.Time) bool {
	t.Helper()
	var due bool
	err := st.View(context.Background(), func(tx casegate.Tx) error {
		ds, err := tx.Deliveries(context.Background(), casegate.DeliveryPending, 0)
		due = slices.ContainsFunc(ds, func(d casegate.Delivery) bool { return !d.NextAttempt.After(now) })
		return err
	})
	if err != nil {
		t.Fatal(err)
	}
	return !due
}

// passBackoff moves the clock just past the soonest next attempt of a
// delivery waiting out a retry backoff, so the worker tries it again.
func (s *stack) passBackoff() {
	s.t.Helper()
	now := s.clock.Now()
	var next time.Time
	err := s.store.View(context.Background(), func(tx casegate.Tx) error {
		ds, err := tx.Deliveries(context.Background(), casegate.DeliveryPending, 0)
		for _, d := range ds {
			if d.NextAttempt.After(now) && (next.IsZero() || d.NextAttempt.Before(next)) {
				next = d.NextAttempt
			}
		}
		return err
	})
	if err != nil {
		s.t.Fatal(err)
	}
	if !next.IsZero() {
		s.clock.Advance(next.Sub(now) + time.Millisecond)
	}
}

// hasAudit reports whether an audit event with action was recorded.
func (s *stack) hasAudit(action string) bool {
	events, err := s.portal.AuditEvents(context.Background(), 0, 1000)
	if err != nil {
		s.t.Fatal(err)
	}
	for _, e := range events {
		if e.Action == action {
			return true
		}
	}
	return false
}

// problemRequestID is the request ID member of a problem document: fresh
// for every request, of one form whatever the outcome.
var problemRequestID = regexp.MustCompile(`"http_request_id":"[A-Z2-7]{26}"`)

// anyRequestID is body with its request ID, when it has one of the form
// casegate makes, replaced by one placeholder, so that answers alike but for
// their request can be compared whole.
func anyRequestID(body []byte) string {
	return problemRequestID.ReplaceAllString(string(body), `"http_request_id":"…"`)
}
