package web_test

import (
	"context"
	"fmt"
	"net/http"
	"net/http/httptest"
	"net/netip"
	"net/url"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/casegate/casegate"
	"github.com/casegate/casegate/web"
)

// The attacks of docs/security.md, each against a whole casegate (newStack):
// code guessing from one client and from many, enumeration through the
// outcomes of a code request, session fixation, cookie scope, cross-origin
// posts, framing, open redirects and stored markup.

// longTests reports whether CASEGATE_LONG_TESTS=1 asks for the long runs.
func longTests() bool { return os.Getenv("CASEGATE_LONG_TESTS") == "1" }

// serveAgain puts a second HTTP server over s's portal, built with the
// stack's dependencies as change leaves them, and makes it the server s.do
// talks to.
func serveAgain(t testing.TB, s *stack, change func(*web.Deps)) {
	t.Helper()
	public, _ := url.Parse("https://status.casegate.test")
	d := web.Deps{
		Portal: s.portal, Importer: s.portal.Importer(), PublicURL: public,
		Ready: s.store.Ping, Now: s.clock.Now,
	}
	change(&d)
	h, err := web.New(d)
	if err != nil {
		t.Fatal(err)
	}
	checked, g := guard(t, h)
	srv := httptest.NewServer(checked)
	t.Cleanup(srv.Close)
	s.srv, s.client, s.spec = srv, srv.Client(), g
}

// proxied serves s again trusting 127.0.0.1 as a proxy, so each request
// may name its client in X-Forwarded-For.
func proxied(t testing.TB, s *stack) {
	serveAgain(t, s, func(d *web.Deps) {
		d.TrustedProxies = []netip.Prefix{netip.MustParsePrefix("127.0.0.1/32")}
	})
}

// guessTarget is one identity an attacker guesses codes for, and the
// challenge it guesses on now.
type guessTarget struct {
	name      string
	who       map[string]string
	requestID string
	dead      bool // the challenge answered too_many_attempts or code_expired
}

// guesser is a code-guessing attacker. It alternates between its targets,
// asks for a new code whenever a target's challenge is dead, and lets 5
// minutes pass after every 100 guesses. clientIP names the client of guess
// i in X-Forwarded-For ("" sends none).
type guesser struct {
	t        *testing.T
	s        *stack
	clientIP func(i int) string
	targets  []*guessTarget

	outcomes  map[string]int // "target outcome" → count
	incorrect map[string]int // code_incorrect answers per request id
	refused   int            // code requests answered 429
}

func (g *guesser) header(i int) map[string]string {
	if ip := g.clientIP(i); ip != "" {
		return map[string]string{"X-Forwarded-For": ip}
	}
	return nil
}

// run makes n guesses.
func (g *guesser) run(n int) {
	g.outcomes, g.incorrect = map[string]int{}, map[string]int{}
	for i := range n {
		if i > 0 && i%100 == 0 {
			g.s.clock.Advance(5 * time.Minute)
		}
		tg := g.targets[i%len(g.targets)]
		if tg.requestID == "" || tg.dead {
			resp, body := g.s.do("POST", "/api/v1/access-codes", tg.who, g.header(i))
			switch resp.StatusCode {
			case http.StatusAccepted:
				var iss issued
				mustJSON(g.t, body, &iss)
				tg.requestID, tg.dead = iss.RequestID, false
			case http.StatusTooManyRequests:
				g.refused++
			default:
				g.t.Fatalf("code request %d: %d %s", i, resp.StatusCode, body)
			}
		}
		resp, body := g.s.do("POST", "/api/v1/sessions", map[string]string{"request_id": tg.requestID, "code": validCode(g.t)}, g.header(i))
		outcome := "signed_in"
		if resp.StatusCode != http.StatusCreated {
			var p problemBody
			mustJSON(g.t, body, &p)
			outcome = p.Code
		}
		g.outcomes[tg.name+" "+outcome]++
		switch outcome {
		case "code_incorrect":
			g.incorrect[tg.requestID]++
		case "too_many_attempts", "code_expired":
			tg.dead = true
		case "rate_limited":
			if resp.Header.Get("Retry-After") == "" {
				g.t.Fatalf("guess %d: 429 rate_limited without Retry-After", i)
			}
		case "signed_in":
			g.t.Errorf("guess %d on %s signed in", i, tg.name)
		default:
			g.t.Fatalf("guess %d on %s: %d %s", i, tg.name, resp.StatusCode, body)
		}
	}
	for id, n := range g.incorrect {
		// The fifth wrong code answers too_many_attempts, so at most four are "incorrect".
		if n > 4 {
			g.t.Errorf("challenge %s answered code_incorrect %d times, want at most 4", id, n)
		}
	}
}

// guessCount is how many codes the guessing attacks try: 2,000, or 10,000
// with CASEGATE_LONG_TESTS=1 (about 25 s for both attacks).
func guessCount(t *testing.T) int {
	if longTests() {
		return 10_000
	}
	t.Log("2,000 guesses; CASEGATE_LONG_TESTS=1 makes 10,000")
	return 2_000
}

// jose's party and the audit events about it, read after an attack.
type partyAfter struct {
	party     casegate.Party
	locks     int // party.lock events
	codesSent int // access codes mailed to jose
	noticesTo int // lockout notices mailed to jose
}

func (s *stack) joseAfter(t testing.TB) partyAfter {
	t.Helper()
	var out partyAfter
	err := s.store.View(t.Context(), func(tx casegate.Tx) error {
		ps, err := tx.PartiesByANumber(t.Context(), "A012345678")
		if err != nil || len(ps) != 1 {
			return fmt.Errorf("jose: %d parties, %v", len(ps), err)
		}
		out.party = ps[0]
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	out.locks = s.auditCount(t, "party.lock")
	s.settle() // the worker has sent what is due
	for _, m := range s.smtp.Messages() {
		if len(m.To) != 1 || m.To[0] != "jose@example.com" {
			continue
		}
		if codeInMail.MatchString(m.Text) {
			out.codesSent++
		} else {
			out.noticesTo++
		}
	}
	return out
}

// auditAll reads the whole audit log.
func (s *stack) auditAll(t testing.TB) []casegate.AuditEvent {
	t.Helper()
	var all []casegate.AuditEvent
	for {
		after := int64(0)
		if len(all) > 0 {
			after = all[len(all)-1].Seq
		}
		es, err := s.portal.AuditEvents(context.Background(), after, 1000)
		if err != nil {
			t.Fatal(err)
		}
		if len(es) == 0 {
			return all
		}
		all = append(all, es...)
	}
}

// auditCount counts the audit events with action.
func (s *stack) auditCount(t testing.TB, action string) int {
	t.Helper()
	n := 0
	for _, e := range s.auditAll(t) {
		if e.Action == action {
			n++
		}
	}
	return n
}

// maxLiveGuesses is the most wrong codes that can ever be compared with a
// live code of one person within window: 10 before the first lock (1 h),
// then one each time a lock ends, locking again for twice as long (2 h, 4 h
// …). 10,000 guesses take 8 h 20 min of simulated time: 13.
func maxLiveGuesses(window time.Duration) int {
	n, lock := 10, time.Hour
	for end := lock; end <= window; end += lock {
		n++
		lock *= 2
	}
	return n
}

// TestGuessingFromOneClient makes 10,000 code guesses from one client
// address, half at a real person's challenges and half at decoys, with 5
// minutes passing after every 100. First it shows that the right code itself
// is refused once a challenge is dead or the person is locked. Default
// limits throughout.
func TestGuessingFromOneClient(t *testing.T) {
	s := newStack(t)
	begin, n := s.clock.Now(), guessCount(t)
	// The right code after five wrong ones: the challenge is dead.
	r1 := s.requestCode(jose)
	_, c1 := s.waitCode(1)
	for i := range 5 {
		status, body := s.redeem(r1.RequestID, wrongCode(t, c1))
		if want := map[bool]int{true: 429, false: 401}[i == 4]; status != want {
			t.Fatalf("wrong code %d: %d %s, want %d", i+1, status, body, want)
		}
	}
	if status, body := s.redeem(r1.RequestID, c1); status != http.StatusTooManyRequests || !strings.Contains(string(body), "too_many_attempts") {
		t.Fatalf("the right code after five wrong ones: %d %s, want 429 too_many_attempts", status, body)
	}
	// The right code of a live challenge once the person is locked: refused
	// like a wrong one, as a decoy would.
	r2, r3 := s.requestCode(jose), s.requestCode(jose)
	_, c2 := s.waitCode(2)
	_, c3 := s.waitCode(3)
	for range 5 {
		s.redeem(r2.RequestID, wrongCode(t, c2))
	}
	if status, body := s.redeem(r3.RequestID, c3); status != http.StatusUnauthorized || !strings.Contains(string(body), "code_incorrect") {
		t.Fatalf("the right code while locked: %d %s, want 401 code_incorrect", status, body)
	}
	s.clock.Advance(5 * time.Minute)

	g := &guesser{t: t, s: s, clientIP: func(int) string { return "" }, targets: []*guessTarget{
		{name: "real", who: jose}, {name: "decoy", who: stranger},
	}}
	start := time.Now()
	g.run(n)
	after := s.joseAfter(t)
	t.Logf("%d guesses from one client in %v: %v; %d code requests refused", n, time.Since(start).Round(time.Millisecond), g.outcomes, g.refused)
	t.Logf("jose: %d wrong codes compared with a live code, %d locks, %d codes and %d lockout notices mailed",
		after.party.ConsecutiveFailures, after.locks, after.codesSent, after.noticesTo)

	// The per-IP redeem limit (60 per 5 minutes) lets exactly 60 of every 100 through.
	if limited := g.outcomes["real rate_limited"] + g.outcomes["decoy rate_limited"]; limited != n*40/100 {
		t.Errorf("%d guesses answered rate_limited, want %d", limited, n*40/100)
	}
	if in := g.outcomes["real signed_in"] + g.outcomes["decoy signed_in"]; in != 0 {
		t.Errorf("%d sign-ins", in)
	}
	checkPartyBounds(t, after, s.clock.Now().Sub(begin))
}

// TestGuessingFromManyClients makes 10,000 code guesses as a botnet would:
// every guess, and every code request, from another client address, named
// in X-Forwarded-For through a trusted proxy. The per-IP limits never bind;
// the per-challenge, per-identifier and per-person limits still do.
func TestGuessingFromManyClients(t *testing.T) {
	s := newStack(t)
	proxied(t, s)
	begin, n := s.clock.Now(), guessCount(t)
	g := &guesser{t: t, s: s, targets: []*guessTarget{{name: "real", who: jose}, {name: "decoy", who: stranger}},
		clientIP: func(i int) string { return fmt.Sprintf("198.18.%d.%d", i/250, i%250+1) }}
	start := time.Now()
	g.run(n)
	after := s.joseAfter(t)
	t.Logf("%d guesses from %d clients in %v: %v; %d code requests refused", n, n, time.Since(start).Round(time.Millisecond), g.outcomes, g.refused)
	t.Logf("jose: %d wrong codes compared with a live code, %d locks, %d codes and %d lockout notices mailed",
		after.party.ConsecutiveFailures, after.locks, after.codesSent, after.noticesTo)
	if limited := g.outcomes["real rate_limited"] + g.outcomes["decoy rate_limited"]; limited != 0 {
		t.Errorf("%d guesses answered rate_limited: the clients were not told apart", limited)
	}
	if g.refused == 0 {
		t.Error("no code request was refused: the per-identifier limit did not bind")
	}
	if in := g.outcomes["real signed_in"] + g.outcomes["decoy signed_in"]; in != 0 {
		t.Errorf("%d sign-ins", in)
	}
	checkPartyBounds(t, after, s.clock.Now().Sub(begin))
}

// checkPartyBounds holds jose's state after a guessing attack to the limits.
func checkPartyBounds(t *testing.T, after partyAfter, window time.Duration) {
	t.Helper()
	if most := maxLiveGuesses(window); after.party.ConsecutiveFailures < 10 || after.party.ConsecutiveFailures > most {
		t.Errorf("%d wrong codes were compared with a live code of jose's in %v, want 10 to %d", after.party.ConsecutiveFailures, window, most)
	}
	if after.locks < 1 || after.locks != after.party.LockCount {
		t.Errorf("%d party.lock events and a lock count of %d", after.locks, after.party.LockCount)
	}
	if after.codesSent > 10 {
		t.Errorf("%d codes mailed to jose, more than the 10 a day per person", after.codesSent)
	}
	if after.noticesTo != after.locks {
		t.Errorf("%d lockout notices for %d locks", after.noticesTo, after.locks)
	}
}
