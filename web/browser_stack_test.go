package web_test

import (
	"context"
	"log/slog"
	"net/http/httptest"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/casegate/casegate"
	"github.com/casegate/casegate/delivery"
	"github.com/casegate/casegate/internal/testenv"
	"github.com/casegate/casegate/portal"
	"github.com/casegate/casegate/web"
)

// xssFixture adds a case whose applicant's names are markup and quotes: the
// pages must show them as text and never run them.
const xssFixture = `{"receipt_number":"WAC2590000001","form_type":"I-130","office":"CSC","received_on":"2025-05-05","history":[{"status":"received","at":"2025-05-05T10:00:00Z"}],"parties":[{"role":"applicant","given_name":"<script>alert(\"x\")</script>","family_name":"O'Brien \"Test\"","date_of_birth":"1980-07-04","country_of_birth":"IE","email":"xss@example.com","language":"en"}]}
`

const (
	xssGiven   = `<script>alert("x")</script>`
	xssFamily  = `O'Brien "Test"`
	xssReceipt = "WAC2590000001"
	xssEmail   = "xss@example.com"
)

// formPerson is someone filling in the request form, as they would type it.
type formPerson struct {
	receipt, given, family string
	month, day, year       int
	country                string // ISO alpha-2, the value of the country option
	email                  string // on file, to find the message in the mailbox
}

var (
	josePerson = formPerson{receipt: "IOE-091-234-5678", given: "Jose", family: "Garcia Lopez",
		month: 4, day: 2, year: 1990, country: "MX", email: "jose@example.com"}
	xssPerson = formPerson{receipt: xssReceipt, given: xssGiven, family: xssFamily,
		month: 7, day: 4, year: 1980, country: "IE", email: xssEmail}
)

// browserStack is a whole casegate in demo mode, in-process, on the real
// clock: a SQLite file, the delivery worker sending every channel to the
// demo mailbox, and the HTTP server the browser talks to.
type browserStack struct {
	t       *testing.T
	url     string // http://127.0.0.1:port, also the public URL
	store   casegate.Store
	mailbox *delivery.Mailbox
	logs    *testenv.LogBuffer
}

// settle waits until the outbox holds no pending delivery that is due now:
// a message queued by mistake has reached the mailbox by then.
func (s *browserStack) settle() {
	s.t.Helper()
	if !testenv.Eventually(10*time.Second, func() bool { return outboxSettled(s.t, s.store, time.Now()) }) {
		s.t.Fatal("deliveries due still pending after 10 s")
	}
}

func newBrowserStack(t *testing.T, opts ...stackOption) *browserStack {
	t.Helper()
	return newBrowserStackWithSetup(t, nil, opts...)
}

// newBrowserStackWithSetup is newBrowserStack that also runs setup, when not
// nil, on the store and portal before the server starts (to publish
// processing times, say).
func newBrowserStackWithSetup(t *testing.T, setup func(casegate.Store, *portal.Portal), opts ...stackOption) *browserStack {
	t.Helper()
	return newBrowserStackWithDeps(t, setup, nil, opts...)
}

// newBrowserStackWithDeps is newBrowserStackWithSetup with the server's
// Deps changed by edit, when not nil (to give it an agency, say).
func newBrowserStackWithDeps(t *testing.T, setup func(casegate.Store, *portal.Portal), edit func(*web.Deps), opts ...stackOption) *browserStack {
	t.Helper()
	ctx := context.Background()
	st, _ := testenv.SQLite(t)
	keys := testenv.Keyring(t)
	s := &browserStack{t: t, store: st, mailbox: &delivery.Mailbox{}, logs: &testenv.LogBuffer{}}
	log := slog.New(slog.NewJSONHandler(s.logs, &slog.HandlerOptions{Level: slog.LevelDebug}))

	// The server starts before the handler exists: the public URL is its address.
	srv := httptest.NewUnstartedServer(nil)
	s.url = "http://" + srv.Listener.Addr().String()

	public, err := url.Parse(s.url)
	if err != nil {
		t.Fatal(err)
	}
	senders := map[casegate.Channel]casegate.Sender{casegate.ChannelEmail: s.mailbox, casegate.ChannelSMS: s.mailbox}
	worker, err := delivery.NewWorker(st, keys, senders, public.String())
	if err != nil {
		t.Fatal(err)
	}
	worker.Logger = log
	worker.PollInterval = 20 * time.Millisecond
	limits := portal.DefaultLimits()
	for _, o := range opts {
		o(&limits)
	}
	p, err := portal.New(portal.Deps{Store: st, Keys: keys, Limits: limits, Outbox: worker, Logger: log})
	if err != nil {
		t.Fatal(err)
	}
	worker.Recorder = p
	im := p.Importer()
	res, err := im.Import(ctx, strings.NewReader(fixture+xssFixture), "jsonl", "test", nil)
	if err != nil || len(res.Rejected) > 0 || res.Created != 3 {
		t.Fatalf("fixture import: %+v, %v", res, err)
	}
	if setup != nil {
		setup(st, p)
	}
	deps := web.Deps{Portal: p, Importer: im, PublicURL: public, Mailbox: s.mailbox, Ready: st.Ping, Logger: log}
	if edit != nil {
		edit(&deps)
	}
	h, err := web.New(deps)
	if err != nil {
		t.Fatal(err)
	}
	srv.Config.Handler, _ = guard(t, h)
	srv.Start()
	t.Cleanup(srv.Close)

	wctx, cancel := context.WithCancel(ctx)
	done := make(chan struct{})
	go func() { defer close(done); worker.Run(wctx) }()
	t.Cleanup(func() { cancel(); <-done })
	t.Cleanup(func() {
		if t.Failed() {
			t.Logf("server log:\n%s", s.logs.String())
		}
	})
	return s
}
